// Fast reduction and softmax kernels against their naive twins, on inputs large enough to take the parallel paths
// and on non-contiguous layouts (transposed, permuted, strided slices, broadcast). The twins fold each output in
// the same order with the same arithmetic, so the results must be equal bit for bit.
#include "support/golden.hpp"

#include <vigil/kernels/elementwise.hpp>
#include <vigil/kernels/reduce.hpp>

#include <cmath>
#include <functional>

namespace vigil::testing {
namespace {

using Dims = std::vector<std::int64_t>;

// Inputs of one dtype in the layouts the fast kernels must handle.
std::vector<std::pair<std::string, Tensor>> layouts(DType dtype) {
  Generator gen(11);
  auto make = [&](Shape s) { return raw::to_dtype(randn(s, gen), dtype); };
  std::vector<std::pair<std::string, Tensor>> out;
  out.emplace_back("large [67, 1031]", make({67, 1031}));  // > kParallelGrain elements, prime extents
  out.emplace_back("transposed [1031, 67]", raw::transpose(make({67, 1031}), 0, 1));
  const std::array<std::int64_t, 3> order{2, 0, 1};
  out.emplace_back("permuted [13, 5, 7]", raw::permute(make({5, 7, 13}), order));
  out.emplace_back("strided slice [9, 11]", raw::slice(raw::slice(make({18, 23}), 0, 0, 18, 2), 1, 1, 23, 2));
  out.emplace_back("broadcast [6, 4, 5]", raw::expand(make({1, 4, 5}), Shape{6, 4, 5}));
  out.emplace_back("large 3-d [37, 29, 41]", make({37, 29, 41}));
  return out;
}

std::vector<Dims> dim_sets(int rank) {
  std::vector<Dims> sets{{}, {0}, {-1}};
  if (rank >= 3) sets.insert(sets.end(), {{1}, {0, 2}, {1, 2}, {0, 1}});
  return sets;
}

::testing::AssertionResult bitwise_equal(const Tensor& fast, const Tensor& reference) {
  return tensors_close(fast, reference, 0.0, 0.0);
}

using DimsKernel = std::function<Tensor(const Tensor&, std::span<const std::int64_t>, bool)>;

void compare_dims_kernel(const char* name, const DimsKernel& fast, const DimsKernel& reference) {
  for (DType dtype : {DType::Float32, DType::Float64}) {
    for (const auto& [label, x] : layouts(dtype)) {
      for (const Dims& dims : dim_sets(x.dim())) {
        for (bool keepdim : {false, true}) {
          SCOPED_TRACE(fmt::format("{} on {} {} over dims [{}] keepdim={}", name, dtype_name(dtype), label,
                                   fmt::join(dims, ", "), keepdim));
          EXPECT_TRUE(bitwise_equal(fast(x, dims, keepdim), reference(x, dims, keepdim)));
        }
      }
    }
  }
}

TEST(ReduceKernels, SumMatchesReference) {
  compare_dims_kernel("sum", [](auto& x, auto d, bool k) { return kernels::sum(x, d, k); },
                      [](auto& x, auto d, bool k) { return kernels::sum_reference(x, d, k); });
}

TEST(ReduceKernels, MeanMatchesReference) {
  compare_dims_kernel("mean", [](auto& x, auto d, bool k) { return kernels::mean(x, d, k); },
                      [](auto& x, auto d, bool k) { return kernels::mean_reference(x, d, k); });
}

TEST(ReduceKernels, AmaxAminMatchReference) {
  compare_dims_kernel("amax", [](auto& x, auto d, bool k) { return kernels::amax(x, d, k); },
                      [](auto& x, auto d, bool k) { return kernels::amax_reference(x, d, k); });
  compare_dims_kernel("amin", [](auto& x, auto d, bool k) { return kernels::amin(x, d, k); },
                      [](auto& x, auto d, bool k) { return kernels::amin_reference(x, d, k); });
}

TEST(ReduceKernels, VarMatchesReference) {
  for (std::int64_t correction : {0, 1, 2}) {
    compare_dims_kernel("var", [correction](auto& x, auto d, bool k) { return kernels::var(x, d, correction, k); },
                        [correction](auto& x, auto d, bool k) { return kernels::var_reference(x, d, correction, k); });
  }
}

TEST(ReduceKernels, LogsumexpMatchesReference) {
  compare_dims_kernel("logsumexp", [](auto& x, auto d, bool k) { return kernels::logsumexp(x, d, k); },
                      [](auto& x, auto d, bool k) { return kernels::logsumexp_reference(x, d, k); });
}

TEST(ReduceKernels, MaxMinWithIndicesMatchReference) {
  for (DType dtype : {DType::Float32, DType::Float64}) {
    for (const auto& [label, x] : layouts(dtype)) {
      for (std::int64_t dim = -x.dim(); dim < x.dim(); ++dim) {
        for (bool keepdim : {false, true}) {
          SCOPED_TRACE(fmt::format("{} {} dim {} keepdim={}", dtype_name(dtype), label, dim, keepdim));
          const auto fast_max = kernels::max(x, dim, keepdim), ref_max = kernels::max_reference(x, dim, keepdim);
          EXPECT_TRUE(bitwise_equal(fast_max.values, ref_max.values));
          EXPECT_TRUE(bitwise_equal(fast_max.indices, ref_max.indices));
          const auto fast_min = kernels::min(x, dim, keepdim), ref_min = kernels::min_reference(x, dim, keepdim);
          EXPECT_TRUE(bitwise_equal(fast_min.values, ref_min.values));
          EXPECT_TRUE(bitwise_equal(fast_min.indices, ref_min.indices));
        }
      }
    }
  }
}

TEST(ReduceKernels, MaxTakesFirstTieAndPropagatesNaN) {
  const Tensor x = from_vector(std::vector<float>{2, 7, 7, 1, NAN, 3, NAN, 9}, Shape{2, 4});
  for (const auto& r : {kernels::max(x, 1), kernels::max_reference(x, 1)}) {
    EXPECT_EQ(r.indices.data<std::int64_t>()[0], 1);
    EXPECT_EQ(r.indices.data<std::int64_t>()[1], 0);
    EXPECT_TRUE(std::isnan(r.values.data<float>()[1]));
  }
  EXPECT_TRUE(std::isnan(kernels::amin(x).item()));
  EXPECT_TRUE(std::isnan(kernels::amin_reference(x).item()));
}

TEST(ReduceKernels, SoftmaxMatchesReference) {
  for (DType dtype : {DType::Float32, DType::Float64}) {
    for (const auto& [label, x] : layouts(dtype)) {
      for (std::int64_t dim = -x.dim(); dim < x.dim(); ++dim) {
        SCOPED_TRACE(fmt::format("{} {} dim {}", dtype_name(dtype), label, dim));
        EXPECT_TRUE(bitwise_equal(kernels::softmax(x, dim), kernels::softmax_reference(x, dim)));
        EXPECT_TRUE(bitwise_equal(kernels::log_softmax(x, dim), kernels::log_softmax_reference(x, dim)));
      }
    }
  }
}

TEST(ReduceKernels, SoftmaxOfHugeLogitsIsFinite) {
  Generator gen(12);
  // Logits of +-1e4 at random, and a first row of 1e4 everywhere: every result finite, softmax rows sum to 1.
  const Tensor signs = kernels::map_unary(randn({33, 97}, gen), [](auto v) { return decltype(v)(v > 0 ? 1e4 : -1e4); }, "signs");
  raw::copy_(raw::narrow(signs, 0, 0, 1), full({1, 97}, 1e4f));
  const Tensor x = raw::contiguous(signs);
  for (const Tensor& y : {kernels::softmax(x, 1), kernels::softmax_reference(x, 1), kernels::log_softmax(x, 1),
                          kernels::log_softmax_reference(x, 1), kernels::softmax(x, 0), kernels::log_softmax(x, 0)}) {
    for (float v : y.to_vector()) ASSERT_TRUE(std::isfinite(v)) << v;
  }
  const auto rows = kernels::sum(kernels::softmax(x, 1), std::array<std::int64_t, 1>{1}).to_vector();
  for (float s : rows) EXPECT_NEAR(s, 1.0f, 1e-5f);
}

TEST(ReduceKernels, ParallelResultsDoNotDependOnTiming) {
  Generator gen(13);
  const Tensor x = randn({257, 509}, gen);
  const std::array<std::int64_t, 1> rows{1};
  for (int run = 0; run < 3; ++run) {
    EXPECT_TRUE(bitwise_equal(kernels::var(x, rows), kernels::var(x, rows)));
    EXPECT_TRUE(bitwise_equal(kernels::logsumexp(x), kernels::logsumexp(x)));
    EXPECT_TRUE(bitwise_equal(kernels::softmax(x, 0), kernels::softmax(x, 0)));
  }
}

}  // namespace
}  // namespace vigil::testing
