// 2-D max, average and adaptive pooling: fast kernels and their naive twins. The math is in pool.hpp.
//
// Dims: N batch, C channels, H x W input plane, OH x OW output plane; P = N * C planes.
//
// Both kinds of window (sliding and adaptive) reduce to, per axis and output index o, a clipped input range
// [start, end) and the extent `span` the divisor counts when padding is included. The fast kernels tabulate these
// once per call (AxisWindows) and run one plane per task; the references recompute them per output element.
#include <vigil/kernels/branch_free.hpp>
#include <vigil/kernels/dispatch.hpp>
#include <vigil/kernels/pool.hpp>

#include "pool_2x2.hpp"

#include <algorithm>
#include <cstdint>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

namespace vigil::kernels {

bool is_max_pool_2x2(const Window2d& w) {
  return w.kernel_h == 2 && w.kernel_w == 2 && w.stride_h == 2 && w.stride_w == 2 && w.pad_h == 0 && w.pad_w == 0;
}

std::int64_t pooled_extent(std::int64_t in, std::int64_t kernel, std::int64_t stride, std::int64_t pad) {
  return (in + 2 * pad - kernel) / stride + 1;
}

namespace {

void check_plane_input(const Tensor& x, const char* op) {
  VIGIL_CHECK(x.dim() == 4, ShapeError, "{}: expected a 4-D input [N, C, H, W], got shape {}", op, x.shape().str());
  VIGIL_CHECK(x.dtype() == DType::Float32 || x.dtype() == DType::Float64, DTypeError,
              "{}: expected a float32 or float64 input, got {} of shape {}", op, dtype_name(x.dtype()),
              x.shape().str());
  VIGIL_CHECK(x.shape()[2] > 0 && x.shape()[3] > 0, ShapeError, "{}: input of shape {} has an empty plane", op,
              x.shape().str());
}

}  // namespace

Shape check_pool2d(const Tensor& x, const Window2d& w, const char* op) {
  check_plane_input(x, op);
  VIGIL_CHECK(w.kernel_h > 0 && w.kernel_w > 0 && w.stride_h > 0 && w.stride_w > 0, ShapeError,
              "{}: kernel ({}, {}) and stride ({}, {}) must be positive (input of shape {})", op, w.kernel_h,
              w.kernel_w, w.stride_h, w.stride_w, x.shape().str());
  VIGIL_CHECK(w.pad_h >= 0 && w.pad_w >= 0 && 2 * w.pad_h <= w.kernel_h && 2 * w.pad_w <= w.kernel_w, ShapeError,
              "{}: padding ({}, {}) must be between 0 and half the kernel ({}, {})", op, w.pad_h, w.pad_w, w.kernel_h,
              w.kernel_w);
  const std::int64_t H = x.shape()[2], W = x.shape()[3];
  VIGIL_CHECK(H + 2 * w.pad_h >= w.kernel_h && W + 2 * w.pad_w >= w.kernel_w, ShapeError,
              "{}: kernel ({}, {}) is larger than the padded input plane ({}, {}) (input of shape {}, padding ({}, {}))",
              op, w.kernel_h, w.kernel_w, H + 2 * w.pad_h, W + 2 * w.pad_w, x.shape().str(), w.pad_h, w.pad_w);
  return Shape{x.shape()[0], x.shape()[1], pooled_extent(H, w.kernel_h, w.stride_h, w.pad_h),
               pooled_extent(W, w.kernel_w, w.stride_w, w.pad_w)};
}

Shape check_adaptive_pool2d(const Tensor& x, std::int64_t out_h, std::int64_t out_w, const char* op) {
  check_plane_input(x, op);
  VIGIL_CHECK(out_h > 0 && out_w > 0, ShapeError, "{}: output size ({}, {}) must be positive (input of shape {})", op,
              out_h, out_w, x.shape().str());
  return Shape{x.shape()[0], x.shape()[1], out_h, out_w};
}

std::int64_t adaptive_start(std::int64_t i, std::int64_t in, std::int64_t out) { return (i * in) / out; }
std::int64_t adaptive_end(std::int64_t i, std::int64_t in, std::int64_t out) { return ((i + 1) * in + out - 1) / out; }

namespace {

// One axis' windows: input range [start, end) of output o, and `span`, the extent counted with padding.
struct AxisWindow {
  std::int64_t start, end, span;
};

AxisWindow sliding_window(std::int64_t o, std::int64_t in, std::int64_t kernel, std::int64_t stride,
                          std::int64_t pad) {
  const std::int64_t s = o * stride - pad;
  const std::int64_t e = std::min(s + kernel, in + pad);
  return {std::max<std::int64_t>(s, 0), std::min(e, in), e - s};
}

AxisWindow adaptive_window(std::int64_t o, std::int64_t in, std::int64_t out) {
  const std::int64_t s = adaptive_start(o, in, out), e = adaptive_end(o, in, out);
  return {s, e, e - s};
}

std::vector<AxisWindow> sliding_windows(std::int64_t out, std::int64_t in, std::int64_t kernel, std::int64_t stride,
                                        std::int64_t pad) {
  std::vector<AxisWindow> w(static_cast<std::size_t>(out));
  for (std::int64_t o = 0; o < out; ++o) w[static_cast<std::size_t>(o)] = sliding_window(o, in, kernel, stride, pad);
  return w;
}

std::vector<AxisWindow> adaptive_windows(std::int64_t out, std::int64_t in) {
  std::vector<AxisWindow> w(static_cast<std::size_t>(out));
  for (std::int64_t o = 0; o < out; ++o) w[static_cast<std::size_t>(o)] = adaptive_window(o, in, out);
  return w;
}

// The element counts a pooled window divides by.
std::int64_t divisor(const AxisWindow& r, const AxisWindow& c, bool count_padding) {
  return count_padding ? r.span * c.span : (r.end - r.start) * (c.end - c.start);
}

// ---- Fast paths: row-major planes, one plane per task. ----

MaxPoolResult max_pool_fast(const Tensor& x, const Shape& out_shape, const std::vector<AxisWindow>& rows,
                            const std::vector<AxisWindow>& cols, const char* op) {
  const Tensor xc = raw::contiguous(x);
  MaxPoolResult r{empty(out_shape, TensorOptions{x.dtype()}), empty(out_shape, TensorOptions{DType::Int64})};
  const std::int64_t planes = out_shape[0] * out_shape[1], H = x.shape()[2], W = x.shape()[3];
  const std::int64_t OH = out_shape[2], OW = out_shape[3];
  dispatch_floating(x.dtype(), op, [&](auto zero) {
    using T = decltype(zero);
    const T* px = xc.data<T>();
    T* py = r.y.data<T>();
    std::int64_t* pi = r.indices.data<std::int64_t>();
#pragma omp parallel for schedule(static) if (planes * H * W >= kParallelGrain)
    for (std::int64_t p = 0; p < planes; ++p) {
      const T* plane = px + p * H * W;
      for (std::int64_t oh = 0; oh < OH; ++oh) {
        const AxisWindow& rw = rows[static_cast<std::size_t>(oh)];
        for (std::int64_t ow = 0; ow < OW; ++ow) {
          const AxisWindow& cw = cols[static_cast<std::size_t>(ow)];
          // Branch-free (vigil/kernels/branch_free.hpp): which element of a window wins is data. v != v is isnan(v).
          std::int64_t best = rw.start * W + cw.start;
          T m = -std::numeric_limits<T>::infinity();
          for (std::int64_t h = rw.start; h < rw.end; ++h) {
            for (std::int64_t w = cw.start; w < cw.end; ++w) {
              const T v = plane[h * W + w];
              const bool take = (v > m) | (v != v);
              m = select(take, v, m);
              const std::int64_t keep_i = -static_cast<std::int64_t>(take);
              best = ((h * W + w) & keep_i) | (best & ~keep_i);
            }
          }
          py[(p * OH + oh) * OW + ow] = m;
          pi[(p * OH + oh) * OW + ow] = best;
        }
      }
    }
  });
  return r;
}

// The common window, 2x2 with stride 2 and no padding (OH = H / 2, OW = W / 2): the tournament of pool_2x2.hpp,
// one pair of input rows at a time, its winner codes turned into plane offsets.
MaxPoolResult max_pool_2x2(const Tensor& x, const Shape& out_shape) {
  const Tensor xc = raw::contiguous(x);
  MaxPoolResult r{empty(out_shape, TensorOptions{x.dtype()}), empty(out_shape, TensorOptions{DType::Int64})};
  const std::int64_t planes = out_shape[0] * out_shape[1], H = x.shape()[2], W = x.shape()[3];
  const std::int64_t OH = out_shape[2], OW = out_shape[3];
  dispatch_floating(x.dtype(), "max_pool2d", [&](auto zero) {
    using T = decltype(zero);
    const T* px = xc.data<T>();
    T* py = r.y.data<T>();
    std::int64_t* pi = r.indices.data<std::int64_t>();
#pragma omp parallel if (planes * H * W >= kParallelGrain)
    {
      std::vector<std::uint8_t> code(static_cast<std::size_t>(OW));
#pragma omp for schedule(static)
      for (std::int64_t p = 0; p < planes; ++p) {
        for (std::int64_t oh = 0; oh < OH; ++oh) {
          const T* r0 = px + p * H * W + 2 * oh * W;
          const std::int64_t out = (p * OH + oh) * OW;
          detail::max_pool_2x2_row(r0, r0 + W, OW, py + out, code.data());
          const std::int64_t base = 2 * oh * W;
          for (std::int64_t ow = 0; ow < OW; ++ow) pi[out + ow] = base + (code[ow] >> 1) * W + 2 * ow + (code[ow] & 1);
        }
      }
    }
  });
  return r;
}

Tensor avg_pool_fast(const Tensor& x, const Shape& out_shape, const std::vector<AxisWindow>& rows,
                     const std::vector<AxisWindow>& cols, bool count_padding, const char* op) {
  const Tensor xc = raw::contiguous(x);
  Tensor y = empty(out_shape, TensorOptions{x.dtype()});
  const std::int64_t planes = out_shape[0] * out_shape[1], H = x.shape()[2], W = x.shape()[3];
  const std::int64_t OH = out_shape[2], OW = out_shape[3];
  dispatch_floating(x.dtype(), op, [&](auto zero) {
    using T = decltype(zero);
    const T* px = xc.data<T>();
    T* py = y.data<T>();
#pragma omp parallel for schedule(static) if (planes * H * W >= kParallelGrain)
    for (std::int64_t p = 0; p < planes; ++p) {
      const T* plane = px + p * H * W;
      for (std::int64_t oh = 0; oh < OH; ++oh) {
        const AxisWindow& rw = rows[static_cast<std::size_t>(oh)];
        for (std::int64_t ow = 0; ow < OW; ++ow) {
          const AxisWindow& cw = cols[static_cast<std::size_t>(ow)];
          T s = 0;
          for (std::int64_t h = rw.start; h < rw.end; ++h) {
            for (std::int64_t w = cw.start; w < cw.end; ++w) s += plane[h * W + w];
          }
          py[(p * OH + oh) * OW + ow] = s / static_cast<T>(divisor(rw, cw, count_padding));
        }
      }
    }
  });
  return y;
}

Tensor avg_pool_backward_fast(const Tensor& dy, const Shape& input_shape, const std::vector<AxisWindow>& rows,
                              const std::vector<AxisWindow>& cols, bool count_padding, const char* op) {
  const Tensor gc = raw::contiguous(dy);
  Tensor dx = zeros(input_shape, TensorOptions{dy.dtype()});
  const std::int64_t planes = input_shape[0] * input_shape[1], H = input_shape[2], W = input_shape[3];
  const std::int64_t OH = dy.shape()[2], OW = dy.shape()[3];
  dispatch_floating(dy.dtype(), op, [&](auto zero) {
    using T = decltype(zero);
    const T* pg = gc.data<T>();
    T* pdx = dx.data<T>();
#pragma omp parallel for schedule(static) if (planes * H * W >= kParallelGrain)
    for (std::int64_t p = 0; p < planes; ++p) {
      T* plane = pdx + p * H * W;
      for (std::int64_t oh = 0; oh < OH; ++oh) {
        const AxisWindow& rw = rows[static_cast<std::size_t>(oh)];
        for (std::int64_t ow = 0; ow < OW; ++ow) {
          const AxisWindow& cw = cols[static_cast<std::size_t>(ow)];
          const T g = pg[(p * OH + oh) * OW + ow] / static_cast<T>(divisor(rw, cw, count_padding));
          for (std::int64_t h = rw.start; h < rw.end; ++h) {
            for (std::int64_t w = cw.start; w < cw.end; ++w) plane[h * W + w] += g;
          }
        }
      }
    }
  });
  return dx;
}

// ---- References: strided reads, one thread, windows recomputed per element, sums in double. ----

// Calls f(n, c, oh, ow, out_offset) for every output element of a row-major [N, C, OH, OW] tensor.
template <class F>
void for_each_output(const Shape& out_shape, F&& f) {
  std::int64_t o = 0;
  for (std::int64_t n = 0; n < out_shape[0]; ++n)
    for (std::int64_t c = 0; c < out_shape[1]; ++c)
      for (std::int64_t oh = 0; oh < out_shape[2]; ++oh)
        for (std::int64_t ow = 0; ow < out_shape[3]; ++ow) f(n, c, oh, ow, o++);
}

template <class WindowOf>
MaxPoolResult max_pool_reference(const Tensor& x, const Shape& out_shape, WindowOf&& window_of, const char* op) {
  MaxPoolResult r{empty(out_shape, TensorOptions{x.dtype()}), empty(out_shape, TensorOptions{DType::Int64})};
  const Strides& s = x.strides();
  const std::int64_t W = x.shape()[3];
  dispatch_floating(x.dtype(), op, [&](auto zero) {
    using T = decltype(zero);
    const T* px = x.data<T>();
    for_each_output(out_shape, [&](std::int64_t n, std::int64_t c, std::int64_t oh, std::int64_t ow, std::int64_t o) {
      const auto [rw, cw] = window_of(oh, ow);
      std::int64_t best = -1;
      double m = 0;
      for (std::int64_t h = rw.start; h < rw.end; ++h) {
        for (std::int64_t w = cw.start; w < cw.end; ++w) {
          const double v = static_cast<double>(px[n * s[0] + c * s[1] + h * s[2] + w * s[3]]);
          // The first maximum wins; a NaN wins over every number (the last NaN seen).
          if (best < 0 || v > m || std::isnan(v)) {
            m = v;
            best = h * W + w;
          }
        }
      }
      r.y.data<T>()[o] = static_cast<T>(m);
      r.indices.data<std::int64_t>()[o] = best;
    });
  });
  return r;
}

template <class WindowOf>
Tensor avg_pool_reference(const Tensor& x, const Shape& out_shape, WindowOf&& window_of, bool count_padding,
                          const char* op) {
  Tensor y = empty(out_shape, TensorOptions{x.dtype()});
  const Strides& s = x.strides();
  dispatch_floating(x.dtype(), op, [&](auto zero) {
    using T = decltype(zero);
    const T* px = x.data<T>();
    for_each_output(out_shape, [&](std::int64_t n, std::int64_t c, std::int64_t oh, std::int64_t ow, std::int64_t o) {
      const auto [rw, cw] = window_of(oh, ow);
      double sum = 0;
      for (std::int64_t h = rw.start; h < rw.end; ++h)
        for (std::int64_t w = cw.start; w < cw.end; ++w) sum += static_cast<double>(px[n * s[0] + c * s[1] + h * s[2] + w * s[3]]);
      y.data<T>()[o] = static_cast<T>(sum / static_cast<double>(divisor(rw, cw, count_padding)));
    });
  });
  return y;
}

template <class WindowOf>
Tensor avg_pool_backward_reference(const Tensor& dy, const Shape& input_shape, WindowOf&& window_of,
                                   bool count_padding, const char* op) {
  Tensor dx = zeros(input_shape, TensorOptions{DType::Float64});
  double* pdx = dx.data<double>();
  const Strides& gs = dy.strides();
  const std::int64_t C = input_shape[1], H = input_shape[2], W = input_shape[3];
  dispatch_floating(dy.dtype(), op, [&](auto zero) {
    using T = decltype(zero);
    const T* pg = dy.data<T>();
    for_each_output(dy.shape(), [&](std::int64_t n, std::int64_t c, std::int64_t oh, std::int64_t ow, std::int64_t) {
      const auto [rw, cw] = window_of(oh, ow);
      const double g = static_cast<double>(pg[n * gs[0] + c * gs[1] + oh * gs[2] + ow * gs[3]]) /
                       static_cast<double>(divisor(rw, cw, count_padding));
      for (std::int64_t h = rw.start; h < rw.end; ++h)
        for (std::int64_t w = cw.start; w < cw.end; ++w) pdx[((n * C + c) * H + h) * W + w] += g;
    });
  });
  return raw::to_dtype(dx, dy.dtype());
}

void check_grad_shape(const Tensor& dy, const Shape& input_shape, const char* op) {
  VIGIL_CHECK(dy.dim() == 4 && input_shape.size() == 4 && dy.shape()[0] == input_shape[0] &&
                  dy.shape()[1] == input_shape[1],
              ShapeError, "{}: gradient of shape {} does not fit input shape {}", op, dy.shape().str(),
              input_shape.str());
}

}  // namespace

MaxPoolResult max_pool2d_forward(const Tensor& x, const Window2d& w) {
  const Shape out = check_pool2d(x, w, "max_pool2d");
  if (is_max_pool_2x2(w)) return max_pool_2x2(x, out);
  return max_pool_fast(x, out, sliding_windows(out[2], x.shape()[2], w.kernel_h, w.stride_h, w.pad_h),
                       sliding_windows(out[3], x.shape()[3], w.kernel_w, w.stride_w, w.pad_w), "max_pool2d");
}

MaxPoolResult max_pool2d_forward_reference(const Tensor& x, const Window2d& w) {
  const Shape out = check_pool2d(x, w, "max_pool2d_reference");
  const std::int64_t H = x.shape()[2], W = x.shape()[3];
  return max_pool_reference(x, out, [&](std::int64_t oh, std::int64_t ow) {
    return std::pair{sliding_window(oh, H, w.kernel_h, w.stride_h, w.pad_h),
                     sliding_window(ow, W, w.kernel_w, w.stride_w, w.pad_w)};
  }, "max_pool2d_reference");
}

Tensor max_pool2d_backward(const Tensor& dy, const Tensor& indices, const Shape& input_shape) {
  check_grad_shape(dy, input_shape, "max_pool2d backward");
  const Tensor gc = raw::contiguous(dy), ic = raw::contiguous(indices);
  Tensor dx = empty(input_shape, TensorOptions{dy.dtype()});
  const std::int64_t planes = input_shape[0] * input_shape[1], HW = input_shape[2] * input_shape[3];
  const std::int64_t per_plane = dy.shape()[2] * dy.shape()[3];
  dispatch_floating(dy.dtype(), "max_pool2d backward", [&](auto zero) {
    using T = decltype(zero);
    const T* pg = gc.data<T>();
    const std::int64_t* pi = ic.data<std::int64_t>();
    T* pdx = dx.data<T>();
    // Each task clears its own planes before scattering into them: the clearing is split across the threads and
    // each plane is still in cache when the scatter reaches it.
#pragma omp parallel for schedule(static) if (planes * HW >= kParallelGrain)
    for (std::int64_t p = 0; p < planes; ++p) {
      T* plane = pdx + p * HW;
      std::fill(plane, plane + HW, zero);
      for (std::int64_t i = 0; i < per_plane; ++i) plane[pi[p * per_plane + i]] += pg[p * per_plane + i];
    }
  });
  return dx;
}

Tensor max_pool2d_backward_reference(const Tensor& dy, const Tensor& indices, const Shape& input_shape) {
  check_grad_shape(dy, input_shape, "max_pool2d backward reference");
  Tensor dx = zeros(input_shape, TensorOptions{DType::Float64});
  double* pdx = dx.data<double>();
  const Strides &gs = dy.strides(), &is = indices.strides();
  const std::int64_t C = input_shape[1], HW = input_shape[2] * input_shape[3];
  const std::int64_t* pi = indices.data<std::int64_t>();
  dispatch_floating(dy.dtype(), "max_pool2d backward reference", [&](auto zero) {
    using T = decltype(zero);
    const T* pg = dy.data<T>();
    for_each_output(dy.shape(), [&](std::int64_t n, std::int64_t c, std::int64_t oh, std::int64_t ow, std::int64_t) {
      const std::int64_t at = pi[n * is[0] + c * is[1] + oh * is[2] + ow * is[3]];
      pdx[(n * C + c) * HW + at] += static_cast<double>(pg[n * gs[0] + c * gs[1] + oh * gs[2] + ow * gs[3]]);
    });
  });
  return raw::to_dtype(dx, dy.dtype());
}

Tensor avg_pool2d_forward(const Tensor& x, const Window2d& w, bool count_include_pad) {
  const Shape out = check_pool2d(x, w, "avg_pool2d");
  return avg_pool_fast(x, out, sliding_windows(out[2], x.shape()[2], w.kernel_h, w.stride_h, w.pad_h),
                       sliding_windows(out[3], x.shape()[3], w.kernel_w, w.stride_w, w.pad_w), count_include_pad,
                       "avg_pool2d");
}

Tensor avg_pool2d_forward_reference(const Tensor& x, const Window2d& w, bool count_include_pad) {
  const Shape out = check_pool2d(x, w, "avg_pool2d_reference");
  const std::int64_t H = x.shape()[2], W = x.shape()[3];
  return avg_pool_reference(x, out, [&](std::int64_t oh, std::int64_t ow) {
    return std::pair{sliding_window(oh, H, w.kernel_h, w.stride_h, w.pad_h),
                     sliding_window(ow, W, w.kernel_w, w.stride_w, w.pad_w)};
  }, count_include_pad, "avg_pool2d_reference");
}

Tensor avg_pool2d_backward(const Tensor& dy, const Shape& input_shape, const Window2d& w, bool count_include_pad) {
  check_grad_shape(dy, input_shape, "avg_pool2d backward");
  return avg_pool_backward_fast(dy, input_shape,
                                sliding_windows(dy.shape()[2], input_shape[2], w.kernel_h, w.stride_h, w.pad_h),
                                sliding_windows(dy.shape()[3], input_shape[3], w.kernel_w, w.stride_w, w.pad_w),
                                count_include_pad, "avg_pool2d backward");
}

Tensor avg_pool2d_backward_reference(const Tensor& dy, const Shape& input_shape, const Window2d& w,
                                     bool count_include_pad) {
  check_grad_shape(dy, input_shape, "avg_pool2d backward reference");
  const std::int64_t H = input_shape[2], W = input_shape[3];
  return avg_pool_backward_reference(dy, input_shape, [&](std::int64_t oh, std::int64_t ow) {
    return std::pair{sliding_window(oh, H, w.kernel_h, w.stride_h, w.pad_h),
                     sliding_window(ow, W, w.kernel_w, w.stride_w, w.pad_w)};
  }, count_include_pad, "avg_pool2d backward reference");
}

Tensor adaptive_avg_pool2d_forward(const Tensor& x, std::int64_t out_h, std::int64_t out_w) {
  const Shape out = check_adaptive_pool2d(x, out_h, out_w, "adaptive_avg_pool2d");
  return avg_pool_fast(x, out, adaptive_windows(out_h, x.shape()[2]), adaptive_windows(out_w, x.shape()[3]), true,
                       "adaptive_avg_pool2d");
}

Tensor adaptive_avg_pool2d_forward_reference(const Tensor& x, std::int64_t out_h, std::int64_t out_w) {
  const Shape out = check_adaptive_pool2d(x, out_h, out_w, "adaptive_avg_pool2d_reference");
  const std::int64_t H = x.shape()[2], W = x.shape()[3];
  return avg_pool_reference(x, out, [&](std::int64_t oh, std::int64_t ow) {
    return std::pair{adaptive_window(oh, H, out_h), adaptive_window(ow, W, out_w)};
  }, true, "adaptive_avg_pool2d_reference");
}

Tensor adaptive_avg_pool2d_backward(const Tensor& dy, const Shape& input_shape) {
  check_grad_shape(dy, input_shape, "adaptive_avg_pool2d backward");
  return avg_pool_backward_fast(dy, input_shape, adaptive_windows(dy.shape()[2], input_shape[2]),
                                adaptive_windows(dy.shape()[3], input_shape[3]), true, "adaptive_avg_pool2d backward");
}

Tensor adaptive_avg_pool2d_backward_reference(const Tensor& dy, const Shape& input_shape) {
  check_grad_shape(dy, input_shape, "adaptive_avg_pool2d backward reference");
  const std::int64_t H = input_shape[2], W = input_shape[3], OH = dy.shape()[2], OW = dy.shape()[3];
  return avg_pool_backward_reference(dy, input_shape, [&](std::int64_t oh, std::int64_t ow) {
    return std::pair{adaptive_window(oh, H, OH), adaptive_window(ow, W, OW)};
  }, true, "adaptive_avg_pool2d backward reference");
}

MaxPoolResult adaptive_max_pool2d_forward(const Tensor& x, std::int64_t out_h, std::int64_t out_w) {
  const Shape out = check_adaptive_pool2d(x, out_h, out_w, "adaptive_max_pool2d");
  return max_pool_fast(x, out, adaptive_windows(out_h, x.shape()[2]), adaptive_windows(out_w, x.shape()[3]),
                       "adaptive_max_pool2d");
}

MaxPoolResult adaptive_max_pool2d_forward_reference(const Tensor& x, std::int64_t out_h, std::int64_t out_w) {
  const Shape out = check_adaptive_pool2d(x, out_h, out_w, "adaptive_max_pool2d_reference");
  const std::int64_t H = x.shape()[2], W = x.shape()[3];
  return max_pool_reference(x, out, [&](std::int64_t oh, std::int64_t ow) {
    return std::pair{adaptive_window(oh, H, out_h), adaptive_window(ow, W, out_w)};
  }, "adaptive_max_pool2d_reference");
}

}  // namespace vigil::kernels
