// The training doctor inside the CLI's runs: pre-flight, monitor, analysis, printing and the run directory's files.
#include "doctor_session.hpp"

#include <vigil/cli/run_dir.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <utility>

namespace vigil::cli {
namespace {

nlohmann::ordered_json finding_json(const doctor::Finding& f) {
  nlohmann::ordered_json j = {{"check", f.check},
                              {"severity", doctor::to_string(f.severity)},
                              {"cause", doctor::to_string(f.cause)},
                              {"where", f.where},
                              {"explanation", f.explanation},
                              {"suggestion", f.suggestion}};
  // JSON has no NaN/Inf: a non-finite measurement is left out.
  if (f.value && std::isfinite(*f.value)) j["value"] = *f.value;
  if (f.threshold && std::isfinite(*f.threshold)) j["threshold"] = *f.threshold;
  return j;
}

// One finding in plain words, on one line: "vigil: doctor: warning at step 120: <explanation> Try: <suggestion>
// (train.dead_units at fc1)".
std::string finding_line(const doctor::Finding& f, const std::string& when) {
  return fmt::format("vigil: doctor: {}{}: {} Try: {} ({}{})\n", doctor::to_string(f.severity), when, f.explanation,
                     f.suggestion, f.check, f.where.empty() ? "" : " at " + f.where);
}

doctor::Severity severity_of(const std::string& name) {
  for (const auto s : {doctor::Severity::info, doctor::Severity::warning, doctor::Severity::error})
    if (doctor::to_string(s) == name) return s;
  return doctor::Severity::warning;
}

doctor::Cause cause_of(const std::string& name) {
  for (const auto c : {doctor::Cause::non_finite_data, doctor::Cause::data, doctor::Cause::model,
                       doctor::Cause::initialisation, doctor::Cause::optimisation, doctor::Cause::capacity})
    if (doctor::to_string(c) == name) return c;
  return doctor::Cause::model;
}

std::string layer_line(const doctor::LayerSample& s) {
  return nlohmann::ordered_json{{"step", s.step},
                                {"layer", s.layer},
                                {"grad_norm", s.grad_norm},
                                {"weight_norm", s.weight_norm},
                                {"update_ratio", s.update_ratio},
                                {"activation_mean", s.activation_mean},
                                {"activation_std", s.activation_std},
                                {"dead_fraction", s.dead_fraction},
                                {"saturated_fraction", s.saturated_fraction}}
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

std::string verdict_words(const doctor::Report& report) {
  const std::int64_t errors = report.count(doctor::Severity::error);
  const std::int64_t warnings = report.count(doctor::Severity::warning);
  if (errors + warnings == 0) return "healthy, no warnings";
  const auto plural = [](std::int64_t n, const char* word) { return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s"); };
  return fmt::format("{}, {}; see doctor.txt (finding 1 first)", plural(errors, "error"), plural(warnings, "warning"));
}

// Prints the findings added to the report since it last looked: after every batch (a size comparison, nothing
// more, when there is nothing new), and on demand for the pre-flight and the analysis.
class DoctorSession::Printer final : public train::Callback {
 public:
  Printer(const doctor::Report& report, Output output, std::ostream& out)
      : report_(report), output_(output), out_(out) {}

  void on_batch_end(train::TrainContext& context) override {
    if (report_.findings().size() > printed_) print_new("monitor", context.step);
  }

  // The findings added since the last call; during training only warnings and errors interrupt.
  void print_new(const std::string& stage, std::int64_t step) {
    const auto& findings = report_.findings();
    for (; printed_ < findings.size(); ++printed_) {
      if (findings[printed_].severity == doctor::Severity::info) continue;
      print(findings[printed_], stage, step);
    }
  }

  // The whole report in rank order: Report::text() for people, one event per finding for tools.
  void print_ranked(const doctor::Report& ranked, const std::string& stage, const std::string& heading) {
    printed_ = report_.findings().size();
    if (output_ == Output::Quiet) return;
    if (output_ == Output::Json) {
      for (const doctor::Finding& f : ranked.ranked()) print(f, stage, -1);
    } else {
      std::cerr << heading << "\n" << ranked.text();
    }
  }

  void print(const doctor::Finding& f, const std::string& stage, std::int64_t step) {
    if (output_ == Output::Quiet) return;
    if (output_ == Output::Json) {
      nlohmann::ordered_json line = {{"event", "doctor"}, {"stage", stage}};
      if (step >= 0) line["step"] = step;
      line["finding"] = finding_json(f);
      out_ << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
    } else {
      std::cerr << finding_line(f, step >= 0 ? fmt::format(" at step {}", step) : "");
    }
  }

 private:
  const doctor::Report& report_;
  Output output_;
  std::ostream& out_;
  std::size_t printed_ = 0;
};

DoctorSession::DoctorSession(const Config& config, const doctor::Setup& setup, Output output, std::ostream& out,
                             std::int64_t every)
    : doctor_(doctor::Options{.silenced = {config.get_strings("doctor.silence").begin(),
                                           config.get_strings("doctor.silence").end()},
                              .seed = static_cast<std::uint64_t>(config.get_int("run.seed"))},
              doctor::MonitorOptions{.every = every > 0 ? every : config.get_int("doctor.every")}),
      setup_(setup),
      printer_(std::make_shared<Printer>(doctor_.report(), output, out)) {}

void DoctorSession::preflight() {
  doctor_.preflight(setup_);
  printer_->print_ranked(doctor_.report(), "preflight",
                         fmt::format("vigil: doctor: pre-flight checks ({:.1f} s):", doctor_.preflight_seconds()));
}

void DoctorSession::continue_from(const std::string& run_dir, std::int64_t step) {
  const std::filesystem::path dir(run_dir);
  if (std::ifstream in(dir / "doctor.json"); in) {
    nlohmann::json j;
    try {
      in >> j;
      for (const nlohmann::json& f : j.at("findings")) {
        doctor::Finding finding;
        finding.check = f.at("check").get<std::string>();
        finding.severity = severity_of(f.at("severity").get<std::string>());
        finding.cause = cause_of(f.at("cause").get<std::string>());
        finding.where = f.value("where", "");
        finding.explanation = f.value("explanation", "");
        finding.suggestion = f.value("suggestion", "");
        if (f.contains("value") && f["value"].is_number()) finding.value = f["value"].get<double>();
        if (f.contains("threshold") && f["threshold"].is_number()) finding.threshold = f["threshold"].get<double>();
        doctor_.report().add(std::move(finding));
      }
    } catch (const nlohmann::json::exception& e) {
      throw UsageError(fmt::format("{}: malformed doctor.json: {}", (dir / "doctor.json").string(), e.what()));
    }
  }
  printer_->print_new("resume", -1);
  if (std::ifstream in(dir / "layers.jsonl"); in) {
    for (std::string line; std::getline(in, line);) {
      const auto j = nlohmann::json::parse(line, nullptr, false);
      if (!j.is_discarded() && j.contains("step") && j["step"].is_number() && j["step"].get<std::int64_t>() < step)
        earlier_layer_lines_.push_back(line);
    }
  }
}

std::vector<train::CallbackPtr> DoctorSession::callbacks() {
  if (!monitor_) monitor_ = doctor_.monitor(setup_);
  return {monitor_, printer_};
}

void DoctorSession::analyze(const train::History& history) {
  doctor_.analyze(history);
  printer_->print_new("analysis", -1);
}

doctor::Report DoctorSession::report() const {
  doctor::Report out(doctor_.options().silenced);
  std::set<std::pair<std::string, std::string>> seen;
  for (const doctor::Finding& f : doctor_.report().findings())
    if (seen.emplace(f.check, f.where).second) out.add(f);
  return out;
}

void DoctorSession::write(const std::string& run_dir) const {
  const std::filesystem::path dir(run_dir);
  const doctor::Report final_report = report();
  write_file((dir / "doctor.txt").string(), final_report.text());
  final_report.write_json(dir / "doctor.json");
  std::string layers;
  for (const std::string& line : earlier_layer_lines_) layers += line + "\n";
  if (monitor_)
    for (const doctor::LayerSample& sample : monitor_->layer_history()) layers += layer_line(sample) + "\n";
  write_file((dir / "layers.jsonl").string(), layers);
}

}  // namespace vigil::cli
