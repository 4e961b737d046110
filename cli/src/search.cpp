// vigil search: trials through the train path, k-fold means, trials.jsonl, the table, best_config.toml and the
// report; resumable (see search.hpp).
#include <vigil/cli/run_dir.hpp>
#include <vigil/cli/search.hpp>
#include <vigil/report/report.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <ostream>
#include <sstream>

#include <unistd.h>

namespace vigil::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::ordered_json;

// ---- Ctrl-C between and during trials ----
// During a trial's training the train path's own handler stops it after the current step with a checkpoint;
// outside training (loading data, writing files) this one asks the search to stop once the trial is done.
std::atomic<int> g_search_interrupts{0};

void on_search_sigint(int) {
  if (g_search_interrupts.fetch_add(1) >= 1) {
    constexpr char kMessage[] = "\nvigil: interrupted again; exiting now\n";
    (void)!::write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
    ::_exit(130);
  }
  request_interrupt();
  constexpr char kMessage[] = "\nvigil: stopping the search after this trial (Ctrl-C again to quit at once)\n";
  (void)!::write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
}

class SearchSigintScope {
 public:
  SearchSigintScope() {
    g_search_interrupts = 0;
    struct sigaction action {};
    action.sa_handler = on_search_sigint;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &previous_);
  }
  ~SearchSigintScope() { sigaction(SIGINT, &previous_, nullptr); }
  SearchSigintScope(const SearchSigintScope&) = delete;
  SearchSigintScope& operator=(const SearchSigintScope&) = delete;

 private:
  struct sigaction previous_ {};
};

// ---- settings ----
struct Settings {
  std::string method;
  std::int64_t trials = 0, folds = 0;
  std::string metric, mode;
  std::uint64_t seed = 0;
};

std::string default_metric(const Config& config) {
  const auto& metrics = config.get_strings("run.metrics");
  if (!metrics.empty()) return "val_" + metrics.front();
  return config.get_string("data.label_type") == "regression" ? "val_loss" : "val_accuracy";
}

std::string default_mode(const std::string& metric) {
  for (const char* lower_is_better : {"loss", "mae", "mse", "error"})
    if (metric.find(lower_is_better) != std::string::npos) return "min";
  return "max";
}

// The trial count the method allows: grid defaults to its size and refuses fewer.
std::int64_t trial_count(const std::string& method, std::int64_t requested, const SearchSpace& space,
                         std::ostream& out, bool quiet) {
  if (method == "random") return requested > 0 ? requested : 10;
  const std::int64_t size = grid_size(space);
  if (requested == 0) return size;
  if (requested < size)
    throw UsageError(fmt::format("--trials {} is smaller than the grid of {} ({} points): a truncated grid would "
                                 "try only the first values of the first keys; leave --trials out, shrink num or "
                                 "values, or use --method random",
                                 requested, space.file, size));
  if (requested > size && !quiet)
    out << fmt::format("vigil search: the grid has {} points; running {} trials, not {}\n", size, size, requested);
  return size;
}

ordered_json json_of(const Value& value) {
  return std::visit([](const auto& v) { return ordered_json(v); }, value);
}

ordered_json json_of(const TrialParams& params) {
  ordered_json out = ordered_json::object();
  for (const auto& [key, value] : params) out[key] = json_of(value);
  return out;
}

ordered_json json_number(double x) { return std::isfinite(x) ? ordered_json(x) : ordered_json(nullptr); }
double number_from(const nlohmann::json& j) { return j.is_number() ? j.get<double>() : std::nan(""); }

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError(fmt::format("cannot read {}", path.string()));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Better first; NaN (a diverged trial) last; ties by trial index.
void sort_best_first(std::vector<TrialRecord>& trials, const std::string& mode) {
  std::stable_sort(trials.begin(), trials.end(), [&](const TrialRecord& a, const TrialRecord& b) {
    const bool fa = std::isfinite(a.metric), fb = std::isfinite(b.metric);
    if (fa != fb) return fa;
    if (fa && a.metric != b.metric) return mode == "max" ? a.metric > b.metric : a.metric < b.metric;
    return a.trial < b.trial;
  });
}

std::string short_value(const Value& value) {
  if (const auto* x = std::get_if<double>(&value)) return fmt::format("{:.4g}", *x);
  if (const auto* s = std::get_if<std::string>(&value)) return *s;
  return format_value(value);
}

std::string metric_text(const TrialRecord& t) {
  if (!t.error.empty()) return "failed";
  if (!std::isfinite(t.metric)) return "diverged";
  return t.metric_std ? fmt::format("{:.4f} +- {:.4f}", t.metric, *t.metric_std) : fmt::format("{:.4f}", t.metric);
}

// The table, best first: rank, trial, the metric (mean +- std with folds), then every key.
std::string table_of(const std::vector<TrialRecord>& sorted, const SearchSpace& space, const std::string& metric) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> header = {"rank", "trial", metric};
  for (const SearchParam& p : space.params) header.push_back(p.key);
  rows.push_back(header);
  for (std::size_t r = 0; r < sorted.size(); ++r) {
    std::vector<std::string> row = {std::to_string(r + 1), std::to_string(sorted[r].trial), metric_text(sorted[r])};
    for (const auto& [key, value] : sorted[r].params) row.push_back(short_value(value));
    rows.push_back(row);
  }
  std::vector<std::size_t> widths(header.size(), 0);
  for (const auto& row : rows)
    for (std::size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) line += fmt::format("{:<{}}  ", row[c], widths[c]);
    line.erase(line.find_last_not_of(' ') + 1);
    out += line + "\n";
  }
  return out;
}

// The run directories vigil train made for `name` under `trials_dir` (<name>-<YYYYmmdd-HHMMSS>[-k]), oldest first.
std::vector<fs::path> runs_named(const fs::path& trials_dir, const std::string& name) {
  std::vector<fs::path> out;
  if (!fs::is_directory(trials_dir)) return out;
  for (const auto& entry : fs::directory_iterator(trials_dir)) {
    const std::string file = entry.path().filename().string();
    if (entry.is_directory() && file.size() > name.size() + 1 && file.starts_with(name + "-") &&
        std::isdigit(static_cast<unsigned char>(file[name.size() + 1])))
      out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

constexpr const char* kFoldResult = "search_result.json";  // written into a trial's run directory once it is done

struct RunOutcome {
  double metric = 0;
  std::string run_dir;
  bool interrupted = false;
};

// One training run of a trial (one fold): reuses a finished one, continues an interrupted one, or trains.
RunOutcome run_one(const SearchRequest& request, const fs::path& trials_dir, const std::string& name,
                   const std::string& config_file, const std::vector<std::string>& overrides, const Settings& settings) {
  std::ostream discard(nullptr);
  std::optional<TrainResult> result;
  for (const fs::path& dir : runs_named(trials_dir, name)) {
    if (fs::exists(dir / kFoldResult)) {
      const nlohmann::json done = nlohmann::json::parse(read_text(dir / kFoldResult));
      return {number_from(done["metric"]), dir.string(), false};
    }
  }
  for (const fs::path& dir : runs_named(trials_dir, name)) {
    if (!result && fs::exists(checkpoint_path(dir.string(), "last"))) {
      try {
        result = run_resume(ResumeRequest{dir.string(), Output::Quiet, request.extra_callbacks}, discard);
        continue;
      } catch (const UsageError&) {
        // Stopped at its very end, or before anything resumable: training it again gives the same result.
      }
    }
    fs::remove_all(dir);
  }
  if (!result)
    result = run_train(TrainRequest{config_file, overrides, name, trials_dir.string(), Output::Quiet,
                                    request.command_line, request.extra_callbacks},
                       discard);
  if (result->interrupted) return {0, result->run_dir, true};
  const auto it = result->last_epoch.find(settings.metric);
  if (it == result->last_epoch.end()) {
    std::vector<std::string> names;
    for (const auto& [key, value] : result->last_epoch)
      if (key != "epoch" && key != "step" && key != "lr" && key != "seconds") names.push_back(key);
    throw UsageError(fmt::format("--metric {} is not among the epoch logs of {}: {}", settings.metric,
                                 result->run_dir, fmt::join(names, ", ")));
  }
  ordered_json done = {{"metric", json_number(it->second)}, {"last_epoch", result->last_epoch},
                       {"final_set", result->final_set}, {"final", result->final_logs}};
  write_file((fs::path(result->run_dir) / kFoldResult).string(), done.dump() + "\n");
  return {it->second, result->run_dir, false};
}

void write_trials_jsonl(const fs::path& dir, std::vector<TrialRecord> trials, const Settings& settings) {
  std::sort(trials.begin(), trials.end(), [](const auto& a, const auto& b) { return a.trial < b.trial; });
  std::string text;
  for (const TrialRecord& t : trials) {
    ordered_json line = {{"trial", t.trial}, {"params", json_of(t.params)}, {"metric", json_number(t.metric)}};
    if (t.metric_std) line["metric_std"] = json_number(*t.metric_std);
    line["metric_name"] = settings.metric;
    line["mode"] = settings.mode;
    line["status"] = !t.error.empty() ? "failed" : std::isfinite(t.metric) ? "done" : "diverged";
    if (!t.error.empty()) line["error"] = t.error;
    if (!t.fold_metrics.empty()) {
      ordered_json folds = ordered_json::array();
      for (const double m : t.fold_metrics) folds.push_back(json_number(m));
      line["fold_metrics"] = folds;
    }
    line["run_dirs"] = t.run_dirs;
    text += line.dump() + "\n";
  }
  write_file((dir / "trials.jsonl").string(), text);
}

// The finished trials recorded in trials.jsonl, checked against what (seed, index) gives now.
std::map<std::int64_t, TrialRecord> read_trials(const fs::path& dir, const std::vector<TrialParams>& expected) {
  std::map<std::int64_t, TrialRecord> out;
  const fs::path path = dir / "trials.jsonl";
  if (!fs::exists(path)) return out;
  std::istringstream lines(read_text(path));
  std::string line;
  for (std::int64_t number = 1; std::getline(lines, line); ++number) {
    if (line.empty()) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const std::exception& e) {
      throw UsageError(fmt::format("{} line {}: {}", path.string(), number, e.what()));
    }
    TrialRecord t;
    t.trial = j.at("trial").get<std::int64_t>();
    if (t.trial < 0 || t.trial >= static_cast<std::int64_t>(expected.size()))
      throw UsageError(fmt::format("{} line {}: trial {} is not one of this search's {} trials", path.string(), number,
                                   t.trial, expected.size()));
    t.params = expected[static_cast<std::size_t>(t.trial)];
    if (nlohmann::json::parse(json_of(t.params).dump()) != j.at("params"))
      throw UsageError(fmt::format("{} line {}: trial {} has parameters {} but this search gives it {}: the "
                                   "directory belongs to another search",
                                   path.string(), number, t.trial, j.at("params").dump(), json_of(t.params).dump()));
    t.metric = number_from(j.at("metric"));
    if (j.contains("metric_std")) t.metric_std = number_from(j["metric_std"]);
    if (j.contains("fold_metrics"))
      for (const auto& m : j["fold_metrics"]) t.fold_metrics.push_back(number_from(m));
    if (j.contains("run_dirs")) t.run_dirs = j["run_dirs"].get<std::vector<std::string>>();
    if (j.contains("error")) t.error = j["error"].get<std::string>();
    out[t.trial] = std::move(t);
  }
  return out;
}

Config trial_config(const Config& base, const TrialParams& params, const SearchSpace& space) {
  Config config = base;
  for (std::size_t j = 0; j < params.size(); ++j) config.set(params[j].first, params[j].second, space.params[j].where);
  return config;
}

}  // namespace

SearchResult run_search(const SearchRequest& request, std::ostream& out) {
  Settings settings;
  fs::path dir;
  Config base;
  SearchSpace space;
  const bool quiet = request.quiet;

  if (!request.resume.empty()) {
    if (!request.config.empty() || !request.space.empty())
      throw UsageError("--resume continues a search from its directory: give no CONFIG.toml or --space with it");
    dir = request.resume;
    if (!fs::exists(dir / "search.json"))
      throw UsageError(fmt::format("{} is not a search directory: it has no search.json (vigil search creates "
                                   "<runs_dir>/<name>-search-<time>/)",
                                   dir.string()));
    const nlohmann::json saved = nlohmann::json::parse(read_text(dir / "search.json"));
    settings.method = saved.at("method").get<std::string>();
    settings.folds = saved.at("folds").get<std::int64_t>();
    settings.metric = saved.at("metric").get<std::string>();
    settings.mode = saved.at("mode").get<std::string>();
    settings.seed = saved.at("seed").get<std::uint64_t>();
    base = load_config((dir / "base_config.toml").string());
    space = load_space((dir / "space.toml").string());
    const auto recorded = saved.at("trials").get<std::int64_t>();
    if (request.trials > 0 && request.trials < recorded)
      throw UsageError(fmt::format("--trials {} with --resume: {} was started with {} trials; a resumed search can "
                                   "run more trials, not fewer",
                                   request.trials, dir.string(), recorded));
    settings.trials = trial_count(settings.method, request.trials > 0 ? request.trials : recorded, space, out, quiet);
  } else {
    if (request.config.empty()) throw UsageError("vigil search needs CONFIG.toml (or --resume SEARCH_DIR)");
    if (request.space.empty()) throw UsageError("vigil search needs --space SPACE.toml");
    if (request.method != "random" && request.method != "grid")
      throw UsageError(fmt::format("--method {}: expected random or grid", request.method));
    if (request.folds == 1 || request.folds < 0)
      throw UsageError(fmt::format("--folds {}: k-fold needs at least 2 folds (leave it out for the validation split)",
                                   request.folds));
    base = load_config(request.config, request.overrides);
    if (!request.name.empty()) base.set("run.name", request.name, "--name");
    if (!request.runs_dir.empty()) base.set("run.runs_dir", request.runs_dir, "--runs-dir");
    if (base.get_int("data.folds") != 0)
      throw base.invalid("data.folds", "vigil search sets the folds itself: use --folds");
    // Trials must rebuild from the search directory alone (--resume from anywhere): absolute paths, concrete
    // thread count, as vigil train does for its run directory.
    for (const char* key :
         {"data.path", "data.targets_path", "data.test_path", "data.test_targets_path", "model.init_from"}) {
      const std::string& path = base.get_string(key);
      if (!path.empty() && fs::path(path).is_relative())
        base.set(key, fs::absolute(path).lexically_normal().string(), base.origin(key));
    }
    if (base.get_int("run.threads") == 0)
      base.set("run.threads", static_cast<std::int64_t>(omp_get_max_threads()), base.origin("run.threads"));
    space = load_space(request.space);
    for (const SearchParam& p : space.params)
      if (p.key == "data.folds" || p.key == "data.fold")
        throw UsageError(fmt::format("\"{}\" in {}: the folds are set by --folds, not searched", p.key, p.where));
    settings.method = request.method;
    settings.folds = request.folds;
    settings.metric = request.metric.empty() ? default_metric(base) : request.metric;
    settings.mode = request.mode.empty() ? default_mode(settings.metric) : request.mode;
    if (settings.mode != "max" && settings.mode != "min")
      throw UsageError(fmt::format("--mode {}: expected max or min", settings.mode));
    settings.seed = static_cast<std::uint64_t>(request.seed);
    if (settings.metric.starts_with("val_") && settings.folds == 0 && base.get_float("data.validation_fraction") == 0)
      throw base.invalid("data.validation_fraction",
                         fmt::format("--metric {} needs validation data: give --folds K or a validation_fraction > 0",
                                     settings.metric));
    settings.trials = trial_count(settings.method, request.trials, space, out, quiet);
  }
  std::vector<TrialParams> points;
  for (std::int64_t i = 0; i < settings.trials; ++i)
    points.push_back(settings.method == "grid" ? grid_point(space, i) : random_point(space, settings.seed, i));
  // Every trial's config must pass the checks across keys before anything trains (not only the first ones).
  for (std::int64_t i = 0; i < settings.trials; ++i)
    parse_config(trial_config(base, points[static_cast<std::size_t>(i)], space).to_toml(),
                 fmt::format("{} (trial {})", space.file, i));
  if (request.resume.empty()) {
    dir = create_run_dir(base.get_string("run.runs_dir"), base.get_string("run.name") + "-search");
    fs::remove(dir / "checkpoints");
    write_file((dir / "base_config.toml").string(), base.to_toml());
    write_file((dir / "space.toml").string(), read_text(request.space));
    write_env_json(dir.string(), base.get_int("run.threads"), base.get_int("run.seed"), request.command_line);
  }
  // search.json last: its presence marks a directory --resume can continue (also with a new trial count).
  write_file((dir / "search.json").string(),
             ordered_json{{"version", 1},
                          {"method", settings.method},
                          {"trials", settings.trials},
                          {"folds", settings.folds},
                          {"metric", settings.metric},
                          {"mode", settings.mode},
                          {"seed", settings.seed},
                          {"command", request.command_line}}
                     .dump(2) +
                 "\n");

  std::map<std::int64_t, TrialRecord> done = read_trials(dir, points);

  SearchResult result;
  result.dir = dir.string();
  result.metric = settings.metric;
  result.mode = settings.mode;
  const fs::path trials_dir = dir / "trials";
  fs::create_directories(trials_dir);
  if (!quiet)
    out << fmt::format("vigil search: {} {} trials{} over {} key{}, {} ({}) in {}{}\n", settings.trials,
                       settings.method, settings.folds > 0 ? fmt::format(" x {} folds", settings.folds) : "",
                       space.params.size(), space.params.size() == 1 ? "" : "s", settings.metric, settings.mode,
                       dir.string(),
                       done.empty() ? "" : fmt::format(" ({} finished before, skipped)", done.size()));
  {
    SearchSigintScope sigint;
    for (std::int64_t i = 0; i < settings.trials && !result.interrupted; ++i) {
      if (done.count(i) != 0) continue;
      const auto started = std::chrono::steady_clock::now();
      const TrialParams& params = points[static_cast<std::size_t>(i)];
      const std::string name = fmt::format("trial-{:03d}", i);
      const fs::path config_file = trials_dir / (name + ".toml");
      write_file(config_file.string(), trial_config(base, params, space).to_toml());
      TrialRecord record;
      record.trial = i;
      record.params = params;
      const std::int64_t runs = std::max<std::int64_t>(settings.folds, 1);
      for (std::int64_t f = 0; f < runs; ++f) {
        std::vector<std::string> overrides;
        std::string run_name = name;
        if (settings.folds > 0) {
          overrides = {fmt::format("data.folds={}", settings.folds), fmt::format("data.fold={}", f)};
          run_name = fmt::format("{}-fold-{}", name, f);
        }
        RunOutcome outcome;
        try {
          outcome = run_one(request, trials_dir, run_name, config_file.string(), overrides, settings);
        } catch (const UsageError&) {
          throw;
        } catch (const std::exception& e) {
          record.error = e.what();
          record.fold_metrics.push_back(std::nan(""));
          break;
        }
        if (outcome.interrupted) {
          result.interrupted = true;
          break;
        }
        record.fold_metrics.push_back(outcome.metric);
        record.run_dirs.push_back(fs::relative(outcome.run_dir, dir).string());
      }
      if (result.interrupted) break;
      const double n = static_cast<double>(record.fold_metrics.size());
      record.metric = std::accumulate(record.fold_metrics.begin(), record.fold_metrics.end(), 0.0) / n;
      if (settings.folds > 0) {
        double squares = 0;
        for (const double m : record.fold_metrics) squares += (m - record.metric) * (m - record.metric);
        record.metric_std = std::sqrt(squares / (n - 1));
      } else {
        record.fold_metrics.clear();
      }
      done[i] = record;
      ++result.trials_run;
      std::vector<TrialRecord> all;
      for (const auto& [index, t] : done) all.push_back(t);
      write_trials_jsonl(dir, all, settings);
      if (!quiet) {
        std::vector<std::string> assignments;
        for (const auto& [key, value] : params) assignments.push_back(key + "=" + short_value(value));
        out << fmt::format("trial {}/{}: {} -> {} {}{} ({:.1f} s)\n", i + 1, settings.trials,
                           fmt::join(assignments, " "), settings.metric, metric_text(record),
                           record.error.empty() ? "" : ": " + record.error,
                           std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
        out.flush();
      }
      if (g_search_interrupts.load() > 0) result.interrupted = true;
    }
  }

  for (const auto& [index, t] : done) result.trials.push_back(t);
  sort_best_first(result.trials, settings.mode);
  const std::string table = table_of(result.trials, space, settings.metric);
  write_file((dir / "results.txt").string(), table);
  if (!result.trials.empty() && std::isfinite(result.trials.front().metric)) {
    const TrialRecord& best = result.trials.front();
    write_file((dir / "best_config.toml").string(),
               fmt::format("# vigil search {}: the best of {} finished trials, trial {} ({} {}).\n", dir.string(),
                           result.trials.size(), best.trial, settings.metric, metric_text(best)) +
                   trial_config(base, best.params, space).to_toml());
  }
  report::write_report(dir);
  out << table;
  if (result.interrupted) {
    out << fmt::format("vigil search: interrupted after {} of {} trials; continue with:\n  vigil search --resume {}\n",
                       done.size(), settings.trials, dir.string());
  } else if (!quiet) {
    out << fmt::format("vigil search: best config {}\nvigil search: report {}\n", (dir / "best_config.toml").string(),
                       (dir / "report.html").string());
  }
  return result;
}

}  // namespace vigil::cli
