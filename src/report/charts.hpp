// What report.js draws: each chart is a spec (x values, named series, scales, a marked x), built here from the
// run's files so that the script stays a thin layer over uPlot. NaN values become JSON null: a gap.
#pragma once

#include "run_files.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace vigil::report {

struct Series {
  std::string label;
  std::vector<double> values;  // one per x; NaN for none
};

struct Chart {
  std::string id{};     // the page element is "chart-<id>"
  std::string title{};
  std::string x_label{};
  std::string y_label{};
  std::vector<double> x{};  // ascending
  std::vector<Series> series{};
  bool log_x = false;
  bool log_y = false;          // non-positive values are dropped (NaN) by the builders
  bool points_only = false;    // a scatter: markers, no lines
  std::optional<double> mark_x{};  // a dashed vertical line (the best epoch), labelled mark_label
  std::string mark_label{};
};

nlohmann::json to_json(const Chart& chart);

// Whether larger values of the metric `name` are better: the rule of train::MonitorMode::Auto ("accuracy", "f1",
// "precision", "recall", "r2" in the name mean larger; losses and errors smaller).
bool larger_is_better(const std::string& name);

// The epoch with the best validation value of `name` (val_<name>), 0-based, or none without validation values.
std::optional<std::int64_t> best_epoch(const std::vector<MetricsLine>& metrics, const std::string& name);

// Per epoch (x = epoch + 1): "loss" first, then each other metric, train against validation, best epoch marked.
std::vector<Chart> epoch_charts(const std::vector<MetricsLine>& metrics);
// Over steps: the batch loss (step lines) and the learning rate (step lines, else epoch lines), when recorded.
std::vector<Chart> step_charts(const std::vector<MetricsLine>& metrics);
// Gradient norm and update/weight ratio per parameter (log y), and, when activation rows exist, activation std
// and dead-unit fraction per module; `notes` receives a sentence for each kind that has no rows.
std::vector<Chart> layer_charts(const std::vector<LayerSample>& layers, std::vector<std::string>& notes);
// Metric against each numeric parameter that varies over the finished trials (at most four), or against the
// trial number when none varies.
std::vector<Chart> trial_charts(const std::vector<Trial>& trials);

}  // namespace vigil::report
