#include "vigil/doctor/finding.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "vigil/data/atomic_file.hpp"

namespace vigil::doctor {

std::string to_string(Severity severity) {
  switch (severity) {
    case Severity::info: return "info";
    case Severity::warning: return "warning";
    case Severity::error: return "error";
  }
  return "unknown";
}

std::string to_string(Cause cause) {
  switch (cause) {
    case Cause::non_finite_data: return "non-finite data";
    case Cause::data: return "data";
    case Cause::model: return "model";
    case Cause::initialisation: return "initialisation";
    case Cause::optimisation: return "optimisation";
    case Cause::capacity: return "capacity";
  }
  return "unknown";
}

Report::Report(std::set<std::string> silenced) : silenced_(std::move(silenced)) {}

void Report::silence(const std::string& check) { silenced_.insert(check); }

bool Report::is_silenced(const std::string& check) const {
  return std::any_of(silenced_.begin(), silenced_.end(), [&](const std::string& pattern) {
    if (!pattern.empty() && pattern.back() == '.') return check.starts_with(pattern);
    return check == pattern;
  });
}

void Report::add(Finding finding) {
  if (is_silenced(finding.check)) return;
  findings_.push_back(std::move(finding));
}

std::vector<Finding> Report::ranked() const {
  std::vector<Finding> out;
  for (const Finding& f : findings_)
    if (!is_silenced(f.check)) out.push_back(f);
  std::stable_sort(out.begin(), out.end(), [](const Finding& a, const Finding& b) {
    if (a.cause != b.cause) return a.cause < b.cause;
    if (a.severity != b.severity) return a.severity > b.severity;
    return a.excess > b.excess;
  });
  return out;
}

bool Report::has(const std::string& check) const {
  return std::any_of(findings_.begin(), findings_.end(),
                     [&](const Finding& f) { return f.check == check && !is_silenced(check); });
}

std::int64_t Report::count(Severity severity) const {
  return std::count_if(findings_.begin(), findings_.end(),
                       [&](const Finding& f) { return f.severity == severity && !is_silenced(f.check); });
}

bool Report::has_errors() const { return count(Severity::error) > 0; }

namespace {

std::string format_number(double v) {
  if (!std::isfinite(v)) return std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf");
  return fmt::format("{:.4g}", v);
}

std::string verdict(const Report& report) {
  const auto errors = report.count(Severity::error);
  const auto warnings = report.count(Severity::warning);
  if (errors + warnings == 0) return "Verdict: healthy, no warnings.";
  return fmt::format("Verdict: {} error(s), {} warning(s); start with finding 1.", errors, warnings);
}

}  // namespace

std::string Report::text() const {
  std::string out;
  int rank = 1;
  for (const Finding& f : ranked()) {
    out += fmt::format("{}. [{}] {} ({})", rank++, to_string(f.severity), f.check, to_string(f.cause));
    if (!f.where.empty()) out += fmt::format(" at {}", f.where);
    out += "\n";
    if (f.value) {
      out += fmt::format("   measured {}", format_number(*f.value));
      if (f.threshold) out += fmt::format(" (threshold {})", format_number(*f.threshold));
      out += "\n";
    }
    out += fmt::format("   {}\n   Try: {}\n", f.explanation, f.suggestion);
  }
  out += verdict(*this) + "\n";
  return out;
}

std::string Report::json() const {
  nlohmann::json findings = nlohmann::json::array();
  int rank = 1;
  for (const Finding& f : ranked()) {
    nlohmann::json j = {{"rank", rank++},
                        {"check", f.check},
                        {"severity", to_string(f.severity)},
                        {"cause", to_string(f.cause)},
                        {"where", f.where},
                        {"explanation", f.explanation},
                        {"suggestion", f.suggestion}};
    // JSON has no NaN/Inf: non-finite measurements are written as strings.
    auto number = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(format_number(v)); };
    j["value"] = f.value ? number(*f.value) : nlohmann::json(nullptr);
    j["threshold"] = f.threshold ? number(*f.threshold) : nlohmann::json(nullptr);
    findings.push_back(std::move(j));
  }
  nlohmann::json out = {{"findings", std::move(findings)},
                        {"errors", count(Severity::error)},
                        {"warnings", count(Severity::warning)},
                        {"infos", count(Severity::info)}};
  return out.dump(2);
}

void Report::write_json(const std::filesystem::path& path) const {
  data::write_file_atomically(path.string(), json() + "\n");
}

}  // namespace vigil::doctor
