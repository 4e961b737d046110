// sum and sum_to, with a naive twin.
#include "reduce_walk.hpp"

#include <vector>

namespace vigil::kernels {

ReductionPlan plan_reduction(const Shape& shape, std::span<const std::int64_t> dims, bool keepdim, const char* op) {
  ReductionPlan plan;
  const int rank = shape.size();
  if (dims.empty()) {
    for (int d = 0; d < rank; ++d) plan.reduced[static_cast<std::size_t>(d)] = true;
  }
  for (auto d : dims) {
    const int nd = normalize_dim(d, rank, op);
    VIGIL_CHECK(!plan.reduced[static_cast<std::size_t>(nd)] || dims.empty(), ShapeError,
                "{}: dim {} appears twice in the reduction dims for shape {}", op, nd, shape.str());
    plan.reduced[static_cast<std::size_t>(nd)] = true;
  }
  plan.kept_shape = shape;
  for (int d = 0; d < rank; ++d) {
    if (!plan.reduced[static_cast<std::size_t>(d)]) {
      plan.out_shape.push_back(shape[d]);
      continue;
    }
    plan.reduced_count *= shape[d];
    plan.kept_shape[d] = 1;
    if (keepdim) plan.out_shape.push_back(1);
  }
  return plan;
}

namespace {

template <class T>
Tensor finish(const std::vector<double>& acc, const ReductionPlan& plan, DType dtype) {
  Tensor out = empty(plan.out_shape, TensorOptions{dtype});
  T* po = out.data<T>();
  for (std::size_t i = 0; i < acc.size(); ++i) po[i] = static_cast<T>(acc[i]);
  return out;
}

}  // namespace

Tensor sum_reference(const Tensor& x, std::span<const std::int64_t> dims, bool keepdim) {
  const ReductionPlan plan = plan_reduction(x.shape(), dims, keepdim, "sum");
  return dispatch_floating(x.dtype(), "sum", [&](auto zero) {
    using T = decltype(zero);
    std::vector<double> acc(static_cast<std::size_t>(plan.kept_shape.numel()), 0.0);
    const T* px = x.data<T>();
    for_each_strided<2>(x.shape(), {x.strides(), detail::accumulation_strides(plan)},
                        [&](std::int64_t ox, std::int64_t oa) { acc[static_cast<std::size_t>(oa)] += px[ox]; });
    return finish<T>(acc, plan, x.dtype());
  });
}

Tensor sum(const Tensor& x, std::span<const std::int64_t> dims, bool keepdim) {
  const ReductionPlan plan = plan_reduction(x.shape(), dims, keepdim, "sum");
  return dispatch_floating(x.dtype(), "sum", [&](auto zero) -> Tensor {
    using T = decltype(zero);
    if (!x.is_contiguous()) return sum_reference(x, dims, keepdim);
    const T* px = x.data<T>();
    const std::int64_t outer_n = plan.kept_shape.numel();
    // Layouts with a fast path (size-1 dims do not matter): reduced dims all trailing (each output sums a
    // contiguous run) or all leading (the outputs are columns of an [inner, outer_n] matrix).
    const int rank = x.dim();
    int first_reduced = rank, last_reduced = -1, first_kept = rank, last_kept = -1;
    for (int d = 0; d < rank; ++d) {
      if (x.shape()[d] == 1) continue;
      if (plan.reduced[static_cast<std::size_t>(d)]) {
        first_reduced = std::min(first_reduced, d);
        last_reduced = d;
      } else {
        first_kept = std::min(first_kept, d);
        last_kept = d;
      }
    }
    Tensor out = empty(plan.out_shape, TensorOptions{x.dtype()});
    T* po = out.data<T>();
    const std::int64_t inner = plan.reduced_count;
    if (last_kept < first_reduced) {
#pragma omp parallel for schedule(static) if (outer_n * inner >= kParallelGrain)
      for (std::int64_t o = 0; o < outer_n; ++o) {
        double acc = 0;
        const T* row = px + o * inner;
        for (std::int64_t i = 0; i < inner; ++i) acc += row[i];
        po[o] = static_cast<T>(acc);
      }
      return out;
    }
    if (last_reduced < first_kept) {
      constexpr std::int64_t kBlock = 256;
      const std::int64_t blocks = (outer_n + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(static) if (outer_n * inner >= kParallelGrain)
      for (std::int64_t b = 0; b < blocks; ++b) {
        const std::int64_t c0 = b * kBlock, c1 = std::min(outer_n, c0 + kBlock);
        double acc[kBlock] = {};
        for (std::int64_t r = 0; r < inner; ++r) {
          const T* row = px + r * outer_n;
          for (std::int64_t c = c0; c < c1; ++c) acc[c - c0] += row[c];
        }
        for (std::int64_t c = c0; c < c1; ++c) po[c] = static_cast<T>(acc[c - c0]);
      }
      return out;
    }
    return sum_reference(x, dims, keepdim);
  });
}

Tensor sum_to(const Tensor& g, const Shape& shape) {
  if (g.shape() == shape) return g;
  VIGIL_CHECK(broadcast_shapes(shape, g.shape(), "sum_to") == g.shape(), ShapeError,
              "sum_to: shape {} does not broadcast to {}", shape.str(), g.shape().str());
  const int lead = g.dim() - shape.size();
  std::array<std::int64_t, kMaxDims> dims{};
  std::size_t n = 0;
  for (int d = 0; d < g.dim(); ++d) {
    if (d < lead || (shape[d - lead] == 1 && g.shape()[d] != 1)) dims[n++] = d;
  }
  if (n == 0) return raw::reshape(g, shape);
  return raw::reshape(sum(g, std::span<const std::int64_t>(dims.data(), n), true), shape);
}

}  // namespace vigil::kernels
