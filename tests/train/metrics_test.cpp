// Metrics against values worked out by hand (scikit-learn's definitions: zero_division=0, macro averages).
#include <vigil/train/metrics.hpp>

#include <vigil/tensor/error.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace vigil::train {
namespace {

Tensor labels(std::vector<std::int64_t> v) { return from_vector_i64(v, Shape{static_cast<std::int64_t>(v.size())}); }

// Scores [N, C] whose argmax is `predicted[i]` for row i.
Tensor scores_for(const std::vector<std::int64_t>& predicted, std::int64_t classes) {
  std::vector<float> values(predicted.size() * classes, 0.0f);
  for (std::size_t i = 0; i < predicted.size(); ++i) values[i * classes + predicted[i]] = 1.0f;
  return from_vector(values, Shape{static_cast<std::int64_t>(predicted.size()), classes});
}

TEST(ConfusionMatrix, CountsAndPerClassRatios) {
  // actual:    0 0 0 1 1 2
  // predicted: 0 1 0 1 2 2
  ConfusionMatrix m(3);
  m.update(scores_for({0, 1, 0, 1, 2, 2}, 3), labels({0, 0, 0, 1, 1, 2}));
  EXPECT_EQ(m.total(), 6);
  EXPECT_EQ(m.count(0, 0), 2);
  EXPECT_EQ(m.count(0, 1), 1);
  EXPECT_EQ(m.count(1, 2), 1);
  EXPECT_DOUBLE_EQ(m.accuracy(), 4.0 / 6.0);
  EXPECT_DOUBLE_EQ(m.precision(0), 1.0);
  EXPECT_DOUBLE_EQ(m.recall(0), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(m.precision(1), 0.5);
  EXPECT_DOUBLE_EQ(m.recall(1), 0.5);
  EXPECT_DOUBLE_EQ(m.precision(2), 0.5);
  EXPECT_DOUBLE_EQ(m.recall(2), 1.0);
  EXPECT_DOUBLE_EQ(m.f1(0), 0.8);
  EXPECT_DOUBLE_EQ(m.f1(2), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(m.macro_f1(), (0.8 + 0.5 + 2.0 / 3.0) / 3.0);
  EXPECT_DOUBLE_EQ(m.macro_precision(), (1.0 + 0.5 + 0.5) / 3.0);
}

TEST(ConfusionMatrix, ClassNeverPredictedCountsAsZero) {
  ConfusionMatrix m(3);
  m.update(std::vector<std::int64_t>{0, 0}, std::vector<std::int64_t>{0, 1});
  EXPECT_DOUBLE_EQ(m.precision(1), 0.0);
  EXPECT_DOUBLE_EQ(m.recall(2), 0.0);
  EXPECT_DOUBLE_EQ(m.f1(2), 0.0);
}

TEST(ConfusionMatrix, TableNamesClasses) {
  ConfusionMatrix m(2);
  m.update(std::vector<std::int64_t>{1, 1, 0}, std::vector<std::int64_t>{0, 1, 1});
  const std::vector<std::string> names{"cat", "dog"};
  const std::string table = m.str(names);
  EXPECT_NE(table.find("cat"), std::string::npos);
  EXPECT_NE(table.find("dog"), std::string::npos);
  EXPECT_EQ(table, "true\\pred    cat    dog\n      cat      0      1\n      dog      1      1\n");
}

TEST(Metric, AccuracyAccumulatesOverBatchesAndResets) {
  auto acc = accuracy();
  acc->update(scores_for({0, 1}, 3), labels({0, 2}));
  acc->update(scores_for({2, 2, 1}, 3), labels({2, 2, 1}));
  EXPECT_DOUBLE_EQ(acc->value(), 4.0 / 5.0);
  acc->reset();
  acc->update(scores_for({0}, 3), labels({1}));
  EXPECT_DOUBLE_EQ(acc->value(), 0.0);
}

TEST(Metric, AccuracyTakesSoftTargetsAndBinaryLogits) {
  auto acc = accuracy();
  const Tensor soft = from_vector(std::vector<float>{0.7f, 0.3f, 0.2f, 0.8f}, Shape{2, 2});
  acc->update(scores_for({0, 0}, 2), soft);
  EXPECT_DOUBLE_EQ(acc->value(), 0.5);
  auto binary = accuracy();
  binary->update(from_vector(std::vector<float>{2.0f, -1.0f, 0.5f}, Shape{3}),
                 from_vector(std::vector<float>{1.0f, 0.0f, 0.0f}, Shape{3}));
  EXPECT_DOUBLE_EQ(binary->value(), 2.0 / 3.0);
}

TEST(Metric, TopKCountsLabelsAmongTheKHighest) {
  // Row 0: label 2 scores second-highest; row 1: label 0 scores lowest; row 2: a tie, broken toward class 0.
  const Tensor s = from_vector(std::vector<float>{0.1f, 0.9f, 0.5f, 0.1f, 0.5f, 0.4f, 0.3f, 0.3f, 0.3f}, Shape{3, 3});
  auto top1 = top_k_accuracy(1), top2 = top_k_accuracy(2);
  top1->update(s, labels({2, 0, 0}));
  top2->update(s, labels({2, 0, 2}));
  EXPECT_DOUBLE_EQ(top1->value(), 1.0 / 3.0);  // only row 2 (tie -> class 0)
  EXPECT_DOUBLE_EQ(top2->value(), 1.0 / 3.0);  // row 0 only; row 2's class 2 ranks third in the tie
  EXPECT_EQ(top2->name(), "top2_accuracy");
}

TEST(Metric, RegressionMetrics) {
  const Tensor y = from_vector(std::vector<float>{1.0f, 2.0f, 4.0f, 3.0f}, Shape{4});
  const Tensor t = from_vector(std::vector<float>{1.0f, 3.0f, 2.0f, 3.0f}, Shape{4});
  auto mae = mean_absolute_error(), rmse = root_mean_squared_error(), r2 = r2_score();
  for (const auto& m : {mae, rmse, r2}) m->update(y, t);
  EXPECT_DOUBLE_EQ(mae->value(), 3.0 / 4.0);
  EXPECT_DOUBLE_EQ(rmse->value(), std::sqrt(5.0 / 4.0));
  // mean t = 2.25; SS_tot = 1.5625 + 0.5625 + 0.0625 + 0.5625 = 2.75; SS_res = 5.
  EXPECT_NEAR(r2->value(), 1.0 - 5.0 / 2.75, 1e-12);
  EXPECT_FALSE(mae->higher_is_better());
  EXPECT_TRUE(r2->higher_is_better());
}

TEST(Metric, MakeMetricByName) {
  EXPECT_EQ(make_metric("top5_accuracy")->name(), "top5_accuracy");
  EXPECT_EQ(make_metric("macro_f1")->name(), "macro_f1");
  EXPECT_THROW(make_metric("f2"), Error);
  EXPECT_THROW(make_metric("topx_accuracy"), Error);
}

TEST(MetricErrors, ShapesAndLabelsAreChecked) {
  auto acc = accuracy();
  try {
    acc->update(scores_for({0, 1}, 3), labels({0, 1, 2}));
    FAIL() << "expected ShapeError";
  } catch (const ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("[3]"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("[2, 3]"), std::string::npos) << e.what();
  }
  EXPECT_THROW(acc->update(scores_for({0}, 3), labels({3})), IndexError);
  auto mae = mean_absolute_error();
  EXPECT_THROW(mae->update(zeros(Shape{2}), zeros(Shape{3})), ShapeError);
}

}  // namespace
}  // namespace vigil::train
