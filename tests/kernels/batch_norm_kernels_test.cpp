// Batch norm kernels against their naive twins (the training backward against the explicit Jacobian): float32
// and float64, ranks 2 to 4, transposed inputs, with and without the affine parameters, both modes; and the
// running statistics' update rule.
#include "support/golden.hpp"

#include <vigil/kernels/batch_norm.hpp>
#include <vigil/kernels/dispatch.hpp>

#include <algorithm>

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
