#include "vigil/doctor/doctor.hpp"

#include <chrono>
#include <exception>
#include <fmt/format.h>

#include "vigil/doctor/data_checks.hpp"
#include "vigil/doctor/model_lint.hpp"
#include "vigil/doctor/optimizer_checks.hpp"

namespace vigil::doctor {

namespace {

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

}  // namespace

Doctor::Doctor(Options options) : options_(std::move(options)), report_(options_.silenced) {}

const Report& Doctor::preflight(const Setup& setup) {
  const auto start = std::chrono::steady_clock::now();
  report_ = Report(options_.silenced);
  task_ = infer_task(setup);
  run_stage("data checks", report_, [&] { check_data(setup, task_, options_, report_); });
  run_stage("model lint", report_, [&] { lint_model(setup, task_, options_, report_); });
  run_stage("optimiser checks", report_, [&] { check_optimizer(setup, task_, options_, report_); });
  preflight_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report_;
}

const Report& Doctor::analyze(const train::History&) { return report_; }

}  // namespace vigil::doctor
