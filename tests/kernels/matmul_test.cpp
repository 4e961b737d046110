// kernels::matmul (oneDNN, cached primitives) against its naive twin matmul_reference, on every layout the fast
// path treats differently: odd and prime sizes, single rows and columns, transposed and sliced operands, batches,
// broadcast batches (folded into one product or broadcast by oneDNN), stride-0 expanded operands, the copy path
// for views with no unit stride, and products on either side of the one-thread threshold.
#include "support/golden.hpp"

#include <vigil/kernels/matmul.hpp>
#include <vigil/tensor/allocator.hpp>

#include <omp.h>

#include <cmath>
#include <string>
#include <thread>
#include <vector>

namespace vigil::testing {
namespace {

// float32 sums of K products of unit normals: the error grows with K (the reference sums in double).
::testing::AssertionResult matches_reference(const Tensor& a, const Tensor& b) {
  const double tol = 2e-6 * double(a.shape().back() + 1);
  return tensors_close(kernels::matmul(a, b), kernels::matmul_reference(a, b), tol, tol);
}

class MatmulKernel : public ::testing::Test {
 protected:
  Tensor randn_(Shape s) { return randn(s, gen_); }
  Generator gen_{7};
};

TEST_F(MatmulKernel, TinyAndPrimeSizes) {
  EXPECT_TRUE(matches_reference(randn_({1, 1}), randn_({1, 1})));
  EXPECT_TRUE(matches_reference(randn_({7, 13}), randn_({13, 11})));
  EXPECT_TRUE(matches_reference(randn_({31, 17}), randn_({17, 29})));
  EXPECT_TRUE(matches_reference(randn_({2, 3}), randn_({3, 5})));
}

TEST_F(MatmulKernel, SingleRowAndSingleColumn) {
  EXPECT_TRUE(matches_reference(randn_({1, 37}), randn_({37, 19})));  // one row
  EXPECT_TRUE(matches_reference(randn_({23, 37}), randn_({37, 1})));  // one column
  EXPECT_TRUE(matches_reference(randn_({1, 37}), randn_({37, 1})));   // a dot product
  EXPECT_TRUE(matches_reference(randn_({23, 1}), randn_({1, 19})));   // an outer product (K = 1)
}

TEST_F(MatmulKernel, TransposedOperandsAreReadInPlace) {
  const Tensor at = raw::transpose(randn_({13, 11}), 0, 1);  // [11, 13], column-major
  const Tensor bt = raw::transpose(randn_({7, 13}), 0, 1);   // [13, 7], column-major
  EXPECT_TRUE(matches_reference(at, randn_({13, 7})));
  EXPECT_TRUE(matches_reference(randn_({11, 13}), bt));
  EXPECT_TRUE(matches_reference(at, bt));
  // A transposed single row/column: the only unit stride is on the extent-1 side.
  EXPECT_TRUE(matches_reference(raw::transpose(randn_({37, 1}), 0, 1), randn_({37, 5})));
  EXPECT_TRUE(matches_reference(randn_({5, 37}), raw::transpose(randn_({1, 37}), 0, 1)));
}

TEST_F(MatmulKernel, SlicedOperandsWithPaddedStrides) {
  // Row stride 40 for 17 columns, and a column-major slice with leading dimension 30.
  const Tensor a = raw::narrow(raw::narrow(randn_({20, 40}), 1, 3, 17), 0, 2, 11);
  const Tensor b = raw::narrow(raw::narrow(raw::transpose(randn_({9, 30}), 0, 1), 0, 5, 17), 1, 1, 6);
  ASSERT_EQ(a.strides()[0], 40);
  ASSERT_EQ(b.strides()[1], 30);
  EXPECT_TRUE(matches_reference(a, b));
  // Every other column: no unit stride in either matrix dim, so the operand is copied first.
  const Tensor stepped = raw::slice(randn_({11, 34}), 1, 0, 34, 2);
  ASSERT_EQ(stepped.strides()[1], 2);
  EXPECT_TRUE(matches_reference(stepped, b));
  EXPECT_TRUE(matches_reference(a, raw::slice(randn_({17, 12}), 1, 0, 12, 2)));
}

TEST_F(MatmulKernel, Batched) {
  EXPECT_TRUE(matches_reference(randn_({3, 5, 7}), randn_({3, 7, 4})));
  EXPECT_TRUE(matches_reference(randn_({2, 3, 5, 7}), randn_({2, 3, 7, 4})));
  EXPECT_TRUE(matches_reference(randn_({4, 5, 7}), raw::transpose(randn_({4, 3, 7}), 1, 2)));
  // Batch dims in a permuted order (batch stride smaller than the matrix), and a batch slice with a step.
  EXPECT_TRUE(matches_reference(raw::transpose(randn_({5, 4, 7}), 0, 1), randn_({4, 7, 3})));
  EXPECT_TRUE(matches_reference(raw::slice(randn_({8, 5, 7}), 0, 1, 8, 2), randn_({4, 7, 3})));
}

TEST_F(MatmulKernel, BroadcastBatch) {
  EXPECT_TRUE(matches_reference(randn_({4, 5, 7}), randn_({7, 3})));         // folds into one [20, 7] product
  EXPECT_TRUE(matches_reference(randn_({2, 3, 1, 7}), randn_({1, 7, 3})));   // folds with M = 1
  EXPECT_TRUE(matches_reference(randn_({5, 7}), randn_({4, 7, 3})));         // a broadcast
  EXPECT_TRUE(matches_reference(randn_({2, 1, 5, 7}), randn_({1, 3, 7, 4})));  // both broadcast
  EXPECT_TRUE(matches_reference(randn_({3, 1, 5, 7}), randn_({2, 7, 4})));   // a's batch dims broadcast too
  // A batch whose rows are not evenly spaced (transposed matrices, permuted batch) cannot fold.
  EXPECT_TRUE(matches_reference(raw::transpose(randn_({4, 7, 5}), 1, 2), randn_({7, 3})));
  EXPECT_TRUE(matches_reference(raw::transpose(randn_({5, 4, 7}), 0, 1), randn_({7, 3})));
  // Stride-0 expanded batches are read once, not materialised.
  EXPECT_TRUE(matches_reference(randn_({4, 5, 7}), raw::expand(randn_({1, 7, 3}), Shape{4, 7, 3})));
  EXPECT_TRUE(matches_reference(raw::expand(randn_({1, 5, 7}), Shape{4, 5, 7}), randn_({4, 7, 3})));
  // Expanded matrix rows (stride 0 inside the matrix) take the copy path.
  EXPECT_TRUE(matches_reference(raw::expand(randn_({1, 7}), Shape{5, 7}), randn_({7, 3})));
}

TEST_F(MatmulKernel, LargerProductsAboveTheOneThreadThreshold) {
  EXPECT_TRUE(matches_reference(randn_({257, 65}), randn_({65, 129})));
  EXPECT_TRUE(matches_reference(raw::transpose(randn_({65, 257}), 0, 1), raw::transpose(randn_({129, 65}), 0, 1)));
  EXPECT_TRUE(matches_reference(randn_({3, 127, 64}), randn_({64, 131})));
}

TEST_F(MatmulKernel, EmptyAndFloat64GoToTheReference) {
  const Tensor k0 = kernels::matmul(zeros({3, 0}), zeros({0, 4}));
  EXPECT_TRUE(tensors_close(k0, zeros({3, 4})));
  EXPECT_EQ(kernels::matmul(zeros({0, 3}), zeros({3, 4})).shape(), Shape({0, 4}));
  const Tensor a = randn_({6, 5}), b = randn_({5, 4});
  const Tensor a64 = raw::to_dtype(a, DType::Float64), b64 = raw::to_dtype(b, DType::Float64);
  const Tensor c64 = kernels::matmul(a64, b64);
  EXPECT_EQ(c64.dtype(), DType::Float64);
  EXPECT_TRUE(tensors_close(c64, kernels::matmul_reference(a64, b64), 0, 0));
}

TEST_F(MatmulKernel, OutputIsAFreshContiguousTensor) {
  const Tensor a = raw::transpose(randn_({7, 5}), 0, 1), b = randn_({7, 3});
  const Tensor c = kernels::matmul(a, b);
  EXPECT_TRUE(c.is_contiguous());
  EXPECT_FALSE(c.shares_storage(a));
  EXPECT_FALSE(c.shares_storage(b));
}

TEST_F(MatmulKernel, RepeatedCallsReuseThePrimitiveWithoutAllocating) {
  // Same layouts, new data each call: the cached primitive must read the new pointers.
  const Shape sa{64, 48}, sb{48, 40};
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(matches_reference(randn_(sa), randn_(sb)));
    EXPECT_TRUE(matches_reference(raw::transpose(randn_({48, 64}), 0, 1), randn_(sb)));  // same shape, new layout
    EXPECT_TRUE(matches_reference(randn_({3, 64, 48}), randn_({48, 40})));
  }
  const Tensor a = randn_({128, 256}), b = randn_({256, 96}), bt = raw::transpose(randn_({96, 256}), 0, 1);
  for (int i = 0; i < 3; ++i) {  // warm-up: primitives made, scratchpad grown, blocks cached
    (void)kernels::matmul(a, b);
    (void)kernels::matmul(a, bt);
  }
  const auto before = CachingAllocator::instance().stats().system_allocations;
  for (int i = 0; i < 20; ++i) {
    (void)kernels::matmul(a, b);
    (void)kernels::matmul(a, bt);
  }
  EXPECT_EQ(CachingAllocator::instance().stats().system_allocations, before);
}

TEST_F(MatmulKernel, FollowsTheOpenMpThreadCount) {
  const Tensor a = randn_({200, 150}), b = randn_({150, 120});
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  EXPECT_TRUE(matches_reference(a, b));
  omp_set_num_threads(threads);
  EXPECT_TRUE(matches_reference(a, b));
  EXPECT_EQ(omp_get_max_threads(), threads);  // a small product's one-thread scope restores the count
  (void)kernels::matmul(randn_({4, 4}), randn_({4, 4}));
  EXPECT_EQ(omp_get_max_threads(), threads);
}

TEST_F(MatmulKernel, ThreadsCallConcurrently) {
  std::vector<Tensor> as, bs;
  for (int t = 0; t < 4; ++t) {
    as.push_back(randn_({96, 80}));
    bs.push_back(randn_({80, 72}));
  }
  std::vector<Tensor> results(as.size());
  std::vector<std::thread> workers;
  for (std::size_t t = 0; t < as.size(); ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) results[t] = kernels::matmul(as[t], bs[t]);
    });
  }
  for (auto& w : workers) w.join();
  for (std::size_t t = 0; t < as.size(); ++t) {
    EXPECT_TRUE(tensors_close(results[t], kernels::matmul_reference(as[t], bs[t]), 2e-4, 2e-4));
  }
}

TEST(MatmulKernelErrors, InnerDimsDifferNamesOpAndShapes) {
  try {
    (void)kernels::matmul(zeros({2, 3}), zeros({4, 5}));
    FAIL() << "expected ShapeError";
  } catch (const ShapeError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("matmul"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[2, 3]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[4, 5]"), std::string::npos) << msg;
  }
}

TEST(MatmulKernelErrors, BatchDimsDoNotBroadcast) {
  EXPECT_THROW((void)kernels::matmul(zeros({2, 3, 4}), zeros({3, 4, 5})), ShapeError);
}

TEST(MatmulKernelErrors, OneDimensionalOperand) {
  EXPECT_THROW((void)kernels::matmul(zeros({3}), zeros({3, 4})), ShapeError);
}

TEST(MatmulKernelErrors, DtypeMismatchAndNonFloating) {
  EXPECT_THROW((void)kernels::matmul(zeros({2, 3}), zeros({3, 4}, TensorOptions{DType::Float64})), DTypeError);
  const TensorOptions i64{DType::Int64};
  EXPECT_THROW((void)kernels::matmul(zeros({2, 3}, i64), zeros({3, 4}, i64)), DTypeError);
}

}  // namespace
}  // namespace vigil::testing
