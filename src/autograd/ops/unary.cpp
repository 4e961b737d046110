// Pointwise math: each op's forward, then its backward right below it. Formulas and edge cases follow PyTorch
// 1.13's derivatives.yaml (the gradient at kinks, NaN handling), so golden values match exactly.
#include <vigil/autograd/function.hpp>
#include <vigil/autograd/ops/unary.hpp>
#include <vigil/kernels/elementwise.hpp>
#include <vigil/kernels/reduce.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

namespace vigil {

using kernels::map_binary;
using kernels::map_ternary;
using kernels::map_unary;
using kernels::sum_to;

namespace {

// sign(v) as PyTorch computes it: (0 < v) - (v < 0), so NaN gives 0.
template <class T>
T sign_of(T v) {
  return static_cast<T>((T(0) < v) - (v < T(0)));
}

}  // namespace

Tensor exp(const Tensor& x) {
  Tensor out = map_unary(x, [](auto v) { return std::exp(v); }, "exp");
  record<1>("exp", out, {&x}, [y = saved(out)](const Tensor& g, GradInputs& dx) {
    dx[0] = map_binary(g, y, [](auto gv, auto yv) { return gv * yv; }, "exp backward");  // d(e^x) = e^x
  });
  return out;
}

Tensor log(const Tensor& x) {
  Tensor out = map_unary(x, [](auto v) { return std::log(v); }, "log");
  record<1>("log", out, {&x}, [x = saved(x)](const Tensor& g, GradInputs& dx) {
    dx[0] = map_binary(g, x, [](auto gv, auto xv) { return gv / xv; }, "log backward");
  });
  return out;
}

Tensor log1p(const Tensor& x) {
  Tensor out = map_unary(x, [](auto v) { return std::log1p(v); }, "log1p");
  record<1>("log1p", out, {&x}, [x = saved(x)](const Tensor& g, GradInputs& dx) {
    dx[0] = map_binary(g, x, [](auto gv, auto xv) { return gv / (xv + decltype(xv)(1)); }, "log1p backward");
  });
  return out;
}

Tensor sqrt(const Tensor& x) {
  Tensor out = map_unary(x, [](auto v) { return std::sqrt(v); }, "sqrt");
  // d sqrt(x) = 1 / (2 sqrt(x)), from the saved result.
  record<1>("sqrt", out, {&x}, [y = saved(out)](const Tensor& g, GradInputs& dx) {
    dx[0] = map_binary(g, y, [](auto gv, auto yv) { return gv / (decltype(yv)(2) * yv); }, "sqrt backward");
  });
  return out;
}

Tensor rsqrt(const Tensor& x) {
  Tensor out = map_unary(x, [](auto v) { return decltype(v)(1) / std::sqrt(v); }, "rsqrt");
  // d x^(-1/2) = -1/2 x^(-3/2) = -1/2 y^3.
  record<1>("rsqrt", out, {&x}, [y = saved(out)](const Tensor& g, GradInputs& dx) {
    dx[0] = map_binary(g, y, [](auto gv, auto yv) { return decltype(yv)(-0.5) * gv * yv * yv * yv; }, "rsqrt backward");
  });
  return out;
}

Tensor abs(const Tensor& x) {
  Tensor out = map_unary(x, [](auto v) { return std::abs(v); }, "abs");
  record<1>("abs", out, {&x}, [x = saved(x)](const Tensor& g, GradInputs& dx) {
    dx[0] = map_binary(g, x, [](auto gv, auto xv) { return gv * sign_of(xv); }, "abs backward");
  });
  return out;
}

Tensor sign(const Tensor& x) {
  Tensor out = map_unary(x, [](auto v) { return sign_of(v); }, "sign");
  // Piecewise constant: the gradient is 0 (a zero tensor rather than none, so x.grad exists as in PyTorch).
  record<1>("sign", out, {&x}, [](const Tensor& g, GradInputs& dx) {
    dx[0] = zeros(g.shape(), TensorOptions{g.dtype()});
  });
  return out;
}

Tensor clamp(const Tensor& x, std::optional<double> min, std::optional<double> max) {
  VIGIL_CHECK(min.has_value() || max.has_value(), Error,
              "clamp: at least one of min and max must be given (input of shape {})", x.shape().str());
  // A missing bound is an infinite one: the same comparisons then serve all three forms.
  const double lo = min.value_or(-std::numeric_limits<double>::infinity());
  const double hi = max.value_or(std::numeric_limits<double>::infinity());
  Tensor out = map_unary(x, [lo, hi](auto v) {
    using T = decltype(v);
    if (std::isnan(v)) return v;
    return std::min(std::max(v, static_cast<T>(lo)), static_cast<T>(hi));
  }, "clamp");
  // Bounds included: d/dx = 1 where min <= x <= max (PyTorch's clamp_backward), so a value sitting exactly on a
  // bound still passes its gradient.
  record<1>("clamp", out, {&x}, [x = saved(x), lo, hi](const Tensor& g, GradInputs& dx) {
    dx[0] = map_binary(g, x, [lo, hi](auto gv, auto xv) {
      using T = decltype(xv);
      return xv >= static_cast<T>(lo) && xv <= static_cast<T>(hi) ? gv : T(0);
    }, "clamp backward");
  });
  return out;
}

Tensor minimum(const Tensor& a, const Tensor& b) {
  Tensor out = map_binary(a, b, [](auto x, auto y) { return x < y || std::isnan(x) ? x : y; }, "minimum");
  // Ties give each input half the gradient; otherwise the smaller one takes it all (PyTorch 1.13).
  record<2>("minimum", out, {&a, &b}, [a = saved(a), b = saved(b)](const Tensor& g, GradInputs& dx) {
    if (dx.needs(0)) {
      dx[0] = sum_to(map_ternary(g, a, b, [](auto gv, auto av, auto bv) {
        using T = decltype(gv);
        return av == bv ? gv / T(2) : (av > bv ? T(0) : gv);
      }, "minimum backward"), a.shape());
    }
    if (dx.needs(1)) {
      dx[1] = sum_to(map_ternary(g, a, b, [](auto gv, auto av, auto bv) {
        using T = decltype(gv);
        return av == bv ? gv / T(2) : (av < bv ? T(0) : gv);
      }, "minimum backward"), b.shape());
    }
  });
  return out;
}

Tensor maximum(const Tensor& a, const Tensor& b) {
  Tensor out = map_binary(a, b, [](auto x, auto y) { return x > y || std::isnan(x) ? x : y; }, "maximum");
  record<2>("maximum", out, {&a, &b}, [a = saved(a), b = saved(b)](const Tensor& g, GradInputs& dx) {
    if (dx.needs(0)) {
      dx[0] = sum_to(map_ternary(g, a, b, [](auto gv, auto av, auto bv) {
        using T = decltype(gv);
        return av == bv ? gv / T(2) : (av < bv ? T(0) : gv);
      }, "maximum backward"), a.shape());
    }
    if (dx.needs(1)) {
      dx[1] = sum_to(map_ternary(g, a, b, [](auto gv, auto av, auto bv) {
        using T = decltype(gv);
        return av == bv ? gv / T(2) : (av > bv ? T(0) : gv);
      }, "maximum backward"), b.shape());
    }
  });
  return out;
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  VIGIL_CHECK(cond.dtype() == DType::Bool, DTypeError, "where: condition must be a bool tensor, got {} of shape {}",
              dtype_name(cond.dtype()), cond.shape().str());
  VIGIL_CHECK(is_floating(a.dtype()), DTypeError, "where: expected float32 or float64 values, got {} of shape {}",
              dtype_name(a.dtype()), a.shape().str());
  kernels::check_same_dtype(a, b, "where");
  // The floating kernels take one dtype, so the condition travels as a 0/1 mask of the values' dtype.
  const Tensor mask = raw::to_dtype(cond, a.dtype());
  Tensor out = map_ternary(mask, a, b, [](auto m, auto x, auto y) { return m != 0 ? x : y; }, "where");
  // Selection, not multiplication by the mask: an inf or NaN gradient on the unselected side must not leak.
  record<2>("where", out, {&a, &b}, [mask = saved(mask), sa = a.shape(), sb = b.shape()](const Tensor& g,
                                                                                            GradInputs& dx) {
    auto selected = [](auto gv, auto m) { return m != 0 ? gv : decltype(gv)(0); };
    auto unselected = [](auto gv, auto m) { return m != 0 ? decltype(gv)(0) : gv; };
    if (dx.needs(0)) dx[0] = sum_to(map_binary(g, mask, selected, "where backward"), sa);
    if (dx.needs(1)) dx[1] = sum_to(map_binary(g, mask, unselected, "where backward"), sb);
  });
  return out;
}

// ---- Comparisons: Bool results, no gradient, so nothing is recorded. ----

Tensor eq(const Tensor& a, const Tensor& b) { return map_binary(a, b, [](auto x, auto y) { return x == y; }, "eq"); }
Tensor ne(const Tensor& a, const Tensor& b) { return map_binary(a, b, [](auto x, auto y) { return x != y; }, "ne"); }
Tensor lt(const Tensor& a, const Tensor& b) { return map_binary(a, b, [](auto x, auto y) { return x < y; }, "lt"); }
Tensor le(const Tensor& a, const Tensor& b) { return map_binary(a, b, [](auto x, auto y) { return x <= y; }, "le"); }
Tensor gt(const Tensor& a, const Tensor& b) { return map_binary(a, b, [](auto x, auto y) { return x > y; }, "gt"); }
Tensor ge(const Tensor& a, const Tensor& b) { return map_binary(a, b, [](auto x, auto y) { return x >= y; }, "ge"); }

Tensor eq(const Tensor& x, double value) {
  return map_unary(x, [value](auto v) { return v == static_cast<decltype(v)>(value); }, "eq");
}
Tensor ne(const Tensor& x, double value) {
  return map_unary(x, [value](auto v) { return v != static_cast<decltype(v)>(value); }, "ne");
}
Tensor lt(const Tensor& x, double value) {
  return map_unary(x, [value](auto v) { return v < static_cast<decltype(v)>(value); }, "lt");
}
Tensor le(const Tensor& x, double value) {
  return map_unary(x, [value](auto v) { return v <= static_cast<decltype(v)>(value); }, "le");
}
Tensor gt(const Tensor& x, double value) {
  return map_unary(x, [value](auto v) { return v > static_cast<decltype(v)>(value); }, "gt");
}
Tensor ge(const Tensor& x, double value) {
  return map_unary(x, [value](auto v) { return v >= static_cast<decltype(v)>(value); }, "ge");
}

}  // namespace vigil
