#pragma once
// The doctor's front door: one object that runs every pre-flight check on a training setup, hands out a monitor
// for fit(), analyses the finished run's curves, and collects all of their findings in one ranked Report.
//
//   doctor::Doctor doctor;
//   doctor.preflight({model, loss, optimizer, train_loader, &val_loader});
//   auto history = train::fit(model, loss, optimizer, train_loader, &val_loader,
//                             {.epochs = 10, .callbacks = {doctor.monitor(setup)}});
//   doctor.analyze(history);
//   std::cout << doctor.report().text();
//
// Pre-flight order: infer_task, then the data checks, the model lint, the optimiser checks and the probes (which
// train on copies of the state and restore it: see Setup's contract). A stage that throws (a loss that rejects the
// labels, say) does not stop the others: its exception becomes an error finding "doctor.stage_failed" naming the
// stage and the message, since a setup that makes a check throw will make training throw or misbehave too.
// Findings accumulate over calls in report(); each preflight() starts from an empty report.
//
// Symptoms and causes. Two probes fail for almost any fault: a model that cannot overfit one batch
// (probe.overfit_one_batch) or learns as much from zeroed inputs (probe.input_independent) may have a wrong
// learning rate, a summed loss, a missing parameter, bad data... They say that something is wrong, not what. When
// any other warning or error is present, the doctor reports them as infos that point at the first-ranked specific
// finding, so the ranking leads with the cause; when they are the only alarms, they stay warnings or errors.
// Some symptoms have known specific causes: fit.underfitting is reported as a consequence of
// train.regularizer_dominates, train.frozen_parameter, train.gradients_not_zeroed or optim.summed_loss, and
// train.divergence of train.gradients_not_zeroed or optim.summed_loss, when those are present.
#include <memory>

#include "vigil/doctor/finding.hpp"
#include "vigil/doctor/monitor.hpp"
#include "vigil/doctor/setup.hpp"
#include "vigil/train/fit.hpp"

namespace vigil::doctor {

class Doctor {
 public:
  explicit Doctor(Options options = {}, MonitorOptions monitor_options = {});

  // Runs every pre-flight check on `setup` into a fresh report and returns it. Leaves the setup as it found it.
  const Report& preflight(const Setup& setup);
  // A callback for fit() (or, in an own loop, call its after_backward / after_step / finish) whose findings go
  // into report(). Infers the task first when preflight() has not run. `setup` must outlive the monitor, and
  // this Doctor too.
  std::shared_ptr<Monitor> monitor(const Setup& setup);
  // Post-run analysis of the loss and metric curves (analysis.hpp); findings are added to report().
  const Report& analyze(const train::History& history);

  const Report& report() const { return report_; }
  Report& report() { return report_; }
  const Options& options() const { return options_; }
  // The task the last preflight() inferred (default-constructed before the first).
  const Task& task() const { return task_; }
  // Wall time of the last preflight(), in seconds.
  double preflight_seconds() const { return preflight_seconds_; }

 private:
  Options options_;
  MonitorOptions monitor_options_;
  Report report_;
  Task task_;
  bool has_task_ = false;
  double preflight_seconds_ = 0.0;
};

}  // namespace vigil::doctor
