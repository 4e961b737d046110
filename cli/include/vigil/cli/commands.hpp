// The vigil commands as library functions (the program's main.cpp only parses arguments into these requests),
// and the registry main.cpp builds its sub-commands from.
//
//   vigil train CONFIG.toml [--set key=value ...] [--name NAME] [--runs-dir DIR] [--quiet] [--json]
//   vigil resume RUN_DIR [--quiet] [--json]
//   vigil eval RUN_DIR|CHECKPOINT [--data PATH] [--mc-dropout N] [--json]
//   vigil summary CONFIG.toml [--set key=value ...]
//   vigil doctor CONFIG.toml [--set key=value ...] [--name NAME] [--runs-dir DIR] [--quiet] [--json]
//   vigil lr-find CONFIG.toml [--set key=value ...] [--name NAME] [--runs-dir DIR] [--json]
//
// Output goes to the stream given; errors the user can fix are UsageError (exit status 2).
#pragma once

#include <vigil/doctor/finding.hpp>
#include <vigil/doctor/lr_range.hpp>
#include <vigil/train/fit.hpp>

#include <CLI/CLI.hpp>

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

namespace vigil::cli {

// Progress: train::ProgressBar (a redrawn bar on a terminal, one line per epoch otherwise); Quiet: only the final
// summary; Json: one JSON object per line ({"event": "start" | "epoch" | "interrupted" | "result", ...}).
enum class Output { Progress, Quiet, Json };

struct TrainRequest {
  std::string config = {};                  // CONFIG.toml
  std::vector<std::string> overrides = {};  // --set key=value, applied in order
  std::string name = {};                    // --name: replaces run.name
  std::string runs_dir = {};                // --runs-dir: replaces run.runs_dir
  Output output = Output::Progress;
  std::string command_line = {};            // recorded in env.json
  // Run after vigil's own callbacks, before the checkpoint and interrupt handling (tests, the doctor).
  std::vector<train::CallbackPtr> extra_callbacks = {};
};

struct ResumeRequest {
  std::string run_dir = {};
  Output output = Output::Progress;
  std::vector<train::CallbackPtr> extra_callbacks = {};
};

struct TrainResult {
  std::string run_dir;
  bool interrupted = false;      // stopped by Ctrl-C (or request_interrupt()); `vigil resume run_dir` continues
  std::int64_t epochs_done = 0;  // epochs completed over the whole run
  train::Logs last_epoch;        // the last completed epoch's logs
  train::Logs final_logs;        // loss and metrics of the final model on the test (else validation) set
  std::string final_set;         // "test", "validation" or "" when there was neither
};

// Creates the run directory and trains. The first SIGINT (or request_interrupt()) stops training after the
// current step (at the end of an accumulation group) and writes a resumable checkpoint; a second exits at once.
TrainResult run_train(const TrainRequest& request, std::ostream& out);
// Continues the run in `run_dir` from checkpoints/last.safetensors, exactly where it stopped (mid-epoch
// included): the same weights and metrics as a run never interrupted.
TrainResult run_resume(const ResumeRequest& request, std::ostream& out);

// What the SIGINT handler calls; tests call it from a callback to interrupt a run at a chosen step.
void request_interrupt();

struct EvalRequest {
  std::string target = {};  // a run directory (its best checkpoint, else last) or a checkpoint inside one
  std::string data = {};    // --data: another test set (see load_data's test_path_override)
  std::int64_t mc_dropout = 0;
  bool json = false;
};

struct ClassReport {
  std::string name;
  double precision = 0, recall = 0, f1 = 0;
  std::int64_t support = 0;
};

struct EvalResult {
  std::string checkpoint;
  std::string set;  // "test" or "validation"
  std::int64_t samples = 0;
  double accuracy = 0, loss = 0;
  double ece = 0;  // expected calibration error, 15 equal-width confidence bins
  std::vector<ClassReport> classes;
  std::vector<std::vector<std::int64_t>> confusion;
  // With mc_dropout > 0: the means over samples of the predictive entropy and the mutual information (nats).
  double mean_entropy = 0, mean_mutual_information = 0;
};

EvalResult run_eval(const EvalRequest& request, std::ostream& out);

// Expected calibration error: samples binned by confidence (the top probability) into `bins` equal-width bins of
// [0, 1]; ECE = sum_b (n_b / N) |accuracy_b - mean confidence_b|. probs [N, C], labels N.
double expected_calibration_error(const Tensor& probs, const std::vector<std::int64_t>& labels, int bins = 15);

struct SummaryRequest {
  std::string config = {};
  std::vector<std::string> overrides = {};
};

// Layers, output shapes, parameters (trainable and frozen), FLOPs and activation memory per sample.
void run_summary(const SummaryRequest& request, std::ostream& out);

struct DoctorRequest {
  std::string config = {};
  std::vector<std::string> overrides = {};
  std::string name = {};      // replaces run.name; the run directory is <runs_dir>/<name>-doctor-<time>
  std::string runs_dir = {};
  Output output = Output::Progress;
  std::string command_line = {};
};

struct DoctorResult {
  std::string run_dir;
  doctor::Report report;  // the findings, ranked by report.ranked()
  bool failed = false;    // doctor_gate_fails(report): `vigil doctor` exits with 1
};

// The CI gate of `vigil doctor`: a finding at error level, or a model that could not fit even one batch
// (probe.overfit_one_batch). The doctor reports that probe as an info pointing at the first-ranked specific
// cause when there is one (raw pixels, a huge learning rate, ...), so that the ranking leads with the cause; the
// setup still does not train, and a gate must not pass it.
bool doctor_gate_fails(const doctor::Report& report);

// The doctor on its own: the pre-flight checks, then a short monitored run of doctor.steps optimiser steps (the
// config's model, data, optimiser and schedule), then the analysis of its curves. Prints the ranked findings in
// plain words (Output::Json: events and a result object) and writes config.toml, env.json, metrics.jsonl,
// doctor.txt, doctor.json, layers.jsonl and report.html into a new run directory. `vigil doctor` exits with 1
// when doctor_gate_fails(report), so that it can gate a CI pipeline.
DoctorResult run_doctor(const DoctorRequest& request, std::ostream& out);

struct LrFindRequest {
  std::string config = {};
  std::vector<std::string> overrides = {};
  std::string name = {};  // replaces run.name; the run directory is <runs_dir>/<name>-lr-find-<time>
  std::string runs_dir = {};
  bool json = false;
  std::string command_line = {};
};

struct LrFindResult {
  std::string run_dir;
  doctor::LrRangeResult sweep;
};

// The learning-rate range test (doctor::lr_range_test) from doctor.lr_min to doctor.lr_max over doctor.lr_steps
// batches. Prints the suggested rate and a text plot of the smoothed loss against the rate (log scale), and
// writes config.toml, env.json, lr_find.json ({"lrs", "losses", "smoothed", "suggested_lr", "reason"}) and
// lr_find.html (report::write_lr_find_page) into a new run directory.
LrFindResult run_lr_find(const LrFindRequest& request, std::ostream& out);

// `curve` drawn in `height` rows of `width` characters against log10(x), with a '|' column at `mark` (when > 0)
// and the axes' ranges labelled. x ascending and positive; non-finite y values are left out.
std::string text_plot(const std::vector<double>& x, const std::vector<double>& curve, double mark, int width = 60,
                      int height = 12);

// One sub-command: `define` adds its options to the sub-app CLI11 made for it and returns the action to run
// once the arguments are parsed (its exit status); `command_line` is the program's arguments joined (env.json
// records it). New commands (doctor, lr-find, search) add an entry to builtin_commands().
struct Command {
  std::string name;
  std::string description;
  std::function<std::function<int()>(CLI::App& app, const std::string& command_line)> define;
};

// train, resume, eval, summary, doctor, lr-find.
std::vector<Command> builtin_commands();

}  // namespace vigil::cli
