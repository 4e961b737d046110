// The doctor's training monitors' cost on the reference CNN (issue 6 asks for <= 10% of training time):
//   conv 1 -> 32 3x3 pad 1, BatchNorm2d, ReLU, max pool 2, conv 32 -> 64, BatchNorm2d, ReLU, max pool 2, flatten,
//   Linear 3136 -> 128, ReLU, Dropout 0.5, Linear 128 -> 10; Adam 1e-3, batch 128, Fashion-MNIST.
// Trains with fit() in rounds that alternate plain and monitored (default MonitorOptions: every = 10, non-finite
// tracing on), so that load from other processes on a shared machine falls on both alike, and prints the median
// seconds per step of each and the overhead. On a busy machine that difference drowns in noise, so the monitored
// rounds also time the monitor's own work directly: its callbacks (through a forwarding callback) and its forward
// hooks (bracketed by timing hooks registered before and after the monitor's on every leaf module), as a share of
// the round's time without it. Every figure comes as wall time and as process CPU time (all threads): on a shared
// machine the wall time grows with the others' load, the CPU time much less.
//
// First, the doctor's whole pre-flight (data checks, model lint, optimiser checks, probes) on the same setup, timed
// once (issue 6 asks for <= 30 s on 2 cores).
//
//   doctor_monitor_overhead [--rounds R] [--steps S] [--data DIR]     (OMP_NUM_THREADS picks the threads)
#include <vigil/doctor/doctor.hpp>
#include <vigil/doctor/monitor.hpp>
#include <vigil/data/datasets.hpp>
#include <vigil/data/idx.hpp>
#include <vigil/nn/nn.hpp>
#include <vigil/optim/adam.hpp>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

using namespace vigil;

namespace {

using Clock = std::chrono::steady_clock;

// CPU seconds of the whole process, over all threads.
double cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

// Forwards fit()'s events to the monitor and adds up the time they take.
class Timed : public train::Callback {
 public:
  explicit Timed(std::shared_ptr<doctor::Monitor> m) : monitor_(std::move(m)) {}
  void on_train_begin(train::TrainContext& c) override { time([&] { monitor_->on_train_begin(c); }); }
  void on_batch_begin(train::TrainContext& c) override { time([&] { monitor_->on_batch_begin(c); }); }
  void on_batch_end(train::TrainContext& c) override { time([&] { monitor_->on_batch_end(c); }); }
  void on_train_end(train::TrainContext& c) override { time([&] { monitor_->on_train_end(c); }); }
  double seconds = 0;

 private:
  template <class F>
  void time(F&& f) {
    const auto t0 = Clock::now();
    f();
    seconds += std::chrono::duration<double>(Clock::now() - t0).count();
  }
  std::shared_ptr<doctor::Monitor> monitor_;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) try {
  int rounds = 6;
  std::int64_t steps = 40;
  std::string dir = "/usr/share/datasets/fashion-mnist";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string arg = argv[i];
    if (arg == "--rounds") rounds = std::stoi(argv[i + 1]);
    else if (arg == "--steps") steps = std::stoll(argv[i + 1]);
    else if (arg == "--data") dir = argv[i + 1];
    else throw Error("doctor_monitor_overhead: unknown option " + arg);
  }
  const std::int64_t batch = 128, n = steps * batch;
  const data::FashionMnist mnist(dir, true);
  // Standardised with Fashion-MNIST's training mean and deviation (0.2860, 0.3530).
  const Tensor images = (raw::reshape(raw::narrow(mnist.images(), 0, 0, n), Shape{n, 1, 28, 28}) - 0.2860) / 0.3530;
  const Tensor labels = raw::narrow(mnist.labels(), 0, 0, n);
  data::DataLoader loader(std::make_shared<data::TensorDataset>(images.detach(), labels),
                          {.batch_size = batch, .shuffle = true, .seed = 1});
  const train::LossFunction loss = [](const Tensor& y, const Tensor& t) { return nn::cross_entropy(y, t); };

  Generator gen(0);
  auto model = nn::reference_cnn(1, 28, 28, 10, gen, 0.5);
  optim::Adam adam(optim::named_parameters(*model), {.lr = 1e-3});
  const doctor::Setup setup{*model, loss, adam, loader};
  const doctor::Task task = doctor::infer_task(setup);

  {
    doctor::Doctor doc;
    const double cpu0 = cpu_seconds();
    doc.preflight(setup);
    const double cpu = cpu_seconds() - cpu0;
    std::printf("pre-flight: %.2f s wall, %.2f s CPU (%zu findings: %s)\n", doc.preflight_seconds(), cpu,
                doc.report().findings().size(), doc.report().has_errors() ? "errors" : "no errors");
    for (const doctor::Finding& f : doc.report().ranked())
      std::printf("  [%s] %s %s\n", doctor::to_string(f.severity).c_str(), f.check.c_str(), f.where.c_str());
    std::fflush(stdout);
  }

  // Bracketing hooks: "open" ones registered before the monitor's, "close" ones after, on every leaf module.
  Clock::time_point opened;
  double hook_seconds = 0;
  std::vector<nn::HookHandle> brackets;
  std::vector<nn::Module*> leaves;
  for (auto& [path, m] : model->named_modules())
    if (m->named_children().empty()) leaves.push_back(m);
  for (nn::Module* m : leaves)
    brackets.push_back(m->register_forward_hook([&](const nn::Module&, const Tensor&, const Tensor&) { opened = Clock::now(); }));

  std::vector<double> plain, monitored, plain_cpu, monitored_cpu, direct;
  std::size_t findings = 0, samples = 0;
  for (int r = 0; r < 2 * rounds; ++r) {
    const bool with_monitor = r % 2 == 1;
    doctor::Report report;
    train::FitOptions options;
    options.epochs = 1;
    std::shared_ptr<doctor::Monitor> monitor;
    std::shared_ptr<Timed> timed;
    std::vector<nn::HookHandle> closers;
    hook_seconds = 0;
    if (with_monitor) {
      monitor = std::make_shared<doctor::Monitor>(setup, task, doctor::MonitorOptions{}, report);
      timed = std::make_shared<Timed>(monitor);
      options.callbacks.push_back(timed);
      for (nn::Module* m : leaves)
        closers.push_back(m->register_forward_hook([&](const nn::Module&, const Tensor&, const Tensor&) {
          hook_seconds += std::chrono::duration<double>(Clock::now() - opened).count();
        }));
    }
    const auto t0 = std::chrono::steady_clock::now();
    const double cpu0 = cpu_seconds();
    train::fit(*model, loss, adam, loader, nullptr, options);
    const double per_step = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() /
                            static_cast<double>(steps);
    const double cpu_per_step = (cpu_seconds() - cpu0) / static_cast<double>(steps);
    (with_monitor ? monitored : plain).push_back(per_step);
    (with_monitor ? monitored_cpu : plain_cpu).push_back(cpu_per_step);
    for (nn::HookHandle& h : closers) h.remove();
    if (with_monitor) {
      const double own = timed->seconds + hook_seconds;
      const double total = per_step * static_cast<double>(steps);
      direct.push_back(own / (total - own));
      std::printf("round %d monitor's own work %.3f s of %.3f s (callbacks %.3f, hooks %.3f): %.2f%%\n", r / 2, own,
                  total, timed->seconds, hook_seconds, 100.0 * direct.back());
      findings += report.findings().size();
      samples += monitor->layer_history().size();
    }
    std::printf("round %d %-9s %.4f s/step wall, %.4f s/step CPU\n", r / 2, with_monitor ? "monitored" : "plain",
                per_step, cpu_per_step);
    std::fflush(stdout);
  }
  const double a = median(plain), b = median(monitored);
  const double ac = median(plain_cpu), bc = median(monitored_cpu);
  std::printf("plain %.4f s/step, monitored %.4f s/step wall (median of %d interleaved rounds of %lld steps): "
              "overhead %.1f%% wall; CPU %.4f vs %.4f s/step: overhead %.1f%% CPU; the monitor's own work, timed "
              "directly: %.2f%% (median); %zu findings, %zu layer samples\n",
              a, b, rounds, static_cast<long long>(steps), 100.0 * (b - a) / a, ac, bc, 100.0 * (bc - ac) / ac,
              100.0 * median(direct), findings, samples);
  return 0;
} catch (const std::exception& e) {
  std::cerr << "error: " << e.what() << "\n";
  return 1;
}
