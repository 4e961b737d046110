// The training doctor inside the CLI's runs (vigil train, resume and doctor): the pre-flight with its findings
// printed, the monitor as a fit() callback whose findings are printed as they arise, the post-run analysis, and
// the files it leaves in the run directory:
//   doctor.txt     doctor::Report::text(): ranked findings in plain words and the verdict
//   doctor.json    doctor::Report::json()
//   layers.jsonl   the monitor's per-layer samples, one report::LayerSample-shaped JSON object per line
// All three are written atomically, at the end of a run and when it is interrupted.
//
// Where findings go: with Output::Json one {"event": "doctor", "stage": ..., "finding": {...}} line each on the
// command's output stream; with Output::Progress plain words on stderr, so that stdout keeps the progress and the
// summary; with Output::Quiet nowhere (the files and the summary's verdict still have them).
// A resumed run continues the report of the run it resumes: the findings of its doctor.json are read back
// (a check already reported at the same place is not reported twice) and layers.jsonl keeps the samples taken
// before the resumed step.
#pragma once

#include <vigil/cli/commands.hpp>
#include <vigil/cli/config.hpp>
#include <vigil/doctor/doctor.hpp>

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

namespace vigil::cli {

// The verdict in a few words: "healthy, no warnings", or "2 errors, 1 warning; see doctor.txt".
std::string verdict_words(const doctor::Report& report);

class DoctorSession {
 public:
  // The doctor of [doctor] (doctor.silence, doctor.every, run.seed); `every` replaces doctor.every when > 0.
  // `setup` must outlive the session.
  DoctorSession(const Config& config, const doctor::Setup& setup, Output output, std::ostream& out,
                std::int64_t every = 0);

  // Runs the pre-flight checks and prints their findings.
  void preflight();
  // Resume: reads back the findings of run_dir/doctor.json and the samples of run_dir/layers.jsonl taken before
  // `step` (both optional).
  void continue_from(const std::string& run_dir, std::int64_t step);
  // The monitor and the printer of its new findings, for FitOptions::callbacks (in that order).
  std::vector<train::CallbackPtr> callbacks();
  // The post-run analysis of the loss and metric curves; its findings are printed too.
  void analyze(const train::History& history);
  // doctor.txt, doctor.json and layers.jsonl into run_dir.
  void write(const std::string& run_dir) const;

  // The findings so far, without repeats of a check at the same place.
  doctor::Report report() const;
  double preflight_seconds() const { return doctor_.preflight_seconds(); }

 private:
  class Printer;

  doctor::Doctor doctor_;
  const doctor::Setup& setup_;
  std::shared_ptr<doctor::Monitor> monitor_;
  std::shared_ptr<Printer> printer_;
  std::vector<std::string> earlier_layer_lines_;  // layers.jsonl lines of the run before a resume
};

}  // namespace vigil::cli
