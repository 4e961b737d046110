#include "vigil/doctor/doctor.hpp"

#include <algorithm>
#include <chrono>
#include <iterator>
#include <exception>
#include <fmt/format.h>

#include "vigil/doctor/analysis.hpp"
#include "vigil/doctor/data_checks.hpp"
#include "vigil/doctor/model_lint.hpp"
#include "vigil/doctor/optimizer_checks.hpp"
#include "vigil/doctor/probes.hpp"

namespace vigil::doctor {

namespace {

// Checks that fail for almost any fault (see the header): consequences rather than causes.
constexpr const char* kSymptoms[] = {"probe.overfit_one_batch", "probe.input_independent"};

// Specific symptoms of specific causes: when the cause is reported, the symptom is its consequence.
struct Consequence {
  const char* symptom;
  const char* cause;
};
constexpr Consequence kConsequences[] = {
    // A penalty that outweighs the data loss keeps the model from fitting.
    {"fit.underfitting", "train.regularizer_dominates"},
    // Random features that never train fit less.
    {"fit.underfitting", "train.frozen_parameter"},
    // Steps that apply the sum of all past gradients overshoot, and the loss climbs.
    {"fit.underfitting", "train.gradients_not_zeroed"},
    {"train.divergence", "train.gradients_not_zeroed"},
    // SGD steps batch-size times too large.
    {"train.divergence", "optim.summed_loss"},
    {"fit.underfitting", "optim.summed_loss"},
};

// Runs one stage; an exception becomes an error finding instead of ending the pre-flight.
template <class F>
void run_stage(const char* stage, Report& report, F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    Finding finding;
    finding.check = "doctor.stage_failed";
    finding.severity = Severity::error;
    finding.cause = Cause::model;
    finding.where = stage;
    finding.explanation = fmt::format("The {} stage could not run on this setup: {}", stage, e.what());
    finding.suggestion = "Fix the error above first: training would hit it too.";
    report.add(std::move(finding));
  }
}

bool is_symptom(const std::string& check) {
  return std::find(std::begin(kSymptoms), std::end(kSymptoms), check) != std::end(kSymptoms);
}

// The first alarm (warning or error) of check `check`, or null.
const Finding* alarm(const std::vector<Finding>& ranked, const std::string& check) {
  const auto it = std::find_if(ranked.begin(), ranked.end(),
                               [&](const Finding& f) { return f.severity != Severity::info && f.check == check; });
  return it == ranked.end() ? nullptr : &*it;
}

void demote(Finding& f, const Finding& cause) {
  f.severity = Severity::info;
  f.explanation += fmt::format(" Likely a consequence of {}{}, reported above.", cause.check,
                               cause.where.empty() ? "" : " at " + cause.where);
}

// The alarm that explains `f` as one of its specific consequences (kConsequences), or null.
const Finding* explained_by(const Finding& f, const std::vector<Finding>& ranked) {
  if (f.severity == Severity::info) return nullptr;
  for (const Consequence& c : kConsequences)
    if (f.check == c.symptom)
      if (const Finding* cause = alarm(ranked, c.cause)) return cause;
  return nullptr;
}

// Demotes symptom alarms to infos when a specific alarm explains them (see the header): the specific ones
// (kConsequences) when their cause is present, the generic ones when any other alarm remains to lead.
void attribute_symptoms(Report& report, const std::set<std::string>& silenced) {
  const std::vector<Finding> ranked = report.ranked();
  const auto lead = std::find_if(ranked.begin(), ranked.end(), [&](const Finding& f) {
    return f.severity != Severity::info && !is_symptom(f.check) && explained_by(f, ranked) == nullptr;
  });
  Report attributed(silenced);
  for (Finding f : report.findings()) {
    if (const Finding* cause = explained_by(f, ranked)) demote(f, *cause);
    else if (lead != ranked.end() && f.severity != Severity::info && is_symptom(f.check)) demote(f, *lead);
    attributed.add(std::move(f));
  }
  report = std::move(attributed);
}

}  // namespace

Doctor::Doctor(Options options, MonitorOptions monitor_options)
    : options_(std::move(options)), monitor_options_(monitor_options), report_(options_.silenced) {}

const Report& Doctor::preflight(const Setup& setup) {
  const auto start = std::chrono::steady_clock::now();
  report_ = Report(options_.silenced);
  task_ = infer_task(setup);
  has_task_ = true;
  run_stage("data checks", report_, [&] { check_data(setup, task_, options_, report_); });
  run_stage("model lint", report_, [&] { lint_model(setup, task_, options_, report_); });
  run_stage("optimiser checks", report_, [&] { check_optimizer(setup, task_, options_, report_); });
  run_stage("probes", report_, [&] { run_probes(setup, task_, options_, report_); });
  attribute_symptoms(report_, options_.silenced);
  preflight_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report_;
}

std::shared_ptr<Monitor> Doctor::monitor(const Setup& setup) {
  if (!has_task_) {
    task_ = infer_task(setup);
    has_task_ = true;
  }
  return std::make_shared<Monitor>(setup, task_, monitor_options_, report_);
}

const Report& Doctor::analyze(const train::History& history) {
  analyze_history(history, task_, options_, report_);
  attribute_symptoms(report_, options_.silenced);
  return report_;
}

}  // namespace vigil::doctor
