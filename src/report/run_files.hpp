// The run directory's files, read and checked (the contract is in include/vigil/report/report.hpp). Each reader
// returns nothing for a missing file and throws Error naming the file (and the line, for JSON lines) for a
// malformed one. Numbers that the writers stored as null (NaN, infinities) read as NaN.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace vigil::report {

// One line of metrics.jsonl.
struct MetricsLine {
  std::string event;  // "epoch" or "step" (lines with other events are skipped)
  std::int64_t epoch = 0;
  std::int64_t step = 0;
  std::map<std::string, double> values;  // every other numeric key: "loss", "val_accuracy", "lr", ...
};

// One line of layers.jsonl.
struct LayerSample {
  std::int64_t step = 0;
  std::string layer;
  std::map<std::string, double> values;  // "grad_norm", "weight_norm", "update_ratio", "activation_std", ...
};

struct Confusion {
  std::vector<std::string> classes;
  std::vector<std::vector<std::int64_t>> matrix;  // [true class][predicted class]
};

struct Trial {
  std::int64_t trial = 0;
  nlohmann::json params;  // an object: parameter path -> value
  std::optional<double> metric;
  std::optional<double> metric_std;
  std::string status;
  std::string metric_name;  // "" when the line does not say
  std::string mode;         // "max" or "min"
};

struct RunFiles {
  std::string name;  // the run directory's own name
  std::optional<std::string> config;
  std::optional<std::vector<MetricsLine>> metrics;
  std::optional<std::vector<LayerSample>> layers;
  std::optional<Confusion> confusion;
  std::optional<nlohmann::json> doctor;  // checked against doctor::Report::json()'s shape
  std::optional<nlohmann::json> env;     // an object
  std::optional<std::vector<Trial>> trials;
};

// Reads every file of the contract from `run_dir`. Throws Error when run_dir is not a directory.
RunFiles read_run(const std::filesystem::path& run_dir);

}  // namespace vigil::report
