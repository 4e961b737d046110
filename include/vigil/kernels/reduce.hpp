// Reductions over dims, and softmax along a dim. Shapes: x [d0, ..., dk]; `dims` lists the dims to reduce (empty =
// all); the result drops them, or keeps them as size 1 when keepdim. Sums accumulate in double, so a float32 sum of
// a million terms is exact to float32 rounding (PyTorch uses a cascade sum for the same reason).
//
// Every fast kernel has a *_reference twin: a single-threaded walk of x in row-major order. Fast kernels split the
// outputs across OpenMP threads with static schedules, and each output is folded by one thread in row-major order
// of its reduced elements, so results never depend on timing (and equal the reference's).
#pragma once

#include <vigil/tensor/tensor.hpp>

#include <span>

namespace vigil::kernels {

// Which dims a reduction removes, and the shapes on both sides.
struct ReductionPlan {
  Shape kept_shape;  // x's shape with reduced dims set to 1
  Shape out_shape;   // kept_shape, or without the reduced dims when !keepdim
  std::array<bool, kMaxDims> reduced{};
  std::int64_t reduced_count = 1;  // elements folded into each output
};
ReductionPlan plan_reduction(const Shape& shape, std::span<const std::int64_t> dims, bool keepdim, const char* op);

Tensor sum(const Tensor& x, std::span<const std::int64_t> dims = {}, bool keepdim = false);
Tensor sum_reference(const Tensor& x, std::span<const std::int64_t> dims = {}, bool keepdim = false);

// mean = sum / (number of reduced elements); NaN for an empty reduction, as torch.
Tensor mean(const Tensor& x, std::span<const std::int64_t> dims = {}, bool keepdim = false);
Tensor mean_reference(const Tensor& x, std::span<const std::int64_t> dims = {}, bool keepdim = false);

// The largest (max) or smallest (min) element along one dim, and its position there as int64. Ties give the
// first position; a NaN counts as the extremum (it propagates, at its first position), as torch.max(x, dim).
// Throws IndexError when the dim is empty. Both results have the plan's out_shape.
struct ValuesIndices {
  Tensor values;
  Tensor indices;
};
ValuesIndices max(const Tensor& x, std::int64_t dim, bool keepdim = false);
ValuesIndices max_reference(const Tensor& x, std::int64_t dim, bool keepdim = false);
ValuesIndices min(const Tensor& x, std::int64_t dim, bool keepdim = false);
ValuesIndices min_reference(const Tensor& x, std::int64_t dim, bool keepdim = false);

// The extremum over several dims (empty = all), values only, NaN propagating (torch.amax / torch.amin).
// Throws IndexError when the reduction is empty.
Tensor amax(const Tensor& x, std::span<const std::int64_t> dims = {}, bool keepdim = false);
Tensor amax_reference(const Tensor& x, std::span<const std::int64_t> dims = {}, bool keepdim = false);
Tensor amin(const Tensor& x, std::span<const std::int64_t> dims = {}, bool keepdim = false);
Tensor amin_reference(const Tensor& x, std::span<const std::int64_t> dims = {}, bool keepdim = false);

// var = sum((x - mean)^2) / max(0, N - correction) over the reduced elements (N of them), two passes in double
// (the one-pass sum-of-squares formula cancels catastrophically when |mean| >> std). correction = 1 is the
// unbiased estimate, torch's default; 0 the population variance. N - correction <= 0 gives inf or NaN, as torch.
Tensor var(const Tensor& x, std::span<const std::int64_t> dims = {}, std::int64_t correction = 1, bool keepdim = false);
Tensor var_reference(const Tensor& x, std::span<const std::int64_t> dims = {}, std::int64_t correction = 1,
                     bool keepdim = false);

// log(sum(exp(x))) computed stably as m + log(sum(exp(x - m))) with m the max of the reduced elements; an
// infinite m is replaced by 0 (as torch) so that all -inf gives -inf rather than NaN. Empty reductions give -inf.
Tensor logsumexp(const Tensor& x, std::span<const std::int64_t> dims = {}, bool keepdim = false);
Tensor logsumexp_reference(const Tensor& x, std::span<const std::int64_t> dims = {}, bool keepdim = false);

// softmax(x)_i = exp(x_i - m) / sum_j exp(x_j - m) and log_softmax(x)_i = (x_i - m) - log(sum_j exp(x_j - m))
// along `dim`, with m the lane's max, so logits of any finite size give finite values. The result has x's shape,
// row-major. Fast path: a contiguous x with dim last (one row per lane); other layouts walk strided lanes.
Tensor softmax(const Tensor& x, std::int64_t dim);
Tensor softmax_reference(const Tensor& x, std::int64_t dim);
Tensor log_softmax(const Tensor& x, std::int64_t dim);
Tensor log_softmax_reference(const Tensor& x, std::int64_t dim);

// Sums a broadcast gradient back to `shape` (the inverse of broadcasting: leading dims and dims that were 1 in
// `shape` are summed). Returns g itself when it already has `shape`.
Tensor sum_to(const Tensor& g, const Shape& shape);

}  // namespace vigil::kernels
