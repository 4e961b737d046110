// vigil train and vigil resume: one training engine, started fresh or from a run's last checkpoint.
#include <vigil/cli/builders.hpp>
#include <vigil/cli/commands.hpp>
#include <vigil/cli/config.hpp>
#include <vigil/cli/run_dir.hpp>
#include <vigil/report/report.hpp>
#include <vigil/train/callbacks.hpp>
#include <vigil/train/checkpoint.hpp>

#include "doctor_session.hpp"
#include "internal.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <omp.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <ostream>

#include <unistd.h>

namespace vigil::cli {
namespace {

std::atomic<int> g_interrupts{0};

void on_sigint(int) {
  if (g_interrupts.fetch_add(1) >= 1) {
    // The second Ctrl-C: leave now. Every file is written atomically, so none is left half-written.
    constexpr char kMessage[] = "\nvigil: interrupted again; exiting now\n";
    (void)!::write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
    ::_exit(130);
  }
  constexpr char kMessage[] =
      "\nvigil: stopping after this step and saving a checkpoint (Ctrl-C again to quit at once)\n";
  (void)!::write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
}

// Installs the handler for the scope of a training run, and puts the previous one back.
class SigintScope {
 public:
  SigintScope() {
    g_interrupts = 0;
    struct sigaction action {};
    action.sa_handler = on_sigint;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &previous_);
  }
  ~SigintScope() { sigaction(SIGINT, &previous_, nullptr); }
  SigintScope(const SigintScope&) = delete;
  SigintScope& operator=(const SigintScope&) = delete;

 private:
  struct sigaction previous_ {};
};

bool interrupt_requested() { return g_interrupts.load() > 0; }

// Forwards every hook to `inner`, except on_epoch_end after an interrupt within the epoch: a partial epoch must
// not count as one (no epoch log line, no early-stopping or plateau update, no epoch checkpoint).
class Gated final : public train::Callback {
 public:
  Gated(train::CallbackPtr inner, std::shared_ptr<const bool> partial) : inner_(std::move(inner)), partial_(std::move(partial)) {}
  void on_train_begin(train::TrainContext& c) override { inner_->on_train_begin(c); }
  void on_epoch_begin(train::TrainContext& c) override { inner_->on_epoch_begin(c); }
  void on_batch_begin(train::TrainContext& c) override { inner_->on_batch_begin(c); }
  void on_before_step(train::TrainContext& c) override { inner_->on_before_step(c); }
  void on_batch_end(train::TrainContext& c) override { inner_->on_batch_end(c); }
  void on_epoch_end(train::TrainContext& c) override {
    if (!*partial_) inner_->on_epoch_end(c);
  }
  void on_train_end(train::TrainContext& c) override { inner_->on_train_end(c); }

 private:
  train::CallbackPtr inner_;
  std::shared_ptr<const bool> partial_;
};

// Stops training on an interrupt at the end of the current step and saves where it stopped: the epoch and the
// batches of it already trained on ("batch" in the checkpoint's metadata; 0 at an epoch boundary).
class InterruptCallback final : public train::Callback {
 public:
  InterruptCallback(std::string path, std::vector<train::CallbackPtr> stateful, io::NamedTensors extra,
                    std::int64_t accumulation, std::shared_ptr<bool> partial, bool epoch_checkpoint_written)
      : path_(std::move(path)),
        stateful_(std::move(stateful)),
        extra_(std::move(extra)),
        accumulation_(accumulation),
        partial_(std::move(partial)),
        epoch_checkpoint_written_(epoch_checkpoint_written) {}

  void on_batch_end(train::TrainContext& context) override {
    if (!interrupt_requested()) return;
    const std::int64_t done = context.batch + 1;
    if (done == context.batches_per_epoch) return;  // the epoch is complete: stop at its end, as on_epoch_end does
    if (done % accumulation_ != 0) return;          // finish the accumulation group: its gradients are not saved
    *partial_ = true;
    save(context, context.epoch, done);
    context.request_stop("interrupted");
    stopped = true;
  }
  void on_epoch_end(train::TrainContext& context) override {
    if (stopped || !interrupt_requested()) return;
    if (!epoch_checkpoint_written_) save(context, context.epoch + 1, 0);
    context.request_stop("interrupted");
    stopped = true;
  }

  bool stopped = false;

 private:
  void save(train::TrainContext& context, std::int64_t epoch, std::int64_t batch) {
    train::CheckpointState state{epoch, context.step, extra_, {{"batch", std::to_string(batch)}}};
    train::save_checkpoint(path_, context.model, &context.optimizer, stateful_, state);
  }

  std::string path_;
  std::vector<train::CallbackPtr> stateful_;
  io::NamedTensors extra_;
  std::int64_t accumulation_;
  std::shared_ptr<bool> partial_;
  bool epoch_checkpoint_written_;
};

// --json: one line per epoch.
class JsonEvents final : public train::Callback {
 public:
  explicit JsonEvents(std::ostream& out) : out_(out) {}
  void on_epoch_end(train::TrainContext& context) override {
    // "epoch" counts from 0, as in metrics.jsonl; "epochs" is the run's total.
    nlohmann::ordered_json line = {{"event", "epoch"}, {"epoch", context.epoch}, {"epochs", context.epochs},
                                   {"step", context.step}};
    for (const auto& [key, value] : context.epoch_logs)
      if (key != "epoch") line[key] = value;
    out_ << line.dump() << std::endl;
  }

 private:
  std::ostream& out_;
};

}  // namespace

std::vector<std::int64_t> int64_values(const Tensor& t) {
  const Tensor c = contiguous(t);
  const std::int64_t* p = c.data<std::int64_t>();
  return std::vector<std::int64_t>(p, p + c.numel());
}

std::vector<std::int64_t> targets_of(const data::DataLoader& loader) {
  std::vector<std::int64_t> out;
  for (const data::Batch& batch : loader.epoch(0)) {
    const std::vector<std::int64_t> t = int64_values(batch.targets);
    out.insert(out.end(), t.begin(), t.end());
  }
  return out;
}

namespace {

struct Engine {
  Config config;
  std::string run_dir;  // empty for a new run: created once everything is built
  bool resume = false;
  Output output = Output::Progress;
  std::vector<train::CallbackPtr> extra_callbacks;
  std::string command_line;
};

TrainResult train_in(Engine e, std::ostream& out) {
  const Config& config = e.config;
  const auto started = std::chrono::steady_clock::now();
  if (config.get_int("run.threads") > 0) omp_set_num_threads(static_cast<int>(config.get_int("run.threads")));

  const LoadedData data = load_data(config);
  const Pipeline pipeline = make_pipeline(config, data);
  auto model = build_model(config, data);
  const train::LossFunction loss = build_loss(config, data, *model);
  auto optimizer = build_optimizer(config, *model);
  const std::int64_t batches = pipeline.train->size();
  std::vector<train::CallbackPtr> own = build_training_callbacks(config, batches);
  // Everything that can be checked without training has been: only now does a new run get its directory.
  if (e.run_dir.empty()) {
    e.run_dir = create_run_dir(config.get_string("run.runs_dir"), config.get_string("run.name"));
    write_file(config_path(e.run_dir), config.to_toml());
    write_env_json(e.run_dir, config.get_int("run.threads"), config.get_int("run.seed"), e.command_line);
  }

  // ---- callbacks: vigil's own (each gated against partial epochs), the caller's, checkpoints, interrupts ----
  std::vector<train::CallbackPtr> stateful;  // what checkpoints save and resume restores
  for (const auto& c : own)
    if (!c->name().empty()) stateful.push_back(c);
  if (config.get_bool("callbacks.terminate_on_nan")) own.push_back(std::make_shared<train::TerminateOnNaN>());
  const std::string monitor = config.get_string("callbacks.monitor");
  if (config.get_bool("callbacks.early_stopping")) {
    // The best weights come back from best.safetensors, which survives an interrupted run (in-memory copies do not).
    auto stopping = std::make_shared<train::EarlyStopping>(train::EarlyStopping::Options{
        .monitor = monitor, .min_delta = config.get_float("callbacks.min_delta"),
        .patience = config.get_int("callbacks.patience"), .restore_best_weights = false});
    own.push_back(stopping);
    stateful.push_back(stopping);
  }
  own.push_back(std::make_shared<train::JsonlLogger>((std::filesystem::path(e.run_dir) / "metrics.jsonl").string(),
                                                     config.get_int("run.log_every_steps")));
  own.push_back(std::make_shared<train::TensorBoardLogger>(train::TensorBoardLogger::Options{
      .dir = e.run_dir, .scalar_every_steps = config.get_int("run.log_every_steps"), .histogram_every_epochs = 1}));
  if (e.output == Output::Progress) own.push_back(std::make_shared<train::ProgressBar>(stdout));
  if (e.output == Output::Json) own.push_back(std::make_shared<JsonEvents>(out));
  own.insert(own.end(), e.extra_callbacks.begin(), e.extra_callbacks.end());
  // The doctor watches every step (its monitor is cheap between its sampled steps; see doctor/monitor.hpp).
  const doctor::Setup setup{*model, loss, *optimizer, *pipeline.train, pipeline.validation.get()};
  std::unique_ptr<DoctorSession> doctor;
  if (config.get_bool("doctor.enabled")) {
    doctor = std::make_unique<DoctorSession>(config, setup, e.output, out);
    for (auto& c : doctor->callbacks()) own.push_back(c);
  }
  auto checkpoints = std::make_shared<train::ModelCheckpoint>(
      train::ModelCheckpoint::Options{.dir = (std::filesystem::path(e.run_dir) / "checkpoints").string(),
                                      .monitor = monitor,
                                      .save_best = config.get_bool("callbacks.checkpoint_best"),
                                      .save_last = config.get_bool("callbacks.checkpoint_last"),
                                      .extra = pipeline.state},
      stateful);
  own.push_back(checkpoints);
  stateful.push_back(checkpoints);
  auto partial = std::make_shared<bool>(false);
  const std::int64_t accumulation = config.get_int("optim.accumulation_steps");
  auto interrupt = std::make_shared<InterruptCallback>(checkpoint_path(e.run_dir, "last"), stateful, pipeline.state,
                                                       accumulation, partial,
                                                       config.get_bool("callbacks.checkpoint_last"));
  train::FitOptions options;
  options.epochs = config.get_int("run.epochs");
  options.accumulation_steps = accumulation;
  options.metrics = config.get_strings("run.metrics");
  if (options.metrics.empty())
    options.metrics = data.regression ? std::vector<std::string>{"mae", "r2"} : std::vector<std::string>{"accuracy"};
  for (const auto& c : own) options.callbacks.push_back(std::make_shared<Gated>(c, partial));
  options.callbacks.push_back(interrupt);

  if (e.resume) {
    const std::string last = checkpoint_path(e.run_dir, "last");
    if (!std::filesystem::exists(last))
      throw UsageError(fmt::format("{} has no checkpoints/last.safetensors to resume from (the run stopped before "
                                   "its first checkpoint, or callbacks.checkpoint_last is off); start it again "
                                   "with vigil train",
                                   e.run_dir));
    train::CheckpointState state;
    try {
      state = train::load_checkpoint(last, *model, optimizer.get(), stateful);
    } catch (const std::exception& error) {
      throw UsageError(fmt::format("cannot resume {}: {}", e.run_dir, error.what()));
    }
    options.initial_epoch = state.epoch;
    options.initial_step = state.step;
    const auto batch = state.metadata.find("batch");
    options.initial_batch = batch == state.metadata.end() ? 0 : std::stoll(batch->second);
    if (options.initial_epoch >= options.epochs)
      throw UsageError(fmt::format("{} has finished: {} of {} epochs done (raise run.epochs in a new run to train "
                                   "longer)",
                                   e.run_dir, state.epoch, options.epochs));
  }

  if (e.output == Output::Json) {
    out << nlohmann::ordered_json{{"event", "start"}, {"run_dir", e.run_dir}, {"resume", e.resume},
                                  {"epoch", options.initial_epoch}, {"batch", options.initial_batch}}
               .dump()
        << std::endl;
  } else if (e.output == Output::Progress) {
    out << fmt::format("vigil: {} {} in {}", e.resume ? "resuming" : "training", config.get_string("model.name"),
                       e.run_dir);
    if (e.resume) out << fmt::format(" at epoch {}, batch {}", options.initial_epoch + 1, options.initial_batch);
    out << fmt::format(" ({} train, {} validation, {} test examples; {} batches per epoch)\n", data.train->size(),
                       data.validation ? data.validation->size() : 0, data.test ? data.test->size() : 0, batches);
    out.flush();
  }

  if (doctor && e.resume) doctor->continue_from(e.run_dir, options.initial_step);
  if (doctor && !e.resume) doctor->preflight();

  train::History history;
  {
    SigintScope sigint;
    history = train::fit(*model, loss, *optimizer, *pipeline.train, pipeline.validation.get(), options);
  }

  TrainResult result;
  result.run_dir = e.run_dir;
  result.interrupted = interrupt->stopped;
  result.epochs_done = options.initial_epoch + static_cast<std::int64_t>(history.epochs.size()) - (*partial ? 1 : 0);
  for (auto it = history.epochs.rbegin(); it != history.epochs.rend(); ++it) {
    if (*partial && it == history.epochs.rbegin()) continue;
    result.last_epoch = *it;
    break;
  }
  // The doctor's files and the report, also after an interruption, so that the user can look at the run so far.
  const auto write_doctor_and_report = [&] {
    if (doctor) doctor->write(e.run_dir);
    report::write_report(e.run_dir);
  };
  if (result.interrupted) {
    write_doctor_and_report();
    if (e.output == Output::Json)
      out << nlohmann::ordered_json{{"event", "interrupted"}, {"run_dir", e.run_dir},
                                    {"resume", "vigil resume " + e.run_dir}}
                 .dump()
          << std::endl;
    else
      out << fmt::format("vigil: interrupted; checkpoint saved. Continue with:\n  vigil resume {}\n", e.run_dir);
    return result;
  }

  // ---- the final model on the test (else validation) set ----
  const std::string best = checkpoint_path(e.run_dir, "best");
  if (config.get_bool("callbacks.restore_best") && config.get_bool("callbacks.checkpoint_best") &&
      std::filesystem::exists(best))
    train::load_checkpoint(best, *model, nullptr, {});
  const data::DataLoader* final_loader = pipeline.test ? pipeline.test.get() : pipeline.validation.get();
  result.final_set = pipeline.test ? "test" : (pipeline.validation ? "validation" : "");
  if (final_loader != nullptr) {
    // One pass over the final set gives both the metrics and the confusion matrix.
    train::ConfusionMatrix matrix(data.regression ? 1 : data.num_classes);
    train::BatchObserver count_confusion;
    if (!data.regression)
      count_confusion = [&matrix](const Tensor& outputs, const data::Batch& batch) { matrix.update(outputs, batch.targets); };
    result.final_logs = train::evaluate(*model, loss, *final_loader, options.metrics, 0, count_confusion);
    if (!data.regression)
      write_confusion_json((std::filesystem::path(e.run_dir) / "confusion.json").string(), data.class_names, matrix);
  }
  if (doctor) doctor->analyze(history);
  write_doctor_and_report();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (e.output == Output::Json) {
    nlohmann::ordered_json line = {{"event", "result"}, {"run_dir", e.run_dir}, {"epochs", result.epochs_done},
                                   {"seconds", seconds}};
    line["last_epoch"] = result.last_epoch;
    line["final_set"] = result.final_set;
    line["final"] = result.final_logs;
    if (doctor) {
      const doctor::Report final_report = doctor->report();
      line["doctor"] = {{"errors", final_report.count(doctor::Severity::error)},
                        {"warnings", final_report.count(doctor::Severity::warning)}};
    }
    line["report"] = (std::filesystem::path(e.run_dir) / "report.html").string();
    out << line.dump() << std::endl;
  } else {
    out << fmt::format("vigil: {} epochs in {:.1f} s; last epoch: {}\n", result.epochs_done, seconds,
                       train::format_logs(result.last_epoch));
    if (!result.final_set.empty())
      out << fmt::format("vigil: {} set ({}): {}\n", result.final_set,
                         std::filesystem::exists(best) && config.get_bool("callbacks.restore_best") ? "best checkpoint"
                                                                                                     : "final weights",
                         train::format_logs(result.final_logs));
    if (doctor) out << fmt::format("vigil: doctor: {}\n", verdict_words(doctor->report()));
    out << fmt::format("vigil: run directory {} (report: {})\n", e.run_dir,
                       (std::filesystem::path(e.run_dir) / "report.html").string());
  }
  return result;
}

}  // namespace

void request_interrupt() { g_interrupts.fetch_add(1); }

Config load_run_config(const std::string& path, const std::vector<std::string>& overrides, const std::string& name,
                       const std::string& runs_dir) {
  Config config = load_config(path, overrides);
  if (!name.empty()) config.set("run.name", name, "--name");
  if (!runs_dir.empty()) config.set("run.runs_dir", runs_dir, "--runs-dir");
  // The run directory's config.toml must rebuild this run from anywhere (vigil resume, vigil eval): paths become
  // absolute and the thread count concrete (oneDNN's results depend on it).
  for (const char* key : {"data.path", "data.targets_path", "data.test_path", "data.test_targets_path", "model.init_from"}) {
    const std::string& file = config.get_string(key);
    if (!file.empty() && std::filesystem::path(file).is_relative())
      config.set(key, std::filesystem::absolute(file).lexically_normal().string(), config.origin(key));
  }
  if (config.get_int("run.threads") == 0)
    config.set("run.threads", static_cast<std::int64_t>(omp_get_max_threads()), config.origin("run.threads"));
  omp_set_num_threads(static_cast<int>(config.get_int("run.threads")));
  return config;
}

TrainResult run_train(const TrainRequest& request, std::ostream& out) {
  const Config config = load_run_config(request.config, request.overrides, request.name, request.runs_dir);
  return train_in(Engine{config, "", false, request.output, request.extra_callbacks, request.command_line}, out);
}

TrainResult run_resume(const ResumeRequest& request, std::ostream& out) {
  require_run_dir(request.run_dir);
  return train_in(Engine{load_config(config_path(request.run_dir)), request.run_dir, true, request.output,
                         request.extra_callbacks, ""},
                  out);
}

}  // namespace vigil::cli
