// Batch normalisation: fast kernels (one channel per task) and their naive twins. The math is in batch_norm.hpp.
//
// Dims: N batch, C channels, S positions per channel and sample (the trailing dims flattened); M = N * S.
#include <vigil/kernels/batch_norm.hpp>
#include <vigil/kernels/branch_free.hpp>
#include <vigil/kernels/dispatch.hpp>
#include <vigil/kernels/isa.hpp>
#include <vigil/kernels/pool.hpp>
#include <vigil/tensor/allocator.hpp>

#include "pool_2x2.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <tuple>
#include <utility>
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

// Asks for row[0, n) to be brought into cache. A channel's rows lie C S elements apart, so each is a short stream
// of its own that the hardware prefetchers pick up late; fetching the next row while this one is summed hides that.
template <class T>
void prefetch(const T* row, std::int64_t n) {
  const char* bytes = reinterpret_cast<const char*>(row);
  for (std::int64_t at = 0; at < n * static_cast<std::int64_t>(sizeof(T)); at += 64) __builtin_prefetch(bytes + at);
}

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

namespace {

// Channel c's mean and biased variance over its rows of row-major x [N, C, S], in two passes.
template <class T>
std::pair<double, double> channel_stats(const T* px, std::int64_t N, std::int64_t C, std::int64_t S, std::int64_t c) {
  double sum = 0;
  for (std::int64_t n = 0; n < N; ++n) {
    const T* row = px + (n * C + c) * S;
    if (n + 1 < N) prefetch(row + C * S, S);
    sum += split_sum(S, [row](std::int64_t s) { return static_cast<double>(row[s]); });
  }
  const double inv_m = 1.0 / static_cast<double>(N * S);
  const double mean = sum * inv_m;
  double sq = 0;
  for (std::int64_t n = 0; n < N; ++n) {
    const T* row = px + (n * C + c) * S;
    sq += split_sum(S, [row, mean](std::int64_t s) {
      const double d = static_cast<double>(row[s]) - mean;
      return d * d;
    });
  }
  return {mean, sq * inv_m};
}

double rstd_of(double var, double eps) { return 1.0 / std::sqrt(var + eps); }

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
    parallel_for_widest(C, x.numel() >= kParallelGrain, [&](std::int64_t c) {
      std::tie(pmean[c], pvar[c]) = channel_stats(px, N, C, S, c);
    });
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
  for (std::int64_t c = 0; c < v.numel(); ++c) r.data<double>()[c] = rstd_of(v.data<double>()[c], eps);
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
    parallel_for_widest(C, x.numel() >= kParallelGrain, [&](std::int64_t c) {
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
    });
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

namespace {

// What every channel of a fast backward shares: pointers into row-major x [N, C, S] and the outputs, and the
// statistics and parameters.
template <class T>
struct BackwardPlan {
  std::int64_t N, C, S;
  const T* px;
  T *pdx, *pdw, *pdb;  // null when not asked for
  const double *pmean, *prstd;
  const std::vector<double>&w, &b;
  bool training;
};

// Channel c's backward. gradient_row(n, c, x_row, affine, buffer) gives the gradient reaching the normalisation for
// row n (S elements): dy's own row, or a masked or routed copy written into `buffer` so that the two passes below
// stay plain vectorisable loops. With keep_rows, each routed row gets its own buffer in a per-thread scratch (grown
// once, N S elements) and the second pass reads it there; otherwise one row's buffer (in L1) is reused and the
// second pass builds each row again.
template <class T, class GradientRow>
void backward_channel(const BackwardPlan<T>& plan, std::int64_t c, const GradientRow& gradient_row, bool keep_rows) {
  const std::int64_t N = plan.N, C = plan.C, S = plan.S;
  const double mu = plan.pmean[c], r = plan.prstd[c], gamma = value_or(plan.w, c, 1.0);
  const AffineT<T> affine(ChannelAffine::of(mu, r, gamma, value_or(plan.b, c, 0.0)));
  thread_local std::vector<T> kept;
  if (keep_rows && kept.size() < static_cast<std::size_t>(N * S)) kept.resize(static_cast<std::size_t>(N * S));
  std::vector<T> buffer(static_cast<std::size_t>(keep_rows ? 0 : S));
  const auto buffer_for = [&](std::int64_t n) { return keep_rows ? kept.data() + n * S : buffer.data(); };
  // sum(dy) and sum(dy xhat): dbeta and dgamma, and (times gamma / M) <dxhat> and <dxhat xhat>.
  double sum_g = 0, sum_g_centred = 0;
  for (std::int64_t n = 0; n < N; ++n) {
    const T* row = plan.px + (n * C + c) * S;
    if (n + 1 < N) prefetch(row + C * S, S);
    const T* grow = gradient_row(n, c, row, affine, buffer_for(n));
    sum_g += split_sum(S, [grow](std::int64_t s) { return static_cast<double>(grow[s]); });
    sum_g_centred += split_sum(S, [row, grow, mu](std::int64_t s) {
      return static_cast<double>(grow[s]) * (static_cast<double>(row[s]) - mu);
    });
  }
  const double sum_g_xhat = sum_g_centred * r;
  if (plan.pdw) {
    plan.pdw[c] = static_cast<T>(sum_g_xhat);
    plan.pdb[c] = static_cast<T>(sum_g);
  }
  if (!plan.pdx) return;
  const double inv_m = 1.0 / static_cast<double>(N * S);
  const double a = plan.training ? gamma * sum_g * inv_m : 0.0;
  const double k = plan.training ? gamma * sum_g_xhat * inv_m : 0.0;
  // dx = r (gamma g - a - (x - mu) r k) = g (r gamma) + (x - mu) (-r^2 k) - r a, evaluated in T with the
  // coefficients rounded once from double: vectorisable, and x - mu is taken first so that a large mean does not
  // cancel against the offset.
  const T coef_g = static_cast<T>(r * gamma), coef_x = static_cast<T>(-r * r * k), offset = static_cast<T>(-r * a);
  const T mean_t = static_cast<T>(mu);
  for (std::int64_t n = 0; n < N; ++n) {
    const T* row = plan.px + (n * C + c) * S;
    const T* grow = keep_rows ? buffer_for(n) : gradient_row(n, c, row, affine, buffer_for(n));
    T* out = plan.pdx + (n * C + c) * S;
    for (std::int64_t s = 0; s < S; ++s) out[s] = grow[s] * coef_g + (row[s] - mean_t) * coef_x + offset;
  }
}

// Allocates the asked-for gradients and runs backward_channel on every channel with the gradient rows that
// make_gradient_row(zero, plan) returns (zero: a T, for the type).
template <class MakeGradientRow>
BatchNormGrads run_backward(const Tensor& x, const Tensor& mean, const Tensor& rstd, const Tensor& weight,
                            const Tensor& bias, bool training, bool need_dx, bool need_dparams, const char* op,
                            bool keep_rows, const MakeGradientRow& make_gradient_row) {
  const auto [N, C, S] = dims_of(x, op);
  const Tensor xc = raw::contiguous(x);
  const std::vector<double> w = param_values(weight), b = param_values(bias);
  BatchNormGrads grads;
  if (need_dx) grads.dx = empty(x.shape(), TensorOptions{x.dtype()});
  if (need_dparams) {
    grads.dweight = empty(Shape{C}, TensorOptions{x.dtype()});
    grads.dbias = empty(Shape{C}, TensorOptions{x.dtype()});
  }
  dispatch_floating(x.dtype(), op, [&](auto zero) {
    using T = decltype(zero);
    const BackwardPlan<T> plan{N,
                               C,
                               S,
                               xc.data<T>(),
                               need_dx ? grads.dx.data<T>() : nullptr,
                               need_dparams ? grads.dweight.data<T>() : nullptr,
                               need_dparams ? grads.dbias.data<T>() : nullptr,
                               mean.data<double>(),
                               rstd.data<double>(),
                               w,
                               b,
                               training};
    const auto gradient_row = make_gradient_row(zero, plan);
    parallel_for_widest(C, x.numel() >= kParallelGrain,
                        [&](std::int64_t c) { backward_channel(plan, c, gradient_row, keep_rows); });
  });
  return grads;
}

}  // namespace

BatchNormGrads batch_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& mean, const Tensor& rstd,
                                   const Tensor& weight, bool training, bool need_dx, bool need_dparams, bool relu,
                                   const Tensor& bias) {
  VIGIL_CHECK(dy.shape() == x.shape(), ShapeError, "batch_norm backward: gradient of shape {} for input of shape {}",
              dy.shape().str(), x.shape().str());
  const Tensor gc = raw::contiguous(dy);
  return run_backward(x, mean, rstd, weight, bias, training, need_dx, need_dparams, "batch_norm backward", false,
                      [&](auto zero, const auto& plan) {
    using T = decltype(zero);
    const T* pg = gc.data<T>();
    // With the fused ReLU the gradient passes where the forward's output was positive, recomputed bit-exactly.
    return [pg, relu, C = plan.C, S = plan.S](std::int64_t n, std::int64_t c, const T* row, const AffineT<T>& affine,
                                              T* buffer) {
      const T* grow = pg + (n * C + c) * S;
      if (!relu) return grow;
      for (std::int64_t s = 0; s < S; ++s) buffer[s] = keep_if(grow[s], affine(row[s]) > T(0));
      return const_cast<const T*>(buffer);
    };
  });
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

namespace {

// The fused pooling's output extents, after checking x is [N, C, H, W] with H, W >= 2.
Shape pooled_shape(const Tensor& x, const char* op) {
  VIGIL_CHECK(x.dim() == 4 && x.shape()[2] >= 2 && x.shape()[3] >= 2, ShapeError,
              "{}: expected an input [N, C, H, W] with H, W >= 2, got shape {}", op, x.shape().str());
  return Shape{x.shape()[0], x.shape()[1], x.shape()[2] / 2, x.shape()[3] / 2};
}

constexpr Window2d kPool2x2{.kernel_h = 2, .kernel_w = 2, .stride_h = 2, .stride_w = 2};

// n bytes from the caching allocator that tensors use, so that a training step's winners reuse the last step's
// block instead of faulting in fresh pages from the system each time.
std::shared_ptr<std::uint8_t[]> cached_bytes(std::size_t n) {
  auto* block = static_cast<std::uint8_t*>(CachingAllocator::instance().allocate(n));
  return {block, [n](std::uint8_t* p) { CachingAllocator::instance().deallocate(p, n); }};
}

// Windows per row rounded up to whole 4-wide SSE steps.
std::int64_t padded_windows(std::int64_t OW) { return (OW + 3) / 4 * 4; }

// The fused forward. With batch_eps, each channel's batch statistics are computed first, into `stats` and `rstd`
// (float64 [C], allocated by the caller), from the rows the normalisation then reads while they are still in cache;
// without, mean and rstd are read from those tensors.
BatchNormReluPool relu_max_pool_forward(const Tensor& x, const BatchNormStats& stats, const Tensor& rstd,
                                        const Tensor& weight, const Tensor& bias, bool want_winners,
                                        std::optional<double> batch_eps, const char* op) {
  const Shape out_shape = pooled_shape(x, op);
  const std::int64_t N = x.shape()[0], C = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
  const std::int64_t OH = out_shape[2], OW = out_shape[3];
  const Tensor xc = raw::contiguous(x);
  const std::vector<double> w = param_values(weight), b = param_values(bias);
  double* pmean = stats.mean.data<double>();
  double* pvar = batch_eps ? stats.var.data<double>() : nullptr;
  double* prstd = rstd.data<double>();
  BatchNormReluPool result{empty(out_shape, TensorOptions{x.dtype()}), nullptr};
  if (want_winners) result.winners = cached_bytes(static_cast<std::size_t>(out_shape.numel()));
  const bool wide = cpu_has_avx512();
  dispatch_floating(x.dtype(), op, [&](auto zero) {
    using T = decltype(zero);
    const T* px = xc.data<T>();
    T* py = result.y.data<T>();
    std::uint8_t* pwin = result.winners.get();
    parallel_for_widest(C, x.numel() >= kParallelGrain, [&](std::int64_t c) {
      if (batch_eps) {
        std::tie(pmean[c], pvar[c]) = channel_stats(px, N, C, H * W, c);
        prstd[c] = rstd_of(pvar[c], *batch_eps);
      }
      const AffineT<T> affine(ChannelAffine::of(pmean[c], prstd[c], value_or(w, c, 1.0), value_or(b, c, 0.0)));
      // The plane's activation max(0, affine(x)) (the rows any window reads), computed as batch_norm_normalize
      // does, then pooled a pair of rows at a time over OWp windows, OW rounded up to whole SSE steps: the extra
      // windows read on into the next row or the zeroed slack, and their results are dropped.
      const std::int64_t OWp = padded_windows(OW), used = 2 * OH * W;
      std::vector<T> activation(static_cast<std::size_t>(used + 2 * OWp), T(0));
      std::vector<T> pooled(static_cast<std::size_t>(OWp));
      std::vector<std::uint8_t> code(static_cast<std::size_t>(OWp));
      for (std::int64_t n = 0; n < N; ++n) {
        const T* plane = px + (n * C + c) * H * W;
        for (std::int64_t s = 0; s < used; ++s) activation[s] = std::max(affine(plane[s]), T(0));
        for (std::int64_t oh = 0; oh < OH; ++oh) {
          const T* top = activation.data() + 2 * oh * W;
          const std::int64_t out = ((n * C + c) * OH + oh) * OW;
#if VIGIL_HAS_AVX512_PATH
          if constexpr (std::is_same_v<T, float>) {
            if (wide) {  // straight into the outputs: masked stores end the row
              detail::max_pool_2x2_row_avx512(top, top + W, OW, py + out, pwin ? pwin + out : code.data(), pwin);
              continue;
            }
          }
#endif
          detail::max_pool_2x2_row(top, top + W, OWp, pooled.data(), code.data(), true);
          // restrict: byte stores may alias anything, and without it every store reloads every pointer.
          const T* __restrict from = pooled.data();
          T* __restrict to = py + out;
          for (std::int64_t ow = 0; ow < OW; ++ow) to[ow] = from[ow];
          if (!pwin) continue;
          const std::uint8_t* __restrict place = code.data();
          std::uint8_t* __restrict winner = pwin + out;
          for (std::int64_t ow = 0; ow < OW; ++ow) winner[ow] = place[ow];
        }
      }
    });
  });
  return result;
}

}  // namespace

BatchNormReluPool batch_norm_relu_max_pool_2x2(const Tensor& x, const Tensor& mean, const Tensor& rstd,
                                               const Tensor& weight, const Tensor& bias, bool want_winners) {
  return relu_max_pool_forward(x, BatchNormStats{mean, Tensor()}, rstd, weight, bias, want_winners, std::nullopt,
                               "batch_norm_relu_max_pool_2x2");
}

BatchNormReluPoolTraining batch_norm_relu_max_pool_2x2_training(const Tensor& x, const Tensor& weight,
                                                                const Tensor& bias, double eps, bool want_winners) {
  const char* op = "batch_norm_relu_max_pool_2x2";
  const std::int64_t C = dims_of(x, op).C;
  BatchNormReluPoolTraining result;
  result.stats = {empty(Shape{C}, TensorOptions{DType::Float64}), empty(Shape{C}, TensorOptions{DType::Float64})};
  result.rstd = empty(Shape{C}, TensorOptions{DType::Float64});
  result.pooled = relu_max_pool_forward(x, result.stats, result.rstd, weight, bias, want_winners, eps, op);
  return result;
}

Tensor batch_norm_relu_max_pool_2x2_reference(const Tensor& x, const Tensor& mean, const Tensor& rstd,
                                              const Tensor& weight, const Tensor& bias) {
  pooled_shape(x, "batch_norm_relu_max_pool_2x2_reference");
  return max_pool2d_forward_reference(batch_norm_normalize_reference(x, mean, rstd, weight, bias, true), kPool2x2).y;
}

BatchNormGrads batch_norm_relu_max_pool_2x2_backward(const Tensor& dy, const std::uint8_t* winners, const Tensor& x,
                                                     const Tensor& mean, const Tensor& rstd, const Tensor& weight,
                                                     const Tensor& bias, bool training, bool need_dx,
                                                     bool need_dparams) {
  const char* op = "batch_norm_relu_max_pool_2x2 backward";
  const Shape out_shape = pooled_shape(x, op);
  VIGIL_CHECK(dy.shape() == out_shape, ShapeError, "{}: gradient of shape {} for input of shape {} (expected {})", op,
              dy.shape().str(), x.shape().str(), out_shape.str());
  const Tensor gc = raw::contiguous(dy);
  const std::int64_t OH = out_shape[2], OW = out_shape[3], W = x.shape()[3];
  return run_backward(x, mean, rstd, weight, bias, training, need_dx, need_dparams, op, true,
                      [&](auto zero, const auto& plan) {
    using T = decltype(zero);
    const T* pg = gc.data<T>();
    // dy routed to each window's winner, masked where the ReLU passed nothing: what max_pool2d_backward then the
    // ReLU mask give. Positions in no window (an odd last row or column) keep the zeros of the fill.
    return [pg, winners, OH, OW, W, C = plan.C, S = plan.S](std::int64_t n, std::int64_t c, const T*,
                                                            const AffineT<T>&, T* buffer) {
      std::fill(buffer, buffer + S, T(0));
      const std::int64_t first = (n * C + c) * OH * OW;
      for (std::int64_t oh = 0; oh < OH; ++oh) {
        const T* dy_row = pg + first + oh * OW;
        const std::uint8_t* code_row = winners + first + oh * OW;
        // SSE even where AVX-512 is available: its masked 16-wide routing measured slower (a whole CNN step
        // 33-36 ms against 31-33 ms on one thread), unlike the forward's tournament.
        detail::route_2x2_row(dy_row, code_row, OW, 0, buffer + 2 * oh * W);
        detail::route_2x2_row(dy_row, code_row, OW, 1, buffer + (2 * oh + 1) * W);
      }
      return const_cast<const T*>(buffer);
    };
  });
}

BatchNormGrads batch_norm_relu_max_pool_2x2_backward_reference(const Tensor& dy, const Tensor& x, const Tensor& mean,
                                                               const Tensor& rstd, const Tensor& weight,
                                                               const Tensor& bias, bool training, bool need_dx,
                                                               bool need_dparams) {
  const Tensor activation = batch_norm_normalize_reference(x, mean, rstd, weight, bias, true);
  const MaxPoolResult pooled = max_pool2d_forward_reference(activation, kPool2x2);
  const Tensor dactivation = max_pool2d_backward_reference(dy, pooled.indices, x.shape());
  return batch_norm_backward_reference(dactivation, x, mean, rstd, weight, training, need_dx, need_dparams, true,
                                       bias);
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
