// Dropout2d and DropBlock: whole channels / square blocks dropped, expectations kept, eval as the bitwise
// identity, reproducibility from a seed, gradients only through kept units, and the errors.
#include "support/golden.hpp"
#include "tensor/expect_error.hpp"

#include <vigil/nn/nn.hpp>

#include <cmath>
#include <vector>

namespace vigil::testing {
namespace {

TEST(Dropout2d, DropsWholeChannelsAndKeepsTheExpectation) {
  Generator gen(0);
  const double p = 0.3;
  nn::Dropout2d layer(p, gen);
  const std::int64_t N = 50, C = 40, S = 12;
  const auto y = layer(ones({N, C, 3, 4})).to_vector();
  std::int64_t dropped = 0;
  double total = 0;
  for (std::int64_t ch = 0; ch < N * C; ++ch) {
    const float first = y[static_cast<std::size_t>(ch * S)];
    ASSERT_TRUE(first == 0.0f || first == static_cast<float>(1.0 / (1.0 - p)));
    for (std::int64_t s = 0; s < S; ++s) ASSERT_EQ(y[static_cast<std::size_t>(ch * S + s)], first);  // whole channel
    dropped += first == 0.0f;
    total += first;
  }
  const double n = static_cast<double>(N * C);
  EXPECT_NEAR(static_cast<double>(dropped) / n, p, 5 * std::sqrt(p * (1 - p) / n));
  EXPECT_NEAR(total / n, 1.0, 5 * std::sqrt(p / (1 - p) / n));
}

TEST(Dropout2d, EvalIsTheIdentityAndASeedReproducesTheMask) {
  Generator a(1), b(1);
  nn::Dropout2d la(0.5, a), lb(0.5, b);
  Generator data(9);
  const Tensor x = randn({4, 6, 5, 5}, data);
  EXPECT_TRUE(tensors_close(la(x), lb(x), 0, 0));
  EXPECT_EQ(la.own_generators().size(), 1u);
  EXPECT_EQ(la.own_generators()[0].first, "generator");
  la.eval();
  const auto before = la.generator().state();
  EXPECT_EQ(la(x).impl_ptr(), x.impl_ptr());
  EXPECT_EQ(la.generator().state(), before);
  EXPECT_EQ(la.extra_repr(), "p=0.5");
  EXPECT_EQ(la.type_name(), "Dropout2d");
}

TEST(Dropout2d, GradientFlowsOnlyThroughKeptChannels) {
  Generator gen(2);
  const Tensor x = randn({3, 5, 2, 2}, gen).set_requires_grad(true);
  const Tensor y = nn::dropout2d(x, 0.5, gen);
  backward(sum(y));
  const auto yv = y.to_vector(), xv = x.to_vector(), gv = x.grad().to_vector();
  for (std::size_t i = 0; i < gv.size(); ++i) EXPECT_FLOAT_EQ(gv[i], yv[i] == 0.0f && xv[i] != 0.0f ? 0.0f : 2.0f);
}

TEST(DropBlock, DropsSquareBlocksAndKeepsTheSum) {
  Generator gen(3);
  const std::int64_t b = 3, H = 16, W = 16;
  nn::DropBlock layer(0.1, b, gen);
  const Tensor y = layer(ones({8, 4, H, W}));
  const auto v = y.to_vector();
  double total = 0;
  std::int64_t zeros_count = 0;
  for (float f : v) {
    total += f;
    zeros_count += f == 0.0f;
  }
  EXPECT_NEAR(total, static_cast<double>(v.size()), 1e-2 * static_cast<double>(v.size()) * 1e-3);
  const double fraction = static_cast<double>(zeros_count) / static_cast<double>(v.size());
  EXPECT_GT(fraction, 0.05);
  EXPECT_LT(fraction, 0.12);  // about p, less where blocks overlap
  // Every dropped pixel lies in some all-zero b x b block inside its plane.
  for (std::int64_t q = 0; q < 32; ++q) {
    const float* plane = v.data() + q * H * W;
    for (std::int64_t h = 0; h < H; ++h) {
      for (std::int64_t w = 0; w < W; ++w) {
        if (plane[h * W + w] != 0.0f) continue;
        bool covered = false;
        for (std::int64_t i = std::max<std::int64_t>(0, h - b + 1); i <= std::min(h, H - b) && !covered; ++i) {
          for (std::int64_t j = std::max<std::int64_t>(0, w - b + 1); j <= std::min(w, W - b) && !covered; ++j) {
            bool all = true;
            for (std::int64_t di = 0; di < b; ++di)
              for (std::int64_t dj = 0; dj < b; ++dj) all = all && plane[(i + di) * W + j + dj] == 0.0f;
            covered = all;
          }
        }
        ASSERT_TRUE(covered) << "plane " << q << " pixel (" << h << ", " << w << ")";
      }
    }
  }
}

TEST(DropBlock, EvalIsTheIdentityAndErrorsNameTheLayer) {
  Generator gen(4);
  nn::DropBlock layer(0.2, 2, gen);
  EXPECT_EQ(layer.extra_repr(), "p=0.2, block_size=2");
  layer.eval();
  const Tensor x = randn({2, 2, 4, 4}, gen);
  EXPECT_EQ(layer(x).impl_ptr(), x.impl_ptr());
  EXPECT_TRUE(throws_with<Error>([&] { nn::DropBlock(1.0, 2, gen); }, {"DropBlock", "[0, 1)"}));
  EXPECT_TRUE(throws_with<Error>([&] { nn::Dropout2d(-0.1, gen); }, {"Dropout2d"}));
  EXPECT_TRUE(throws_with<ShapeError>([&] { (void)nn::drop_block2d(x, 0.2, 5, gen); },
                                      {"drop_block2d", "block size 5", "[2, 2, 4, 4]"}));
  EXPECT_TRUE(throws_with<ShapeError>([&] { (void)nn::dropout2d(zeros({4, 3}), 0.2, gen); },
                                      {"dropout2d", "[4, 3]"}));
}

}  // namespace
}  // namespace vigil::testing
