// Anomaly mode: the first op whose output (forward) or gradient (backward) is non-finite, and nothing otherwise.
#include <vigil/autograd/autograd.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace vigil {
namespace {

Tensor param(std::vector<float> values) {
  Tensor t = from_vector(values, Shape{static_cast<std::int64_t>(values.size())});
  t.set_requires_grad(true);
  return t;
}

TEST(AllFinite, SeesNanAndInfInAnyLayout) {
  EXPECT_TRUE(all_finite(from_vector(std::vector<float>{1, 2, 3, 4}, Shape{2, 2})));
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_FALSE(all_finite(from_vector(std::vector<float>{1, nan, 3, 4}, Shape{2, 2})));
  EXPECT_FALSE(all_finite(raw::transpose(from_vector(std::vector<float>{1, 2, -inf, 4}, Shape{2, 2}), 0, 1)));
  EXPECT_FALSE(all_finite(raw::to_dtype(from_vector(std::vector<float>{inf}, Shape{1}), DType::Float64)));
  EXPECT_TRUE(all_finite(from_vector_i64(std::vector<std::int64_t>{1, 2}, Shape{2})));
}

TEST(AnomalyGuard, OffByDefaultAndScoped) {
  EXPECT_FALSE(AnomalyGuard::is_enabled());
  {
    AnomalyGuard guard;
    EXPECT_TRUE(AnomalyGuard::is_enabled());
  }
  EXPECT_FALSE(AnomalyGuard::is_enabled());
}

TEST(AnomalyGuard, NamesTheForwardOpThatMadeTheFirstNan) {
  const Tensor x = param({1.0f, -2.0f, 3.0f});
  AnomalyGuard guard;
  const Tensor y = x * 2.0;         // op 1: finite
  const Tensor z = log(y);          // op 2: log(-4) = NaN, made here
  const Tensor loss = sum(z * 3.0); // ops 3, 4: pass the NaN on
  backward(loss);
  ASSERT_TRUE(guard.first().has_value());
  EXPECT_EQ(guard.first()->phase, Anomaly::Phase::forward);
  EXPECT_EQ(guard.first()->op, "log");
  EXPECT_EQ(guard.first()->op_index, 2u);
  EXPECT_EQ(guard.first()->input, -1);  // its input was finite: log made the NaN
  EXPECT_EQ(guard.ops_recorded(), 4u);
}

TEST(AnomalyGuard, DivisionByZeroIsAnInfFromDiv) {
  const Tensor x = param({1.0f, 2.0f});
  const Tensor d = param({0.0f, 1.0f});
  AnomalyGuard guard;
  backward(sum(x / d));
  ASSERT_TRUE(guard.first().has_value());
  EXPECT_EQ(guard.first()->op, "div");
  EXPECT_EQ(guard.first()->phase, Anomaly::Phase::forward);
}

TEST(AnomalyGuard, ReportsAnInputThatWasAlreadyNonFinite) {
  const Tensor x = param({1.0f, std::numeric_limits<float>::quiet_NaN()});
  AnomalyGuard guard;
  const Tensor y = x * 2.0;
  ASSERT_TRUE(guard.first().has_value());
  EXPECT_EQ(guard.first()->op, "mul");
  EXPECT_EQ(guard.first()->input, 0);  // mul only passed on the NaN of its input
}

TEST(AnomalyGuard, NamesTheBackwardOpWhoseGradientWentNonFinite) {
  // sqrt(0) = 0 is finite, but d sqrt/dx = 1 / (2 sqrt x) is Inf at 0, and Inf * 0 gives NaN further down.
  const Tensor x = param({0.0f, 4.0f});
  AnomalyGuard guard;
  const Tensor h = x * 1.0;    // op 1
  const Tensor s = sqrt(h);    // op 2
  const Tensor loss = sum(s);  // op 3
  EXPECT_FALSE(guard.first().has_value());  // the forward is finite
  backward(loss);
  ASSERT_TRUE(guard.first().has_value());
  EXPECT_EQ(guard.first()->phase, Anomaly::Phase::backward);
  EXPECT_EQ(guard.first()->op, "sqrt");
  EXPECT_EQ(guard.first()->op_index, 2u);
  EXPECT_EQ(guard.first()->input, 0);
  EXPECT_TRUE(guard.first()->grad_output_finite);
  EXPECT_FALSE(all_finite(x.grad()));
}

TEST(AnomalyGuard, HealthyStepRecordsNothing) {
  const Tensor w = param({0.5f, -0.25f, 2.0f});
  AnomalyGuard guard;
  backward(sum(exp(w) * w + sqrt(w * w + 1.0)));
  EXPECT_FALSE(guard.first().has_value());
  EXPECT_GT(guard.ops_recorded(), 4u);
}

TEST(AnomalyGuard, WithoutAGuardNothingIsChecked) {
  const Tensor x = param({-1.0f});
  const Tensor y = log(x);  // NaN, unnoticed: the normal path pays for no checks
  EXPECT_FALSE(all_finite(y));
  AnomalyGuard guard;
  EXPECT_FALSE(guard.first().has_value());
  EXPECT_EQ(guard.ops_recorded(), 0u);
}

TEST(AnomalyGuard, NestedGuardsKeepSeparateRecords) {
  const Tensor x = param({-1.0f});
  AnomalyGuard outer;
  {
    AnomalyGuard inner;
    const Tensor y = log(x);
    ASSERT_TRUE(inner.first().has_value());
  }
  EXPECT_FALSE(outer.first().has_value());
  EXPECT_TRUE(AnomalyGuard::is_enabled());
  const Tensor z = sqrt(x);
  ASSERT_TRUE(outer.first().has_value());
  EXPECT_EQ(outer.first()->op, "sqrt");
}

}  // namespace
}  // namespace vigil
