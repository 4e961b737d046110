// Post-run analysis of train/validation curves: each problem raised, and the look-alikes of healthy runs left alone.
#include "vigil/doctor/analysis.hpp"

#include <gtest/gtest.h>

namespace vigil::doctor {
namespace {

Task classes(std::int64_t n) {
  Task t;
  t.classification = true;
  t.num_classes = n;
  return t;
}

// A History from per-key series (all of one length).
train::History history(const std::map<std::string, std::vector<double>>& series) {
  train::History h;
  const std::size_t n = series.begin()->second.size();
  for (std::size_t e = 0; e < n; ++e) {
    train::Logs logs{{"epoch", static_cast<double>(e)}};
    for (const auto& [key, values] : series) logs[key] = values[e];
    h.epochs.push_back(logs);
  }
  return h;
}

Report analyze(const train::History& h, const Task& task = classes(10)) {
  Report report;
  analyze_history(h, task, Options{}, report);
  return report;
}

std::string text(const Report& r) { return r.text(); }

TEST(Analysis, HealthyRunWithValidationSlightlyAboveTrainingRaisesNothing) {
  const Report r = analyze(history({{"loss", {1.2, 0.7, 0.5, 0.42, 0.38, 0.35}},
                                    {"val_loss", {1.1, 0.75, 0.56, 0.48, 0.45, 0.44}},
                                    {"accuracy", {0.6, 0.75, 0.82, 0.85, 0.87, 0.88}},
                                    {"val_accuracy", {0.62, 0.74, 0.8, 0.83, 0.84, 0.85}}}));
  EXPECT_TRUE(r.findings().empty()) << text(r);
}

TEST(Analysis, OverfittingWhenValidationLossTurnsUpWhileTrainingFalls) {
  const Report r = analyze(history({{"loss", {1.0, 0.6, 0.4, 0.25, 0.15, 0.08, 0.04}},
                                    {"val_loss", {0.9, 0.6, 0.5, 0.52, 0.58, 0.66, 0.75}},
                                    {"accuracy", {0.7, 0.8, 0.88, 0.93, 0.96, 0.98, 0.99}},
                                    {"val_accuracy", {0.7, 0.8, 0.84, 0.84, 0.83, 0.83, 0.82}}}));
  ASSERT_TRUE(r.has("fit.overfitting")) << text(r);
  const Finding& f = r.findings().front();
  EXPECT_EQ(f.cause, Cause::capacity);
  EXPECT_NE(f.explanation.find("epoch 2"), std::string::npos) << f.explanation;
  EXPECT_NE(f.suggestion.find("early stopping"), std::string::npos);
  EXPECT_NE(f.suggestion.find("augment"), std::string::npos);
  EXPECT_FALSE(r.has("fit.underfitting"));
}

TEST(Analysis, EarlyStoppedRunIsNotOverfitting) {
  // Stopped with patience 3 after the validation minimum at epoch 5: it turned up by a few percent only.
  const Report r = analyze(history({{"loss", {1.0, 0.7, 0.55, 0.47, 0.42, 0.38, 0.35, 0.33, 0.31}},
                                    {"val_loss", {0.95, 0.72, 0.6, 0.53, 0.5, 0.48, 0.485, 0.49, 0.495}}}));
  EXPECT_TRUE(r.findings().empty()) << text(r);
}

TEST(Analysis, LabelSmoothedLossFloorIsNotUnderfitting) {
  // Cross-entropy with 0.1 smoothing over 10 classes cannot go below about 0.5.
  const Report r = analyze(history({{"loss", {1.4, 0.9, 0.7, 0.62, 0.58, 0.57}},
                                    {"val_loss", {1.3, 0.9, 0.72, 0.65, 0.62, 0.61}},
                                    {"accuracy", {0.7, 0.85, 0.9, 0.92, 0.93, 0.93}}}));
  EXPECT_TRUE(r.findings().empty()) << text(r);
}

TEST(Analysis, LossThatPlateausThenDropsIsFine) {
  const Report r = analyze(history({{"loss", {2.3, 2.29, 2.29, 2.28, 1.2, 0.6, 0.4}},
                                    {"val_loss", {2.3, 2.29, 2.29, 2.28, 1.25, 0.65, 0.45}}}));
  EXPECT_TRUE(r.findings().empty()) << text(r);
}

TEST(Analysis, UnderfittingWhenTrainingLossStaysNearChance) {
  const Report r = analyze(history({{"loss", {2.25, 2.1, 2.0, 1.95, 1.94, 1.94}},
                                    {"val_loss", {2.25, 2.1, 2.0, 1.96, 1.95, 1.95}},
                                    {"accuracy", {0.15, 0.2, 0.24, 0.26, 0.27, 0.27}}}));
  ASSERT_TRUE(r.has("fit.underfitting")) << text(r);
  const Finding& f = r.findings().front();
  EXPECT_NE(f.suggestion.find("capacity"), std::string::npos);
  EXPECT_NE(f.explanation.find("chance-level"), std::string::npos);
  EXPECT_FALSE(r.has("fit.overfitting"));
}

TEST(Analysis, UnderfittingThatIsStillImprovingSuggestsTrainingLonger) {
  const Report r = analyze(history({{"loss", {2.3, 2.0, 1.7, 1.4}}}));
  ASSERT_TRUE(r.has("fit.underfitting")) << text(r);
  EXPECT_NE(r.findings().front().suggestion.find("Train longer"), std::string::npos);
}

TEST(Analysis, RegressionIsNotJudgedForUnderfitting) {
  Task regression;
  const Report r = analyze(history({{"loss", {5.0, 4.9, 4.9}}, {"val_loss", {5.1, 5.0, 5.0}}}), regression);
  EXPECT_TRUE(r.findings().empty()) << text(r);
}

TEST(Analysis, ValidationAtChanceWhileTrainingLearns) {
  const Report r = analyze(history({{"loss", {1.5, 0.9, 0.5, 0.3}},
                                    {"val_loss", {2.4, 2.6, 2.9, 3.3}},
                                    {"accuracy", {0.5, 0.7, 0.85, 0.92}},
                                    {"val_accuracy", {0.1, 0.11, 0.09, 0.1}}}));
  ASSERT_TRUE(r.has("fit.val_at_chance")) << text(r);
  const auto ranked = r.ranked();
  EXPECT_EQ(ranked.front().check, "fit.val_at_chance");  // a data problem ranks first
  EXPECT_EQ(ranked.front().severity, Severity::error);
}

TEST(Analysis, ValidationAtChanceFromLossesAlone) {
  const Report r = analyze(history({{"loss", {1.5, 0.9, 0.5, 0.3}}, {"val_loss", {2.35, 2.5, 2.8, 3.1}}}));
  EXPECT_TRUE(r.has("fit.val_at_chance")) << text(r);
}

TEST(Analysis, EmptyOrPartialHistoryRaisesNothing) {
  EXPECT_TRUE(analyze(train::History{}).findings().empty());
  EXPECT_TRUE(analyze(history({{"accuracy", {0.5, 0.6}}})).findings().empty());
}

}  // namespace
}  // namespace vigil::doctor
