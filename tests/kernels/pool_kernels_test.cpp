// Pooling and upsampling kernels against their naive twins: float32 and float64, contiguous and transposed
// (non-contiguous) inputs, odd sizes, padding, overlapping windows, ties and NaN, and planes large enough to take
// the parallel path.
#include "support/golden.hpp"

#include <vigil/kernels/pool.hpp>
#include <vigil/kernels/upsample.hpp>

#include <cmath>
#include <limits>
#include <vector>

namespace vigil::testing {
namespace {

// x of `shape` in `dtype`, optionally stored with its last two dims swapped (a non-contiguous view).
Tensor make_input(const Shape& shape, DType dtype, bool transposed, Generator& gen) {
  Tensor x = raw::to_dtype(randn(shape, gen), dtype);
  if (transposed) x = raw::transpose(raw::contiguous(raw::transpose(x, -1, -2)), -1, -2);
  return x;
}

struct Layout {
  DType dtype;
  bool transposed;
};

const std::vector<Layout> kLayouts{{DType::Float32, false}, {DType::Float32, true}, {DType::Float64, false},
                                   {DType::Float64, true}};

// tensors_close compares values rounded to float32, so float64 results that differ in their last bits may round
// one float32 ulp apart: 1e-6 is the tightest tolerance that comparison supports.
double tol(DType dtype) { return dtype == DType::Float32 ? 1e-5 : 1e-6; }

TEST(PoolKernels, SlidingWindowsMatchTheirReferences) {
  Generator gen(0);
  struct Case {
    Shape shape;
    kernels::Window2d w;
  };
  const std::vector<Case> cases{{{2, 3, 6, 6}, {2, 2, 2, 2, 0, 0}},  {{1, 2, 7, 5}, {3, 3, 1, 1, 1, 1}},
                                {{2, 2, 9, 8}, {3, 2, 2, 3, 1, 1}},  {{1, 1, 5, 7}, {5, 4, 3, 1, 2, 2}},
                                {{3, 1, 4, 4}, {1, 1, 1, 1, 0, 0}},  {{4, 16, 64, 64}, {3, 3, 2, 2, 1, 1}},
                                {{2, 3, 9, 11}, {2, 2, 2, 2, 0, 0}}, {{8, 16, 28, 28}, {2, 2, 2, 2, 0, 0}}};
  for (const Layout& l : kLayouts) {
    for (const Case& c : cases) {
      SCOPED_TRACE(c.shape.str());
      const Tensor x = make_input(c.shape, l.dtype, l.transposed, gen);
      const auto fast = kernels::max_pool2d_forward(x, c.w);
      const auto ref = kernels::max_pool2d_forward_reference(x, c.w);
      EXPECT_TRUE(tensors_close(fast.y, ref.y, 0, 0));
      EXPECT_EQ(fast.indices.to_vector(), ref.indices.to_vector());
      const Tensor dy = raw::to_dtype(randn(fast.y.shape(), gen), l.dtype);
      EXPECT_TRUE(tensors_close(kernels::max_pool2d_backward(dy, fast.indices, c.shape),
                                kernels::max_pool2d_backward_reference(dy, ref.indices, c.shape), tol(l.dtype),
                                tol(l.dtype)));
      for (bool include : {true, false}) {
        EXPECT_TRUE(tensors_close(kernels::avg_pool2d_forward(x, c.w, include),
                                  kernels::avg_pool2d_forward_reference(x, c.w, include), tol(l.dtype), tol(l.dtype)));
        EXPECT_TRUE(tensors_close(kernels::avg_pool2d_backward(dy, c.shape, c.w, include),
                                  kernels::avg_pool2d_backward_reference(dy, c.shape, c.w, include), tol(l.dtype),
                                  tol(l.dtype)));
      }
    }
  }
}

TEST(PoolKernels, AdaptiveWindowsMatchTheirReferences) {
  Generator gen(1);
  struct Case {
    Shape shape;
    std::int64_t oh, ow;
  };
  const std::vector<Case> cases{{{2, 3, 7, 5}, 3, 2}, {{1, 2, 5, 5}, 4, 4}, {{1, 2, 3, 3}, 5, 4},
                                {{2, 2, 6, 6}, 1, 1}, {{2, 32, 33, 31}, 7, 6}};
  for (const Layout& l : kLayouts) {
    for (const Case& c : cases) {
      SCOPED_TRACE(c.shape.str());
      const Tensor x = make_input(c.shape, l.dtype, l.transposed, gen);
      const auto fast = kernels::adaptive_max_pool2d_forward(x, c.oh, c.ow);
      const auto ref = kernels::adaptive_max_pool2d_forward_reference(x, c.oh, c.ow);
      EXPECT_TRUE(tensors_close(fast.y, ref.y, 0, 0));
      EXPECT_EQ(fast.indices.to_vector(), ref.indices.to_vector());
      EXPECT_TRUE(tensors_close(kernels::adaptive_avg_pool2d_forward(x, c.oh, c.ow),
                                kernels::adaptive_avg_pool2d_forward_reference(x, c.oh, c.ow), tol(l.dtype),
                                tol(l.dtype)));
      const Tensor dy = raw::to_dtype(randn(fast.y.shape(), gen), l.dtype);
      EXPECT_TRUE(tensors_close(kernels::adaptive_avg_pool2d_backward(dy, c.shape),
                                kernels::adaptive_avg_pool2d_backward_reference(dy, c.shape), tol(l.dtype),
                                tol(l.dtype)));
    }
  }
}

TEST(PoolKernels, AdaptiveWindowsFollowPyTorchsFormula) {
  // 5 -> 3: [0, 2), [1, 4), [3, 5): overlapping windows tile the input.
  EXPECT_EQ(kernels::adaptive_start(0, 5, 3), 0);
  EXPECT_EQ(kernels::adaptive_end(0, 5, 3), 2);
  EXPECT_EQ(kernels::adaptive_start(1, 5, 3), 1);
  EXPECT_EQ(kernels::adaptive_end(1, 5, 3), 4);
  EXPECT_EQ(kernels::adaptive_start(2, 5, 3), 3);
  EXPECT_EQ(kernels::adaptive_end(2, 5, 3), 5);
}

TEST(PoolKernels, MaxTakesTheFirstOfTiesAndPropagatesNaN) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Tensor x = from_vector(std::vector<float>{1, 3, 3, 0, 2, nan, 3, 1}, Shape{1, 1, 2, 4});
  const kernels::Window2d w{2, 2, 2, 2, 0, 0};
  for (const auto& r : {kernels::max_pool2d_forward(x, w), kernels::max_pool2d_forward_reference(x, w)}) {
    const auto v = r.y.to_vector();
    EXPECT_TRUE(std::isnan(v[0]));
    EXPECT_EQ(v[1], 3.0f);
    EXPECT_EQ(r.indices.to_vector(), (std::vector<float>{5, 2}));  // the NaN; the first 3 (row 0, col 2)
  }
}

// The 2x2 stride-2 fast path decides every window by a tournament (a b, c d, then the winners): on inputs full of
// ties and NaN it must pick the reference's element (the first maximum in row-major order, or the last NaN).
TEST(PoolKernels, MaxTwoByTwoPicksTheReferencesElementAmongTiesAndNaN) {
  Generator gen(4);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Shape shape{3, 4, 10, 13};  // OW = 6: one step of four outputs and a tail of two
  std::vector<float> values(static_cast<std::size_t>(shape.numel()));
  for (float& v : values) {
    const std::uint64_t k = gen.below(5);
    v = k == 4 ? nan : static_cast<float>(k % 3);  // 0, 1, 2 and NaN: most windows hold ties
  }
  const Tensor x = from_vector(values, shape);
  const kernels::Window2d w{2, 2, 2, 2, 0, 0};
  const auto fast = kernels::max_pool2d_forward(x, w);
  const auto ref = kernels::max_pool2d_forward_reference(x, w);
  EXPECT_EQ(fast.indices.to_vector(), ref.indices.to_vector());
  const auto fy = fast.y.to_vector(), ry = ref.y.to_vector();
  for (std::size_t i = 0; i < fy.size(); ++i) {
    EXPECT_TRUE(fy[i] == ry[i] || (std::isnan(fy[i]) && std::isnan(ry[i]))) << i << ": " << fy[i] << " vs " << ry[i];
  }
}

TEST(UpsampleKernels, MatchTheirReferences) {
  Generator gen(2);
  struct Case {
    Shape shape;
    std::int64_t oh, ow;
    double sh, sw;
  };
  const std::vector<Case> cases{{{2, 2, 3, 4}, 6, 8, 2.0, 2.0}, {{1, 2, 5, 3}, 7, 8, 0, 0},
                                {{1, 2, 5, 4}, 7, 10, 1.5, 2.5}, {{1, 1, 7, 9}, 3, 4, 0, 0},
                                {{1, 1, 4, 4}, 1, 3, 0, 0},      {{2, 16, 40, 33}, 81, 67, 0, 0}};
  for (const Layout& l : kLayouts) {
    for (const Case& c : cases) {
      SCOPED_TRACE(c.shape.str());
      const Tensor x = make_input(c.shape, l.dtype, l.transposed, gen);
      const Tensor dy = raw::to_dtype(randn(Shape{c.shape[0], c.shape[1], c.oh, c.ow}, gen), l.dtype);
      EXPECT_TRUE(tensors_close(kernels::upsample_nearest2d_forward(x, c.oh, c.ow, c.sh, c.sw),
                                kernels::upsample_nearest2d_forward_reference(x, c.oh, c.ow, c.sh, c.sw), 0, 0));
      EXPECT_TRUE(tensors_close(kernels::upsample_nearest2d_backward(dy, c.shape, c.sh, c.sw),
                                kernels::upsample_nearest2d_backward_reference(dy, c.shape, c.sh, c.sw), tol(l.dtype),
                                tol(l.dtype)));
      for (bool corners : {false, true}) {
        EXPECT_TRUE(tensors_close(kernels::upsample_bilinear2d_forward(x, c.oh, c.ow, corners, c.sh, c.sw),
                                  kernels::upsample_bilinear2d_forward_reference(x, c.oh, c.ow, corners, c.sh, c.sw),
                                  tol(l.dtype), tol(l.dtype)));
        EXPECT_TRUE(tensors_close(kernels::upsample_bilinear2d_backward(dy, c.shape, corners, c.sh, c.sw),
                                  kernels::upsample_bilinear2d_backward_reference(dy, c.shape, corners, c.sh, c.sw),
                                  tol(l.dtype), tol(l.dtype)));
      }
    }
  }
}

// Bilinear weights sum to 1: a constant image stays constant, in both modes.
TEST(UpsampleKernels, BilinearKeepsAConstantImage) {
  const Tensor x = full({1, 1, 3, 5}, 2.5f);
  for (bool corners : {false, true}) {
    for (float v : kernels::upsample_bilinear2d_forward(x, 7, 4, corners).to_vector()) EXPECT_FLOAT_EQ(v, 2.5f);
  }
}

}  // namespace
}  // namespace vigil::testing
