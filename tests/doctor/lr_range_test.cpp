// The learning-rate range test: the sweep, the smoothing, early stopping at divergence, the suggestion, and that
// the setup is left as it was.
#include "vigil/doctor/lr_range.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "probe_rig.hpp"

namespace vigil::doctor {
namespace {

using testing::make_rig;
using testing::mlp;

TEST(LrRange, SweepsExponentiallyAndSmoothsWithBiasCorrection) {
  auto rig = make_rig(mlp(), 1e-3);
  const LrRangeResult r = lr_range_test(rig.setup(), {.min_lr = 1e-6, .max_lr = 1e-2, .steps = 20});
  ASSERT_EQ(r.lrs.size(), 20u);  // 1e-2 is far from divergence: every step runs
  ASSERT_EQ(r.losses.size(), r.lrs.size());
  ASSERT_EQ(r.smoothed.size(), r.lrs.size());
  EXPECT_DOUBLE_EQ(r.lrs.front(), 1e-6);
  EXPECT_NEAR(r.lrs.back(), 1e-2, 1e-12);
  for (std::size_t k = 1; k < r.lrs.size(); ++k) EXPECT_NEAR(r.lrs[k] / r.lrs[k - 1], std::pow(1e4, 1.0 / 19), 1e-9);
  EXPECT_DOUBLE_EQ(r.smoothed[0], r.losses[0]);  // bias correction: the first average is the first loss
  const double a1 = 0.98 * 0.02 * r.losses[0] + 0.02 * r.losses[1];
  EXPECT_NEAR(r.smoothed[1], a1 / (1 - 0.98 * 0.98), 1e-9);
}

TEST(LrRange, StopsAtDivergenceAndSuggestsATenthOfTheMinimum) {
  auto rig = make_rig(mlp(1, 1), 1e-3, true, true);  // plain SGD on a regression diverges well below lr 10
  const LrRangeResult r = lr_range_test(rig.setup(), {.steps = 100});
  EXPECT_LT(r.lrs.size(), 100u);
  const bool blew_up = !std::isfinite(r.smoothed.back()) || r.smoothed.back() > 4 * *std::min_element(r.smoothed.begin(), r.smoothed.end() - 1);
  EXPECT_TRUE(blew_up);
  std::size_t at = 0;
  for (std::size_t k = 0; k < r.smoothed.size(); ++k) {
    if (std::isfinite(r.smoothed[k]) && r.smoothed[k] < r.smoothed[at]) at = k;
  }
  EXPECT_DOUBLE_EQ(r.suggested_lr, r.lrs[at] / 10);
  EXPECT_GT(r.suggested_lr, 1e-5);
  EXPECT_LT(r.suggested_lr, 10.0);
  EXPECT_NE(r.reason.find("minimum"), std::string::npos) << r.reason;
}

TEST(LrRange, LeavesWeightsOptimiserAndRateUnchanged) {
  auto rig = make_rig(mlp(), 3e-3);
  std::vector<Tensor> before;
  for (auto& [path, p] : rig.model->named_parameters()) before.push_back(clone(p));
  lr_range_test(rig.setup(), {.steps = 30});
  std::size_t k = 0;
  for (auto& [path, p] : rig.model->named_parameters()) EXPECT_TRUE(allclose(p, before[k++], 0.0, 0.0)) << path;
  EXPECT_DOUBLE_EQ(rig.optimizer->lr(), 3e-3);
  EXPECT_EQ(rig.optimizer->state_dict().params.begin()->second.step, 0);
  EXPECT_TRUE(rig.model->training());
}

TEST(LrRange, NoSuggestionWhenNothingTrains) {
  // The optimiser holds another model's parameters: the loss of this one cannot move.
  auto rig = make_rig(mlp(), 1e-3);
  auto other = make_rig(mlp(2), 1e-3);
  const doctor::Setup setup{*rig.model, rig.loss, *other.optimizer, *rig.loader};
  const LrRangeResult r = lr_range_test(setup, {.steps = 10});
  EXPECT_EQ(r.suggested_lr, 0.0);
  EXPECT_NE(r.reason.find("never fell"), std::string::npos) << r.reason;
}

TEST(LrRange, RejectsBadOptions) {
  auto rig = make_rig(mlp(), 1e-3);
  EXPECT_THROW(lr_range_test(rig.setup(), {.min_lr = 1, .max_lr = 0.1}), Error);
  EXPECT_THROW(lr_range_test(rig.setup(), {.min_lr = 0}), Error);
  EXPECT_THROW(lr_range_test(rig.setup(), {.steps = 1}), Error);
  EXPECT_THROW(lr_range_test(rig.setup(), {.divergence_factor = 1}), Error);
}

}  // namespace
}  // namespace vigil::doctor
