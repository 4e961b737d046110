#pragma once
// The doctor's vocabulary: a Finding is one diagnosed problem (or a note), a Report collects them, ranks them by
// likely root cause and renders them as text for people and JSON for tools.
//
// Ranking. Faults upstream make every later symptom meaningless: NaN inputs poison the loss, badly scaled data
// looks like a bad learning rate, a wrong backward looks like a bad optimiser. So findings are ordered by Cause
// (the order of the enum, upstream first), then by severity (error before warning before info), then by how far
// the measured value lies beyond its threshold (`excess`, larger first), then by the order they were added.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace vigil::doctor {

enum class Severity { info, warning, error };

// Likely root cause, upstream first: the order of this enum is the ranking order.
enum class Cause {
  non_finite_data,  // NaN/Inf in inputs or targets
  data,             // scale, labels, imbalance, duplicates, leakage, shuffling
  model,            // structure: missing nonlinearity, wrong output layer, implementation faults (backward, batch mixing)
  initialisation,   // activation/gradient statistics at init, loss at init
  optimisation,     // learning rate, optimiser settings, gradients during training
  capacity,         // over/underfitting, regularisation
};

std::string to_string(Severity severity);
std::string to_string(Cause cause);

struct Finding {
  std::string check;          // stable id, e.g. "data.non_finite"; used to silence the check
  Severity severity = Severity::warning;
  Cause cause = Cause::model;
  std::string where;          // the layer, parameter or data field concerned ("" when global)
  std::optional<double> value;      // the measured value ...
  std::optional<double> threshold;  // ... and the threshold it crossed (both absent for structural findings)
  std::string explanation;    // one sentence: what is wrong, with the evidence
  std::string suggestion;     // one sentence: what to try
  // How far beyond its threshold the value lies, >= 0 (e.g. |log(value / threshold)|); orders findings of the
  // same cause and severity. 0 when unknown.
  double excess = 0.0;
};

class Report {
 public:
  // Checks whose id is in `silenced` (exact ids, or a prefix ending in '.': "data." silences every data check)
  // are dropped by add().
  explicit Report(std::set<std::string> silenced = {});

  void add(Finding finding);
  void silence(const std::string& check);
  bool is_silenced(const std::string& check) const;

  // Findings in rank order (see the file comment). Stable: equal findings keep their insertion order.
  std::vector<Finding> ranked() const;
  const std::vector<Finding>& findings() const { return findings_; }
  bool has(const std::string& check) const;
  bool has_errors() const;
  std::int64_t count(Severity severity) const;

  // Plain text, one numbered paragraph per finding in rank order, then a one-line verdict. No control characters.
  std::string text() const;
  // {"findings": [{check, severity, cause, where, value, threshold, explanation, suggestion, rank}, ...],
  //  "errors": n, "warnings": n, "infos": n}
  std::string json() const;
  // Writes json() atomically (temp file + rename): never a half-written file.
  void write_json(const std::filesystem::path& path) const;

 private:
  std::set<std::string> silenced_;
  std::vector<Finding> findings_;
};

}  // namespace vigil::doctor
