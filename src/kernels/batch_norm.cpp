// Batch normalisation: fast kernels (one channel per task) and their naive twins. The math is in batch_norm.hpp.
//
// Dims: N batch, C channels, S positions per channel and sample (the trailing dims flattened); M = N * S.
#include <vigil/kernels/batch_norm.hpp>
#include <vigil/kernels/dispatch.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <type_traits>
#include <vector>

namespace vigil::kernels {

namespace {

struct Dims {
  std::int64_t N, C, S;
};

Dims dims_of(const Tensor& x, const char* op) {
  VIGIL_CHECK(x.dim() >= 2, ShapeError, "{}: expected an input [N, C, *] of rank >= 2, got shape {}", op,
              x.shape().str());
  const std::int64_t N = x.shape()[0], C = x.shape()[1];
  VIGIL_CHECK(x.numel() > 0, ShapeError,
              "{}: input of shape {} has no elements per channel", op, x.shape().str());
  return {N, C, x.numel() / (N * C)};
}

// A float64 row-major copy of an optional [C] parameter (empty when undefined).
std::vector<double> param_values(const Tensor& p) {
  if (!p.defined()) return {};
  const Tensor d = raw::contiguous(raw::to_dtype(p, DType::Float64));
  return std::vector<double>(d.data<double>(), d.data<double>() + d.numel());
}

// x's offset of element (n, c, s) through its strides, for the references: s walks the trailing dims row-major.
struct StridedNCS {
  const Tensor& x;
  std::int64_t offset(std::int64_t n, std::int64_t c, std::int64_t s) const {
    std::int64_t off = n * x.strides()[0] + c * x.strides()[1];
    for (int d = x.dim() - 1; d >= 2; --d) {
      off += (s % x.shape()[d]) * x.strides()[d];
      s /= x.shape()[d];
    }
    return off;
  }
};

// sum(term(s)) for s in [0, n), in double, over 8 interleaved partial sums: one running sum is a chain of
// dependent additions (4 cycles each), 8 independent ones fill the vector units and hide that latency (the
// compiler may not reorder the additions of one sum itself: that would change its rounding).
template <class F>
double split_sum(std::int64_t n, F term) {
  constexpr int kLanes = 8;
  double acc[kLanes] = {};
  std::int64_t s = 0;
  for (; s + kLanes <= n; s += kLanes) {
    for (int k = 0; k < kLanes; ++k) acc[k] += term(s + k);
  }
  double tail = 0;
  for (; s < n; ++s) tail += term(s);
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])) + tail;
}

// The per-channel affine map y = x scale + shift that normalisation applies, rounded to T once. The forward and
// the fused-ReLU backward both evaluate it through affine(), so the backward's ReLU mask equals the forward's bit
// for bit.
struct ChannelAffine {
  double scale, shift;
  static ChannelAffine of(double mean, double rstd, double gamma, double beta) {
    const double scale = rstd * gamma;
    return {scale, beta - mean * scale};
  }
};

template <class T>
struct AffineT {
  T scale, shift;
  explicit AffineT(const ChannelAffine& a) : scale(static_cast<T>(a.scale)), shift(static_cast<T>(a.shift)) {}
  T operator()(T x) const { return x * scale + shift; }
};

double value_or(const std::vector<double>& values, std::int64_t c, double fallback) {
  return values.empty() ? fallback : values[static_cast<std::size_t>(c)];
}

}  // namespace

BatchNormStats batch_norm_stats(const Tensor& x) {
  const auto [N, C, S] = dims_of(x, "batch_norm");
  const Tensor xc = raw::contiguous(x);
  BatchNormStats st{empty(Shape{C}, TensorOptions{DType::Float64}), empty(Shape{C}, TensorOptions{DType::Float64})};
  dispatch_floating(x.dtype(), "batch_norm", [&](auto zero) {
    using T = decltype(zero);
    const T* px = xc.data<T>();
    double* pmean = st.mean.data<double>();
    double* pvar = st.var.data<double>();
    const double inv_m = 1.0 / static_cast<double>(N * S);
#pragma omp parallel for schedule(static) if (x.numel() >= kParallelGrain)
    for (std::int64_t c = 0; c < C; ++c) {
      double sum = 0;
      for (std::int64_t n = 0; n < N; ++n) {
        const T* row = px + (n * C + c) * S;
        sum += split_sum(S, [row](std::int64_t s) { return static_cast<double>(row[s]); });
      }
      const double mean = sum * inv_m;
      double sq = 0;
      for (std::int64_t n = 0; n < N; ++n) {
        const T* row = px + (n * C + c) * S;
        sq += split_sum(S, [row, mean](std::int64_t s) {
          const double d = static_cast<double>(row[s]) - mean;
          return d * d;
        });
      }
      pmean[c] = mean;
      pvar[c] = sq * inv_m;
    }
  });
  return st;
}

BatchNormStats batch_norm_stats_reference(const Tensor& x) {
  const auto [N, C, S] = dims_of(x, "batch_norm_reference");
  const StridedNCS at{x};
  BatchNormStats st{zeros(Shape{C}, TensorOptions{DType::Float64}), zeros(Shape{C}, TensorOptions{DType::Float64})};
  dispatch_floating(x.dtype(), "batch_norm_reference", [&](auto zero) {
    using T = decltype(zero);
    const T* px = x.data<T>();
    const double m = static_cast<double>(N * S);
    for (std::int64_t c = 0; c < C; ++c) {
      double& mean = st.mean.data<double>()[c];
      double& var = st.var.data<double>()[c];
      for (std::int64_t n = 0; n < N; ++n)
        for (std::int64_t s = 0; s < S; ++s) mean += static_cast<double>(px[at.offset(n, c, s)]) / m;
      for (std::int64_t n = 0; n < N; ++n)
        for (std::int64_t s = 0; s < S; ++s) var += std::pow(static_cast<double>(px[at.offset(n, c, s)]) - mean, 2) / m;
    }
  });
  return st;
}

Tensor batch_norm_rstd(const Tensor& var, double eps) {
  const Tensor v = raw::contiguous(raw::to_dtype(var, DType::Float64));
  Tensor r = empty(v.shape(), TensorOptions{DType::Float64});
  for (std::int64_t c = 0; c < v.numel(); ++c) r.data<double>()[c] = 1.0 / std::sqrt(v.data<double>()[c] + eps);
  return r;
}

Tensor batch_norm_normalize(const Tensor& x, const Tensor& mean, const Tensor& rstd, const Tensor& weight,
                            const Tensor& bias, bool relu) {
  const auto [N, C, S] = dims_of(x, "batch_norm");
  const Tensor xc = raw::contiguous(x);
  const std::vector<double> w = param_values(weight), b = param_values(bias);
  const double* pmean = mean.data<double>();
  const double* prstd = rstd.data<double>();
  Tensor y = empty(x.shape(), TensorOptions{x.dtype()});
  dispatch_floating(x.dtype(), "batch_norm", [&](auto zero) {
    using T = decltype(zero);
    const T* px = xc.data<T>();
    T* py = y.data<T>();
    // y = x * scale_c + shift_c with scale = rstd gamma, shift = beta - mean rstd gamma: one multiply-add each.
#pragma omp parallel for schedule(static) if (x.numel() >= kParallelGrain)
    for (std::int64_t c = 0; c < C; ++c) {
      const AffineT<T> affine(ChannelAffine::of(pmean[c], prstd[c], value_or(w, c, 1.0), value_or(b, c, 0.0)));
      for (std::int64_t n = 0; n < N; ++n) {
        const T* row = px + (n * C + c) * S;
        T* out = py + (n * C + c) * S;
        if (relu) {
          for (std::int64_t s = 0; s < S; ++s) out[s] = std::max(affine(row[s]), T(0));
        } else {
          for (std::int64_t s = 0; s < S; ++s) out[s] = affine(row[s]);
        }
      }
    }
  });
  return y;
}

Tensor batch_norm_normalize_reference(const Tensor& x, const Tensor& mean, const Tensor& rstd, const Tensor& weight,
                                      const Tensor& bias, bool relu) {
  const auto [N, C, S] = dims_of(x, "batch_norm_reference");
  const StridedNCS at{x};
  const std::vector<double> w = param_values(weight), b = param_values(bias);
  Tensor y = empty(x.shape(), TensorOptions{x.dtype()});
  dispatch_floating(x.dtype(), "batch_norm_reference", [&](auto zero) {
    using T = decltype(zero);
    const T* px = x.data<T>();
    T* py = y.data<T>();
    for (std::int64_t n = 0; n < N; ++n) {
      for (std::int64_t c = 0; c < C; ++c) {
        for (std::int64_t s = 0; s < S; ++s) {
          double v = (static_cast<double>(px[at.offset(n, c, s)]) - mean.data<double>()[c]) * rstd.data<double>()[c];
          if (!w.empty()) v *= w[static_cast<std::size_t>(c)];
          if (!b.empty()) v += b[static_cast<std::size_t>(c)];
          py[(n * C + c) * S + s] = static_cast<T>(relu ? std::max(v, 0.0) : v);
        }
      }
    }
  });
  return y;
}

BatchNormGrads batch_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& mean, const Tensor& rstd,
                                   const Tensor& weight, bool training, bool need_dx, bool need_dparams, bool relu,
                                   const Tensor& bias) {
  const auto [N, C, S] = dims_of(x, "batch_norm backward");
  const Tensor xc = raw::contiguous(x), gc = raw::contiguous(dy);
  const std::vector<double> w = param_values(weight), b = param_values(bias);
  const double* pmean = mean.data<double>();
  const double* prstd = rstd.data<double>();
  BatchNormGrads grads;
  if (need_dx) grads.dx = empty(x.shape(), TensorOptions{x.dtype()});
  if (need_dparams) {
    grads.dweight = empty(Shape{C}, TensorOptions{x.dtype()});
    grads.dbias = empty(Shape{C}, TensorOptions{x.dtype()});
  }
  dispatch_floating(x.dtype(), "batch_norm backward", [&](auto zero) {
    using T = decltype(zero);
    // Relu is a compile-time flag: a run-time one inside the inner loops stops GCC from vectorising them (the
    // unfused backward ran 2x slower that way).
    auto channels = [&](auto relu_flag) {
      constexpr bool kRelu = decltype(relu_flag)::value;
      const T* px = xc.data<T>();
      const T* pg = gc.data<T>();
      T* pdx = need_dx ? grads.dx.data<T>() : nullptr;
      T* pdw = need_dparams ? grads.dweight.data<T>() : nullptr;
      T* pdb = need_dparams ? grads.dbias.data<T>() : nullptr;
      const double inv_m = 1.0 / static_cast<double>(N * S);
#pragma omp parallel for schedule(static) if (x.numel() >= kParallelGrain)
      for (std::int64_t c = 0; c < C; ++c) {
        const double mu = pmean[c], r = prstd[c], gamma = value_or(w, c, 1.0);
        // The gradient reaching the normalisation: dy, or with the fused ReLU dy where the output was positive.
        const AffineT<T> affine(ChannelAffine::of(mu, r, gamma, value_or(b, c, 0.0)));
        // With the fused ReLU each row's gradient is masked into `masked` (one row, in L1) before the passes read
        // it, so that they stay the plain loops of the unfused backward: a mask inside them compiles to a branch
        // per element, which mispredicts on about half of them (measured: the backward ran 10x slower).
        std::vector<T> masked(kRelu ? static_cast<std::size_t>(S) : 0);
        const auto gradient_row = [&](const T* row, const T* grow) -> const T* {
          if constexpr (!kRelu) return grow;
          // Bits of g ANDed with an all-ones or all-zero mask: no branch, and the exact g or +0.
          using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
          T* out = masked.data();
          for (std::int64_t s = 0; s < S; ++s) {
            const Bits keep = Bits{0} - static_cast<Bits>(affine(row[s]) > T(0));
            out[s] = std::bit_cast<T>(std::bit_cast<Bits>(grow[s]) & keep);
          }
          return out;
        };
        // sum(dy) and sum(dy xhat): dbeta and dgamma, and (times gamma / M) <dxhat> and <dxhat xhat>.
        double sum_g = 0, sum_g_centred = 0;
        for (std::int64_t n = 0; n < N; ++n) {
          const T* row = px + (n * C + c) * S;
          const T* grow = gradient_row(row, pg + (n * C + c) * S);
          sum_g += split_sum(S, [grow](std::int64_t s) { return static_cast<double>(grow[s]); });
          sum_g_centred += split_sum(S, [row, grow, mu](std::int64_t s) {
            return static_cast<double>(grow[s]) * (static_cast<double>(row[s]) - mu);
          });
        }
        const double sum_g_xhat = sum_g_centred * r;
        if (need_dparams) {
          pdw[c] = static_cast<T>(sum_g_xhat);
          pdb[c] = static_cast<T>(sum_g);
        }
        if (!need_dx) continue;
        const double a = training ? gamma * sum_g * inv_m : 0.0;
        const double k = training ? gamma * sum_g_xhat * inv_m : 0.0;
        // dx = r (gamma g - a - (x - mu) r k) = g (r gamma) + (x - mu) (-r^2 k) - r a, evaluated in T with the
        // coefficients rounded once from double: vectorisable, and x - mu is taken first so that a large mean
        // does not cancel against the offset.
        const T coef_g = static_cast<T>(r * gamma), coef_x = static_cast<T>(-r * r * k), offset = static_cast<T>(-r * a);
        const T mean_t = static_cast<T>(mu);
        for (std::int64_t n = 0; n < N; ++n) {
          const T* row = px + (n * C + c) * S;
          const T* grow = gradient_row(row, pg + (n * C + c) * S);
          T* out = pdx + (n * C + c) * S;
          for (std::int64_t s = 0; s < S; ++s) out[s] = grow[s] * coef_g + (row[s] - mean_t) * coef_x + offset;
        }
      }
    };
    if (relu) channels(std::true_type{});
    else channels(std::false_type{});
  });
  return grads;
}

BatchNormGrads batch_norm_backward_reference(const Tensor& dy, const Tensor& x, const Tensor& mean,
                                             const Tensor& rstd, const Tensor& weight, bool training, bool need_dx,
                                             bool need_dparams, bool relu, const Tensor& bias) {
  const auto [N, C, S] = dims_of(x, "batch_norm backward reference");
  const StridedNCS xa{x}, ga{dy};
  const std::vector<double> w = param_values(weight), b = param_values(bias);
  const std::int64_t M = N * S;
  BatchNormGrads grads;
  dispatch_floating(x.dtype(), "batch_norm backward reference", [&](auto zero) {
    using T = decltype(zero);
    const T* px = x.data<T>();
    const T* pg = dy.data<T>();
    Tensor dx = zeros(x.shape(), TensorOptions{DType::Float64});
    Tensor dw = zeros(Shape{C}, TensorOptions{DType::Float64}), db = zeros(Shape{C}, TensorOptions{DType::Float64});
    for (std::int64_t c = 0; c < C; ++c) {
      const double mu = mean.data<double>()[c], r = rstd.data<double>()[c];
      const double gamma = w.empty() ? 1.0 : w[static_cast<std::size_t>(c)];
      // Element i of the channel is (n, s) = (i / S, i % S).
      auto xv = [&](std::int64_t i) { return static_cast<double>(px[xa.offset(i / S, c, i % S)]); };
      auto xhat = [&](std::int64_t i) { return (xv(i) - mu) * r; };
      // With the fused ReLU, the gradient passes where the output xhat gamma + beta was positive.
      auto gv = [&](std::int64_t i) {
        const double g = static_cast<double>(pg[ga.offset(i / S, c, i % S)]);
        return relu && xhat(i) * gamma + value_or(b, c, 0.0) <= 0.0 ? 0.0 : g;
      };
      for (std::int64_t i = 0; i < M; ++i) {
        dw.data<double>()[c] += gv(i) * xhat(i);
        db.data<double>()[c] += gv(i);
      }
      if (!need_dx) continue;
      for (std::int64_t i = 0; i < M; ++i) {  // input element x_i
        double d = 0;
        if (training) {
          for (std::int64_t j = 0; j < M; ++j) {  // output element y_j
            const double jacobian = r * ((i == j ? 1.0 : 0.0) - 1.0 / double(M) - xhat(i) * xhat(j) / double(M));
            d += gv(j) * gamma * jacobian;
          }
        } else {
          d = gv(i) * gamma * r;
        }
        dx.data<double>()[((i / S) * C + c) * S + i % S] = d;
      }
    }
    if (need_dx) grads.dx = raw::to_dtype(dx, x.dtype());
    if (need_dparams) {
      grads.dweight = raw::to_dtype(dw, x.dtype());
      grads.dbias = raw::to_dtype(db, x.dtype());
    }
  });
  return grads;
}

void batch_norm_update_running(const Tensor& running_mean, const Tensor& running_var, const BatchNormStats& batch,
                               std::int64_t count, double momentum) {
  VIGIL_CHECK(count >= 2, ShapeError, "batch_norm: expected more than 1 value per channel when training, got {}",
              count);
  const double unbias = static_cast<double>(count) / static_cast<double>(count - 1);
  const double* pmean = batch.mean.data<double>();
  const double* pvar = batch.var.data<double>();
  auto update = [&](const Tensor& running, auto value_of) {
    dispatch_floating(running.dtype(), "batch_norm running statistics", [&](auto zero) {
      using T = decltype(zero);
      T* p = running.data<T>();
      for (std::int64_t c = 0; c < running.numel(); ++c) {
        p[c] = static_cast<T>((1.0 - momentum) * static_cast<double>(p[c]) + momentum * value_of(c));
      }
    });
  };
  update(running_mean, [&](std::int64_t c) { return pmean[c]; });
  update(running_var, [&](std::int64_t c) { return pvar[c] * unbias; });
}

}  // namespace vigil::kernels
