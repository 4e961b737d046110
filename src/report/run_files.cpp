// Reading and checking the run directory's files (see run_files.hpp and report.hpp).
#include "run_files.hpp"

#include <vigil/tensor/error.hpp>

#include <fmt/format.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

namespace vigil::report {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::optional<std::string> read_text(const fs::path& path) {
  if (!fs::exists(path)) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  VIGIL_CHECK(in.good(), Error, "report: cannot open {}", path.string());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Where a problem lies, for error messages: "run/metrics.jsonl line 3" or "run/confusion.json".
struct Place {
  const fs::path& path;
  std::int64_t line = 0;  // 0: the whole file

  [[noreturn]] void fail(const std::string& what) const {
    if (line > 0) throw Error(fmt::format("report: {} line {}: {}", path.string(), line, what));
    throw Error(fmt::format("report: {}: {}", path.string(), what));
  }
};

json parse(const std::string& text, const Place& place) {
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    place.fail(fmt::format("not valid JSON ({})", e.what()));
  }
}

// Calls `each(object, place)` for every non-blank line of a JSON lines file; each line must hold an object.
void for_each_line(const fs::path& path, const std::string& text, const std::function<void(const json&, const Place&)>& each) {
  std::istringstream in(text);
  std::string line;
  Place place{path};
  while (std::getline(in, line)) {
    ++place.line;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const json object = parse(line, place);
    if (!object.is_object()) place.fail(fmt::format("expected a JSON object, got {}", object.type_name()));
    each(object, place);
  }
}

std::int64_t integer_field(const json& object, const char* key, const Place& place) {
  const auto it = object.find(key);
  if (it == object.end()) place.fail(fmt::format("\"{}\" is missing", key));
  if (!it->is_number_integer()) place.fail(fmt::format("\"{}\" must be an integer, got {}", key, it->dump()));
  return it->get<std::int64_t>();
}

std::string string_field(const json& object, const char* key, const Place& place) {
  const auto it = object.find(key);
  if (it == object.end()) place.fail(fmt::format("\"{}\" is missing", key));
  if (!it->is_string()) place.fail(fmt::format("\"{}\" must be a string, got {}", key, it->dump()));
  return it->get<std::string>();
}

// A number, or null for a value the writer could not store (NaN, infinity).
double number_value(const json& value, const std::string& key, const Place& place) {
  if (value.is_null()) return std::nan("");
  if (!value.is_number()) place.fail(fmt::format("\"{}\" must be a number or null, got {}", key, value.dump()));
  return value.get<double>();
}

std::vector<MetricsLine> read_metrics(const fs::path& path, const std::string& text) {
  std::vector<MetricsLine> lines;
  for_each_line(path, text, [&](const json& object, const Place& place) {
    MetricsLine line;
    line.event = string_field(object, "event", place);
    if (line.event != "epoch" && line.event != "step") return;  // an event for some other reader
    line.epoch = integer_field(object, "epoch", place);
    line.step = integer_field(object, "step", place);
    for (const auto& [key, value] : object.items())
      if (key != "event" && key != "epoch" && key != "step") line.values[key] = number_value(value, key, place);
    lines.push_back(std::move(line));
  });
  return lines;
}

std::vector<LayerSample> read_layers(const fs::path& path, const std::string& text) {
  std::vector<LayerSample> samples;
  for_each_line(path, text, [&](const json& object, const Place& place) {
    LayerSample sample;
    sample.step = integer_field(object, "step", place);
    sample.layer = string_field(object, "layer", place);
    for (const auto& [key, value] : object.items())
      if (key != "step" && key != "layer") sample.values[key] = number_value(value, key, place);
    samples.push_back(std::move(sample));
  });
  return samples;
}

Confusion read_confusion(const fs::path& path, const std::string& text) {
  const Place place{path};
  const json object = parse(text, place);
  if (!object.is_object()) place.fail("expected an object {\"classes\": [...], \"matrix\": [[...]]}");
  Confusion confusion;
  const auto classes = object.find("classes");
  if (classes == object.end() || !classes->is_array()) place.fail("\"classes\" must be an array of names");
  for (const json& name : *classes) {
    if (!name.is_string()) place.fail(fmt::format("class names must be strings, got {}", name.dump()));
    confusion.classes.push_back(name.get<std::string>());
  }
  const std::size_t n = confusion.classes.size();
  const auto matrix = object.find("matrix");
  if (matrix == object.end() || !matrix->is_array() || matrix->size() != n)
    place.fail(fmt::format("\"matrix\" must be an array of {} rows, one per class", n));
  for (std::size_t t = 0; t < n; ++t) {
    const json& row = (*matrix)[t];
    if (!row.is_array() || row.size() != n)
      place.fail(fmt::format("matrix row {} ({}) must hold {} counts", t, confusion.classes[t], n));
    std::vector<std::int64_t> counts;
    for (const json& count : row) {
      if (!count.is_number_integer() || count.get<std::int64_t>() < 0)
        place.fail(fmt::format("matrix row {} ({}): counts must be integers >= 0, got {}", t, confusion.classes[t],
                               count.dump()));
      counts.push_back(count.get<std::int64_t>());
    }
    confusion.matrix.push_back(std::move(counts));
  }
  return confusion;
}

// doctor::Report::json(): {"findings": [{rank, check, severity, cause, where, value, threshold, explanation,
// suggestion}], "errors", "warnings", "infos"}.
json read_doctor(const fs::path& path, const std::string& text) {
  const Place place{path};
  json report = parse(text, place);
  if (!report.is_object()) place.fail("expected the object doctor::Report::json() writes");
  for (const char* count : {"errors", "warnings", "infos"})
    if (!report.contains(count) || !report[count].is_number_integer())
      place.fail(fmt::format("\"{}\" must be an integer", count));
  if (!report.contains("findings") || !report["findings"].is_array()) place.fail("\"findings\" must be an array");
  const std::set<std::string> severities{"info", "warning", "error"};
  std::int64_t index = 0;
  for (const json& finding : report["findings"]) {
    const std::string which = fmt::format("finding {}", index++);
    if (!finding.is_object()) place.fail(which + " must be an object");
    for (const char* key : {"check", "severity", "cause", "where", "explanation", "suggestion"})
      if (!finding.contains(key) || !finding[key].is_string())
        place.fail(fmt::format("{}: \"{}\" must be a string", which, key));
    if (!severities.contains(finding["severity"].get<std::string>()))
      place.fail(fmt::format("{}: severity {} is not info, warning or error", which, finding["severity"].dump()));
  }
  return report;
}

json read_env(const fs::path& path, const std::string& text) {
  const Place place{path};
  json env = parse(text, place);
  if (!env.is_object()) place.fail(fmt::format("expected an object, got {}", env.type_name()));
  return env;
}

std::vector<Trial> read_trials(const fs::path& path, const std::string& text) {
  std::vector<Trial> trials;
  for_each_line(path, text, [&](const json& object, const Place& place) {
    Trial trial;
    trial.trial = integer_field(object, "trial", place);
    trial.status = string_field(object, "status", place);
    const auto params = object.find("params");
    if (params == object.end() || !params->is_object()) place.fail("\"params\" must be an object");
    trial.params = *params;
    for (auto [key, target] : {std::pair{"metric", &trial.metric}, std::pair{"metric_std", &trial.metric_std}}) {
      const auto it = object.find(key);
      if (it == object.end() || it->is_null()) continue;
      const double value = number_value(*it, key, place);
      *target = value;
    }
    if (object.contains("metric_name")) trial.metric_name = string_field(object, "metric_name", place);
    trial.mode = object.contains("mode") ? string_field(object, "mode", place) : "max";
    if (trial.mode != "max" && trial.mode != "min")
      place.fail(fmt::format("\"mode\" must be \"max\" or \"min\", got \"{}\"", trial.mode));
    trials.push_back(std::move(trial));
  });
  return trials;
}

}  // namespace

RunFiles read_run(const fs::path& run_dir) {
  VIGIL_CHECK(fs::is_directory(run_dir), Error, "report: {} is not a directory", run_dir.string());
  RunFiles run;
  fs::path dir = fs::absolute(run_dir).lexically_normal();
  if (!dir.has_filename()) dir = dir.parent_path();  // "runs/a/" names "a"
  run.name = dir.filename().string();
  run.config = read_text(run_dir / "config.toml");
  if (const auto text = read_text(run_dir / "metrics.jsonl")) run.metrics = read_metrics(run_dir / "metrics.jsonl", *text);
  if (const auto text = read_text(run_dir / "layers.jsonl")) run.layers = read_layers(run_dir / "layers.jsonl", *text);
  if (const auto text = read_text(run_dir / "confusion.json"))
    run.confusion = read_confusion(run_dir / "confusion.json", *text);
  if (const auto text = read_text(run_dir / "doctor.json")) run.doctor = read_doctor(run_dir / "doctor.json", *text);
  if (const auto text = read_text(run_dir / "env.json")) run.env = read_env(run_dir / "env.json", *text);
  if (const auto text = read_text(run_dir / "trials.jsonl")) run.trials = read_trials(run_dir / "trials.jsonl", *text);
  return run;
}

}  // namespace vigil::report
