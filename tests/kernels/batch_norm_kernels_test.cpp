// Batch norm kernels against their naive twins (the training backward against the explicit Jacobian): float32
// and float64, ranks 2 to 4, transposed inputs, with and without the affine parameters, both modes; and the
// running statistics' update rule.
#include "support/golden.hpp"

#include <vigil/kernels/batch_norm.hpp>
#include <vigil/kernels/dispatch.hpp>
#include <vigil/kernels/isa.hpp>
#include <vigil/kernels/pool.hpp>

#include <algorithm>
#include <cmath>

#include <vector>

namespace vigil::testing {
namespace {

TEST(BatchNormKernels, MatchTheirReferences) {
  Generator gen(0);
  struct Case {
    Shape shape;
    bool affine, transposed;
  };
  const std::vector<Case> cases{{{8, 5}, true, false},       {{4, 3, 7}, false, false}, {{3, 4, 5, 6}, true, true},
                                {{2, 3, 1, 1}, true, false}, {{5, 2, 3}, true, true},   {{16, 8, 12, 12}, true, false}};
  for (DType dtype : {DType::Float32, DType::Float64}) {
    for (const Case& c : cases) {
      SCOPED_TRACE(c.shape.str());
      Tensor x = raw::to_dtype(randn(c.shape, gen) * 2.0 + 1.0, dtype);
      if (c.transposed) x = raw::transpose(raw::contiguous(raw::transpose(x, -1, -2)), -1, -2);
      const std::int64_t C = c.shape[1];
      const Tensor w = c.affine ? raw::to_dtype(rand({C}, gen) + 0.5, dtype) : Tensor();
      const Tensor b = c.affine ? raw::to_dtype(randn({C}, gen), dtype) : Tensor();
      const Tensor dy = raw::to_dtype(randn(c.shape, gen), dtype);
      const double tol = dtype == DType::Float32 ? 1e-5 : 1e-11;
      const auto fast = kernels::batch_norm_stats(x);
      const auto ref = kernels::batch_norm_stats_reference(x);
      EXPECT_TRUE(tensors_close(fast.mean, ref.mean, 1e-12, 1e-12));
      EXPECT_TRUE(tensors_close(fast.var, ref.var, 1e-12, 1e-12));
      const Tensor rstd = kernels::batch_norm_rstd(fast.var, 1e-5);
      EXPECT_TRUE(tensors_close(kernels::batch_norm_normalize(x, fast.mean, rstd, w, b),
                                kernels::batch_norm_normalize_reference(x, ref.mean, rstd, w, b), tol, tol));
      if (c.shape.numel() > 2000) continue;  // the explicit Jacobian is O(M^2) per channel
      for (bool training : {true, false}) {
        const auto gf = kernels::batch_norm_backward(dy, x, fast.mean, rstd, w, training, true, true);
        const auto gr = kernels::batch_norm_backward_reference(dy, x, ref.mean, rstd, w, training, true, true);
        EXPECT_TRUE(tensors_close(gf.dx, gr.dx, tol * 10, tol * 10)) << "training " << training;
        EXPECT_TRUE(tensors_close(gf.dweight, gr.dweight, tol * 10, tol * 10));
        EXPECT_TRUE(tensors_close(gf.dbias, gr.dbias, tol * 10, tol * 10));
      }
    }
  }
}

// The fused ReLU: normalize then max(0, .), and the backward of that composition, against the twins.
TEST(BatchNormKernels, FusedReluMatchesTheReferences) {
  Generator gen(3);
  for (DType dtype : {DType::Float32, DType::Float64}) {
    for (const Shape& shape : {Shape{6, 4}, Shape{3, 4, 5, 6}, Shape{2, 3, 7}}) {
      SCOPED_TRACE(shape.str());
      const Tensor x = raw::to_dtype(randn(shape, gen) * 2.0 + 1.0, dtype);
      const std::int64_t C = shape[1];
      const Tensor w = raw::to_dtype(rand({C}, gen) + 0.5, dtype), b = raw::to_dtype(randn({C}, gen), dtype);
      const Tensor dy = raw::to_dtype(randn(shape, gen), dtype);
      const double tol = dtype == DType::Float32 ? 1e-5 : 1e-11;
      const auto st = kernels::batch_norm_stats(x);
      const Tensor rstd = kernels::batch_norm_rstd(st.var, 1e-5);
      const Tensor y = kernels::batch_norm_normalize(x, st.mean, rstd, w, b, true);
      EXPECT_TRUE(tensors_close(y, kernels::batch_norm_normalize_reference(x, st.mean, rstd, w, b, true), tol, tol));
      const Tensor plain = kernels::batch_norm_normalize(x, st.mean, rstd, w, b);
      kernels::dispatch_floating(dtype, "test", [&](auto zero) {  // max(0, plain), exactly
        using T = decltype(zero);
        for (std::int64_t i = 0; i < y.numel(); ++i)
          ASSERT_EQ(y.data<T>()[i], std::max(plain.data<T>()[i], T(0))) << i;
      });
      for (bool training : {true, false}) {
        const auto gf = kernels::batch_norm_backward(dy, x, st.mean, rstd, w, training, true, true, true, b);
        const auto gr = kernels::batch_norm_backward_reference(dy, x, st.mean, rstd, w, training, true, true, true, b);
        EXPECT_TRUE(tensors_close(gf.dx, gr.dx, tol * 10, tol * 10)) << "training " << training;
        EXPECT_TRUE(tensors_close(gf.dweight, gr.dweight, tol * 10, tol * 10));
        EXPECT_TRUE(tensors_close(gf.dbias, gr.dbias, tol * 10, tol * 10));
      }
    }
  }
}

// Batch norm, ReLU and 2x2 max pooling fused: the same bits as the fast kernels one after another (normalize with
// relu, max_pool2d_forward, max_pool2d_backward, batch_norm_backward with relu), close to the reference twins; the
// training form's statistics equal batch_norm_stats's. Even and odd planes (an odd last row or column is in no
// window), planes narrower and wider than a vector step, ties among the ReLU's zeros, a NaN.
TEST(BatchNormKernels, FusedReluMaxPoolMatchesTheUnfusedKernels) {
  Generator gen(4);
  const kernels::Window2d pool{2, 2, 2, 2, 0, 0};
  for (DType dtype : {DType::Float32, DType::Float64}) {
    for (const Shape& shape : {Shape{3, 4, 6, 8}, Shape{2, 3, 7, 9}, Shape{2, 2, 2, 2}, Shape{2, 3, 5, 40},
                               Shape{4, 2, 28, 28}}) {
      SCOPED_TRACE(fmt::format("{} {}", shape.str(), dtype_name(dtype)));
      Tensor x = raw::to_dtype(randn(shape, gen) * 2.0 + 0.5, dtype);
      const bool small = shape.numel() <= 500;  // the reference's Jacobian is O(M^2) per channel
      if (!small) {  // a NaN among the larger inputs: it wins its window and passes no gradient
        kernels::dispatch_floating(dtype, "test", [&](auto zero) { x.data<decltype(zero)>()[77] = std::nan(""); });
      }
      const std::int64_t C = shape[1];
      const Tensor w = raw::to_dtype(rand({C}, gen) + 0.5, dtype), b = raw::to_dtype(randn({C}, gen) - 0.5, dtype);
      const Shape pooled{shape[0], C, shape[2] / 2, shape[3] / 2};
      const Tensor dy = raw::to_dtype(randn(pooled, gen), dtype);
      const auto st = kernels::batch_norm_stats(x);
      const Tensor rstd = kernels::batch_norm_rstd(st.var, 1e-5);

      const Tensor activation = kernels::batch_norm_normalize(x, st.mean, rstd, w, b, true);
      const kernels::MaxPoolResult unfused = kernels::max_pool2d_forward(activation, pool);
      const auto fused = kernels::batch_norm_relu_max_pool_2x2(x, st.mean, rstd, w, b, true);
      EXPECT_TRUE(tensors_close(fused.y, unfused.y, 0, 0));
      const auto training = kernels::batch_norm_relu_max_pool_2x2_training(x, w, b, 1e-5, true);
      EXPECT_TRUE(tensors_close(training.stats.mean, st.mean, 0, 0));
      EXPECT_TRUE(tensors_close(training.stats.var, st.var, 0, 0));
      EXPECT_TRUE(tensors_close(training.rstd, rstd, 0, 0));
      EXPECT_TRUE(tensors_close(training.pooled.y, unfused.y, 0, 0));
      if (small) {
        const Tensor reference = kernels::batch_norm_relu_max_pool_2x2_reference(x, st.mean, rstd, w, b);
        EXPECT_TRUE(tensors_close(fused.y, reference, 1e-5, 1e-5));
      }

      const Tensor dactivation = kernels::max_pool2d_backward(dy, unfused.indices, shape);
      for (bool train : {true, false}) {
        SCOPED_TRACE(train ? "training" : "eval");
        const auto expected =
            kernels::batch_norm_backward(dactivation, x, st.mean, rstd, w, train, true, true, true, b);
        const auto got = kernels::batch_norm_relu_max_pool_2x2_backward(dy, fused.winners.get(), x, st.mean, rstd, w,
                                                                        b, train, true, true);
        EXPECT_TRUE(tensors_close(got.dx, expected.dx, 0, 0));
        EXPECT_TRUE(tensors_close(got.dweight, expected.dweight, 0, 0));
        EXPECT_TRUE(tensors_close(got.dbias, expected.dbias, 0, 0));
        if (!small) continue;
        const auto reference = kernels::batch_norm_relu_max_pool_2x2_backward_reference(dy, x, st.mean, rstd, w, b,
                                                                                        train, true, true);
        const double tol = dtype == DType::Float32 ? 1e-4 : 1e-10;
        EXPECT_TRUE(tensors_close(got.dx, reference.dx, tol, tol));
        EXPECT_TRUE(tensors_close(got.dweight, reference.dweight, tol, tol));
        EXPECT_TRUE(tensors_close(got.dbias, reference.dbias, tol, tol));
      }
    }
  }
}

// The kernels built for AVX-512 and for the portable baseline give the same bits (vigil/kernels/isa.hpp): statistics,
// normalisation, the fused pooling and both backwards. Meaningful where the CPU has AVX-512 (elsewhere both runs
// take the portable build).
TEST(BatchNormKernels, WideAndPortableBuildsAgreeBitForBit) {
  Generator gen(8);
  const Tensor x = randn({8, 5, 14, 14}, gen) * 3.0 + 1.0, w = rand({5}, gen) + 0.5, b = randn({5}, gen);
  const Tensor dy = randn({8, 5, 14, 14}, gen), dpooled = randn({8, 5, 7, 7}, gen);
  auto run = [&] {
    const auto st = kernels::batch_norm_stats(x);
    const Tensor rstd = kernels::batch_norm_rstd(st.var, 1e-5);
    const auto fused = kernels::batch_norm_relu_max_pool_2x2_training(x, w, b, 1e-5, true);
    const auto g = kernels::batch_norm_backward(dy, x, st.mean, rstd, w, true, true, true, true, b);
    const auto gp = kernels::batch_norm_relu_max_pool_2x2_backward(dpooled, fused.pooled.winners.get(), x, st.mean,
                                                                   rstd, w, b, true, true, true);
    return std::vector<Tensor>{st.mean, st.var, kernels::batch_norm_normalize(x, st.mean, rstd, w, b, true),
                               fused.pooled.y, g.dx, g.dweight, gp.dx, gp.dweight, gp.dbias};
  };
  const std::vector<Tensor> wide = run();
  const kernels::PortableBuildGuard portable_only;
  EXPECT_FALSE(kernels::cpu_has_avx512());
  const std::vector<Tensor> portable = run();
  for (std::size_t i = 0; i < wide.size(); ++i) EXPECT_TRUE(tensors_close(wide[i], portable[i], 0, 0)) << i;
}

TEST(BatchNormKernels, RunningUpdateUsesTheUnbiasedVariance) {
  const Tensor running_mean = from_vector(std::vector<float>{1.0f, 0.0f}, Shape{2});
  const Tensor running_var = from_vector(std::vector<float>{1.0f, 2.0f}, Shape{2});
  kernels::BatchNormStats batch{raw::to_dtype(from_vector(std::vector<float>{3.0f, -1.0f}, Shape{2}), DType::Float64),
                                raw::to_dtype(from_vector(std::vector<float>{0.75f, 3.0f}, Shape{2}), DType::Float64)};
  kernels::batch_norm_update_running(running_mean, running_var, batch, 4, 0.5);
  EXPECT_EQ(running_mean.to_vector(), (std::vector<float>{2.0f, -0.5f}));
  EXPECT_EQ(running_var.to_vector(), (std::vector<float>{1.0f, 3.0f}));  // 0.5 * 1 + 0.5 * 0.75 * 4/3; 1 + 2
}

}  // namespace
}  // namespace vigil::testing
