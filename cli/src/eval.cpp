// vigil eval: a trained run's checkpoint on its test (else validation) set, or on another one (--data).
#include <vigil/cli/builders.hpp>
#include <vigil/cli/commands.hpp>
#include <vigil/cli/config.hpp>
#include <vigil/cli/run_dir.hpp>
#include <vigil/train/checkpoint.hpp>
#include <vigil/train/ensemble.hpp>

#include "internal.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <ostream>

namespace vigil::cli {

double expected_calibration_error(const Tensor& probs, const std::vector<std::int64_t>& labels, int bins) {
  const Tensor p = contiguous(probs);
  const std::int64_t n = p.size(0), c = p.size(1);
  std::vector<double> confidence_sum(static_cast<std::size_t>(bins)), correct(static_cast<std::size_t>(bins));
  std::vector<std::int64_t> count(static_cast<std::size_t>(bins));
  const float* data = p.data<float>();
  for (std::int64_t i = 0; i < n; ++i) {
    const float* row = data + i * c;
    const std::int64_t predicted = std::max_element(row, row + c) - row;
    const double confidence = row[predicted];
    // Bin b holds confidences in (b / bins, (b + 1) / bins]; a confidence of 0 goes to the first bin.
    const int b = std::clamp(static_cast<int>(std::ceil(confidence * bins)) - 1, 0, bins - 1);
    confidence_sum[static_cast<std::size_t>(b)] += confidence;
    correct[static_cast<std::size_t>(b)] += predicted == labels[static_cast<std::size_t>(i)] ? 1.0 : 0.0;
    ++count[static_cast<std::size_t>(b)];
  }
  double ece = 0.0;
  for (std::size_t b = 0; b < count.size(); ++b)
    if (count[b] > 0)
      ece += std::abs(correct[b] - confidence_sum[b]) / static_cast<double>(n);  // (n_b / N) |acc_b - conf_b|
  return ece;
}

namespace {

// The run directory and checkpoint `target` names.
std::pair<std::string, std::string> locate(const std::string& target) {
  if (std::filesystem::is_directory(target)) {
    require_run_dir(target);
    for (const char* which : {"best", "last"})
      if (std::filesystem::exists(checkpoint_path(target, which))) return {target, checkpoint_path(target, which)};
    throw UsageError(fmt::format("run directory {} has no checkpoint yet (checkpoints/best.safetensors or "
                                 "last.safetensors)",
                                 target));
  }
  if (!std::filesystem::exists(target)) throw UsageError(fmt::format("{}: no such run directory or checkpoint", target));
  const std::filesystem::path run = std::filesystem::path(target).parent_path().parent_path();
  if (!std::filesystem::exists(run / "config.toml"))
    throw UsageError(fmt::format("checkpoint {} is not inside a run directory (RUN_DIR/checkpoints/*.safetensors "
                                 "next to RUN_DIR/config.toml)",
                                 target));
  return {run.string(), target};
}

}  // namespace

EvalResult run_eval(const EvalRequest& request, std::ostream& out) {
  if (request.mc_dropout < 0) throw UsageError(fmt::format("--mc-dropout must be >= 0, got {}", request.mc_dropout));
  const auto [run_dir, checkpoint] = locate(request.target);
  Config config = load_config(config_path(run_dir));
  // Every weight comes from the checkpoint: the transfer-learning source is not needed (nor perhaps still there).
  config.set("model.init_from", std::string(), "vigil eval");
  config.set("model.init_only", std::vector<std::string>{}, "vigil eval");
  const LoadedData data = load_data(config, request.data);
  if (data.regression)
    throw UsageError(fmt::format("vigil eval reports classification metrics; {} trains a regression", run_dir));
  auto model = build_model(config, data);
  train::CheckpointState state;
  try {
    state = train::load_checkpoint(checkpoint, *model, nullptr, {});
  } catch (const std::exception& e) {
    throw UsageError(fmt::format("checkpoint {} does not match the model of {}: {}", checkpoint,
                                 config_path(run_dir), e.what()));
  }
  const Pipeline pipeline = make_pipeline(config, data, &state.extra);
  const data::DataLoader* loader = pipeline.test ? pipeline.test.get() : pipeline.validation.get();
  if (loader == nullptr)
    throw UsageError(fmt::format("{} has neither a test set nor a validation split to evaluate on; pass --data",
                                 run_dir));

  EvalResult result;
  result.checkpoint = checkpoint;
  result.set = pipeline.test ? "test" : "validation";
  Tensor probs;
  if (request.mc_dropout > 0) {
    const train::UncertainPrediction u = train::mc_dropout_predict(*model, *loader, request.mc_dropout);
    probs = u.mean;
    result.mean_entropy = mean(u.entropy).item();
    result.mean_mutual_information = mean(u.mutual_information).item();
  } else {
    probs = softmax(train::predict(*model, *loader), 1);
  }
  const std::vector<std::int64_t> labels = targets_of(*loader);
  result.samples = static_cast<std::int64_t>(labels.size());
  train::ConfusionMatrix matrix(data.num_classes);
  matrix.update(int64_values(argmax(probs, 1)), labels);
  result.accuracy = matrix.accuracy();
  {
    const Tensor p = contiguous(probs);
    double nll = 0.0;
    for (std::size_t i = 0; i < labels.size(); ++i)
      nll -= std::log(std::max(1e-12, static_cast<double>(p.data<float>()[static_cast<std::int64_t>(i) * data.num_classes + labels[i]])));
    result.loss = nll / static_cast<double>(labels.size());
  }
  result.ece = expected_calibration_error(probs, labels);
  for (std::int64_t c = 0; c < data.num_classes; ++c) {
    std::int64_t support = 0;
    for (std::int64_t p = 0; p < data.num_classes; ++p) support += matrix.count(c, p);
    result.classes.push_back({data.class_names[static_cast<std::size_t>(c)], matrix.precision(c), matrix.recall(c),
                              matrix.f1(c), support});
    std::vector<std::int64_t> row;
    for (std::int64_t p = 0; p < data.num_classes; ++p) row.push_back(matrix.count(c, p));
    result.confusion.push_back(row);
  }

  if (request.json) {
    nlohmann::ordered_json j = {{"checkpoint", checkpoint}, {"set", result.set},       {"samples", result.samples},
                                {"accuracy", result.accuracy}, {"loss", result.loss}, {"ece", result.ece}};
    nlohmann::json classes = nlohmann::json::array();
    for (const ClassReport& r : result.classes)
      classes.push_back({{"name", r.name}, {"precision", r.precision}, {"recall", r.recall}, {"f1", r.f1},
                         {"support", r.support}});
    j["classes"] = classes;
    j["confusion"] = {{"classes", data.class_names}, {"matrix", result.confusion}};
    if (request.mc_dropout > 0)
      j["mc_dropout"] = {{"passes", request.mc_dropout}, {"mean_entropy", result.mean_entropy},
                         {"mean_mutual_information", result.mean_mutual_information}};
    out << j.dump() << std::endl;
    return result;
  }
  out << fmt::format("checkpoint {} on the {} set ({} examples{})\n", checkpoint, result.set, result.samples,
                     request.mc_dropout > 0 ? fmt::format(", MC dropout with {} passes", request.mc_dropout) : "");
  out << fmt::format("accuracy {:.4f}  loss {:.4f}  expected calibration error {:.4f} (15 bins)\n\n",
                     result.accuracy, result.loss, result.ece);
  std::size_t width = 5;
  for (const ClassReport& r : result.classes) width = std::max(width, r.name.size());
  out << fmt::format("{:<{}}  {:>9}  {:>6}  {:>6}  {:>7}\n", "class", width, "precision", "recall", "f1", "support");
  for (const ClassReport& r : result.classes)
    out << fmt::format("{:<{}}  {:>9.4f}  {:>6.4f}  {:>6.4f}  {:>7}\n", r.name, width, r.precision, r.recall, r.f1,
                       r.support);
  out << fmt::format("{:<{}}  {:>9.4f}  {:>6.4f}  {:>6.4f}  {:>7}\n\n", "macro", width, matrix.macro_precision(),
                     matrix.macro_recall(), matrix.macro_f1(), result.samples);
  out << "confusion matrix (rows: true class, columns: predicted)\n" << matrix.str(data.class_names);
  if (request.mc_dropout > 0) {
    out << fmt::format("\npredictive uncertainty over {} passes: mean entropy {:.4f} nats, mean mutual information "
                       "{:.4f} nats\n",
                       request.mc_dropout, result.mean_entropy, result.mean_mutual_information);
    if (train::dropout_modules(*model).empty())
      out << "note: the model has no dropout layer, so every pass agrees (mutual information 0)\n";
  }
  return result;
}

}  // namespace vigil::cli
