// Nearest and bilinear 2-D upsampling: fast kernels and their naive twins. The math is in upsample.hpp.
//
// Dims: N batch, C channels, H x W input plane, OH x OW output plane; P = N * C planes.
#include <vigil/kernels/dispatch.hpp>
#include <vigil/kernels/upsample.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

namespace vigil::kernels {

Shape check_upsample2d(const Tensor& x, std::int64_t out_h, std::int64_t out_w, const char* op) {
  VIGIL_CHECK(x.dim() == 4, ShapeError, "{}: expected a 4-D input [N, C, H, W], got shape {}", op, x.shape().str());
  VIGIL_CHECK(x.dtype() == DType::Float32 || x.dtype() == DType::Float64, DTypeError,
              "{}: expected a float32 or float64 input, got {} of shape {}", op, dtype_name(x.dtype()),
              x.shape().str());
  VIGIL_CHECK(x.shape()[2] > 0 && x.shape()[3] > 0 && out_h > 0 && out_w > 0, ShapeError,
              "{}: input of shape {} and output size ({}, {}) must have non-empty planes", op, x.shape().str(), out_h,
              out_w);
  return Shape{x.shape()[0], x.shape()[1], out_h, out_w};
}

namespace {

// ---- PyTorch's index formulas (aten/src/ATen/native/UpSample.h), in T as its CPU kernels compute them. ----

// r = 1 / scale when a scale was given, else in / out.
template <class T>
T source_ratio(std::int64_t in, std::int64_t out, double scale) {
  return scale > 0 ? static_cast<T>(1.0 / scale) : static_cast<T>(in) / static_cast<T>(out);
}

// Nearest: min(floor(dst * r), in - 1), with PyTorch's exact shortcuts for out == in and out == 2 in.
std::int64_t nearest_source(std::int64_t dst, std::int64_t in, std::int64_t out, double scale) {
  if (out == in) return dst;
  if (out == 2 * in) return dst >> 1;
  const float r = source_ratio<float>(in, out, scale);
  return std::min(static_cast<std::int64_t>(std::floor(static_cast<float>(dst) * r)), in - 1);
}

// Bilinear: the two source indices and their weights along one axis.
template <class T>
struct LinearTap {
  std::int64_t i0, i1;
  T l0, l1;
};

template <class T>
LinearTap<T> linear_tap(std::int64_t dst, std::int64_t in, std::int64_t out, bool align_corners, double scale) {
  if (out == in) return {dst, dst, T(1), T(0)};
  T src;
  if (align_corners) {
    const T r = out > 1 ? static_cast<T>(in - 1) / static_cast<T>(out - 1) : T(0);
    src = r * static_cast<T>(dst);
  } else {
    const T r = source_ratio<T>(in, out, scale);
    src = std::max(r * (static_cast<T>(dst) + T(0.5)) - T(0.5), T(0));
  }
  const auto i0 = static_cast<std::int64_t>(src);
  const std::int64_t i1 = i0 < in - 1 ? i0 + 1 : i0;
  const T l1 = src - static_cast<T>(i0);
  return {i0, i1, T(1) - l1, l1};
}

template <class T>
std::vector<LinearTap<T>> linear_taps(std::int64_t in, std::int64_t out, bool align_corners, double scale) {
  std::vector<LinearTap<T>> taps(static_cast<std::size_t>(out));
  for (std::int64_t o = 0; o < out; ++o) taps[static_cast<std::size_t>(o)] = linear_tap<T>(o, in, out, align_corners, scale);
  return taps;
}

std::vector<std::int64_t> nearest_sources(std::int64_t in, std::int64_t out, double scale) {
  std::vector<std::int64_t> src(static_cast<std::size_t>(out));
  for (std::int64_t o = 0; o < out; ++o) src[static_cast<std::size_t>(o)] = nearest_source(o, in, out, scale);
  return src;
}

void check_grad(const Tensor& dy, const Shape& input_shape, const char* op) {
  VIGIL_CHECK(dy.dim() == 4 && input_shape.size() == 4 && dy.shape()[0] == input_shape[0] &&
                  dy.shape()[1] == input_shape[1],
              ShapeError, "{}: gradient of shape {} does not fit input shape {}", op, dy.shape().str(),
              input_shape.str());
}

// Calls f(n, c, oh, ow) for every element of a [N, C, OH, OW] shape, row-major.
template <class F>
void for_each_nchw(const Shape& s, F&& f) {
  for (std::int64_t n = 0; n < s[0]; ++n)
    for (std::int64_t c = 0; c < s[1]; ++c)
      for (std::int64_t h = 0; h < s[2]; ++h)
        for (std::int64_t w = 0; w < s[3]; ++w) f(n, c, h, w);
}

}  // namespace

Tensor upsample_nearest2d_forward(const Tensor& x, std::int64_t out_h, std::int64_t out_w, double scale_h,
                                  double scale_w) {
  const Shape out = check_upsample2d(x, out_h, out_w, "upsample_nearest2d");
  const std::int64_t H = x.shape()[2], W = x.shape()[3], planes = out[0] * out[1];
  const auto rows = nearest_sources(H, out_h, scale_h), cols = nearest_sources(W, out_w, scale_w);
  const Tensor xc = raw::contiguous(x);
  Tensor y = empty(out, TensorOptions{x.dtype()});
  dispatch_floating(x.dtype(), "upsample_nearest2d", [&](auto zero) {
    using T = decltype(zero);
    const T* px = xc.data<T>();
    T* py = y.data<T>();
#pragma omp parallel for schedule(static) if (planes * out_h * out_w >= kParallelGrain)
    for (std::int64_t p = 0; p < planes; ++p) {
      for (std::int64_t oh = 0; oh < out_h; ++oh) {
        const T* src = px + (p * H + rows[static_cast<std::size_t>(oh)]) * W;
        T* dst = py + (p * out_h + oh) * out_w;
        for (std::int64_t ow = 0; ow < out_w; ++ow) dst[ow] = src[cols[static_cast<std::size_t>(ow)]];
      }
    }
  });
  return y;
}

Tensor upsample_nearest2d_forward_reference(const Tensor& x, std::int64_t out_h, std::int64_t out_w, double scale_h,
                                            double scale_w) {
  const Shape out = check_upsample2d(x, out_h, out_w, "upsample_nearest2d_reference");
  const std::int64_t H = x.shape()[2], W = x.shape()[3];
  const Strides& s = x.strides();
  Tensor y = empty(out, TensorOptions{x.dtype()});
  dispatch_floating(x.dtype(), "upsample_nearest2d_reference", [&](auto zero) {
    using T = decltype(zero);
    const T* px = x.data<T>();
    T* py = y.data<T>();
    std::int64_t o = 0;
    for_each_nchw(out, [&](std::int64_t n, std::int64_t c, std::int64_t oh, std::int64_t ow) {
      const std::int64_t h = nearest_source(oh, H, out_h, scale_h), w = nearest_source(ow, W, out_w, scale_w);
      py[o++] = px[n * s[0] + c * s[1] + h * s[2] + w * s[3]];
    });
  });
  return y;
}

Tensor upsample_nearest2d_backward(const Tensor& dy, const Shape& input_shape, double scale_h, double scale_w) {
  check_grad(dy, input_shape, "upsample_nearest2d backward");
  const std::int64_t H = input_shape[2], W = input_shape[3], OH = dy.shape()[2], OW = dy.shape()[3];
  const std::int64_t planes = input_shape[0] * input_shape[1];
  const auto rows = nearest_sources(H, OH, scale_h), cols = nearest_sources(W, OW, scale_w);
  const Tensor gc = raw::contiguous(dy);
  Tensor dx = zeros(input_shape, TensorOptions{dy.dtype()});
  dispatch_floating(dy.dtype(), "upsample_nearest2d backward", [&](auto zero) {
    using T = decltype(zero);
    const T* pg = gc.data<T>();
    T* pdx = dx.data<T>();
#pragma omp parallel for schedule(static) if (planes * OH * OW >= kParallelGrain)
    for (std::int64_t p = 0; p < planes; ++p) {
      for (std::int64_t oh = 0; oh < OH; ++oh) {
        T* dst = pdx + (p * H + rows[static_cast<std::size_t>(oh)]) * W;
        const T* src = pg + (p * OH + oh) * OW;
        for (std::int64_t ow = 0; ow < OW; ++ow) dst[cols[static_cast<std::size_t>(ow)]] += src[ow];
      }
    }
  });
  return dx;
}

Tensor upsample_nearest2d_backward_reference(const Tensor& dy, const Shape& input_shape, double scale_h,
                                             double scale_w) {
  check_grad(dy, input_shape, "upsample_nearest2d backward reference");
  const std::int64_t C = input_shape[1], H = input_shape[2], W = input_shape[3];
  const std::int64_t OH = dy.shape()[2], OW = dy.shape()[3];
  const Strides& s = dy.strides();
  Tensor dx = zeros(input_shape, TensorOptions{DType::Float64});
  double* pdx = dx.data<double>();
  dispatch_floating(dy.dtype(), "upsample_nearest2d backward reference", [&](auto zero) {
    using T = decltype(zero);
    const T* pg = dy.data<T>();
    for_each_nchw(dy.shape(), [&](std::int64_t n, std::int64_t c, std::int64_t oh, std::int64_t ow) {
      const std::int64_t h = nearest_source(oh, H, OH, scale_h), w = nearest_source(ow, W, OW, scale_w);
      pdx[((n * C + c) * H + h) * W + w] += static_cast<double>(pg[n * s[0] + c * s[1] + oh * s[2] + ow * s[3]]);
    });
  });
  return raw::to_dtype(dx, dy.dtype());
}

Tensor upsample_bilinear2d_forward(const Tensor& x, std::int64_t out_h, std::int64_t out_w, bool align_corners,
                                   double scale_h, double scale_w) {
  const Shape out = check_upsample2d(x, out_h, out_w, "upsample_bilinear2d");
  const std::int64_t H = x.shape()[2], W = x.shape()[3], planes = out[0] * out[1];
  const Tensor xc = raw::contiguous(x);
  Tensor y = empty(out, TensorOptions{x.dtype()});
  dispatch_floating(x.dtype(), "upsample_bilinear2d", [&](auto zero) {
    using T = decltype(zero);
    const auto rows = linear_taps<T>(H, out_h, align_corners, scale_h);
    const auto cols = linear_taps<T>(W, out_w, align_corners, scale_w);
    const T* px = xc.data<T>();
    T* py = y.data<T>();
#pragma omp parallel for schedule(static) if (planes * out_h * out_w >= kParallelGrain)
    for (std::int64_t p = 0; p < planes; ++p) {
      const T* plane = px + p * H * W;
      for (std::int64_t oh = 0; oh < out_h; ++oh) {
        const LinearTap<T>& r = rows[static_cast<std::size_t>(oh)];
        const T* row0 = plane + r.i0 * W;
        const T* row1 = plane + r.i1 * W;
        T* dst = py + (p * out_h + oh) * out_w;
        for (std::int64_t ow = 0; ow < out_w; ++ow) {
          const LinearTap<T>& c = cols[static_cast<std::size_t>(ow)];
          dst[ow] = r.l0 * (c.l0 * row0[c.i0] + c.l1 * row0[c.i1]) + r.l1 * (c.l0 * row1[c.i0] + c.l1 * row1[c.i1]);
        }
      }
    }
  });
  return y;
}

Tensor upsample_bilinear2d_forward_reference(const Tensor& x, std::int64_t out_h, std::int64_t out_w,
                                             bool align_corners, double scale_h, double scale_w) {
  const Shape out = check_upsample2d(x, out_h, out_w, "upsample_bilinear2d_reference");
  const std::int64_t H = x.shape()[2], W = x.shape()[3];
  const Strides& s = x.strides();
  Tensor y = empty(out, TensorOptions{x.dtype()});
  dispatch_floating(x.dtype(), "upsample_bilinear2d_reference", [&](auto zero) {
    using T = decltype(zero);
    const T* px = x.data<T>();
    T* py = y.data<T>();
    std::int64_t o = 0;
    for_each_nchw(out, [&](std::int64_t n, std::int64_t c, std::int64_t oh, std::int64_t ow) {
      const LinearTap<T> r = linear_tap<T>(oh, H, out_h, align_corners, scale_h);
      const LinearTap<T> q = linear_tap<T>(ow, W, out_w, align_corners, scale_w);
      auto at = [&](std::int64_t h, std::int64_t w) {
        return static_cast<double>(px[n * s[0] + c * s[1] + h * s[2] + w * s[3]]);
      };
      // The four corners, each weighted by the product of its axis weights.
      const double v = double(r.l0) * double(q.l0) * at(r.i0, q.i0) + double(r.l0) * double(q.l1) * at(r.i0, q.i1) +
                       double(r.l1) * double(q.l0) * at(r.i1, q.i0) + double(r.l1) * double(q.l1) * at(r.i1, q.i1);
      py[o++] = static_cast<T>(v);
    });
  });
  return y;
}

Tensor upsample_bilinear2d_backward(const Tensor& dy, const Shape& input_shape, bool align_corners, double scale_h,
                                    double scale_w) {
  check_grad(dy, input_shape, "upsample_bilinear2d backward");
  const std::int64_t H = input_shape[2], W = input_shape[3], OH = dy.shape()[2], OW = dy.shape()[3];
  const std::int64_t planes = input_shape[0] * input_shape[1];
  const Tensor gc = raw::contiguous(dy);
  Tensor dx = zeros(input_shape, TensorOptions{dy.dtype()});
  dispatch_floating(dy.dtype(), "upsample_bilinear2d backward", [&](auto zero) {
    using T = decltype(zero);
    const auto rows = linear_taps<T>(H, OH, align_corners, scale_h);
    const auto cols = linear_taps<T>(W, OW, align_corners, scale_w);
    const T* pg = gc.data<T>();
    T* pdx = dx.data<T>();
#pragma omp parallel for schedule(static) if (planes * OH * OW >= kParallelGrain)
    for (std::int64_t p = 0; p < planes; ++p) {
      T* plane = pdx + p * H * W;
      for (std::int64_t oh = 0; oh < OH; ++oh) {
        const LinearTap<T>& r = rows[static_cast<std::size_t>(oh)];
        T* row0 = plane + r.i0 * W;
        T* row1 = plane + r.i1 * W;
        const T* src = pg + (p * OH + oh) * OW;
        for (std::int64_t ow = 0; ow < OW; ++ow) {
          const LinearTap<T>& c = cols[static_cast<std::size_t>(ow)];
          const T g = src[ow];
          row0[c.i0] += r.l0 * c.l0 * g;
          row0[c.i1] += r.l0 * c.l1 * g;
          row1[c.i0] += r.l1 * c.l0 * g;
          row1[c.i1] += r.l1 * c.l1 * g;
        }
      }
    }
  });
  return dx;
}

Tensor upsample_bilinear2d_backward_reference(const Tensor& dy, const Shape& input_shape, bool align_corners,
                                              double scale_h, double scale_w) {
  check_grad(dy, input_shape, "upsample_bilinear2d backward reference");
  const std::int64_t C = input_shape[1], H = input_shape[2], W = input_shape[3];
  const std::int64_t OH = dy.shape()[2], OW = dy.shape()[3];
  const Strides& s = dy.strides();
  Tensor dx = zeros(input_shape, TensorOptions{DType::Float64});
  double* pdx = dx.data<double>();
  dispatch_floating(dy.dtype(), "upsample_bilinear2d backward reference", [&](auto zero) {
    using T = decltype(zero);
    const T* pg = dy.data<T>();
    for_each_nchw(dy.shape(), [&](std::int64_t n, std::int64_t c, std::int64_t oh, std::int64_t ow) {
      const LinearTap<T> r = linear_tap<T>(oh, H, OH, align_corners, scale_h);
      const LinearTap<T> q = linear_tap<T>(ow, W, OW, align_corners, scale_w);
      const double g = static_cast<double>(pg[n * s[0] + c * s[1] + oh * s[2] + ow * s[3]]);
      double* plane = pdx + (n * C + c) * H * W;
      plane[r.i0 * W + q.i0] += double(r.l0) * double(q.l0) * g;
      plane[r.i0 * W + q.i1] += double(r.l0) * double(q.l1) * g;
      plane[r.i1 * W + q.i0] += double(r.l1) * double(q.l0) * g;
      plane[r.i1 * W + q.i1] += double(r.l1) * double(q.l1) * g;
    });
  });
  return raw::to_dtype(dx, dy.dtype());
}

}  // namespace vigil::kernels
