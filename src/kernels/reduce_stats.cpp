// mean, max/min (values and indices), amax/amin, var and logsumexp, each with its naive twin.
//
// Fast versions fold each output's block with detail::for_each_block (outputs split statically across threads);
// the twins walk x once per pass in row-major order through accumulation strides. Both fold every output's
// elements in the same order with the same arithmetic, so they agree to the last bit.
#include "reduce_walk.hpp"

#include <cmath>
#include <limits>
#include <vector>

namespace vigil::kernels {

using detail::accumulation_strides;
using detail::for_each_block;
using detail::for_each_in_block;
using detail::plan_walk;
using detail::ReductionWalk;

namespace {

std::span<const std::int64_t> one_dim(const std::int64_t& dim) { return {&dim, 1}; }

// `v` replaces `best` as the running max (or min): strictly greater (less) keeps the first of equal values; a NaN
// wins over any number and the first NaN stays.
template <bool IsMax, class T>
bool improves(T v, T best) {
  if (std::isnan(v)) return !std::isnan(best);
  return IsMax ? v > best : v < best;
}

void check_not_empty(const ReductionPlan& plan, const Shape& shape, const char* op) {
  VIGIL_CHECK(plan.reduced_count > 0, IndexError,
              "{}: cannot reduce over an empty dim (input shape {}); the result would have no value", op, shape.str());
}

template <class T>
Tensor from_accumulators(const std::vector<T>& acc, const ReductionPlan& plan, DType dtype) {
  Tensor out = empty(plan.out_shape, TensorOptions{dtype});
  std::copy(acc.begin(), acc.end(), out.data<T>());
  return out;
}

// ---- max / min along one dim, with indices ----

template <bool IsMax>
ValuesIndices extremum_with_index(const Tensor& x, std::int64_t dim, bool keepdim, const char* op) {
  const ReductionPlan plan = plan_reduction(x.shape(), one_dim(dim), keepdim, op);
  check_not_empty(plan, x.shape(), op);
  return dispatch_floating(x.dtype(), op, [&](auto zero) {
    using T = decltype(zero);
    ValuesIndices r{empty(plan.out_shape, TensorOptions{x.dtype()}), empty(plan.out_shape, TensorOptions{DType::Int64})};
    const T* px = x.data<T>();
    T* pv = r.values.template data<T>();
    std::int64_t* pi = r.indices.template data<std::int64_t>();
    const ReductionWalk w = plan_walk(x.shape(), x.strides(), plan);
    const std::int64_t stride = w.run_stride();
    for_each_block(w, [&](std::int64_t o, std::int64_t start) {
      T best = px[start];
      std::int64_t at = 0;
      for (std::int64_t k = 1; k < w.block_size; ++k) {
        const T v = px[start + k * stride];
        if (improves<IsMax>(v, best)) {
          best = v;
          at = k;
        }
      }
      pv[o] = best;
      pi[o] = at;
    });
    return r;
  });
}

template <bool IsMax>
ValuesIndices extremum_with_index_reference(const Tensor& x, std::int64_t dim, bool keepdim, const char* op) {
  const ReductionPlan plan = plan_reduction(x.shape(), one_dim(dim), keepdim, op);
  check_not_empty(plan, x.shape(), op);
  return dispatch_floating(x.dtype(), op, [&](auto zero) {
    using T = decltype(zero);
    const auto n = static_cast<std::size_t>(plan.kept_shape.numel());
    std::vector<T> best(n);
    std::vector<std::int64_t> at(n, 0);
    // Third walk: strides that yield the position along `dim` itself (1 along dim, 0 elsewhere).
    Strides position = Shape::filled(x.dim(), 0);
    if (x.dim() > 0) position[normalize_dim(dim, x.dim(), op)] = 1;
    const T* px = x.data<T>();
    for_each_strided<3>(x.shape(), {x.strides(), accumulation_strides(plan), position},
                        [&](std::int64_t ox, std::int64_t oa, std::int64_t k) {
                          const auto a = static_cast<std::size_t>(oa);
                          if (k == 0 || improves<IsMax>(px[ox], best[a])) {
                            best[a] = px[ox];
                            at[a] = k;
                          }
                        });
    return ValuesIndices{from_accumulators(best, plan, x.dtype()), from_accumulators(at, plan, DType::Int64)};
  });
}

// ---- amax / amin over dims ----

template <bool IsMax>
Tensor extremum(const Tensor& x, std::span<const std::int64_t> dims, bool keepdim, const char* op) {
  const ReductionPlan plan = plan_reduction(x.shape(), dims, keepdim, op);
  check_not_empty(plan, x.shape(), op);
  return dispatch_floating(x.dtype(), op, [&](auto zero) {
    using T = decltype(zero);
    Tensor out = empty(plan.out_shape, TensorOptions{x.dtype()});
    const T* px = x.data<T>();
    T* po = out.data<T>();
    const ReductionWalk w = plan_walk(x.shape(), x.strides(), plan);
    for_each_block(w, [&](std::int64_t o, std::int64_t start) {
      T best = px[start];
      for_each_in_block(w, start, [&](std::int64_t i) {
        if (improves<IsMax>(px[i], best)) best = px[i];
      });
      po[o] = best;
    });
    return out;
  });
}

template <bool IsMax, class T>
std::vector<T> extremum_reference_values(const Tensor& x, const ReductionPlan& plan) {
  std::vector<T> best(static_cast<std::size_t>(plan.kept_shape.numel()));
  std::vector<bool> seen(best.size(), false);
  const T* px = x.data<T>();
  for_each_strided<2>(x.shape(), {x.strides(), accumulation_strides(plan)}, [&](std::int64_t ox, std::int64_t oa) {
    const auto a = static_cast<std::size_t>(oa);
    if (!seen[a] || improves<IsMax>(px[ox], best[a])) best[a] = px[ox];
    seen[a] = true;
  });
  return best;
}

template <bool IsMax>
Tensor extremum_reference(const Tensor& x, std::span<const std::int64_t> dims, bool keepdim, const char* op) {
  const ReductionPlan plan = plan_reduction(x.shape(), dims, keepdim, op);
  check_not_empty(plan, x.shape(), op);
  return dispatch_floating(x.dtype(), op, [&](auto zero) {
    using T = decltype(zero);
    return from_accumulators(extremum_reference_values<IsMax, T>(x, plan), plan, x.dtype());
  });
}

// ---- var ----

// Divisor of the variance: N - correction, floored at 0 (torch's rule).
double var_divisor(const ReductionPlan& plan, std::int64_t correction) {
  return static_cast<double>(std::max<std::int64_t>(plan.reduced_count - correction, 0));
}

// ---- logsumexp ----

// The shift of the stable form: the max, or 0 when the max is infinite (all -inf lanes stay -inf, not NaN).
template <class T>
T logsumexp_shift(T max) {
  return std::isinf(max) ? T(0) : max;
}

}  // namespace

// ---- mean ----

Tensor mean(const Tensor& x, std::span<const std::int64_t> dims, bool keepdim) {
  const ReductionPlan plan = plan_reduction(x.shape(), dims, keepdim, "mean");
  const Tensor total = sum(x, dims, keepdim);
  return dispatch_floating(x.dtype(), "mean", [&](auto zero) {
    using T = decltype(zero);
    T* p = total.data<T>();
    const auto count = static_cast<double>(plan.reduced_count);
    for (std::int64_t i = 0; i < total.numel(); ++i) p[i] = static_cast<T>(p[i] / count);
    return total;
  });
}

Tensor mean_reference(const Tensor& x, std::span<const std::int64_t> dims, bool keepdim) {
  const ReductionPlan plan = plan_reduction(x.shape(), dims, keepdim, "mean");
  const Tensor total = sum_reference(x, dims, keepdim);
  return dispatch_floating(x.dtype(), "mean", [&](auto zero) {
    using T = decltype(zero);
    T* p = total.data<T>();
    for (std::int64_t i = 0; i < total.numel(); ++i) p[i] = static_cast<T>(p[i] / static_cast<double>(plan.reduced_count));
    return total;
  });
}

// ---- max / min ----

ValuesIndices max(const Tensor& x, std::int64_t dim, bool keepdim) { return extremum_with_index<true>(x, dim, keepdim, "max"); }
ValuesIndices min(const Tensor& x, std::int64_t dim, bool keepdim) { return extremum_with_index<false>(x, dim, keepdim, "min"); }
ValuesIndices max_reference(const Tensor& x, std::int64_t dim, bool keepdim) {
  return extremum_with_index_reference<true>(x, dim, keepdim, "max");
}
ValuesIndices min_reference(const Tensor& x, std::int64_t dim, bool keepdim) {
  return extremum_with_index_reference<false>(x, dim, keepdim, "min");
}

Tensor amax(const Tensor& x, std::span<const std::int64_t> dims, bool keepdim) { return extremum<true>(x, dims, keepdim, "amax"); }
Tensor amin(const Tensor& x, std::span<const std::int64_t> dims, bool keepdim) { return extremum<false>(x, dims, keepdim, "amin"); }
Tensor amax_reference(const Tensor& x, std::span<const std::int64_t> dims, bool keepdim) {
  return extremum_reference<true>(x, dims, keepdim, "amax");
}
Tensor amin_reference(const Tensor& x, std::span<const std::int64_t> dims, bool keepdim) {
  return extremum_reference<false>(x, dims, keepdim, "amin");
}

// ---- var ----

Tensor var(const Tensor& x, std::span<const std::int64_t> dims, std::int64_t correction, bool keepdim) {
  const ReductionPlan plan = plan_reduction(x.shape(), dims, keepdim, "var");
  const double divisor = var_divisor(plan, correction);
  return dispatch_floating(x.dtype(), "var", [&](auto zero) {
    using T = decltype(zero);
    Tensor out = empty(plan.out_shape, TensorOptions{x.dtype()});
    const T* px = x.data<T>();
    T* po = out.data<T>();
    const ReductionWalk w = plan_walk(x.shape(), x.strides(), plan);
    for_each_block(w, [&](std::int64_t o, std::int64_t start) {
      double total = 0;
      for_each_in_block(w, start, [&](std::int64_t i) { total += px[i]; });
      const double mu = total / static_cast<double>(plan.reduced_count);
      double squares = 0;
      for_each_in_block(w, start, [&](std::int64_t i) { squares += (px[i] - mu) * (px[i] - mu); });
      po[o] = static_cast<T>(squares / divisor);
    });
    return out;
  });
}

Tensor var_reference(const Tensor& x, std::span<const std::int64_t> dims, std::int64_t correction, bool keepdim) {
  const ReductionPlan plan = plan_reduction(x.shape(), dims, keepdim, "var");
  const double divisor = var_divisor(plan, correction);
  return dispatch_floating(x.dtype(), "var", [&](auto zero) {
    using T = decltype(zero);
    const auto n = static_cast<std::size_t>(plan.kept_shape.numel());
    std::vector<double> mu(n, 0.0), squares(n, 0.0);
    const T* px = x.data<T>();
    const Strides acc = accumulation_strides(plan);
    for_each_strided<2>(x.shape(), {x.strides(), acc},
                        [&](std::int64_t ox, std::int64_t oa) { mu[static_cast<std::size_t>(oa)] += px[ox]; });
    for (double& m : mu) m /= static_cast<double>(plan.reduced_count);
    for_each_strided<2>(x.shape(), {x.strides(), acc}, [&](std::int64_t ox, std::int64_t oa) {
      const double d = px[ox] - mu[static_cast<std::size_t>(oa)];
      squares[static_cast<std::size_t>(oa)] += d * d;
    });
    std::vector<T> out(n);
    for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<T>(squares[i] / divisor);
    return from_accumulators(out, plan, x.dtype());
  });
}

// ---- logsumexp ----

Tensor logsumexp(const Tensor& x, std::span<const std::int64_t> dims, bool keepdim) {
  const ReductionPlan plan = plan_reduction(x.shape(), dims, keepdim, "logsumexp");
  return dispatch_floating(x.dtype(), "logsumexp", [&](auto zero) {
    using T = decltype(zero);
    Tensor out = empty(plan.out_shape, TensorOptions{x.dtype()});
    const T* px = x.data<T>();
    T* po = out.data<T>();
    const ReductionWalk w = plan_walk(x.shape(), x.strides(), plan);
    for_each_block(w, [&](std::int64_t o, std::int64_t start) {
      T best = -std::numeric_limits<T>::infinity();
      for_each_in_block(w, start, [&](std::int64_t i) {
        if (improves<true>(px[i], best)) best = px[i];
      });
      const T shift = logsumexp_shift(best);
      double total = 0;
      for_each_in_block(w, start, [&](std::int64_t i) { total += std::exp(px[i] - shift); });
      po[o] = static_cast<T>(std::log(total) + shift);
    });
    return out;
  });
}

Tensor logsumexp_reference(const Tensor& x, std::span<const std::int64_t> dims, bool keepdim) {
  const ReductionPlan plan = plan_reduction(x.shape(), dims, keepdim, "logsumexp");
  return dispatch_floating(x.dtype(), "logsumexp", [&](auto zero) {
    using T = decltype(zero);
    const auto n = static_cast<std::size_t>(plan.kept_shape.numel());
    std::vector<T> shift(n, -std::numeric_limits<T>::infinity());
    if (plan.reduced_count > 0) shift = extremum_reference_values<true, T>(x, plan);
    for (T& s : shift) s = logsumexp_shift(s);
    std::vector<double> total(n, 0.0);
    const T* px = x.data<T>();
    for_each_strided<2>(x.shape(), {x.strides(), accumulation_strides(plan)}, [&](std::int64_t ox, std::int64_t oa) {
      const auto a = static_cast<std::size_t>(oa);
      total[a] += std::exp(px[ox] - shift[a]);
    });
    std::vector<T> out(n);
    for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<T>(std::log(total[i]) + shift[i]);
    return from_accumulators(out, plan, x.dtype());
  });
}

}  // namespace vigil::kernels
