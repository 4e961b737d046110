// The browser test's run directory, from a real (tiny) training: an MLP fitted on 600 Fashion-MNIST images for a
// few epochs, with every file report.hpp reads written the way a training run writes it.
//   make_run train RUN_DIR [DATA_DIR]   trains, writes the run's files and report.html into RUN_DIR (replaced)
//   make_run report RUN_DIR             writes RUN_DIR/report.html again from the files there
// Exit code 77 (CTest's skip) when the data set is not installed.
#include <vigil/autograd/autograd.hpp>
#include <vigil/data/datasets.hpp>
#include <vigil/data/idx.hpp>
#include <vigil/doctor/finding.hpp>
#include <vigil/nn/nn.hpp>
#include <vigil/optim/optim.hpp>
#include <vigil/report/report.hpp>
#include <vigil/train/callbacks.hpp>
#include <vigil/train/fit.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <numeric>

using namespace vigil;
namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kClasses{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                        "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

double norm(const Tensor& t) {
  double sum = 0.0;
  for (const float v : t.to_vector()) sum += static_cast<double>(v) * v;
  return std::sqrt(sum);
}

// layers.jsonl rows as the doctor's monitor writes them: every `every` steps, per parameter the gradient norm,
// the weight norm and the step's update relative to the weights, and per watched module the statistics of its
// output for the batch (a unit is dead when it is <= 0 for every sample of the batch).
class LayerStats : public train::Callback {
 public:
  LayerStats(const fs::path& path, std::int64_t every, std::vector<std::string> watched)
      : out_(path), every_(every), watched_(std::move(watched)) {}

  void on_train_begin(train::TrainContext& context) override {
    for (const auto& [path, module] : context.model.named_modules()) {
      if (std::ranges::find(watched_, path) == watched_.end()) continue;
      module->register_forward_hook([this, path](const nn::Module&, const Tensor&, const Tensor& output) {
        if (sampling_) activation_rows_.push_back(activation_row(path, output));
      });
    }
  }

  void on_batch_begin(train::TrainContext& context) override {
    sampling_ = context.step % every_ == 0;
    if (!sampling_) return;
    before_.clear();
    for (const auto& [path, p] : context.model.named_parameters()) before_.push_back(p.to_vector());
  }

  void on_batch_end(train::TrainContext& context) override {
    if (!sampling_) return;
    sampling_ = false;
    std::size_t i = 0;
    for (const auto& [path, p] : context.model.named_parameters()) {
      const std::vector<float> after = p.to_vector();
      double update = 0.0, weight = 0.0;
      for (std::size_t k = 0; k < after.size(); ++k) {
        update += std::pow(static_cast<double>(after[k]) - before_[i][k], 2);
        weight += static_cast<double>(before_[i][k]) * before_[i][k];
      }
      ++i;
      write({{"layer", path},
             {"grad_norm", p.grad().defined() ? norm(p.grad()) : 0.0},
             {"weight_norm", norm(p)},
             {"update_ratio", weight > 0 ? std::sqrt(update / weight) : 0.0}},
            context.step);
    }
    for (nlohmann::json& row : activation_rows_) write(std::move(row), context.step);
    activation_rows_.clear();
    out_.flush();  // whole samples on disk: the report may be written while this callback still lives
  }

 private:
  static nlohmann::json activation_row(const std::string& path, const Tensor& output) {
    const std::vector<float> v = output.to_vector();
    const std::int64_t n = output.size(0), units = output.numel() / n;
    double sum = 0.0, squares = 0.0;
    for (const float x : v) {
      sum += x;
      squares += static_cast<double>(x) * x;
    }
    const double mean = sum / static_cast<double>(v.size());
    std::int64_t dead = 0;
    for (std::int64_t u = 0; u < units; ++u) {
      bool alive = false;
      for (std::int64_t s = 0; s < n && !alive; ++s) alive = v[static_cast<std::size_t>(s * units + u)] > 0;
      dead += !alive;
    }
    return {{"layer", path},
            {"activation_mean", mean},
            {"activation_std", std::sqrt(std::max(0.0, squares / static_cast<double>(v.size()) - mean * mean))},
            {"dead_fraction", static_cast<double>(dead) / static_cast<double>(units)},
            {"saturated_fraction", 0.0}};
  }

  // Every row has every field, zeros where not applicable.
  void write(nlohmann::json row, std::int64_t step) {
    row["step"] = step;
    for (const char* key : {"grad_norm", "weight_norm", "update_ratio", "activation_mean", "activation_std",
                            "dead_fraction", "saturated_fraction"})
      if (!row.contains(key)) row[key] = 0.0;
    out_ << row.dump() << "\n";
  }

  std::ofstream out_;
  std::int64_t every_;
  std::vector<std::string> watched_;
  bool sampling_ = false;
  std::vector<std::vector<float>> before_;
  std::vector<nlohmann::json> activation_rows_;
};

std::shared_ptr<nn::Sequential> make_model(std::uint64_t seed) {
  Generator gen(seed);
  auto model = std::make_shared<nn::Sequential>();
  model->push_back(std::make_shared<nn::Flatten>());
  model->push_back(std::make_shared<nn::Linear>(784, 64, gen));
  model->push_back(std::make_shared<nn::ReLU>());
  model->push_back(std::make_shared<nn::Linear>(64, 10, gen));
  return model;
}

train::LossFunction cross_entropy() {
  return [](const Tensor& outputs, const Tensor& targets) { return nn::cross_entropy(outputs, targets); };
}

std::vector<std::int64_t> range(std::int64_t from, std::int64_t count) {
  std::vector<std::int64_t> indices(static_cast<std::size_t>(count));
  std::iota(indices.begin(), indices.end(), from);
  return indices;
}

void write_text(const fs::path& path, const std::string& text) { std::ofstream(path) << text; }

int train_run(const fs::path& run, const std::string& data_dir) {
  if (!fs::exists(fs::path(data_dir) / "train-images-idx3-ubyte.gz")) {
    std::cout << "SKIP: no Fashion-MNIST in " << data_dir << " (Debian's dataset-fashion-mnist)\n";
    return 77;
  }
  fs::remove_all(run);
  fs::create_directories(run);
  const auto fashion = std::make_shared<data::FashionMnist>(data_dir, true);
  const auto train_set = std::make_shared<data::Subset>(fashion, range(0, 600));
  const auto val_set = std::make_shared<data::Subset>(fashion, range(600, 200));
  const data::DataLoader train_loader(train_set, {.batch_size = 50, .shuffle = true, .seed = 7});
  const data::DataLoader val_loader(val_set, {.batch_size = 100});
  const std::int64_t epochs = 8, lr_steps = epochs * train_loader.size();
  const double lr = 0.05;

  write_text(run / "config.toml", fmt::format("# make_run: the report test's run\nseed = 7\n\n[data]\ndir = \"{}\"\n"
                                              "train = 600\nvalidation = 200\nbatch_size = 50\n\n[model]\n"
                                              "layers = [\"flatten\", \"linear 64\", \"relu\", \"linear 10\"]\n\n"
                                              "[optim]\nname = \"sgd\"\nlr = {}\nmomentum = 0.9\n"
                                              "schedule = \"cosine\"\n\n[train]\nepochs = {}\n",
                                              data_dir, lr, epochs));
  const nlohmann::json env = {{"vigil_version", "0.1.0"}, {"git_commit", "test"},   {"cpu", "test machine"},
                              {"threads", 1},             {"seed", 7},            {"started", "2025-01-01 12:00"},
                              {"command", "make_run train " + run.string()}};
  write_text(run / "env.json", env.dump(2));

  const auto model = make_model(7);
  optim::SGD sgd(optim::named_parameters(*model), {.lr = lr, .momentum = 0.9});
  train::FitOptions options;
  options.epochs = epochs;
  options.metrics = {"accuracy"};
  options.callbacks = {
      std::make_shared<train::ScheduleCallback>(std::make_shared<optim::CosineAnnealingLR>(lr, lr_steps),
                                                train::ScheduleCallback::Every::Step),
      std::make_shared<train::JsonlLogger>((run / "metrics.jsonl").string(), 2),
      std::make_shared<LayerStats>(run / "layers.jsonl", 6, std::vector<std::string>{"1", "2", "3"})};
  const train::History history = train::fit(*model, cross_entropy(), sgd, train_loader, &val_loader, options);

  // Confusion on the validation images.
  const Tensor scores = train::predict(*model, val_loader);
  const std::vector<std::int64_t> labels = data::labels(*val_set);
  train::ConfusionMatrix confusion(10);
  confusion.update(scores, from_vector_i64(labels, Shape{static_cast<std::int64_t>(labels.size())}));
  nlohmann::json matrix = nlohmann::json::array();
  for (std::int64_t t = 0; t < 10; ++t) {
    nlohmann::json row = nlohmann::json::array();
    for (std::int64_t p = 0; p < 10; ++p) row.push_back(confusion.count(t, p));
    matrix.push_back(row);
  }
  write_text(run / "confusion.json", nlohmann::json{{"classes", kClasses}, {"matrix", matrix}}.dump());

  // Two findings a doctor might make of this run: the gap between training and validation, and a note.
  const train::Logs& last = history.epochs.back();
  doctor::Report doctor;
  doctor::Finding overfitting;
  overfitting.check = "capacity.overfitting";
  overfitting.cause = doctor::Cause::capacity;
  overfitting.value = last.at("accuracy") - last.at("val_accuracy");
  overfitting.threshold = 0.02;
  overfitting.explanation = "training accuracy is above validation accuracy: the model memorises its 600 images";
  overfitting.suggestion = "train on more data, or add weight decay or dropout";
  overfitting.excess = 1.0;
  doctor.add(overfitting);
  doctor::Finding small;
  small.check = "data.small";
  small.severity = doctor::Severity::info;
  small.cause = doctor::Cause::data;
  small.where = "train";
  small.value = 600;
  small.threshold = 10000;
  small.explanation = "the training set has 600 samples";
  small.suggestion = "expect noisy validation figures with 200 validation samples";
  doctor.add(small);
  doctor.write_json(run / "doctor.json");

  // A small search over the learning rate: one epoch per trial, metric = validation accuracy.
  std::ofstream trials(run / "trials.jsonl");
  std::int64_t trial = 0;
  for (const double trial_lr : {0.001, 0.003, 0.01, 0.03, 0.1, 0.3}) {
    const auto trial_model = make_model(100 + static_cast<std::uint64_t>(trial));
    optim::SGD trial_sgd(optim::named_parameters(*trial_model), {.lr = trial_lr, .momentum = 0.9});
    train::FitOptions trial_options;
    trial_options.epochs = 2;
    trial_options.metrics = {"accuracy"};
    const train::History h =
        train::fit(*trial_model, cross_entropy(), trial_sgd, train_loader, &val_loader, trial_options);
    trials << nlohmann::json{{"trial", trial++},
                             {"params", {{"optim.lr", trial_lr}, {"optim.momentum", 0.9}}},
                             {"metric", h.epochs.back().at("val_accuracy")},
                             {"metric_name", "val_accuracy"},
                             {"mode", "max"},
                             {"status", "done"}}
                  .dump()
           << "\n";
  }
  trials.close();

  report::write_report(run);
  std::cout << (run / "report.html").string() << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) try {
  const std::string usage = "usage: make_run train RUN_DIR [DATA_DIR] | make_run report RUN_DIR";
  if (argc < 3) throw Error(usage);
  const std::string command = argv[1];
  if (command == "train") return train_run(argv[2], argc > 3 ? argv[3] : "/usr/share/datasets/fashion-mnist");
  if (command == "report") {
    report::write_report(argv[2]);
    return 0;
  }
  throw Error(usage);
} catch (const std::exception& e) {
  std::cerr << "make_run: " << e.what() << "\n";
  return 1;
}
