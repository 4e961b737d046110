// How the fast reduction kernels walk a strided tensor (private to src/kernels).
//
// A reduction splits x's dims into kept dims (one output each) and reduced dims (one block of elements per
// output). Size-1 dims are dropped and adjacent dims of the same kind whose strides chain (stride[d] ==
// stride[d+1] * shape[d+1]) are merged, so the block of a contiguous x reduced over trailing dims is one run of
// stride 1. Merging keeps row-major order, so output o is the o-th kept index in row-major order whatever the
// layout: two tensors of one shape (x and a result) walked with the same plan agree on o.
#pragma once

#include <vigil/kernels/dispatch.hpp>
#include <vigil/kernels/reduce.hpp>
#include <vigil/tensor/strided.hpp>

namespace vigil::kernels::detail {

struct ReductionWalk {
  Shape kept_shape;
  Strides kept_strides;
  Shape block_shape;
  Strides block_strides;
  std::int64_t outputs = 1;     // product of kept_shape
  std::int64_t block_size = 1;  // product of block_shape

  // Element offset (from x's first element) where output o's block starts.
  std::int64_t block_start(std::int64_t o) const {
    std::int64_t offset = 0;
    for (int d = kept_shape.size() - 1; d >= 0; --d) {
      offset += (o % kept_shape[d]) * kept_strides[d];
      o /= kept_shape[d];
    }
    return offset;
  }
  // The stride of a block that is a single run (0 when the block is one element).
  std::int64_t run_stride() const { return block_shape.size() == 1 ? block_strides[0] : 0; }
};

ReductionWalk plan_walk(const Shape& shape, const Strides& strides, const ReductionPlan& plan);

// Calls f(o, block_start) for every output, outputs split across threads with a static schedule.
template <class F>
void for_each_block(const ReductionWalk& w, F&& f) {
#pragma omp parallel for schedule(static) if (w.outputs > 1 && w.outputs * w.block_size >= kParallelGrain)
  for (std::int64_t o = 0; o < w.outputs; ++o) f(o, w.block_start(o));
}

// Calls f(offset) for every element of the block starting at `start`, in row-major order.
template <class F>
void for_each_in_block(const ReductionWalk& w, std::int64_t start, F&& f) {
  if (w.block_shape.size() <= 1) {
    const std::int64_t stride = w.run_stride();
    for (std::int64_t k = 0; k < w.block_size; ++k) f(start + k * stride);
    return;
  }
  for_each_strided<1>(w.block_shape, {w.block_strides}, [&](std::int64_t offset) { f(start + offset); });
}

// Strides that map every index of x's shape to its output element (row-major over the plan's kept_shape): 0 along
// reduced dims. The naive twins accumulate through these.
inline Strides accumulation_strides(const ReductionPlan& plan) {
  Strides s = plan.kept_shape.contiguous_strides();
  for (int d = 0; d < s.size(); ++d) {
    if (plan.reduced[static_cast<std::size_t>(d)]) s[d] = 0;
  }
  return s;
}

}  // namespace vigil::kernels::detail
