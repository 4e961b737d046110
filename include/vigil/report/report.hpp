// report.html: one self-contained page about a training run (curves, layer statistics, confusion matrix, the
// doctor's findings, the environment, the configuration, and for `vigil search` the trials), built from the files
// the run left in its directory. Everything is inlined, uPlot included, so the page opens offline and can be
// mailed or archived; tables are plain HTML (readable in print and without JavaScript), charts are drawn by a
// small script (src/report/report.js) with uPlot.
//
// The run directory (written by the CLI and the train/doctor callbacks; every file is optional):
//   config.toml    the resolved configuration, shown verbatim.
//   metrics.jsonl  train::JsonlLogger lines, one JSON object each:
//                    {"event":"epoch","epoch":e,"step":s,"loss":..,"val_loss":..,"<metric>":..,"val_<metric>":..,
//                     "lr":..,"seconds":..}     (keys besides event/epoch/step are optional numbers)
//                    {"event":"step","epoch":e,"step":s,"loss":..,"lr":..}
//                  Charts: loss and each metric per epoch, train against validation, with the best epoch marked
//                  (the least val_loss; for a metric the best val_<metric>, largest unless the name says it is an
//                  error: loss, mae, rmse); the learning rate over steps (from step lines, else epoch lines).
//   layers.jsonl   the doctor's monitor samples, one JSON object per line:
//                    {"step":s,"layer":"conv1.weight","grad_norm":..,"weight_norm":..,"update_ratio":..,
//                     "activation_mean":..,"activation_std":..,"dead_fraction":..,"saturated_fraction":..}
//                  Gradient rows name a parameter path, activation rows a module path; fields that do not apply
//                  are 0 (or absent). Charts: gradient norm and update/weight ratio per parameter over steps (log
//                  y; zeros are left out), activation std and dead-unit fraction per module.
//   confusion.json {"classes":["T-shirt",...],"matrix":[[counts of true class t predicted as p]...]} (C x C):
//                  a heat-map table with each class's precision and recall.
//   doctor.json    doctor::Report::json(): the findings in rank order, coloured by severity, and the verdict.
//   env.json       {"vigil_version","git_commit","cpu","threads","seed","started","command"} (any values; shown
//                  as a table, "started" also dates the page).
//   trials.jsonl   `vigil search` only: {"trial":i,"params":{"optim.lr":..,...},"metric":..,"metric_std":..,
//                  "status":"done"} per line (metric_std optional; metric null or absent for a trial that did not
//                  finish); optional "metric_name" and "mode" ("max", the default, or "min") say what the metric
//                  is and which way is better. A table sorted best first and a scatter of metric against one
//                  numeric parameter (picked in the page; log x when it spans two decades or more).
// A missing file gives its section the words "not recorded". The page's <body data-status> reads "loading"
// until the script has drawn every chart, then "ok", or "error: ..." with every error (a script error, or a
// chart whose series are all empty: "chart Loss has no data"); the browser test checks it.
#pragma once

#include <vigil/doctor/lr_range.hpp>

#include <filesystem>
#include <string>

namespace vigil::report {

// The page for the run in `run_dir`, as a string. Throws Error when run_dir is not a directory, and for a
// malformed file an Error naming the file and, for JSON lines files, the line ("metrics.jsonl line 3: ...").
std::string render_report(const std::filesystem::path& run_dir);

// Writes render_report(run_dir) to run_dir/report.html atomically (data::write_file_atomically): a reader sees
// the old page or the new one, never half of one.
void write_report(const std::filesystem::path& run_dir);

// The page of a learning-rate range test (`vigil lr-find`): the raw and smoothed loss against the rate (log
// axes), the suggested rate marked, and the sweep's reason; titled with `name`. Same page shell, inlined uPlot
// and data-status contract as report.html.
std::string render_lr_find_page(const doctor::LrRangeResult& sweep, const std::string& name);
// Writes render_lr_find_page(sweep, name) to `path` atomically.
void write_lr_find_page(const std::filesystem::path& path, const doctor::LrRangeResult& sweep, const std::string& name);

}  // namespace vigil::report
