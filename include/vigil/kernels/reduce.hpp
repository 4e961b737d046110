// Reductions over dims. Shapes: x [d0, ..., dk]; `dims` lists the dims to reduce (empty = all); the result drops
// them, or keeps them as size 1 when keepdim. Sums accumulate in double, so a float32 sum of a million terms is
// exact to float32 rounding (PyTorch uses a cascade sum for the same reason).
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

// Sums a broadcast gradient back to `shape` (the inverse of broadcasting: leading dims and dims that were 1 in
// `shape` are summed). Returns g itself when it already has `shape`.
Tensor sum_to(const Tensor& g, const Shape& shape);

}  // namespace vigil::kernels
