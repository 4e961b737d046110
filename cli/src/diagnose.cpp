// vigil doctor and vigil lr-find: the doctor's diagnosis and the learning-rate range test on a config's setup,
// each into a run directory of its own.
#include <vigil/cli/builders.hpp>
#include <vigil/cli/commands.hpp>
#include <vigil/cli/run_dir.hpp>
#include <vigil/report/report.hpp>
#include <vigil/train/callbacks.hpp>

#include "doctor_session.hpp"
#include "internal.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <ostream>

namespace vigil::cli {
namespace {

// Stops fit() once `steps` optimiser steps are done.
class StepLimit final : public train::Callback {
 public:
  explicit StepLimit(std::int64_t steps) : steps_(steps) {}
  void on_batch_end(train::TrainContext& context) override {
    if (context.step >= steps_) context.request_stop("doctor.steps reached");
  }

 private:
  std::int64_t steps_;
};

std::string new_run_dir(const Config& config, const std::string& suffix, const std::string& command_line) {
  const std::string dir = create_run_dir(config.get_string("run.runs_dir"), config.get_string("run.name") + suffix);
  write_file(config_path(dir), config.to_toml());
  write_env_json(dir, config.get_int("run.threads"), config.get_int("run.seed"), command_line);
  return dir;
}

std::vector<std::string> metrics_of(const Config& config, const LoadedData& data) {
  std::vector<std::string> metrics = config.get_strings("run.metrics");
  if (metrics.empty())
    metrics = data.regression ? std::vector<std::string>{"mae", "r2"} : std::vector<std::string>{"accuracy"};
  return metrics;
}

}  // namespace

bool doctor_gate_fails(const doctor::Report& report) {
  return report.has_errors() || report.has("probe.overfit_one_batch");
}

DoctorResult run_doctor(const DoctorRequest& request, std::ostream& out) {
  const Config config = load_run_config(request.config, request.overrides, request.name, request.runs_dir);
  const LoadedData data = load_data(config);
  const Pipeline pipeline = make_pipeline(config, data);
  auto model = build_model(config, data);
  const train::LossFunction loss = build_loss(config, data, *model);
  auto optimizer = build_optimizer(config, *model);
  const std::int64_t batches = pipeline.train->size();
  const std::string run_dir = new_run_dir(config, "-doctor", request.command_line);

  // The short run: doctor.steps steps (within run.epochs), sampled at least 30 times by the monitor.
  const std::int64_t steps = config.get_int("doctor.steps");
  const std::int64_t every = std::max<std::int64_t>(1, std::min(config.get_int("doctor.every"), steps / 30));
  train::FitOptions options;
  options.epochs = std::min(config.get_int("run.epochs"), (steps + batches - 1) / batches);
  options.accumulation_steps = config.get_int("optim.accumulation_steps");
  options.metrics = metrics_of(config, data);
  options.callbacks = build_training_callbacks(config, batches);
  options.callbacks.push_back(std::make_shared<train::JsonlLogger>(
      (std::filesystem::path(run_dir) / "metrics.jsonl").string(), std::max<std::int64_t>(1, steps / 100)));

  const bool json = request.output == Output::Json;
  const doctor::Setup setup{*model, loss, *optimizer, *pipeline.train, pipeline.validation.get()};
  // Findings are printed once, ranked, at the end (--json: also as they arise).
  DoctorSession session(config, setup, json ? Output::Json : Output::Quiet, out, every);
  if (json) {
    out << nlohmann::ordered_json{{"event", "start"}, {"run_dir", run_dir}, {"steps", steps}}.dump() << std::endl;
  } else if (request.output == Output::Progress) {
    out << fmt::format("vigil: doctor: examining {} in {} (pre-flight checks, then {} training steps)\n",
                       config.get_string("model.name"), run_dir, steps);
    out.flush();
  }
  session.preflight();
  for (auto& c : session.callbacks()) options.callbacks.push_back(c);
  options.callbacks.push_back(std::make_shared<StepLimit>(steps));
  if (request.output == Output::Progress) options.callbacks.push_back(std::make_shared<train::ProgressBar>(stdout));
  const train::History history = train::fit(*model, loss, *optimizer, *pipeline.train, pipeline.validation.get(), options);
  session.analyze(history);
  session.write(run_dir);
  report::write_report(run_dir);

  DoctorResult result{run_dir, session.report(), false};
  result.failed = doctor_gate_fails(result.report);
  const std::string report_path = (std::filesystem::path(run_dir) / "report.html").string();
  if (json) {
    nlohmann::ordered_json line = {{"event", "result"},
                                   {"run_dir", run_dir},
                                   {"errors", result.report.count(doctor::Severity::error)},
                                   {"warnings", result.report.count(doctor::Severity::warning)},
                                   {"infos", result.report.count(doctor::Severity::info)},
                                   {"failed", result.failed},
                                   {"report", report_path}};
    const auto ranked = result.report.ranked();
    line["top"] = ranked.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(ranked.front().check);
    out << line.dump() << std::endl;
  } else {
    out << result.report.text();
    out << fmt::format("vigil: doctor: {}\n", verdict_words(result.report));
    if (result.failed && !result.report.has_errors())
      out << "vigil: doctor: failing: the model could not fit even one batch (probe.overfit_one_batch), a "
             "consequence of finding 1\n";
    out << fmt::format("vigil: run directory {} (report: {})\n", run_dir, report_path);
  }
  return result;
}

std::string text_plot(const std::vector<double>& x, const std::vector<double>& curve, double mark, int width,
                      int height) {
  double y_min = std::numeric_limits<double>::infinity(), y_max = -y_min;
  for (const double y : curve)
    if (std::isfinite(y)) {
      y_min = std::min(y_min, y);
      y_max = std::max(y_max, y);
    }
  if (x.empty() || !std::isfinite(y_min)) return "(no finite values to plot)\n";
  // The interesting part is the fall below the first value; a diverging tail would squash it into one row, so the
  // top is cut at twice the fall above the start, and values beyond it are drawn as '^' in the top row.
  const auto first = std::find_if(curve.begin(), curve.end(), [](double y) { return std::isfinite(y); });
  if (*first > y_min) y_max = std::min(y_max, *first + 2 * (*first - y_min));
  if (y_max == y_min) y_max = y_min + 1;
  const double lo = std::log10(x.front()), hi = std::log10(x.back());
  const double span = hi > lo ? hi - lo : 1;
  const auto column = [&](double v) {
    return std::clamp(static_cast<int>(std::lround((std::log10(v) - lo) / span * (width - 1))), 0, width - 1);
  };
  std::vector<std::string> rows(static_cast<std::size_t>(height), std::string(static_cast<std::size_t>(width), ' '));
  if (mark > 0)
    for (auto& row : rows) row[static_cast<std::size_t>(column(mark))] = '|';
  for (std::size_t i = 0; i < x.size() && i < curve.size(); ++i) {
    if (!std::isfinite(curve[i])) continue;
    // Row 0 is the top: the largest values.
    const int r = std::clamp(static_cast<int>(std::lround((y_max - curve[i]) / (y_max - y_min) * (height - 1))), 0,
                             height - 1);
    rows[static_cast<std::size_t>(r)][static_cast<std::size_t>(column(x[i]))] = curve[i] > y_max ? '^' : '*';
  }
  std::string text;
  for (int r = 0; r < height; ++r) {
    const std::string label = r == 0 ? fmt::format("{:.3g}", y_max) : r == height - 1 ? fmt::format("{:.3g}", y_min) : "";
    text += fmt::format("{:>9} +{}\n", label, rows[static_cast<std::size_t>(r)]);
  }
  text += fmt::format("{:>9} +{}\n", "", std::string(static_cast<std::size_t>(width), '-'));
  const std::string left = fmt::format("{:.0e}", x.front()), right = fmt::format("{:.0e}", x.back());
  const int gap = std::max(1, width - static_cast<int>(left.size() + right.size()));
  text += fmt::format("{:>9}  {}{}{}\n", "", left, std::string(static_cast<std::size_t>(gap), ' '), right);
  return text;
}

LrFindResult run_lr_find(const LrFindRequest& request, std::ostream& out) {
  const Config config = load_run_config(request.config, request.overrides, request.name, request.runs_dir);
  if (config.get_float("doctor.lr_min") >= config.get_float("doctor.lr_max"))
    throw config.invalid("doctor.lr_min", fmt::format("must be below doctor.lr_max ({})", config.get_float("doctor.lr_max")));
  const LoadedData data = load_data(config);
  const Pipeline pipeline = make_pipeline(config, data);
  auto model = build_model(config, data);
  const train::LossFunction loss = build_loss(config, data, *model);
  auto optimizer = build_optimizer(config, *model);
  const std::string run_dir = new_run_dir(config, "-lr-find", request.command_line);

  const doctor::Setup setup{*model, loss, *optimizer, *pipeline.train, pipeline.validation.get()};
  LrFindResult result{run_dir, doctor::lr_range_test(setup, {.min_lr = config.get_float("doctor.lr_min"),
                                                             .max_lr = config.get_float("doctor.lr_max"),
                                                             .steps = config.get_int("doctor.lr_steps"),
                                                             .seed = static_cast<std::uint64_t>(config.get_int("run.seed"))})};
  const doctor::LrRangeResult& sweep = result.sweep;
  // JSON has no NaN/Inf: a diverged loss is written as null.
  const auto numbers = [](const std::vector<double>& v) {
    nlohmann::json a = nlohmann::json::array();
    for (const double x : v) a.push_back(std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr));
    return a;
  };
  const nlohmann::ordered_json summary = {{"lrs", numbers(sweep.lrs)},
                                          {"losses", numbers(sweep.losses)},
                                          {"smoothed", numbers(sweep.smoothed)},
                                          {"suggested_lr", sweep.suggested_lr > 0 ? nlohmann::json(sweep.suggested_lr) : nlohmann::json(nullptr)},
                                          {"reason", sweep.reason}};
  const std::filesystem::path dir(run_dir);
  write_file((dir / "lr_find.json").string(), summary.dump(2) + "\n");
  report::write_lr_find_page(dir / "lr_find.html", sweep, config.get_string("run.name"));

  if (request.json) {
    nlohmann::ordered_json line = {{"event", "result"}, {"run_dir", run_dir}};
    line["suggested_lr"] = summary["suggested_lr"];
    line["reason"] = sweep.reason;
    line["steps"] = sweep.lrs.size();
    line["plot"] = (dir / "lr_find.html").string();
    out << line.dump() << std::endl;
  } else {
    out << fmt::format("vigil: lr-find: smoothed training loss over {} batches against the learning rate (log "
                       "scale; '|': the suggestion)\n",
                       sweep.lrs.size());
    out << text_plot(sweep.lrs, sweep.smoothed, sweep.suggested_lr);
    if (sweep.suggested_lr > 0)
      out << fmt::format("vigil: lr-find: suggested learning rate {:.3g} (--set optim.lr={:.3g}): {}\n",
                         sweep.suggested_lr, sweep.suggested_lr, sweep.reason);
    else
      out << fmt::format("vigil: lr-find: no suggestion: {}\n", sweep.reason);
    out << fmt::format("vigil: run directory {} (plot: {})\n", run_dir, (dir / "lr_find.html").string());
  }
  return result;
}

}  // namespace vigil::cli
