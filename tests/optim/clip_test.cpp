// Gradient clipping by global norm and by value (the PyTorch comparison is in the golden trajectories:
// sgd_clip_norm, sgd_clip_norm1, adam_clip_norm_inf, adam_clip_value, with clip_grad_norm's returned norms).
#include "support/golden.hpp"

#include <vigil/optim/clip.hpp>

#include <cmath>

namespace vigil::testing {
namespace {

using optim::NamedParameter;

// Parameters a [2, 2] and b [3] with the given gradients, and c [2] with none.
struct ThreeParams {
  Tensor a = zeros({2, 2}).set_requires_grad(true);
  Tensor b = zeros({3}).set_requires_grad(true);
  Tensor c = zeros({2}).set_requires_grad(true);
  ThreeParams(std::vector<float> ga, std::vector<float> gb) {
    a.set_grad(from_vector(ga, {2, 2}));
    b.set_grad(from_vector(gb, {3}));
  }
  std::vector<NamedParameter> params() const { return {{"a", a}, {"b", b}, {"c", c}}; }
};

TEST(ClipGradNorm, ScalesAllGradientsTogetherToMaxNorm) {
  ThreeParams p({3, 0, 0, 0}, {0, 4, 0});  // global 2-norm 5
  const double total = optim::clip_grad_norm(p.params(), 1.0);
  EXPECT_DOUBLE_EQ(total, 5.0);
  const float coef = 1.0f / (5.0f + 1e-6f);
  EXPECT_EQ(p.a.grad().to_vector(), (std::vector<float>{3 * coef, 0, 0, 0}));
  EXPECT_EQ(p.b.grad().to_vector(), (std::vector<float>{0, 4 * coef, 0}));
  EXPECT_FALSE(p.c.grad().defined());  // no gradient: skipped, not created
}

TEST(ClipGradNorm, LeavesGradientsBelowMaxNormUntouched) {
  ThreeParams p({0.1f, -0.2f, 0.3f, 0}, {0.05f, 0, 0});
  const std::vector<float> before = p.a.grad().to_vector();
  const double total = optim::clip_grad_norm(p.params(), 10.0);
  EXPECT_NEAR(total, std::sqrt(0.01 + 0.04 + 0.09 + 0.0025), 1e-7);
  EXPECT_EQ(p.a.grad().to_vector(), before);
}

TEST(ClipGradNorm, InfinityAndOneNorms) {
  ThreeParams inf({1, -7, 2, 0}, {3, 0, -1});
  EXPECT_DOUBLE_EQ(optim::clip_grad_norm(inf.params(), 3.5, optim::kInfNorm), 7.0);
  EXPECT_NEAR(inf.a.grad().to_vector()[1], -3.5, 1e-5);
  ThreeParams one({1, -7, 2, 0}, {3, 0, -1});
  EXPECT_DOUBLE_EQ(optim::clip_grad_norm(one.params(), 7.0, 1.0), 14.0);
  EXPECT_NEAR(one.b.grad().to_vector()[0], 1.5, 1e-5);
  ThreeParams three({1, -7, 2, 0}, {3, 0, -1});
  EXPECT_NEAR(optim::clip_grad_norm(three.params(), 100.0, 3.0), std::cbrt(1 + 343 + 8 + 27 + 1), 1e-9);
}

TEST(ClipGradNorm, NoGradientsGiveZeroAndBadArgumentsThrow) {
  const Tensor w = zeros({3}).set_requires_grad(true);
  EXPECT_EQ(optim::clip_grad_norm(std::vector<Tensor>{w}, 1.0), 0.0);
  EXPECT_THROW(optim::clip_grad_norm(std::vector<Tensor>{w}, -1.0), Error);
  EXPECT_THROW(optim::clip_grad_norm(std::vector<Tensor>{w}, 1.0, 0.0), Error);
  EXPECT_THROW(optim::clip_grad_value(std::vector<Tensor>{w}, -0.5), Error);
}

TEST(ClipGradValue, ClampsEveryElement) {
  ThreeParams p({-3, 0.5f, 2, -0.1f}, {NAN, 1, -1});
  optim::clip_grad_value(p.params(), 1.0);
  EXPECT_EQ(p.a.grad().to_vector(), (std::vector<float>{-1, 0.5f, 1, -0.1f}));
  const auto b = p.b.grad().to_vector();
  EXPECT_TRUE(std::isnan(b[0]));  // NaN stays NaN, as torch.clamp
  EXPECT_EQ(b[1], 1.0f);
  EXPECT_EQ(b[2], -1.0f);
}

// A strided gradient (a transposed view) is clipped in its own storage.
TEST(ClipGrad, StridedGradientsAreClippedInPlace) {
  Tensor w = zeros({3, 2}).set_requires_grad(true);
  const Tensor storage = from_vector(std::vector<float>{5, -5, 0.5f, 1, 2, 3}, {2, 3});
  w.set_grad(raw::transpose(storage, 0, 1));
  optim::clip_grad_value(std::vector<Tensor>{w}, 1.0);
  EXPECT_EQ(storage.to_vector(), (std::vector<float>{1, -1, 0.5f, 1, 1, 1}));
  const double total = optim::clip_grad_norm(std::vector<Tensor>{w}, 0.5);
  EXPECT_NEAR(total, std::sqrt(5.25), 1e-6);
  EXPECT_NEAR(storage.to_vector()[2], 0.5 * 0.5 / std::sqrt(5.25), 1e-6);
}

}  // namespace
}  // namespace vigil::testing
