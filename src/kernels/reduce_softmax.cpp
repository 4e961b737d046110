// softmax and log_softmax along a dim, with naive twins.
//
// Per lane (the elements along `dim` for one index of the other dims), three passes:
//   m = max_j x_j;   s = sum_j exp(x_j - m)  (in double);
//   softmax:      y_i = exp(x_i - m) / s            log_softmax:  y_i = (x_i - m) - log(s)
// Subtracting m keeps every exp() in (0, 1], so logits of +-1e4 (or any finite size) give finite values.
#include "reduce_walk.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace vigil::kernels {
namespace {

// One lane: n elements at x[k * sx], written to y[k * sy]. With sx = sy = 1 (the fast path's rows) the passes are
// plain unit-stride loops.
template <bool Log, class T>
void softmax_lane(const T* x, std::int64_t sx, T* y, std::int64_t sy, std::int64_t n) {
  T m = x[0];
  for (std::int64_t k = 1; k < n; ++k) m = std::max(m, x[k * sx]);
  double s = 0;
  for (std::int64_t k = 0; k < n; ++k) {
    const T e = std::exp(x[k * sx] - m);
    if constexpr (!Log) y[k * sy] = e;
    s += e;
  }
  if constexpr (Log) {
    const double log_s = std::log(s);
    for (std::int64_t k = 0; k < n; ++k) y[k * sy] = static_cast<T>((x[k * sx] - m) - log_s);
  } else {
    for (std::int64_t k = 0; k < n; ++k) y[k * sy] = static_cast<T>(y[k * sy] / s);
  }
}

template <bool Log>
Tensor softmax_fast(const Tensor& x, std::int64_t dim, const char* op) {
  const std::int64_t d = normalize_dim(dim, x.dim(), op);
  return dispatch_floating(x.dtype(), op, [&](auto zero) {
    using T = decltype(zero);
    Tensor y = empty(x.shape(), TensorOptions{x.dtype()});
    if (x.numel() == 0) return y;
    const T* px = x.data<T>();
    T* py = y.data<T>();
    if (x.is_contiguous() && d == std::max(x.dim() - 1, 0)) {
      const std::int64_t n = x.dim() == 0 ? 1 : x.shape().back();
      const std::int64_t rows = x.numel() / n;
#pragma omp parallel for schedule(static) if (rows > 1 && x.numel() >= kParallelGrain)
      for (std::int64_t r = 0; r < rows; ++r) softmax_lane<Log>(px + r * n, 1, py + r * n, 1, n);
      return y;
    }
    // General layout: walk x's lanes and y's (row-major) lanes with one plan; they agree on the lane index o.
    const ReductionPlan plan = plan_reduction(x.shape(), std::span<const std::int64_t>(&d, 1), true, op);
    const detail::ReductionWalk wx = detail::plan_walk(x.shape(), x.strides(), plan);
    const detail::ReductionWalk wy = detail::plan_walk(y.shape(), y.strides(), plan);
    const std::int64_t n = plan.reduced_count, sx = wx.run_stride(), sy = wy.run_stride();
    detail::for_each_block(wx, [&](std::int64_t o, std::int64_t start) {
      softmax_lane<Log>(px + start, sx, py + wy.block_start(o), sy, n);
    });
    return y;
  });
}

// Naive twin: whole-tensor passes in row-major order, lane statistics kept per output of a keepdim reduction.
template <bool Log>
Tensor softmax_naive(const Tensor& x, std::int64_t dim, const char* op) {
  const std::int64_t d = normalize_dim(dim, x.dim(), op);
  const ReductionPlan plan = plan_reduction(x.shape(), std::span<const std::int64_t>(&d, 1), true, op);
  return dispatch_floating(x.dtype(), op, [&](auto zero) {
    using T = decltype(zero);
    Tensor y = empty(x.shape(), TensorOptions{x.dtype()});
    const auto lanes = static_cast<std::size_t>(plan.kept_shape.numel());
    std::vector<T> m(lanes);
    std::vector<bool> seen(lanes, false);
    std::vector<double> s(lanes, 0.0);
    const T* px = x.data<T>();
    T* py = y.data<T>();
    const Strides lane = detail::accumulation_strides(plan);
    const std::array<Strides, 3> walk{x.strides(), lane, y.strides()};
    for_each_strided<3>(x.shape(), walk, [&](std::int64_t ox, std::int64_t ol, std::int64_t) {
      const auto l = static_cast<std::size_t>(ol);
      if (!seen[l] || px[ox] > m[l]) m[l] = px[ox];
      seen[l] = true;
    });
    for_each_strided<3>(x.shape(), walk, [&](std::int64_t ox, std::int64_t ol, std::int64_t) {
      const auto l = static_cast<std::size_t>(ol);
      s[l] += static_cast<T>(std::exp(px[ox] - m[l]));
    });
    for_each_strided<3>(x.shape(), walk, [&](std::int64_t ox, std::int64_t ol, std::int64_t oy) {
      const auto l = static_cast<std::size_t>(ol);
      const T shifted = px[ox] - m[l];
      if constexpr (Log) {
        py[oy] = static_cast<T>(shifted - std::log(s[l]));
      } else {
        py[oy] = static_cast<T>(static_cast<T>(std::exp(shifted)) / s[l]);
      }
    });
    return y;
  });
}

}  // namespace

Tensor softmax(const Tensor& x, std::int64_t dim) { return softmax_fast<false>(x, dim, "softmax"); }
Tensor softmax_reference(const Tensor& x, std::int64_t dim) { return softmax_naive<false>(x, dim, "softmax"); }
Tensor log_softmax(const Tensor& x, std::int64_t dim) { return softmax_fast<true>(x, dim, "log_softmax"); }
Tensor log_softmax_reference(const Tensor& x, std::int64_t dim) { return softmax_naive<true>(x, dim, "log_softmax"); }

}  // namespace vigil::kernels
