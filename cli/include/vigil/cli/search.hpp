// vigil search: random and grid search over any config keys, with optional k-fold cross-validation.
//
//   vigil search CONFIG.toml --space SPACE.toml [--method random|grid] [--trials N] [--folds K] [--metric NAME]
//                [--mode max|min] [--seed S] [--set key=value ...] [--name NAME] [--runs-dir DIR] [--quiet]
//   vigil search --resume SEARCH_DIR [--trials N] [--quiet]
//
// The search space (SPACE.toml): one table per config key, named by the key (so `[optim.lr]` is the key
// optim.lr; `["optim.lr"]` means the same). Each table holds a distribution:
//
//   [optim.lr]                  # log-uniform on [low, high]: equal odds for each decade
//   dist = "log_uniform"
//   low = 1e-4
//   high = 1e-1
//   num = 3                     # grid only: this many points, log spaced from low to high inclusive
//
//   [optim.weight_decay]        # uniform on [low, high] (grid: num points evenly spaced)
//   dist = "uniform"
//   low = 0.0
//   high = 1e-3
//
//   [model.dropout]             # a key may also be listed outright: random picks one, grid tries each
//   values = [0.0, 0.2, 0.5]    # (dist = "choice" may be written, or left out)
//
//   [data.batch_size]           # integers in [low, high], both included (grid: num points, rounded)
//   dist = "int_uniform"
//   low = 16
//   high = 128
//
//   [model.hidden]              # a list-valued key takes a list of lists
//   values = [[64], [128, 64]]
//
// Every key is checked against the config schema (unknown keys get the nearest known key, wrong types and values
// out of the key's range are rejected, both bounds checked) and every mistake is one UsageError naming the file,
// the line and the key: an unknown field (suggesting dist, low, high, num or values), an unknown distribution,
// low >= high, log_uniform with low <= 0, uniform on an integer key, a grid range without num, an empty space or
// an empty values list.
//
// Trials. random: trial i sets each key to a draw from a generator seeded by (--seed, i, the key's position in
// the space), so trial i is the same whatever the trial count, and a resumed or extended search repeats it
// exactly. grid: the Cartesian product of each key's points in the space's order (the last key varies fastest);
// --trials may be left out (the whole grid), and a --trials smaller than the grid is an error that gives the
// grid's size (a truncated grid would cover only the first keys' first values); a larger one runs the grid.
// Every trial trains with the config's run.seed, so trials differ only by their parameters.
//
// Evaluation. Without --folds a trial trains once and its metric is --metric (default: "val_" + the first of
// run.metrics, else val_accuracy for classification, val_loss otherwise) on the config's validation split, read
// from the last completed epoch. With --folds K it trains K times (data.folds = K, data.fold = 0..K-1: a
// stratified k-fold of the training data, validation_fraction unused) and its metric is the mean over the folds,
// with their standard deviation (n - 1 in the denominator) as the spread. --mode says which way is better
// (default: min for names holding loss, mae, mse or error; max otherwise).
//
// The search directory, runs/<name>-search-<YYYYmmdd-HHMMSS>/:
//   search.json        method, trials, folds, metric, mode, seed and the command: what --resume continues
//   base_config.toml   the config, resolved (overrides applied, paths absolute)
//   space.toml         the space, verbatim
//   env.json           as a run directory's (version, commit, CPU, threads, seed, start, command)
//   trials/trial-007.toml and trials/trial-007[-fold-2]-<time>/   each trial's resolved config and run directory
//   trials.jsonl       one line per finished trial, in trial order (see report.hpp), rewritten atomically
//   results.txt        the table, best first (also printed)
//   best_config.toml   the best trial's config, fully resolved: `vigil train best_config.toml` retrains it
//   report.html        report::write_report: the table and a scatter of the trials
//
// A trial whose metric is NaN is "diverged"; one whose training throws (not a UsageError, which stops the search)
// is "failed" with the message. Both rank last, are recorded, and are not re-run by --resume.
//
// Interruption. The first Ctrl-C stops the current trial's training after its current step with a resumable
// checkpoint (the train path's interrupt), keeps trials.jsonl whole and exits with 130; `vigil search --resume
// DIR` skips the trials in trials.jsonl (and the finished folds of the current one), continues the interrupted run
// exactly where it stopped, and ends with the same table as a search never interrupted. --trials with --resume
// raises the count (random: trials 0..N-1 are the same whatever N, so the first ones are kept); it cannot lower it.
#pragma once

#include <vigil/cli/commands.hpp>
#include <vigil/cli/config.hpp>

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vigil::cli {

enum class Distribution { LogUniform, Uniform, IntUniform, Choice };

// One key of the space.
struct SearchParam {
  std::string key;  // a schema key, "optim.lr"
  Distribution dist = Distribution::Choice;
  double low = 0, high = 0;   // the range of LogUniform, Uniform, IntUniform (low < high)
  std::int64_t num = 0;       // grid points of a range; 0 when not given
  std::vector<Value> values;  // Choice: the values, each already typed and checked by the schema
  std::string where;          // "space.toml line 4", for messages
};

struct SearchSpace {
  std::string file;
  std::vector<SearchParam> params;  // in the file's order
};

// Parses a space (named `name` in messages). Throws UsageError.
SearchSpace parse_space(std::string_view text, const std::string& name);
SearchSpace load_space(const std::string& path);

// One trial's assignment: (key, value) in the space's order, each value of the key's schema type.
using TrialParams = std::vector<std::pair<std::string, Value>>;

// The grid points of one key: Choice its values; a range `num` points from low to high inclusive (log spaced for
// LogUniform, rounded for IntUniform). UsageError when a range has no num.
std::vector<Value> grid_values(const SearchParam& param);
// The product of the keys' point counts.
std::int64_t grid_size(const SearchSpace& space);
// Point `index` of the grid in mixed radix, the last key fastest. Requires 0 <= index < grid_size(space).
TrialParams grid_point(const SearchSpace& space, std::int64_t index);
// Trial `index` of a random search seeded by `seed`: a pure function of (seed, index, the space).
TrialParams random_point(const SearchSpace& space, std::uint64_t seed, std::int64_t index);

struct SearchRequest {
  std::string config = {};                  // CONFIG.toml (not with resume)
  std::string space = {};                   // --space SPACE.toml
  std::vector<std::string> overrides = {};  // --set key=value, applied to the base config
  std::string method = "random";            // "random" or "grid"
  std::int64_t trials = 0;                  // 0: random 10, grid the whole grid (resume: as recorded)
  std::int64_t folds = 0;                   // 0: the config's validation split; else >= 2
  std::string metric = {};                  // empty: the default above
  std::string mode = {};                    // "max", "min", or empty: from the metric's name
  std::int64_t seed = 0;                    // the sampler's seed (random search)
  std::string name = {};                    // default: run.name
  std::string runs_dir = {};                // default: run.runs_dir
  std::string resume = {};                  // --resume SEARCH_DIR
  bool quiet = false;                       // print only the table
  std::string command_line = {};
  // Passed to every trial's training run (tests interrupt a trial with request_interrupt() from one).
  std::vector<train::CallbackPtr> extra_callbacks = {};
};

struct TrialRecord {
  std::int64_t trial = 0;
  TrialParams params;
  double metric = 0;                      // NaN when training diverged
  std::optional<double> metric_std;       // with folds
  std::vector<double> fold_metrics;       // with folds, in fold order
  std::vector<std::string> run_dirs;      // one per fold (one without folds)
  std::string error;                      // why training failed ("status": "failed"); empty otherwise
};

struct SearchResult {
  std::string dir;                    // the search directory
  std::string metric, mode;
  std::vector<TrialRecord> trials;    // every finished trial, best first (ties: lower trial index first)
  std::int64_t trials_run = 0;        // trials trained (or completed) by this call; skipped ones not counted
  bool interrupted = false;
};

// Runs (or resumes) a search; prints progress and the table to `out`. Throws UsageError.
SearchResult run_search(const SearchRequest& request, std::ostream& out);

// The `vigil search` entry of builtin_commands().
Command search_command();

}  // namespace vigil::cli
