// Chart specs from the run's files (see charts.hpp).
#include "charts.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <map>
#include <set>

namespace vigil::report {
namespace {

constexpr double kNone = std::numeric_limits<double>::quiet_NaN();

double value_or_none(const std::map<std::string, double>& values, const std::string& key) {
  const auto it = values.find(key);
  return it == values.end() ? kNone : it->second;
}

// The last line of each epoch (a resumed run appends, so a repeated epoch holds the newer figures).
std::map<std::int64_t, const MetricsLine*> lines_by_epoch(const std::vector<MetricsLine>& metrics) {
  std::map<std::int64_t, const MetricsLine*> epochs;
  for (const MetricsLine& line : metrics)
    if (line.event == "epoch") epochs[line.epoch] = &line;
  return epochs;
}

// Log scales cannot show zeros or negative values.
void drop_non_positive(Chart& chart) {
  for (Series& series : chart.series)
    for (double& v : series.values)
      if (!(v > 0)) v = kNone;
}

}  // namespace

nlohmann::json to_json(const Chart& chart) {
  nlohmann::json series = nlohmann::json::array();
  for (const Series& s : chart.series) series.push_back({{"label", s.label}, {"values", s.values}});
  nlohmann::json j = {{"id", chart.id},         {"title", chart.title},   {"x_label", chart.x_label},
                      {"y_label", chart.y_label}, {"x", chart.x},         {"series", std::move(series)},
                      {"log_x", chart.log_x},   {"log_y", chart.log_y},   {"points_only", chart.points_only},
                      {"mark_label", chart.mark_label}};
  j["mark_x"] = chart.mark_x ? nlohmann::json(*chart.mark_x) : nlohmann::json(nullptr);
  return j;
}

bool larger_is_better(const std::string& name) {
  for (const char* word : {"accuracy", "f1", "precision", "recall", "r2"})
    if (name.find(word) != std::string::npos) return true;
  return false;
}

std::optional<std::int64_t> best_epoch(const std::vector<MetricsLine>& metrics, const std::string& name) {
  const bool larger = larger_is_better(name);
  std::optional<std::int64_t> best;
  double best_value = 0.0;
  for (const auto& [epoch, line] : lines_by_epoch(metrics)) {
    const double v = value_or_none(line->values, "val_" + name);
    if (std::isnan(v)) continue;
    if (!best || (larger ? v > best_value : v < best_value)) {
      best = epoch;
      best_value = v;
    }
  }
  return best;
}

std::vector<Chart> epoch_charts(const std::vector<MetricsLine>& metrics) {
  const auto epochs = lines_by_epoch(metrics);
  // The metrics logged: every key but the bookkeeping ones, under its training name ("val_accuracy" ->
  // "accuracy"); loss first.
  std::set<std::string> names;
  for (const auto& [epoch, line] : epochs)
    for (const auto& [key, value] : line->values)
      if (key != "lr" && key != "seconds") names.insert(key.starts_with("val_") ? key.substr(4) : key);
  names.erase("loss");
  std::vector<std::string> ordered{"loss"};
  ordered.insert(ordered.end(), names.begin(), names.end());

  std::vector<Chart> charts;
  for (const std::string& name : ordered) {
    std::string title = name;
    title[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(title[0])));  // "accuracy" -> "Accuracy"
    Chart chart{.id = "epoch-" + name, .title = title, .x_label = "epoch", .y_label = name};
    Series train{"train", {}}, validation{"validation", {}};
    for (const auto& [epoch, line] : epochs) {
      chart.x.push_back(static_cast<double>(epoch + 1));
      train.values.push_back(value_or_none(line->values, name));
      validation.values.push_back(value_or_none(line->values, "val_" + name));
    }
    const auto recorded = [](const Series& s) { return std::ranges::any_of(s.values, [](double v) { return !std::isnan(v); }); };
    // An empty file still gets its loss chart (with no data: the page reports it); otherwise only series logged.
    if (recorded(train) || !recorded(validation)) chart.series.push_back(std::move(train));
    if (recorded(validation)) chart.series.push_back(std::move(validation));
    if (const auto best = best_epoch(metrics, name)) {
      chart.mark_x = static_cast<double>(*best + 1);
      chart.mark_label = fmt::format("best epoch {}", *best + 1);
    }
    charts.push_back(std::move(chart));
  }
  return charts;
}

std::vector<Chart> step_charts(const std::vector<MetricsLine>& metrics) {
  std::map<std::int64_t, const MetricsLine*> steps;
  for (const MetricsLine& line : metrics)
    if (line.event == "step") steps[line.step] = &line;
  std::vector<Chart> charts;
  if (!steps.empty()) {
    Chart loss{.id = "step-loss", .title = "Batch loss", .x_label = "step", .y_label = "loss"};
    Series series{"batch loss", {}};
    for (const auto& [step, line] : steps) {
      loss.x.push_back(static_cast<double>(step));
      series.values.push_back(value_or_none(line->values, "loss"));
    }
    loss.series.push_back(std::move(series));
    charts.push_back(std::move(loss));
  }
  // The rate from step lines when they carry it, else the rate at the end of each epoch.
  std::map<std::int64_t, double> rates;
  for (const auto& [step, line] : steps)
    if (line->values.contains("lr")) rates[step] = line->values.at("lr");
  if (rates.empty())
    for (const auto& [epoch, line] : lines_by_epoch(metrics))
      if (line->values.contains("lr")) rates[line->step] = line->values.at("lr");
  if (!rates.empty()) {
    Chart lr{.id = "step-lr", .title = "Learning rate", .x_label = "step", .y_label = "learning rate"};
    Series series{"learning rate", {}};
    for (const auto& [step, rate] : rates) {
      lr.x.push_back(static_cast<double>(step));
      series.values.push_back(rate);
    }
    lr.series.push_back(std::move(series));
    charts.push_back(std::move(lr));
  }
  return charts;
}

std::vector<Chart> layer_charts(const std::vector<LayerSample>& layers, std::vector<std::string>& notes) {
  std::set<std::int64_t> step_set;
  std::vector<std::string> order;  // layers in order of first appearance (the model's order)
  std::map<std::string, std::map<std::int64_t, const LayerSample*>> by_layer;
  for (const LayerSample& sample : layers) {
    step_set.insert(sample.step);
    if (!by_layer.contains(sample.layer)) order.push_back(sample.layer);
    by_layer[sample.layer][sample.step] = &sample;
  }
  const std::vector<double> x(step_set.begin(), step_set.end());
  // A layer of a kind: one of the kind's fields is non-zero in some row (the others hold zeros).
  const auto layers_of_kind = [&](std::initializer_list<const char*> fields) {
    std::vector<std::string> names;
    for (const std::string& layer : order) {
      const bool any = std::ranges::any_of(by_layer[layer], [&](const auto& entry) {
        return std::ranges::any_of(fields, [&](const char* f) {
          const double v = value_or_none(entry.second->values, f);
          return !std::isnan(v) && v != 0.0;
        });
      });
      if (any) names.push_back(layer);
    }
    return names;
  };
  const auto chart_of = [&](std::string id, std::string title, const char* field, const std::vector<std::string>& names, bool log_y) {
    Chart chart{.id = std::move(id), .title = std::move(title), .x_label = "step", .y_label = field, .x = x, .log_y = log_y};
    for (const std::string& layer : names) {
      Series series{layer, {}};
      for (const double step : x) {
        const auto it = by_layer[layer].find(static_cast<std::int64_t>(step));
        series.values.push_back(it == by_layer[layer].end() ? kNone : value_or_none(it->second->values, field));
      }
      chart.series.push_back(std::move(series));
    }
    if (log_y) drop_non_positive(chart);
    return chart;
  };

  const auto gradient_layers = layers_of_kind({"grad_norm", "weight_norm", "update_ratio"});
  const auto activation_layers =
      layers_of_kind({"activation_mean", "activation_std", "dead_fraction", "saturated_fraction"});
  std::vector<Chart> charts;
  // Without rows of either kind the gradient charts stay, empty, so that the page reports an empty file.
  if (!gradient_layers.empty() || activation_layers.empty()) {
    charts.push_back(chart_of("layer-grad-norm", "Gradient norm per parameter", "grad_norm", gradient_layers, true));
    charts.push_back(chart_of("layer-update-ratio", "Update / weight ratio per parameter", "update_ratio",
                              gradient_layers, true));
  } else {
    notes.push_back("Gradient statistics: not recorded (layers.jsonl holds activation rows only).");
  }
  if (!activation_layers.empty()) {
    charts.push_back(chart_of("layer-activation-std", "Activation std per module", "activation_std", activation_layers, false));
    charts.push_back(chart_of("layer-dead-fraction", "Dead-unit fraction per module", "dead_fraction", activation_layers, false));
  } else {
    notes.push_back("Activation statistics: not recorded (layers.jsonl holds no activation rows).");
  }
  return charts;
}

std::vector<Chart> trial_charts(const std::vector<Trial>& trials) {
  std::vector<const Trial*> finished;
  for (const Trial& trial : trials)
    if (trial.metric && !std::isnan(*trial.metric)) finished.push_back(&trial);
  const std::string metric = trials.empty() || trials.front().metric_name.empty() ? "metric" : trials.front().metric_name;

  // Numeric parameters that every finished trial has and that take two values or more.
  std::vector<std::string> varying;
  if (!finished.empty()) {
    for (const auto& [name, value] : finished.front()->params.items()) {
      std::set<double> values;
      for (const Trial* trial : finished) {
        const auto it = trial->params.find(name);
        if (it == trial->params.end() || !it->is_number()) {
          values.clear();
          break;
        }
        values.insert(it->get<double>());
      }
      if (values.size() >= 2) varying.push_back(name);
    }
  }
  if (varying.size() > 4) varying.resize(4);

  std::vector<Chart> charts;
  const auto scatter = [&](const std::string& id, const std::string& x_label, auto x_of) {
    std::vector<std::pair<double, double>> points;
    for (const Trial* trial : finished) points.emplace_back(x_of(*trial), *trial->metric);
    std::ranges::sort(points);
    Chart chart{.id = id, .title = fmt::format("{} against {}", metric, x_label), .x_label = x_label,
                .y_label = metric, .points_only = true};
    Series series{metric, {}};
    for (const auto& [x, y] : points) {
      chart.x.push_back(x);
      series.values.push_back(y);
    }
    chart.series.push_back(std::move(series));
    // Spanning two decades or more (all positive): a log axis spreads the points as a search samples them.
    chart.log_x = !points.empty() && points.front().first > 0 && points.back().first / points.front().first >= 100;
    charts.push_back(std::move(chart));
  };
  for (std::size_t i = 0; i < varying.size(); ++i)
    scatter(fmt::format("trials-{}", i), varying[i], [&](const Trial& t) { return t.params[varying[i]].get<double>(); });
  if (varying.empty()) scatter("trials-0", "trial", [](const Trial& t) { return static_cast<double>(t.trial); });
  return charts;
}

}  // namespace vigil::report
