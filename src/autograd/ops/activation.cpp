// Activation functions: each op's forward, then its backward right below it. Branch conditions copy PyTorch
// 1.13's kernels (e.g. elu takes its negative branch for x <= 0), so the gradient at a kink matches too.
#include <vigil/autograd/function.hpp>
#include <vigil/autograd/ops/activation.hpp>
#include <vigil/kernels/branch_free.hpp>
#include <vigil/kernels/elementwise.hpp>
#include <vigil/kernels/reduce.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numbers>

namespace vigil {

using kernels::map_binary;
using kernels::map_ternary;
using kernels::map_unary;
using kernels::sum_to;

namespace {

// 1 / (1 + e^-v) without overflow: for v < 0 the equal form e^v / (1 + e^v) only ever exponentiates a
// negative number.
template <class T>
T sigmoid_of(T v) {
  if (v >= T(0)) return T(1) / (T(1) + std::exp(-v));
  const T e = std::exp(v);
  return e / (T(1) + e);
}

// log(1 + e^v) = max(v, 0) + log1p(e^-|v|): the exponent is never positive, so no overflow for large v, and
// log1p keeps the small tail accurate for very negative v.
template <class T>
T softplus_of(T v) {
  return std::max(v, T(0)) + std::log1p(std::exp(-std::abs(v)));
}

constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kSeluScale = 1.0507009873554804934193349852946;
constexpr double kGeluBeta = std::numbers::sqrt2 * std::numbers::inv_sqrtpi;  // sqrt(2/pi)
constexpr double kGeluKappa = 0.044715;

}  // namespace

Tensor relu(const Tensor& x) {
  // x < 0 ? 0 : x keeps NaN (and -0) as PyTorch's clamp_min does.
  Tensor out = map_unary(x, [](auto v) { return v < decltype(v)(0) ? decltype(v)(0) : v; }, "relu");
  // PyTorch's threshold_backward on the result: 0 where y <= 0, so relu'(0) = 0 (and a NaN y passes g through).
  // Written as a bit mask, not `yv <= 0 ? 0 : gv`: the compiler sinks that branch's load of g into the branch and
  // then cannot vectorise it, leaving a scalar loop with a data-dependent (mispredicted) branch per element.
  record<1>("relu", out, {&x}, [y = saved(out)](const Tensor& g, GradInputs& dx) {
    dx[0] = map_binary(g, y, [](auto gv, auto yv) { return kernels::keep_if(gv, !(yv <= decltype(yv)(0))); },
                       "relu backward");
  });
  return out;
}

Tensor leaky_relu(const Tensor& x, double negative_slope) {
  Tensor out = map_unary(x, [negative_slope](auto v) {
    using T = decltype(v);
    return v > T(0) ? v : v * static_cast<T>(negative_slope);
  }, "leaky_relu");
  record<1>("leaky_relu", out, {&x}, [x = saved(x), negative_slope](const Tensor& g, GradInputs& dx) {
    dx[0] = map_binary(g, x, [negative_slope](auto gv, auto xv) {
      using T = decltype(gv);
      return xv > T(0) ? gv : gv * static_cast<T>(negative_slope);
    }, "leaky_relu backward");
  });
  return out;
}

Tensor prelu(const Tensor& x, const Tensor& weight) {
  const std::int64_t channels = x.dim() >= 2 ? x.size(1) : 1;
  VIGIL_CHECK(weight.dim() <= 1 && (weight.numel() == 1 || weight.numel() == channels), ShapeError,
              "prelu: weight of shape {} must have 1 or C = {} entries (C = dim 1 of the input of shape {})",
              weight.shape().str(), channels, x.shape().str());
  // The weight as [1, C, 1, ...] (or all ones when shared), so that it broadcasts along the channel dim.
  Shape wshape = Shape::filled(x.dim(), 1);
  if (weight.numel() > 1) wshape[1] = channels;
  const Tensor w = raw::reshape(weight, wshape);
  Tensor out = map_binary(x, w, [](auto xv, auto wv) { return xv > decltype(xv)(0) ? xv : wv * xv; }, "prelu");
  record<2>("prelu", out, {&x, &weight},
            [x = saved(x), w = saved(w), wshape, weight_shape = weight.shape()](const Tensor& g, GradInputs& dx) {
              if (dx.needs(0)) {
                dx[0] = map_ternary(g, x, w, [](auto gv, auto xv, auto wv) { return xv > decltype(xv)(0) ? gv : wv * gv; },
                                    "prelu backward");
              }
              if (dx.needs(1)) {
                // d/dw (w x) = x on the negative side, summed over every position that shares the slope.
                const Tensor per_element = map_binary(g, x, [](auto gv, auto xv) {
                  using T = decltype(gv);
                  return xv > T(0) ? T(0) : gv * xv;
                }, "prelu backward");
                dx[1] = raw::reshape(sum_to(per_element, wshape), weight_shape);
              }
            });
  return out;
}

Tensor elu(const Tensor& x, double alpha) {
  Tensor out = map_unary(x, [alpha](auto v) {
    using T = decltype(v);
    return v <= T(0) ? static_cast<T>(alpha) * std::expm1(v) : v;
  }, "elu");
  record<1>("elu", out, {&x}, [x = saved(x), alpha](const Tensor& g, GradInputs& dx) {
    dx[0] = map_binary(g, x, [alpha](auto gv, auto xv) {
      using T = decltype(gv);
      return xv <= T(0) ? gv * static_cast<T>(alpha) * std::exp(xv) : gv;
    }, "elu backward");
  });
  return out;
}

Tensor selu(const Tensor& x) {
  Tensor out = map_unary(x, [](auto v) {
    using T = decltype(v);
    return v <= T(0) ? static_cast<T>(kSeluScale * kSeluAlpha) * std::expm1(v) : static_cast<T>(kSeluScale) * v;
  }, "selu");
  record<1>("selu", out, {&x}, [x = saved(x)](const Tensor& g, GradInputs& dx) {
    dx[0] = map_binary(g, x, [](auto gv, auto xv) {
      using T = decltype(gv);
      return xv <= T(0) ? gv * static_cast<T>(kSeluScale * kSeluAlpha) * std::exp(xv) : gv * static_cast<T>(kSeluScale);
    }, "selu backward");
  });
  return out;
}

Tensor celu(const Tensor& x, double alpha) {
  VIGIL_CHECK(alpha != 0, Error, "celu: alpha must not be 0 (it divides x), input of shape {}", x.shape().str());
  const double inv_alpha = 1.0 / alpha;
  Tensor out = map_unary(x, [alpha, inv_alpha](auto v) {
    using T = decltype(v);
    return v <= T(0) ? static_cast<T>(alpha) * std::expm1(v * static_cast<T>(inv_alpha)) : v;
  }, "celu");
  // d/dx alpha (e^(x/alpha) - 1) = e^(x/alpha).
  record<1>("celu", out, {&x}, [x = saved(x), inv_alpha](const Tensor& g, GradInputs& dx) {
    dx[0] = map_binary(g, x, [inv_alpha](auto gv, auto xv) {
      using T = decltype(gv);
      return xv <= T(0) ? gv * std::exp(xv * static_cast<T>(inv_alpha)) : gv;
    }, "celu backward");
  });
  return out;
}

Tensor gelu(const Tensor& x, GeluApproximation approximate) {
  // Tanh form: inner(x) = sqrt(2/pi) (x + kappa x^3), y = x/2 (1 + tanh(inner)).
  if (approximate == GeluApproximation::Tanh) {
    Tensor out = map_unary(x, [](auto v) {
      using T = decltype(v);
      const T inner = static_cast<T>(kGeluBeta) * (v + static_cast<T>(kGeluKappa) * v * v * v);
      return T(0.5) * v * (T(1) + std::tanh(inner));
    }, "gelu");
    // dy/dx = (1 + t)/2 + x/2 (1 - t^2) inner'(x), with t = tanh(inner), inner' = sqrt(2/pi) (1 + 3 kappa x^2).
    record<1>("gelu", out, {&x}, [x = saved(x)](const Tensor& g, GradInputs& dx) {
      dx[0] = map_binary(g, x, [](auto gv, auto xv) {
        using T = decltype(gv);
        const T inner = static_cast<T>(kGeluBeta) * (xv + static_cast<T>(kGeluKappa) * xv * xv * xv);
        const T t = std::tanh(inner);
        const T dinner = static_cast<T>(kGeluBeta) * (T(1) + static_cast<T>(3 * kGeluKappa) * xv * xv);
        return gv * (T(0.5) * (T(1) + t) + T(0.5) * xv * (T(1) - t * t) * dinner);
      }, "gelu backward");
    });
    return out;
  }
  // Exact form: y = x Phi(x), Phi(x) = (1 + erf(x / sqrt 2)) / 2; dy/dx = Phi(x) + x phi(x), phi the normal pdf.
  Tensor out = map_unary(x, [](auto v) {
    using T = decltype(v);
    return T(0.5) * v * (T(1) + std::erf(v * static_cast<T>(1 / std::numbers::sqrt2)));
  }, "gelu");
  record<1>("gelu", out, {&x}, [x = saved(x)](const Tensor& g, GradInputs& dx) {
    dx[0] = map_binary(g, x, [](auto gv, auto xv) {
      using T = decltype(gv);
      constexpr double kInvSqrt2Pi = std::numbers::inv_sqrtpi / std::numbers::sqrt2;
      const T cdf = T(0.5) * (T(1) + std::erf(xv * static_cast<T>(1 / std::numbers::sqrt2)));
      const T pdf = static_cast<T>(kInvSqrt2Pi) * std::exp(T(-0.5) * xv * xv);
      return gv * (cdf + xv * pdf);
    }, "gelu backward");
  });
  return out;
}

Tensor silu(const Tensor& x) {
  Tensor out = map_unary(x, [](auto v) { return v * sigmoid_of(v); }, "silu");
  // d/dx x s(x) = s + x s (1 - s) = s (1 + x (1 - s)).
  record<1>("silu", out, {&x}, [x = saved(x)](const Tensor& g, GradInputs& dx) {
    dx[0] = map_binary(g, x, [](auto gv, auto xv) {
      using T = decltype(gv);
      const T s = sigmoid_of(xv);
      return gv * s * (T(1) + xv * (T(1) - s));
    }, "silu backward");
  });
  return out;
}

Tensor mish(const Tensor& x) {
  Tensor out = map_unary(x, [](auto v) { return v * std::tanh(softplus_of(v)); }, "mish");
  // d/dx x tanh(sp(x)) = t + x (1 - t^2) sigmoid(x), with t = tanh(sp(x)) and sp' = sigmoid.
  record<1>("mish", out, {&x}, [x = saved(x)](const Tensor& g, GradInputs& dx) {
    dx[0] = map_binary(g, x, [](auto gv, auto xv) {
      using T = decltype(gv);
      const T t = std::tanh(softplus_of(xv));
      return gv * (t + xv * sigmoid_of(xv) * (T(1) - t * t));
    }, "mish backward");
  });
  return out;
}

Tensor sigmoid(const Tensor& x) {
  Tensor out = map_unary(x, [](auto v) { return sigmoid_of(v); }, "sigmoid");
  record<1>("sigmoid", out, {&x}, [y = saved(out)](const Tensor& g, GradInputs& dx) {
    dx[0] = map_binary(g, y, [](auto gv, auto yv) { return gv * yv * (decltype(yv)(1) - yv); }, "sigmoid backward");
  });
  return out;
}

Tensor tanh(const Tensor& x) {
  Tensor out = map_unary(x, [](auto v) { return std::tanh(v); }, "tanh");
  record<1>("tanh", out, {&x}, [y = saved(out)](const Tensor& g, GradInputs& dx) {
    dx[0] = map_binary(g, y, [](auto gv, auto yv) { return gv * (decltype(yv)(1) - yv * yv); }, "tanh backward");
  });
  return out;
}

Tensor hardtanh(const Tensor& x, double min_val, double max_val) {
  VIGIL_CHECK(min_val <= max_val, Error, "hardtanh: min_val {} is above max_val {} (input of shape {})", min_val, max_val,
              x.shape().str());
  Tensor out = map_unary(x, [min_val, max_val](auto v) {
    using T = decltype(v);
    if (std::isnan(v)) return v;
    return std::min(std::max(v, static_cast<T>(min_val)), static_cast<T>(max_val));
  }, "hardtanh");
  // Unlike clamp, PyTorch's hardtanh_backward zeroes the gradient on the bounds themselves.
  record<1>("hardtanh", out, {&x}, [x = saved(x), min_val, max_val](const Tensor& g, GradInputs& dx) {
    dx[0] = map_binary(g, x, [min_val, max_val](auto gv, auto xv) {
      using T = decltype(gv);
      return xv <= static_cast<T>(min_val) || xv >= static_cast<T>(max_val) ? T(0) : gv;
    }, "hardtanh backward");
  });
  return out;
}

Tensor softplus(const Tensor& x, double beta, double threshold) {
  VIGIL_CHECK(beta != 0, Error, "softplus: beta must not be 0 (it divides the result), input of shape {}",
              x.shape().str());
  Tensor out = map_unary(x, [beta, threshold](auto v) {
    using T = decltype(v);
    const T z = v * static_cast<T>(beta);
    return z > static_cast<T>(threshold) ? v : softplus_of(z) / static_cast<T>(beta);
  }, "softplus");
  // d/dx log(1 + e^(beta x)) / beta = sigmoid(beta x); exactly 1 on the linear part above the threshold.
  record<1>("softplus", out, {&x}, [x = saved(x), beta, threshold](const Tensor& g, GradInputs& dx) {
    dx[0] = map_binary(g, x, [beta, threshold](auto gv, auto xv) {
      using T = decltype(gv);
      const T z = xv * static_cast<T>(beta);
      return z > static_cast<T>(threshold) ? gv : gv * sigmoid_of(z);
    }, "softplus backward");
  });
  return out;
}

Tensor softsign(const Tensor& x) {
  Tensor out = map_unary(x, [](auto v) { return v / (decltype(v)(1) + std::abs(v)); }, "softsign");
  record<1>("softsign", out, {&x}, [x = saved(x)](const Tensor& g, GradInputs& dx) {
    dx[0] = map_binary(g, x, [](auto gv, auto xv) {
      using T = decltype(gv);
      const T d = T(1) + std::abs(xv);
      return gv / (d * d);
    }, "softsign backward");
  });
  return out;
}

Tensor maxout(const Tensor& x, std::int64_t pieces, std::int64_t dim) {
  VIGIL_CHECK(x.dim() >= 1, ShapeError, "maxout: expects a tensor of at least 1 dim, got shape {}", x.shape().str());
  const int d = normalize_dim(dim, x.dim(), "maxout");
  const std::int64_t k = x.size(d);
  VIGIL_CHECK(pieces >= 1 && k % pieces == 0, ShapeError,
              "maxout: dim {} of the input of shape {} (extent {}) does not split into groups of {} pieces", dim,
              x.shape().str(), k, pieces);
  // x read as [outer, groups, pieces, inner] (row-major), out as [outer, groups, inner].
  const std::int64_t groups = k / pieces;
  std::int64_t outer = 1, inner = 1;
  for (int i = 0; i < d; ++i) outer *= x.size(i);
  for (int i = d + 1; i < x.dim(); ++i) inner *= x.size(i);
  Shape out_shape = x.shape();
  out_shape[d] = groups;

  const Tensor xc = raw::contiguous(x);
  Tensor winner = empty(out_shape, TensorOptions{DType::Int64});  // the piece (0..pieces-1) each maximum came from
  Tensor out = kernels::dispatch_floating(x.dtype(), "maxout", [&](auto zero) {
    using T = decltype(zero);
    Tensor y = empty(out_shape, TensorOptions{x.dtype()});
    const T* px = xc.data<T>();
    T* py = y.data<T>();
    std::int64_t* pw = winner.data<std::int64_t>();
    const std::int64_t rows = outer * groups;
#pragma omp parallel for schedule(static) if (rows * pieces * inner >= kernels::kParallelGrain)
    for (std::int64_t r = 0; r < rows; ++r) {
      const T* xg = px + r * pieces * inner;  // row r = (o, c) starts the group's first piece
      T* yr = py + r * inner;
      std::int64_t* wr = pw + r * inner;
      for (std::int64_t i = 0; i < inner; ++i) {
        yr[i] = xg[i];
        wr[i] = 0;
      }
      // Strictly greater keeps the first maximum on ties; a NaN wins once and then stays.
      for (std::int64_t p = 1; p < pieces; ++p) {
        const T* xp = xg + p * inner;
        for (std::int64_t i = 0; i < inner; ++i) {
          if (xp[i] > yr[i] || (std::isnan(xp[i]) && !std::isnan(yr[i]))) {
            yr[i] = xp[i];
            wr[i] = p;
          }
        }
      }
    }
    return y;
  });
  // Each output's gradient goes back to the one input element it copied.
  record<1>("maxout", out, {&x}, [winner = saved(winner), s = x.shape(), pieces, inner](const Tensor& g, GradInputs& dx) {
    const Tensor gc = raw::contiguous(g);
    Tensor dxc = zeros(s, TensorOptions{g.dtype()});
    kernels::dispatch_floating(g.dtype(), "maxout backward", [&](auto zero) {
      using T = decltype(zero);
      const T* pg = gc.data<T>();
      T* pd = dxc.data<T>();
      const std::int64_t* pw = winner.data<std::int64_t>();
      const std::int64_t rows = gc.numel() / std::max<std::int64_t>(inner, 1);
#pragma omp parallel for schedule(static) if (gc.numel() >= kernels::kParallelGrain)
      for (std::int64_t r = 0; r < rows; ++r) {
        for (std::int64_t i = 0; i < inner; ++i) pd[(r * pieces + pw[r * inner + i]) * inner + i] = pg[r * inner + i];
      }
    });
    dx[0] = dxc;
  });
  return out;
}

}  // namespace vigil
