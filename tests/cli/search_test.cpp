// vigil search: the space file (every distribution and every mistake), grid enumeration, seeded random draws,
// searches on the tiny CSV data (table, trials.jsonl, best_config.toml, report), k-fold means and spreads, and
// resuming a stopped or interrupted search to the same table as an uninterrupted one.
#include <vigil/cli/config.hpp>
#include <vigil/cli/run_dir.hpp>
#include <vigil/cli/search.hpp>
#include <vigil/train/callbacks.hpp>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <unistd.h>

namespace vigil::cli {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  TempDir() : path(fs::temp_directory_path() / ("vigil-search-" + std::to_string(::getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
  fs::path path;
};

std::string write(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
  return path;
}

std::string read(const fs::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string space_error(const std::string& text) {
  try {
    parse_space(text, "space.toml");
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

// ---- the space file ----

TEST(SearchSpace, ParsesEveryDistribution) {
  const SearchSpace space = parse_space(
      "[optim.lr]\ndist = \"log_uniform\"\nlow = 1e-4\nhigh = 1e-1\nnum = 3\n"
      "[optim.weight_decay]\ndist = \"uniform\"\nlow = 0\nhigh = 1e-3\n"
      "[data.batch_size]\ndist = \"int_uniform\"\nlow = 16\nhigh = 64\n"
      "[model]\ndropout = [0.0, 0.5]\nhidden = [[8], [16, 8]]\n"
      "[\"optim.name\"]\ndist = \"choice\"\nvalues = [\"sgd\", \"adam\"]\n",
      "space.toml");
  ASSERT_EQ(space.params.size(), 6u);
  EXPECT_EQ(space.params[0].key, "optim.lr");
  EXPECT_EQ(space.params[0].dist, Distribution::LogUniform);
  EXPECT_EQ(space.params[0].num, 3);
  EXPECT_EQ(space.params[0].where, "space.toml line 1");
  EXPECT_EQ(space.params[1].dist, Distribution::Uniform);
  EXPECT_EQ(space.params[1].high, 1e-3);
  EXPECT_EQ(space.params[2].dist, Distribution::IntUniform);
  EXPECT_EQ(space.params[3].key, "model.dropout");
  EXPECT_EQ(space.params[3].dist, Distribution::Choice);
  EXPECT_EQ(space.params[3].values, (std::vector<Value>{0.0, 0.5}));
  EXPECT_EQ(space.params[4].key, "model.hidden");
  EXPECT_EQ(space.params[4].values[1], Value(std::vector<std::int64_t>{16, 8}));
  EXPECT_EQ(space.params[5].key, "optim.name");
  EXPECT_EQ(space.params[5].values, (std::vector<Value>{std::string("sgd"), std::string("adam")}));
  // An integer choice for a number key is typed by the schema.
  EXPECT_EQ(parse_space("[optim]\nlr = [1, 0.5]\n", "s").params[0].values[0], Value(1.0));
}

TEST(SearchSpace, EveryMistakeNamesTheFileTheLineAndTheKey) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"[optim.lrr]\ndist = \"uniform\"\nlow = 0.1\nhigh = 0.2\n",
       "unknown key \"optim.lrr\" in space.toml line 1; did you mean \"optim.lr\"?"},
      {"[optimm]\nlr = [0.1]\n", "unknown key \"optimm.lr\" in space.toml line 2; did you mean \"optim.lr\"?"},
      {"[optim.lr]\ndist = \"uniform\"\nlow = 0.1\nhgh = 0.2\n",
       "unknown field \"hgh\" for \"optim.lr\" in space.toml line 4; did you mean \"high\"?"},
      {"[optim.lr]\ndist = \"loguniform\"\nlow = 0.1\nhigh = 0.2\n",
       "unknown dist \"loguniform\" for \"optim.lr\" in space.toml line 2; did you mean \"log_uniform\"?"},
      {"[optim.lr]\ndist = 3\n", "wrong type for \"optim.lr\" dist in space.toml line 2"},
      {"[optim.lr]\nvalues = [\"fast\"]\n",
       "wrong type for \"optim.lr\" in space.toml line 2: expected a number, got a string"},
      {"[optim.lr]\nvalues = 0.1\n", "wrong type for \"optim.lr\" values in space.toml line 2: expected a list"},
      {"[optim.lr]\nvalues = []\n", "\"optim.lr\" values in space.toml line 2 is empty"},
      {"[optim.lr]\ndist = \"uniform\"\nlow = \"a\"\nhigh = 0.2\n",
       "wrong type for \"optim.lr\" low in space.toml line 3: expected a number"},
      {"[optim.lr]\ndist = \"uniform\"\nlow = -0.1\nhigh = 0.2\n", "invalid value for \"optim.lr\" in space.toml line 3"},
      {"[model.dropout]\ndist = \"uniform\"\nlow = 0\nhigh = 1\n",
       "invalid value for \"model.dropout\" in space.toml line 4: must be in [0, 1), got 1"},
      {"[optim.lr]\ndist = \"uniform\"\nlow = 0.2\nhigh = 0.1\n",
       "invalid range for \"optim.lr\" in space.toml line 1: low (0.2) must be < high (0.1)"},
      {"[optim.momentum]\ndist = \"log_uniform\"\nlow = 0\nhigh = 0.9\n",
       "invalid range for \"optim.momentum\" in space.toml line 1: log_uniform needs low > 0"},
      {"[data.batch_size]\ndist = \"uniform\"\nlow = 16\nhigh = 64\n",
       "\"data.batch_size\" in space.toml line 1 is an integer: use dist = \"int_uniform\""},
      {"[data.batch_size]\ndist = \"int_uniform\"\nlow = 16.5\nhigh = 64\n",
       "wrong type for \"data.batch_size\" in space.toml line 1: int_uniform needs integer low and high"},
      {"[optim.name]\ndist = \"uniform\"\nlow = 0\nhigh = 1\n",
       "\"optim.name\" in space.toml line 1 is a string, not a number: list its candidates with values = [...]"},
      {"[optim.lr]\ndist = \"uniform\"\nlow = 0.1\n",
       "\"optim.lr\" in space.toml line 1: dist = \"uniform\" needs low and high"},
      {"[optim.lr]\ndist = \"uniform\"\nlow = 0.1\nhigh = 0.2\nvalues = [0.1]\n",
       "\"optim.lr\" in space.toml line 1: give either values = [...] or dist = \"uniform\" with low and high"},
      {"[optim.lr]\ndist = \"choice\"\nlow = 0.1\n", "\"optim.lr\" in space.toml line 1: a choice takes values"},
      {"[optim.lr]\nlow = 0.1\nhigh = 0.2\n", "\"optim.lr\" in space.toml line 1 needs dist ="},
      {"[optim.lr]\ndist = \"uniform\"\nlow = 0.1\nhigh = 0.2\nnum = 1\n",
       "invalid value for \"optim.lr\" num in space.toml line 5: expected an integer >= 2"},
      {"[data.batch_size]\ndist = \"int_uniform\"\nlow = 16\nhigh = 18\nnum = 4\n",
       "invalid value for \"data.batch_size\" num in space.toml line 5: 4 points do not fit the 3 integers"},
      {"[optim]\nlr = 0.1\n", "\"optim.lr\" in space.toml line 2 is a single value"},
      {"[optim]\nlr = [0.1]\n[\"optim.lr\"]\nvalues = [0.2]\n", "\"optim.lr\" appears twice in space.toml"},
      {"[optim.lr\n", "space.toml line 1 column"},
      {"# caf\xc3\xa9\n", "space.toml line 1 column 6: non-ASCII byte 0xc3"},
      {"# nothing\n", "space.toml names no keys to search"},
  };
  for (const auto& [text, expected] : cases) {
    const std::string error = space_error(text);
    EXPECT_NE(error.find(expected), std::string::npos) << "space:\n" << text << "\nerror: " << error;
  }
}

// ---- grid and random ----

TEST(SearchGrid, EnumeratesTheProductLastKeyFastest) {
  const SearchSpace space = parse_space(
      "[optim.lr]\ndist = \"log_uniform\"\nlow = 1e-3\nhigh = 1e-1\nnum = 3\n"
      "[optim.weight_decay]\nvalues = [0.0, 1e-4]\n",
      "space.toml");
  ASSERT_EQ(grid_size(space), 6);
  const std::vector<double> lrs = {1e-3, 1e-2, 1e-1}, decays = {0.0, 1e-4};
  for (std::int64_t i = 0; i < 6; ++i) {
    const TrialParams point = grid_point(space, i);
    ASSERT_EQ(point.size(), 2u);
    EXPECT_EQ(point[0].first, "optim.lr");
    EXPECT_NEAR(std::get<double>(point[0].second), lrs[static_cast<std::size_t>(i / 2)], 1e-15);
    EXPECT_EQ(std::get<double>(point[1].second), decays[static_cast<std::size_t>(i % 2)]);
  }
  // The ends are exactly as written; uniform ranges are evenly spaced, integer ranges rounded.
  EXPECT_EQ(std::get<double>(grid_point(space, 0)[0].second), 1e-3);
  EXPECT_EQ(std::get<double>(grid_point(space, 5)[0].second), 1e-1);
  const SearchSpace ints = parse_space("[data.batch_size]\ndist = \"int_uniform\"\nlow = 10\nhigh = 20\nnum = 4\n", "s");
  EXPECT_EQ(grid_values(ints.params[0]),
            (std::vector<Value>{std::int64_t{10}, std::int64_t{13}, std::int64_t{17}, std::int64_t{20}}));
  const SearchSpace uniform = parse_space("[optim.momentum]\ndist = \"uniform\"\nlow = 0\nhigh = 0.9\nnum = 4\n", "s");
  EXPECT_NEAR(std::get<double>(grid_values(uniform.params[0])[1]), 0.3, 1e-15);
}

TEST(SearchGrid, ARangeWithoutNumIsAnError) {
  const SearchSpace space = parse_space("[optim.lr]\ndist = \"log_uniform\"\nlow = 1e-3\nhigh = 1e-1\n", "space.toml");
  try {
    grid_size(space);
    FAIL() << "no error";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("\"optim.lr\" in space.toml line 1: a grid needs num"), std::string::npos)
        << e.what();
  }
}

TEST(SearchRandom, DrawsArePureFunctionsOfSeedAndIndex) {
  const std::string text =
      "[optim.lr]\ndist = \"log_uniform\"\nlow = 1e-4\nhigh = 1e-1\n"
      "[optim.momentum]\ndist = \"uniform\"\nlow = 0.5\nhigh = 0.9\n"
      "[data.batch_size]\ndist = \"int_uniform\"\nlow = 1\nhigh = 4\n"
      "[optim.name]\nvalues = [\"sgd\", \"adam\", \"adamw\"]\n";
  const SearchSpace space = parse_space(text, "space.toml");
  EXPECT_EQ(random_point(space, 7, 3), random_point(parse_space(text, "again.toml"), 7, 3));
  EXPECT_NE(random_point(space, 7, 3), random_point(space, 7, 4));
  EXPECT_NE(random_point(space, 7, 3), random_point(space, 8, 3));
  // A key's draw does not depend on the keys after it.
  const SearchSpace first_only = parse_space("[optim.lr]\ndist = \"log_uniform\"\nlow = 1e-4\nhigh = 1e-1\n", "s");
  EXPECT_EQ(random_point(first_only, 7, 3)[0], random_point(space, 7, 3)[0]);

  int below_geometric_mean = 0;
  std::set<std::int64_t> batch_sizes;
  std::set<std::string> names;
  const int n = 2000;
  for (int i = 0; i < n; ++i) {
    const TrialParams p = random_point(space, 1, i);
    const double lr = std::get<double>(p[0].second), momentum = std::get<double>(p[1].second);
    ASSERT_GE(lr, 1e-4);
    ASSERT_LE(lr, 1e-1);
    ASSERT_GE(momentum, 0.5);
    ASSERT_LE(momentum, 0.9);
    below_geometric_mean += lr < std::sqrt(1e-4 * 1e-1) ? 1 : 0;
    batch_sizes.insert(std::get<std::int64_t>(p[2].second));
    names.insert(std::get<std::string>(p[3].second));
  }
  // Log-uniform: half the draws below the geometric mean of the ends (binomial sd ~ 22 of 2000).
  EXPECT_NEAR(below_geometric_mean, n / 2, 120);
  EXPECT_EQ(batch_sizes, (std::set<std::int64_t>{1, 2, 3, 4}));
  EXPECT_EQ(names, (std::set<std::string>{"sgd", "adam", "adamw"}));
}

// ---- searches on the tiny CSV data ----

std::string data_file(const std::string& name) {
  return (fs::path(VIGIL_SOURCE_DIR) / "configs" / "data" / name).string();
}

// 120 rows (20% validation: 96 train, 6 batches of 16), 2 epochs: a trial takes a fraction of a second.
std::string csv_config(const std::string& runs_dir) {
  return "[run]\nname = \"s\"\nepochs = 2\nlog_every_steps = 0\nthreads = 1\nruns_dir = \"" + runs_dir +
         "\"\n[data]\ndataset = \"csv\"\npath = \"" + data_file("shapes_train.csv") + "\"\ntest_path = \"" +
         data_file("shapes_test.csv") +
         "\"\nlabel_column = \"shape\"\nlabel_type = \"name\"\nvalidation_fraction = 0.2\nbatch_size = 16\n"
         "[preprocess]\naxis = \"per-feature\"\n[model]\nhidden = [8]\ndropout = 0.1\n[optim]\nlr = 0.01\n";
}

// Not in alphabetical order: trials.jsonl keeps the space's order, and resuming compares parameters as objects.
const char* kSpace =
    "[optim.weight_decay]\ndist = \"uniform\"\nlow = 0.0\nhigh = 1e-3\nnum = 2\n"
    "[optim.lr]\ndist = \"log_uniform\"\nlow = 1e-3\nhigh = 1e-1\nnum = 2\n";

struct Search {
  Search() {
    config = write(dir.file("cfg.toml"), csv_config(dir.file("runs")));
    space = write(dir.file("space.toml"), kSpace);
  }
  SearchRequest request(std::int64_t trials) const {
    return {.config = config, .space = space, .trials = trials, .seed = 5, .quiet = true};
  }
  TempDir dir;
  std::string config, space;
};

std::vector<std::string> lines_of(const fs::path& path) {
  std::istringstream in(read(path));
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST(SearchRun, RandomSearchWritesTheTableTrialsBestConfigAndReport) {
  Search s;
  std::ostringstream out;
  const SearchResult result = run_search(s.request(3), out);
  EXPECT_FALSE(result.interrupted);
  EXPECT_EQ(result.trials_run, 3);
  EXPECT_EQ(result.metric, "val_accuracy");
  EXPECT_EQ(result.mode, "max");
  ASSERT_EQ(result.trials.size(), 3u);
  for (std::size_t r = 1; r < result.trials.size(); ++r) EXPECT_GE(result.trials[r - 1].metric, result.trials[r].metric);
  const fs::path dir = result.dir;
  EXPECT_EQ(dir.parent_path(), s.dir.path / "runs");
  EXPECT_TRUE(dir.filename().string().starts_with("s-search-"));
  for (const char* file : {"search.json", "base_config.toml", "space.toml", "trials.jsonl", "results.txt",
                           "best_config.toml", "report.html", "trials/trial-000.toml"})
    EXPECT_TRUE(fs::exists(dir / file)) << file;
  const std::vector<std::string> jsonl = lines_of(dir / "trials.jsonl");
  ASSERT_EQ(jsonl.size(), 3u);
  EXPECT_TRUE(jsonl[0].starts_with("{\"trial\":0,\"params\":{\"optim.weight_decay\":")) << jsonl[0];
  EXPECT_NE(jsonl[0].find("\"metric_name\":\"val_accuracy\",\"mode\":\"max\",\"status\":\"done\""), std::string::npos);
  // The table printed is results.txt, best first.
  EXPECT_EQ(out.str(), read(dir / "results.txt"));
  EXPECT_TRUE(out.str().starts_with("rank  trial  val_accuracy")) << out.str();
  // best_config.toml is the best trial's config, complete: it trains as is.
  const Config best = load_config((dir / "best_config.toml").string());
  EXPECT_EQ(best.value("optim.weight_decay"), result.trials[0].params[0].second);
  EXPECT_EQ(best.value("optim.lr"), result.trials[0].params[1].second);
  EXPECT_EQ(best.get_ints("model.hidden"), (std::vector<std::int64_t>{8}));
  EXPECT_NE(read(dir / "report.html").find("class=\"trials\""), std::string::npos);
  // The trial's metric is its run's last epoch's val_accuracy.
  const TrialRecord& t = result.trials[0];
  ASSERT_EQ(t.run_dirs.size(), 1u);
  EXPECT_FALSE(t.metric_std.has_value());
  EXPECT_TRUE(fs::exists(dir / t.run_dirs[0] / "checkpoints" / "last.safetensors"));
}

TEST(SearchRun, KFoldGivesTheMeanAndSpreadOfTheFolds) {
  Search s;
  SearchRequest request = s.request(2);
  request.folds = 3;
  std::ostringstream out;
  const SearchResult result = run_search(request, out);
  ASSERT_EQ(result.trials.size(), 2u);
  for (const TrialRecord& t : result.trials) {
    ASSERT_EQ(t.fold_metrics.size(), 3u);
    ASSERT_EQ(t.run_dirs.size(), 3u);
    const double mean = (t.fold_metrics[0] + t.fold_metrics[1] + t.fold_metrics[2]) / 3;
    double squares = 0;
    for (const double m : t.fold_metrics) squares += (m - mean) * (m - mean);
    EXPECT_DOUBLE_EQ(t.metric, mean);
    ASSERT_TRUE(t.metric_std.has_value());
    EXPECT_DOUBLE_EQ(*t.metric_std, std::sqrt(squares / 2));
    for (std::int64_t f = 0; f < 3; ++f) {
      const fs::path run = fs::path(result.dir) / t.run_dirs[static_cast<std::size_t>(f)];
      EXPECT_TRUE(run.filename().string().starts_with(fmt::format("trial-{:03d}-fold-{}-", t.trial, f)));
      const Config config = load_config(config_path(run.string()));
      EXPECT_EQ(config.get_int("data.folds"), 3);
      EXPECT_EQ(config.get_int("data.fold"), f);
    }
  }
  EXPECT_NE(read(fs::path(result.dir) / "trials.jsonl").find("\"metric_std\":"), std::string::npos);
  EXPECT_NE(out.str().find(" +- "), std::string::npos);
}

// Calls request_interrupt() at the `at`-th training batch counted over every trial, as a Ctrl-C would.
class InterruptAtBatch : public train::Callback {
 public:
  explicit InterruptAtBatch(int at) : at_(at) {}
  void on_batch_end(train::TrainContext&) override {
    if (++seen_ == at_) request_interrupt();
  }

 private:
  int at_, seen_ = 0;
};

std::vector<std::pair<std::int64_t, double>> metrics_of(const SearchResult& result) {
  std::vector<std::pair<std::int64_t, double>> out;
  for (const TrialRecord& t : result.trials) out.emplace_back(t.trial, t.metric);
  return out;
}

TEST(SearchRun, ResumeSkipsFinishedTrialsAndGivesTheUninterruptedTable) {
  Search s;
  std::ostringstream reference_out;
  const SearchResult reference = run_search(s.request(4), reference_out);
  ASSERT_EQ(reference.trials.size(), 4u);

  // Stopped by its trial count after 2 trials, then resumed with 4: only 2 more run.
  std::ostringstream out;
  const SearchResult first = run_search(s.request(2), out);
  EXPECT_EQ(first.trials_run, 2);
  SearchRequest resume{.trials = 4, .resume = first.dir, .quiet = true};
  std::ostringstream resumed_out;
  const SearchResult resumed = run_search(resume, resumed_out);
  EXPECT_EQ(resumed.trials_run, 2);
  EXPECT_EQ(metrics_of(resumed), metrics_of(reference));
  EXPECT_EQ(read(fs::path(resumed.dir) / "results.txt"), read(fs::path(reference.dir) / "results.txt"));
  EXPECT_EQ(lines_of(fs::path(resumed.dir) / "trials.jsonl").size(), 4u);
  // Resuming a finished search runs nothing.
  EXPECT_EQ(run_search(resume, resumed_out).trials_run, 0);

  // Interrupted in the middle of trial 2's first epoch (12 batches per trial): trials 0 and 1 are recorded,
  // trial 2 continues from its checkpoint, and the table is the uninterrupted one.
  SearchRequest interrupted_request = s.request(4);
  interrupted_request.extra_callbacks = {std::make_shared<InterruptAtBatch>(2 * 12 + 3)};
  std::ostringstream interrupted_out;
  const SearchResult interrupted = run_search(interrupted_request, interrupted_out);
  EXPECT_TRUE(interrupted.interrupted);
  EXPECT_EQ(interrupted.trials.size(), 2u);
  EXPECT_NE(interrupted_out.str().find("vigil search --resume " + interrupted.dir), std::string::npos);
  EXPECT_EQ(lines_of(fs::path(interrupted.dir) / "trials.jsonl").size(), 2u);
  const SearchResult continued = run_search({.resume = interrupted.dir, .quiet = true}, resumed_out);
  EXPECT_FALSE(continued.interrupted);
  EXPECT_EQ(continued.trials_run, 2);
  EXPECT_EQ(metrics_of(continued), metrics_of(reference));
  // Trial 2 was continued in its own run directory, not started again.
  std::int64_t trial2_runs = 0;
  for (const auto& entry : fs::directory_iterator(fs::path(continued.dir) / "trials"))
    trial2_runs += entry.is_directory() && entry.path().filename().string().starts_with("trial-002-") ? 1 : 0;
  EXPECT_EQ(trial2_runs, 1);
}

TEST(SearchRun, BadRequestsAreOneLineErrors) {
  Search s;
  const auto error = [](const SearchRequest& request) {
    std::ostringstream out;
    try {
      run_search(request, out);
    } catch (const UsageError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  SearchRequest grid = s.request(3);
  grid.method = "grid";
  EXPECT_NE(error(grid).find("--trials 3 is smaller than the grid of " + s.space + " (4 points)"), std::string::npos)
      << error(grid);
  SearchRequest folds = s.request(2);
  folds.folds = 1;
  EXPECT_NE(error(folds).find("--folds 1: k-fold needs at least 2 folds"), std::string::npos);
  SearchRequest no_validation = s.request(2);
  no_validation.overrides = {"data.validation_fraction=0"};
  EXPECT_NE(error(no_validation).find("--metric val_accuracy needs validation data"), std::string::npos)
      << error(no_validation);
  SearchRequest metric = s.request(1);
  metric.metric = "val_f1";
  EXPECT_NE(error(metric).find("--metric val_f1 is not among the epoch logs of"), std::string::npos) << error(metric);
  EXPECT_NE(error({.resume = s.dir.file("nowhere")}).find("is not a search directory"), std::string::npos);
  std::ostringstream out;
  const SearchResult two = run_search(s.request(2), out);
  EXPECT_NE(error({.trials = 1, .resume = two.dir}).find("can run more trials, not fewer"), std::string::npos);
  EXPECT_NE(error({.config = s.config, .resume = two.dir}).find("give no CONFIG.toml or --space with it"),
            std::string::npos);
  SearchRequest searched_folds = s.request(1);
  searched_folds.space = write(s.dir.file("folds.toml"), "[data]\nfold = [0, 1]\n");
  EXPECT_NE(error(searched_folds).find("the folds are set by --folds"), std::string::npos);
  // A combination the config's checks refuse is found before anything trains.
  SearchRequest nesterov = s.request(2);
  nesterov.space = write(s.dir.file("nesterov.toml"), "[optim]\nnesterov = [true]\n");
  EXPECT_NE(error(nesterov).find("Nesterov momentum is an sgd option"), std::string::npos) << error(nesterov);
}

// A learning rate that blows the weights up to NaN: the trial is recorded as diverged and ranks last; the search
// goes on (the run's TensorBoard logger skips the histograms of all-NaN weights instead of failing).
TEST(SearchRun, ADivergedTrialRanksLast) {
  Search s;
  SearchRequest request = s.request(0);
  request.method = "grid";
  request.metric = "val_loss";
  request.overrides = {"optim.name=sgd"};
  request.space = write(s.dir.file("diverge.toml"), "[optim]\nlr = [0.01, 1e6]\n");
  std::ostringstream out;
  const SearchResult result = run_search(request, out);
  EXPECT_EQ(result.mode, "min");
  ASSERT_EQ(result.trials.size(), 2u);
  EXPECT_EQ(result.trials[0].trial, 0);
  EXPECT_TRUE(std::isfinite(result.trials[0].metric));
  EXPECT_EQ(result.trials[1].trial, 1);
  EXPECT_FALSE(std::isfinite(result.trials[1].metric));
  EXPECT_EQ(result.trials[1].error, "");
  const std::vector<std::string> jsonl = lines_of(fs::path(result.dir) / "trials.jsonl");
  EXPECT_NE(jsonl[1].find("\"metric\":null"), std::string::npos) << jsonl[1];
  EXPECT_NE(jsonl[1].find("\"status\":\"diverged\""), std::string::npos) << jsonl[1];
  EXPECT_NE(out.str().find("diverged"), std::string::npos);
}

// data.folds / data.fold through the config: each example validates in exactly one fold.
TEST(SearchRun, FoldKeysAreCheckedAgainstEachOther) {
  const auto error = [](const std::vector<std::string>& overrides) {
    try {
      parse_config("[data]\ndataset = \"csv\"\npath = \"x.csv\"\n", "cfg.toml", overrides);
    } catch (const UsageError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(error({"data.folds=1"}).find("k-fold needs at least 2 folds"), std::string::npos);
  EXPECT_NE(error({"data.folds=3", "data.fold=3"}).find("must be < data.folds (3), got 3"), std::string::npos);
  EXPECT_NE(error({"data.fold=1"}).find("must be < data.folds (0), got 1"), std::string::npos);
  EXPECT_EQ(error({"data.folds=3", "data.fold=2"}), "");
}

}  // namespace
}  // namespace vigil::cli
