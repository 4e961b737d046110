// Learning-rate schedules against torch.optim.lr_scheduler (tests/golden/schedules.json), resumability (a rate
// depends on the step alone; a plateau state restores exactly) and argument checks.
#include <vigil/optim/schedule.hpp>
#include <vigil/tensor/error.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace vigil::optim {
namespace {

using nlohmann::json;

json load_schedules_golden() {
  const std::string path = std::string(VIGIL_GOLDEN_DIR) + "/schedules.json";
  std::ifstream in(path);
  if (!in) throw Error("golden file not found: " + path + " (run tools/golden/schedules.py)");
  return json::parse(in);
}

const json& golden() {
  static const json file = load_schedules_golden();
  return file;
}

std::vector<const json*> cases_of(const std::string& kind) {
  std::vector<const json*> out;
  for (const json& c : golden().at("cases")) {
    if (kind.empty() ? c.at("schedule") != "ReduceOnPlateau" : c.at("schedule") == kind) out.push_back(&c);
  }
  return out;
}

std::shared_ptr<const Schedule> build(const std::string& kind, const json& p) {
  if (kind == "ConstantLR") {
    return std::make_shared<ConstantLR>(p.at("base_lr"), p.at("factor"), p.at("total_iters"));
  }
  if (kind == "StepLR") return std::make_shared<StepLR>(p.at("base_lr"), p.at("step_size"), p.at("gamma"));
  if (kind == "MultiStepLR") {
    return std::make_shared<MultiStepLR>(p.at("base_lr"), p.at("milestones").get<std::vector<std::int64_t>>(),
                                         p.at("gamma"));
  }
  if (kind == "ExponentialLR") return std::make_shared<ExponentialLR>(p.at("base_lr"), p.at("gamma"));
  if (kind == "CosineAnnealingLR") {
    return std::make_shared<CosineAnnealingLR>(p.at("base_lr"), p.at("T_max"), p.at("eta_min"));
  }
  if (kind == "CosineAnnealingWarmRestarts") {
    return std::make_shared<CosineAnnealingWarmRestarts>(p.at("base_lr"), p.at("T_0"), p.at("T_mult"),
                                                         p.at("eta_min"));
  }
  if (kind == "LinearWarmup") {
    return std::make_shared<LinearWarmup>(p.at("base_lr"), p.at("start_factor"), p.at("end_factor"),
                                          p.at("total_iters"));
  }
  if (kind == "OneCycleLR") {
    OneCycleOptions options;
    options.pct_start = p.value("pct_start", options.pct_start);
    options.anneal = p.value("anneal_strategy", std::string("cos")) == "linear" ? Anneal::Linear : Anneal::Cos;
    options.div_factor = p.value("div_factor", options.div_factor);
    options.final_div_factor = p.value("final_div_factor", options.final_div_factor);
    options.three_phase = p.value("three_phase", options.three_phase);
    return std::make_shared<OneCycleLR>(p.at("max_lr"), p.at("total_steps"), options);
  }
  if (kind == "SequentialSchedule") {
    const double base_lr = p.at("base_lr");
    const json& w = p.at("warmup");
    const json& c = p.at("cosine");
    return std::make_shared<SequentialSchedule>(
        std::vector<std::shared_ptr<const Schedule>>{
            std::make_shared<LinearWarmup>(base_lr, w.at("start_factor"), w.at("end_factor"), w.at("total_iters")),
            std::make_shared<CosineAnnealingLR>(base_lr, c.at("T_max"), c.at("eta_min"))},
        p.at("milestones").get<std::vector<std::int64_t>>());
  }
  throw Error("unknown golden schedule " + kind);
}

std::shared_ptr<const Schedule> build(const json& c) { return build(c.at("schedule"), c.at("params")); }

ReduceOnPlateau build_plateau(const json& p) {
  PlateauOptions options;
  options.mode = p.at("mode") == "max" ? PlateauMode::Max : PlateauMode::Min;
  options.factor = p.value("factor", options.factor);
  options.patience = p.value("patience", options.patience);
  options.threshold = p.value("threshold", options.threshold);
  options.threshold_mode = p.value("threshold_mode", std::string("rel")) == "abs" ? ThresholdMode::Abs
                                                                                  : ThresholdMode::Rel;
  options.cooldown = p.value("cooldown", options.cooldown);
  options.min_lr = p.value("min_lr", options.min_lr);
  options.eps = p.value("eps", options.eps);
  return ReduceOnPlateau(p.at("base_lr"), options);
}

// Relative tolerance 1e-6; rates torch computes as exactly 0 (cosine at t_max with eta_min = 0) get 1e-15.
::testing::AssertionResult rate_close(double actual, double expected, const std::string& where) {
  const double tolerance = std::max(1e-6 * std::abs(expected), 1e-15);
  if (std::abs(actual - expected) <= tolerance) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << where << ": vigil " << actual << " vs torch " << expected
                                       << " (relative difference " << std::abs(actual - expected) / std::abs(expected)
                                       << ")";
}

TEST(ScheduleGolden, CoversEveryScheduleAndParameterisation) {
  std::map<std::string, int> per_kind;
  for (const json& c : golden().at("cases")) ++per_kind[c.at("schedule").get<std::string>()];
  const std::vector<std::string> kinds = {"ConstantLR",       "StepLR",      "MultiStepLR",        "ExponentialLR",
                                          "CosineAnnealingLR", "CosineAnnealingWarmRestarts",       "LinearWarmup",
                                          "OneCycleLR",        "SequentialSchedule", "ReduceOnPlateau"};
  for (const auto& kind : kinds) EXPECT_GE(per_kind[kind], 2) << kind;
  EXPECT_EQ(per_kind.size(), kinds.size());
}

TEST(ScheduleGolden, EveryRateSequenceMatchesPyTorch) {
  const auto cases = cases_of("");
  ASSERT_GE(cases.size(), 25u);
  for (const json* c : cases) {
    const auto schedule = build(*c);
    const auto& rates = c->at("rates");
    ASSERT_GE(rates.size(), 60u) << c->at("name");
    for (std::size_t k = 0; k < rates.size(); ++k) {
      const std::string where = c->at("name").get<std::string>() + " step " + std::to_string(k);
      EXPECT_TRUE(rate_close(schedule->rate(static_cast<std::int64_t>(k)), rates[k].get<double>(), where));
    }
  }
}

TEST(ScheduleGolden, ReduceOnPlateauMatchesPyTorch) {
  const auto cases = cases_of("ReduceOnPlateau");
  ASSERT_GE(cases.size(), 5u);
  for (const json* c : cases) {
    ReduceOnPlateau plateau = build_plateau(c->at("params"));
    const auto& metrics = c->at("metrics");
    const auto& rates = c->at("rates");
    ASSERT_EQ(metrics.size(), rates.size());
    for (std::size_t k = 0; k < metrics.size(); ++k) {
      const std::string where = c->at("name").get<std::string>() + " metric " + std::to_string(k);
      const double rate = plateau.step(metrics[k].get<double>());
      EXPECT_TRUE(rate_close(rate, rates[k].get<double>(), where));
      EXPECT_EQ(rate, plateau.rate()) << where;
    }
    EXPECT_EQ(plateau.state().steps, static_cast<std::int64_t>(metrics.size()));
    // Each golden sequence exercises at least two reductions, so patience and cooldown are both tested.
    std::set<double> distinct(rates.begin(), rates.end());
    EXPECT_GE(distinct.size(), 3u) << c->at("name");
  }
}

TEST(ScheduleResume, RateDependsOnTheStepAloneNotTheOrderOfCalls) {
  std::mt19937 rng(7);
  for (const json* c : cases_of("")) {
    const auto schedule = build(*c);
    const auto n = static_cast<std::int64_t>(c->at("rates").size());
    std::vector<double> in_order;
    for (std::int64_t k = 0; k < n; ++k) in_order.push_back(schedule->rate(k));

    std::vector<std::int64_t> shuffled(static_cast<std::size_t>(n));
    std::iota(shuffled.begin(), shuffled.end(), 0);
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    for (std::int64_t k : shuffled) {
      EXPECT_EQ(schedule->rate(k), in_order[static_cast<std::size_t>(k)]) << c->at("name");
    }

    // A fresh schedule (a resumed run) asked only for the later steps gives the same rates.
    const auto resumed = build(*c);
    for (std::int64_t k = n - 1; k >= n / 2; --k) {
      EXPECT_EQ(resumed->rate(k), in_order[static_cast<std::size_t>(k)]) << c->at("name");
    }
  }
}

TEST(ScheduleResume, PlateauStateRestoresExactly) {
  for (const json* c : cases_of("ReduceOnPlateau")) {
    const auto& metrics = c->at("metrics");
    ReduceOnPlateau uninterrupted = build_plateau(c->at("params"));
    ReduceOnPlateau first_half = build_plateau(c->at("params"));
    const std::size_t split = metrics.size() / 2 - 3;  // mid-plateau in every golden sequence
    std::vector<double> expected;
    for (const auto& m : metrics) expected.push_back(uninterrupted.step(m.get<double>()));
    for (std::size_t k = 0; k < split; ++k) first_half.step(metrics[k].get<double>());

    const ReduceOnPlateau::State saved = first_half.state();
    ReduceOnPlateau resumed = build_plateau(c->at("params"));
    resumed.set_state(saved);
    EXPECT_EQ(resumed.rate(), expected[split - 1]) << c->at("name");
    for (std::size_t k = split; k < metrics.size(); ++k) {
      EXPECT_EQ(resumed.step(metrics[k].get<double>()), expected[k]) << c->at("name") << " metric " << k;
    }
    EXPECT_EQ(resumed.state().best, uninterrupted.state().best);
    EXPECT_EQ(resumed.state().num_bad_epochs, uninterrupted.state().num_bad_epochs);
    EXPECT_EQ(resumed.state().cooldown_counter, uninterrupted.state().cooldown_counter);
    EXPECT_EQ(resumed.state().steps, uninterrupted.state().steps);
  }
}

TEST(ScheduleBehaviour, ComposesWarmupThenCosine) {
  const auto warmup = std::make_shared<LinearWarmup>(0.1, 0.1, 1.0, 10);
  const auto cosine = std::make_shared<CosineAnnealingLR>(0.1, 90, 0.0);
  const SequentialSchedule schedule({warmup, cosine}, {10});
  EXPECT_EQ(schedule.base_lr(), 0.1);
  for (std::int64_t k = 0; k < 10; ++k) EXPECT_EQ(schedule.rate(k), warmup->rate(k));
  for (std::int64_t k = 10; k < 200; ++k) EXPECT_EQ(schedule.rate(k), cosine->rate(k - 10));
  EXPECT_DOUBLE_EQ(schedule.rate(10), 0.1);
  EXPECT_NEAR(schedule.rate(100), 0.0, 1e-15);
}

TEST(ScheduleBehaviour, WarmRestartsFindTheirCycleForHugeSteps) {
  // Cycles of 1, 2, 4, ...: step 2^k - 1 is a restart; the step before it is the last of its cycle.
  const CosineAnnealingWarmRestarts doubling(1.0, 1, 2, 0.0);
  for (int k = 2; k < 62; ++k) {
    const std::int64_t restart = (std::int64_t{1} << k) - 1;
    EXPECT_EQ(doubling.rate(restart), 1.0) << k;
    EXPECT_LT(doubling.rate(restart - 1), 1.0) << k;
  }
  const CosineAnnealingWarmRestarts steep(1.0, 3, 1000, 0.0);
  const double last = steep.rate(std::numeric_limits<std::int64_t>::max());
  EXPECT_TRUE(std::isfinite(last));
  EXPECT_GE(last, 0.0);
  EXPECT_LE(last, 1.0);
}

TEST(ScheduleBehaviour, OneCycleIsDefinedUpToTotalSteps) {
  const OneCycleLR cycle(0.1, 50);
  EXPECT_DOUBLE_EQ(cycle.rate(0), 0.1 / 25.0);
  EXPECT_DOUBLE_EQ(cycle.rate(14), 0.1);  // the peak at pct_start * total_steps - 1
  EXPECT_DOUBLE_EQ(cycle.rate(49), 0.1 / 25.0 / 1e4);
  EXPECT_NO_THROW((void)cycle.rate(50));
  try {
    (void)cycle.rate(51);
    FAIL() << "expected vigil::Error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("OneCycleLR"), std::string::npos) << msg;
    EXPECT_NE(msg.find("total_steps=50"), std::string::npos) << msg;
  }
}

TEST(ScheduleBehaviour, PlateauIgnoresNaNAndStartsFromTheWorstBest) {
  ReduceOnPlateau plateau(1.0, {.factor = 0.5, .patience = 0});
  EXPECT_EQ(plateau.state().best, std::numeric_limits<double>::infinity());
  EXPECT_EQ(plateau.step(3.0), 1.0);
  EXPECT_EQ(plateau.step(std::nan("")), 0.5);  // NaN never improves, so it is a bad step
  EXPECT_EQ(plateau.state().best, 3.0);
  ReduceOnPlateau maximise(1.0, {.mode = PlateauMode::Max});
  EXPECT_EQ(maximise.state().best, -std::numeric_limits<double>::infinity());
}

// Expects fn to throw vigil::Error whose message contains every fragment.
void expect_error(const std::function<void()>& fn, const std::vector<std::string>& fragments) {
  try {
    fn();
    ADD_FAILURE() << "expected vigil::Error mentioning " << fragments.front();
  } catch (const Error& e) {
    const std::string msg = e.what();
    for (const auto& f : fragments) EXPECT_NE(msg.find(f), std::string::npos) << "'" << f << "' not in: " << msg;
  }
}

TEST(ScheduleErrors, BadArgumentsThrowWithClearMessages) {
  expect_error([] { StepLR(0.1, -3); }, {"StepLR", "step_size", "> 0", "-3"});
  expect_error([] { StepLR(0.1, 0); }, {"StepLR", "step_size"});
  expect_error([] { StepLR(0.1, 10, 0.0); }, {"StepLR", "gamma"});
  expect_error([] { ExponentialLR(0.1, -0.5); }, {"ExponentialLR", "gamma", "-0.5"});
  expect_error([] { MultiStepLR(0.1, {30, 10}); }, {"MultiStepLR", "non-decreasing", "[30, 10]"});
  expect_error([] { MultiStepLR(0.1, {-1, 10}); }, {"MultiStepLR", ">= 0"});
  expect_error([] { ConstantLR(0.1, 1.5, 4); }, {"ConstantLR", "factor", "1.5"});
  expect_error([] { ConstantLR(0.1, 0.5, -1); }, {"ConstantLR", "total_iters"});
  expect_error([] { CosineAnnealingLR(0.1, 0); }, {"CosineAnnealingLR", "t_max", "> 0", "got 0"});
  expect_error([] { CosineAnnealingLR(0.1, -10); }, {"CosineAnnealingLR", "t_max"});
  expect_error([] { CosineAnnealingLR(0.1, 10, -1e-3); }, {"CosineAnnealingLR", "eta_min"});
  expect_error([] { CosineAnnealingWarmRestarts(0.1, 0); }, {"CosineAnnealingWarmRestarts", "t_0"});
  expect_error([] { CosineAnnealingWarmRestarts(0.1, 10, 0); }, {"CosineAnnealingWarmRestarts", "t_mult", ">= 1"});
  expect_error([] { LinearWarmup(0.1, 0.0, 1.0, 5); }, {"LinearWarmup", "start_factor", "(0, 1]"});
  expect_error([] { LinearWarmup(0.1, 0.5, 1.2, 5); }, {"LinearWarmup", "end_factor"});
  expect_error([] { LinearWarmup(0.1, 0.5, 1.0, 0); }, {"LinearWarmup", "total_iters"});
  expect_error([] { OneCycleLR(0.0, 100); }, {"OneCycleLR", "max_lr"});
  expect_error([] { OneCycleLR(0.1, 0); }, {"OneCycleLR", "total_steps"});
  expect_error([] { OneCycleLR(0.1, 100, {.pct_start = 1.5}); }, {"OneCycleLR", "pct_start", "1.5"});
  expect_error([] { OneCycleLR(0.1, 100, {.div_factor = 0.0}); }, {"OneCycleLR", "div_factor"});
  expect_error([] { OneCycleLR(0.1, 100, {.final_div_factor = -1.0}); }, {"OneCycleLR", "final_div_factor"});
  expect_error([] { OneCycleLR(0.1, 10, {.pct_start = 0.1}); }, {"OneCycleLR", "phase 1", "total_steps=10"});
  expect_error([] { OneCycleLR(0.1, 10, {.pct_start = 1.0}); }, {"OneCycleLR", "phase 2"});
  expect_error([] { OneCycleLR(0.1, 10, {.pct_start = 0.6, .three_phase = true}); }, {"OneCycleLR", "phase 3"});
  expect_error([] { ExponentialLR(-0.1, 0.9); }, {"ExponentialLR", "base_lr", "-0.1"});
  expect_error([] { ExponentialLR(std::numeric_limits<double>::infinity(), 0.9); }, {"ExponentialLR", "base_lr"});
  expect_error([] { (void)StepLR(0.1, 10).rate(-1); }, {"StepLR", "step", ">= 0", "-1"});
}

TEST(ScheduleErrors, BadCompositionThrows) {
  const auto a = std::make_shared<LinearWarmup>(0.1);
  const auto b = std::make_shared<CosineAnnealingLR>(0.1, 10);
  expect_error([] { SequentialSchedule({}, {}); }, {"SequentialSchedule", "at least one"});
  expect_error([&] { SequentialSchedule({a, b}, {}); }, {"SequentialSchedule", "2 schedules need 1 milestones"});
  expect_error([&] { SequentialSchedule({a, nullptr}, {5}); }, {"SequentialSchedule", "schedule 1 is null"});
  expect_error([&] { SequentialSchedule({a, b, a}, {8, 8}); }, {"SequentialSchedule", "strictly increasing", "[8, 8]"});
  expect_error([&] { SequentialSchedule({a, b}, {0}); }, {"SequentialSchedule", "> 0"});
}

TEST(ScheduleErrors, BadPlateauArgumentsAndStatesThrow) {
  expect_error([] { ReduceOnPlateau(0.1, {.factor = 1.0}); }, {"ReduceOnPlateau", "factor", "(0, 1)", "got 1"});
  expect_error([] { ReduceOnPlateau(0.1, {.factor = 2.0}); }, {"ReduceOnPlateau", "factor"});
  expect_error([] { ReduceOnPlateau(0.1, {.factor = 0.0}); }, {"ReduceOnPlateau", "factor"});
  expect_error([] { ReduceOnPlateau(0.1, {.patience = -1}); }, {"ReduceOnPlateau", "patience"});
  expect_error([] { ReduceOnPlateau(0.1, {.threshold = -1e-4}); }, {"ReduceOnPlateau", "threshold"});
  expect_error([] { ReduceOnPlateau(0.1, {.cooldown = -2}); }, {"ReduceOnPlateau", "cooldown"});
  expect_error([] { ReduceOnPlateau(0.1, {.min_lr = -1.0}); }, {"ReduceOnPlateau", "min_lr"});
  expect_error([] { ReduceOnPlateau(0.1, {.eps = -1.0}); }, {"ReduceOnPlateau", "eps"});
  expect_error([] { ReduceOnPlateau(-0.1); }, {"ReduceOnPlateau", "base_lr"});
  ReduceOnPlateau plateau(0.1);
  expect_error([&] { plateau.set_state({.rate = -1.0}); }, {"ReduceOnPlateau", "rate"});
  expect_error([&] { plateau.set_state({.rate = 0.1, .best = std::nan("")}); }, {"ReduceOnPlateau", "NaN"});
  expect_error([&] { plateau.set_state({.rate = 0.1, .best = 1.0, .num_bad_epochs = -1}); },
               {"ReduceOnPlateau", "num_bad_epochs=-1"});
}

}  // namespace
}  // namespace vigil::optim
