// Reductions and softmax: forward through kernels, backward right below each.
//
// Backward rules see the output gradient g with the reduced dims kept as size 1 (`kept`), so that it broadcasts
// against x in the elementwise kernels.
#include <vigil/autograd/function.hpp>
#include <vigil/autograd/ops/reduce.hpp>
#include <vigil/kernels/elementwise.hpp>
#include <vigil/kernels/indexing.hpp>
#include <vigil/kernels/reduce.hpp>

#include <algorithm>
#include <array>
#include <cmath>

namespace vigil {

using kernels::map_binary;
using kernels::map_ternary;
using kernels::map_unary;

Tensor sum(const Tensor& x, std::span<const std::int64_t> dims, bool keepdim) {
  Tensor out = kernels::sum(x, dims, keepdim);
  const auto plan = kernels::plan_reduction(x.shape(), dims, keepdim, "sum");
  // d(sum)/dx = 1 everywhere: the gradient, reshaped to keep the reduced dims, broadcast back to x's shape.
  record<1>("sum", out, {&x}, [kept = plan.kept_shape, s = x.shape()](const Tensor& g, GradInputs& dx) {
    dx[0] = raw::contiguous(raw::expand(raw::reshape(g, kept), s));
  });
  return out;
}

Tensor mean(const Tensor& x, std::span<const std::int64_t> dims, bool keepdim) {
  Tensor out = kernels::mean(x, dims, keepdim);
  const auto plan = kernels::plan_reduction(x.shape(), dims, keepdim, "mean");
  // d(mean)/dx = 1/N at every reduced element.
  record<1>("mean", out, {&x}, [kept = plan.kept_shape, s = x.shape(), n = plan.reduced_count](const Tensor& g, GradInputs& dx) {
    dx[0] = map_unary(raw::expand(raw::reshape(g, kept), s),
                      [n](auto v) { return static_cast<decltype(v)>(v / static_cast<double>(n)); }, "mean backward");
  });
  return out;
}

namespace {

// max/min along a dim: the gradient goes to the selected position, dx = scatter of g at the indices into zeros.
ValuesIndices record_extremum(ValuesIndices r, const Tensor& x, std::int64_t dim, bool keepdim, const char* name) {
  const Shape kept = kernels::plan_reduction(x.shape(), std::span<const std::int64_t>(&dim, 1), keepdim, name).kept_shape;
  record<1>(name, r.values, {&x}, [s = x.shape(), kept, dim, at = saved(r.indices)](const Tensor& g, GradInputs& dx) {
    dx[0] = kernels::scatter_add(zeros(s, TensorOptions{g.dtype()}), dim, raw::reshape(at, kept), raw::reshape(g, kept));
  });
  return r;
}

// max/min of all elements: the gradient is shared evenly by the elements equal to the result (torch 1.13),
// dx = g * [x == y] / count(x == y).
Tensor record_extremum_all(Tensor out, const Tensor& x, const char* name) {
  record<1>(name, out, {&x}, [x = saved(x), y = saved(out), name](const Tensor& g, GradInputs& dx) {
    const Tensor hits = map_binary(x, y, [](auto a, auto m) { return decltype(a)(a == m ? 1 : 0); }, name);
    const Tensor count = kernels::sum(hits);
    dx[0] = map_ternary(hits, g, count, [](auto h, auto gv, auto c) { return h * gv / c; }, name);
  });
  return out;
}

}  // namespace

ValuesIndices max(const Tensor& x, std::int64_t dim, bool keepdim) {
  return record_extremum(kernels::max(x, dim, keepdim), x, dim, keepdim, "max");
}

ValuesIndices min(const Tensor& x, std::int64_t dim, bool keepdim) {
  return record_extremum(kernels::min(x, dim, keepdim), x, dim, keepdim, "min");
}

Tensor max(const Tensor& x) { return record_extremum_all(kernels::amax(x), x, "max"); }
Tensor min(const Tensor& x) { return record_extremum_all(kernels::amin(x), x, "min"); }

Tensor argmax(const Tensor& x, std::int64_t dim, bool keepdim) { return kernels::max(x, dim, keepdim).indices; }
Tensor argmin(const Tensor& x, std::int64_t dim, bool keepdim) { return kernels::min(x, dim, keepdim).indices; }
Tensor argmax(const Tensor& x) { return kernels::max(raw::reshape(x, Shape{-1}), 0).indices; }
Tensor argmin(const Tensor& x) { return kernels::min(raw::reshape(x, Shape{-1}), 0).indices; }

namespace {

// The reduced dims of a plan as an owned list, for backward lambdas (the caller's span does not outlive the call).
struct ReducedDims {
  std::array<std::int64_t, kMaxDims> dims{};
  std::size_t count = 0;
  explicit ReducedDims(const kernels::ReductionPlan& plan, int rank) {
    for (int d = 0; d < rank; ++d) {
      if (plan.reduced[static_cast<std::size_t>(d)]) dims[count++] = d;
    }
  }
  std::span<const std::int64_t> span() const { return {dims.data(), count}; }
};

// N - correction, floored at 0: the variance's divisor.
double var_divisor(std::int64_t n, std::int64_t correction) {
  return static_cast<double>(std::max<std::int64_t>(n - correction, 0));
}

}  // namespace

Tensor var(const Tensor& x, std::span<const std::int64_t> dims, std::int64_t correction, bool keepdim) {
  Tensor out = kernels::var(x, dims, correction, keepdim);
  const auto plan = kernels::plan_reduction(x.shape(), dims, keepdim, "var");
  const double divisor = var_divisor(plan.reduced_count, correction);
  record<1>("var", out, {&x}, [x = saved(x), kept = plan.kept_shape, reduced = ReducedDims(plan, x.dim()), divisor](
                                  const Tensor& g, GradInputs& dx) {
    // d(var)/dx_i = 2 (x_i - mean) / (N - correction)
    const Tensor mu = kernels::mean(x, reduced.span(), true);
    dx[0] = map_ternary(x, mu, raw::reshape(g, kept), [divisor](auto xv, auto m, auto gv) {
      return static_cast<decltype(xv)>(gv * 2 * (xv - m) / divisor);
    }, "var backward");
  });
  return out;
}

Tensor std(const Tensor& x, std::span<const std::int64_t> dims, std::int64_t correction, bool keepdim) {
  Tensor out = map_unary(kernels::var(x, dims, correction, keepdim), [](auto v) { return std::sqrt(v); }, "std");
  const auto plan = kernels::plan_reduction(x.shape(), dims, keepdim, "std");
  const double divisor = var_divisor(plan.reduced_count, correction);
  record<1>("std", out, {&x}, [x = saved(x), y = saved(out), kept = plan.kept_shape, reduced = ReducedDims(plan, x.dim()),
                               divisor](const Tensor& g, GradInputs& dx) {
    // d(std)/dx_i = d(var)/dx_i / (2 std) = (x_i - mean) / ((N - correction) std); 0 where std == 0, as torch.
    const Tensor mu = kernels::mean(x, reduced.span(), true);
    const Tensor scale = map_binary(raw::reshape(g, kept), raw::reshape(y, kept), [divisor](auto gv, auto sv) {
      return sv == 0 ? decltype(gv)(0) : static_cast<decltype(gv)>(gv / (sv * divisor));
    }, "std backward");
    dx[0] = map_ternary(x, mu, scale, [](auto xv, auto m, auto sc) { return (xv - m) * sc; }, "std backward");
  });
  return out;
}

Tensor logsumexp(const Tensor& x, std::span<const std::int64_t> dims, bool keepdim) {
  Tensor out = kernels::logsumexp(x, dims, keepdim);
  const Shape kept = kernels::plan_reduction(x.shape(), dims, keepdim, "logsumexp").kept_shape;
  record<1>("logsumexp", out, {&x}, [x = saved(x), y = saved(out), kept](const Tensor& g, GradInputs& dx) {
    // d(logsumexp)/dx_i = exp(x_i - y) = softmax(x)_i
    dx[0] = map_ternary(x, raw::reshape(y, kept), raw::reshape(g, kept),
                        [](auto xv, auto yv, auto gv) { return gv * std::exp(xv - yv); }, "logsumexp backward");
  });
  return out;
}

Tensor softmax(const Tensor& x, std::int64_t dim) {
  Tensor out = kernels::softmax(x, dim);
  record<1>("softmax", out, {&x}, [y = saved(out), dim](const Tensor& g, GradInputs& dx) {
    // dx_i = y_i (g_i - sum_j g_j y_j): the Jacobian diag(y) - y y^T applied to g.
    const Tensor gy = map_binary(g, y, [](auto gv, auto yv) { return gv * yv; }, "softmax backward");
    const Tensor dot = kernels::sum(gy, std::span<const std::int64_t>(&dim, 1), true);
    dx[0] = map_ternary(y, g, dot, [](auto yv, auto gv, auto s) { return yv * (gv - s); }, "softmax backward");
  });
  return out;
}

Tensor log_softmax(const Tensor& x, std::int64_t dim) {
  Tensor out = kernels::log_softmax(x, dim);
  record<1>("log_softmax", out, {&x}, [y = saved(out), dim](const Tensor& g, GradInputs& dx) {
    // dx_i = g_i - softmax_i sum_j g_j, with softmax = exp(log_softmax).
    const Tensor total = kernels::sum(g, std::span<const std::int64_t>(&dim, 1), true);
    dx[0] = map_ternary(g, y, total, [](auto gv, auto yv, auto s) { return gv - std::exp(yv) * s; }, "log_softmax backward");
  });
  return out;
}

}  // namespace vigil
