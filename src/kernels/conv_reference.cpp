// The convolution kernels as direct loops over the defining sums (see conv.hpp): the twins the oneDNN path is
// tested against, and the path float64 (gradcheck) takes. Accumulation is in double for every dtype.
//
// Dims as in conv.hpp: N, C, H, W input; O, KH, KW weight; OH, OW output; G groups, CG = C/G, OG = O/G.
// Each loop nest is split across threads over a dim whose iterations write disjoint outputs: (n, o) for the
// forward pass, n for the scatter of backward-data and the transposed convolution (one loop serves both: the
// transposed convolution is backward-data with its input as dy, plus a bias), o for backward-weights.
#include "conv_checks.hpp"

#include <vigil/kernels/dispatch.hpp>

#include <algorithm>
#include <vector>

namespace vigil::kernels {

namespace {

struct Dims {
  std::int64_t N, C, H, W, O, KH, KW, OH, OW, G, CG, OG;
  // Multiply-adds of one pass; below kParallelMacs the loops stay on one thread (gradcheck makes thousands of tiny
  // calls, and on a busy machine each parallel region can wait milliseconds for its second thread).
  bool parallel() const { return N * O * OH * OW * CG * KH * KW >= kParallelMacs; }
  static constexpr std::int64_t kParallelMacs = 1 << 20;
};

// Dims of the convolution x [N, C, H, W] -> y [N, O, OH, OW] with weight [O, C/G, KH, KW].
Dims conv_dims(const Shape& x, const Shape& weight, const Shape& y, std::int64_t groups) {
  return Dims{x[0], x[1], x[2], x[3], weight[0], weight[2], weight[3], y[2], y[3], groups, x[1] / groups,
              weight[0] / groups};
}

// The input row read by output row i through kernel row a (may fall outside [0, H)).
inline std::int64_t input_row(std::int64_t i, std::int64_t a, const ConvParams& p) {
  return i * p.stride_h - p.pad_top + a * p.dilation_h;
}
inline std::int64_t input_col(std::int64_t j, std::int64_t b, const ConvParams& p) {
  return j * p.stride_w - p.pad_left + b * p.dilation_w;
}

// dx [x_shape] = bias (broadcast over channels, or 0) + dy scattered through the weight: every dy[n, o, i, j] adds
// dy w[o, c, a, b] to the input element its window reads through (a, b). Backward-data, and the transposed
// convolution, whose input plays dy.
Tensor scatter_through_weights(const Tensor& dy, const Tensor& weight, const Tensor& bias, const Shape& x_shape,
                               const Dims& d, const ConvParams& p, const char* op) {
  return dispatch_floating(dy.dtype(), op, [&](auto zero) {
    using T = decltype(zero);
    const Tensor dyc = raw::contiguous(dy), wc = raw::contiguous(weight);
    const Tensor bc = bias.defined() ? raw::contiguous(bias) : Tensor();
    Tensor dx = empty(x_shape, TensorOptions{dy.dtype()});
    const T* pdy = dyc.data<T>();
    const T* pw = wc.data<T>();
    const T* pb = bc.defined() ? bc.data<T>() : nullptr;
    T* pdx = dx.data<T>();
#pragma omp parallel for schedule(static) if (d.parallel())
    for (std::int64_t n = 0; n < d.N; ++n) {
      std::vector<double> acc(static_cast<std::size_t>(d.C * d.H * d.W), 0.0);  // dx[n] in double
      if (pb) {
        for (std::int64_t c = 0; c < d.C; ++c) {
          std::fill_n(acc.begin() + c * d.H * d.W, d.H * d.W, double(pb[c]));
        }
      }
      for (std::int64_t o = 0; o < d.O; ++o) {
        const std::int64_t g = o / d.OG;
        for (std::int64_t i = 0; i < d.OH; ++i) {
          for (std::int64_t j = 0; j < d.OW; ++j) {
            const double gy = double(pdy[((n * d.O + o) * d.OH + i) * d.OW + j]);
            for (std::int64_t c = 0; c < d.CG; ++c) {
              double* xplane = acc.data() + (g * d.CG + c) * d.H * d.W;
              const T* wplane = pw + (o * d.CG + c) * d.KH * d.KW;
              for (std::int64_t a = 0; a < d.KH; ++a) {
                const std::int64_t h = input_row(i, a, p);
                if (h < 0 || h >= d.H) continue;
                for (std::int64_t b = 0; b < d.KW; ++b) {
                  const std::int64_t w = input_col(j, b, p);
                  if (w < 0 || w >= d.W) continue;
                  xplane[h * d.W + w] += gy * double(wplane[a * d.KW + b]);
                }
              }
            }
          }
        }
      }
      T* out = pdx + n * d.C * d.H * d.W;
      for (std::size_t k = 0; k < acc.size(); ++k) out[k] = static_cast<T>(acc[k]);
    }
    return dx;
  });
}

}  // namespace

Tensor conv2d_reference(const Tensor& x, const Tensor& weight, const Tensor& bias, const ConvParams& p) {
  const Shape y_shape = conv2d_output_shape(x.shape(), weight.shape(), p, "conv2d");
  detail::check_conv_operands(x, weight, bias, weight.size(0), "conv2d");
  const Dims d = conv_dims(x.shape(), weight.shape(), y_shape, p.groups);
  return dispatch_floating(x.dtype(), "conv2d", [&](auto zero) {
    using T = decltype(zero);
    const Tensor xc = raw::contiguous(x), wc = raw::contiguous(weight);
    const Tensor bc = bias.defined() ? raw::contiguous(bias) : Tensor();
    Tensor y = empty(y_shape, TensorOptions{x.dtype()});
    const T* px = xc.data<T>();
    const T* pw = wc.data<T>();
    const T* pb = bc.defined() ? bc.data<T>() : nullptr;
    T* py = y.data<T>();
#pragma omp parallel for schedule(static) if (d.parallel())
    for (std::int64_t no = 0; no < d.N * d.O; ++no) {
      const std::int64_t n = no / d.O, o = no % d.O, g = o / d.OG;
      for (std::int64_t i = 0; i < d.OH; ++i) {
        for (std::int64_t j = 0; j < d.OW; ++j) {
          double acc = pb ? double(pb[o]) : 0.0;
          for (std::int64_t c = 0; c < d.CG; ++c) {
            const T* xplane = px + (n * d.C + g * d.CG + c) * d.H * d.W;
            const T* wplane = pw + (o * d.CG + c) * d.KH * d.KW;
            for (std::int64_t a = 0; a < d.KH; ++a) {
              const std::int64_t h = input_row(i, a, p);
              if (h < 0 || h >= d.H) continue;
              for (std::int64_t b = 0; b < d.KW; ++b) {
                const std::int64_t w = input_col(j, b, p);
                if (w < 0 || w >= d.W) continue;
                acc += double(wplane[a * d.KW + b]) * double(xplane[h * d.W + w]);
              }
            }
          }
          py[((n * d.O + o) * d.OH + i) * d.OW + j] = static_cast<T>(acc);
        }
      }
    }
    return y;
  });
}

Tensor conv2d_backward_data_reference(const Tensor& dy, const Tensor& weight, const Shape& x_shape,
                                      const ConvParams& p) {
  const Shape y_shape = conv2d_output_shape(x_shape, weight.shape(), p, "conv2d_backward_data");
  detail::check_grad_output(dy, y_shape, "conv2d_backward_data");
  check_same_dtype(dy, weight, "conv2d_backward_data");
  return scatter_through_weights(dy, weight, Tensor(), x_shape, conv_dims(x_shape, weight.shape(), y_shape, p.groups),
                                 p, "conv2d_backward_data");
}

ConvWeightGrads conv2d_backward_weights_reference(const Tensor& dy, const Tensor& x, const Shape& weight_shape,
                                                  const ConvParams& p, bool with_bias) {
  const Shape y_shape = conv2d_output_shape(x.shape(), weight_shape, p, "conv2d_backward_weights");
  detail::check_grad_output(dy, y_shape, "conv2d_backward_weights");
  check_same_dtype(dy, x, "conv2d_backward_weights");
  const Dims d = conv_dims(x.shape(), weight_shape, y_shape, p.groups);
  return dispatch_floating(dy.dtype(), "conv2d_backward_weights", [&](auto zero) {
    using T = decltype(zero);
    const Tensor dyc = raw::contiguous(dy), xc = raw::contiguous(x);
    ConvWeightGrads grads;
    grads.dweight = empty(weight_shape, TensorOptions{dy.dtype()});
    if (with_bias) grads.dbias = empty(Shape{d.O}, TensorOptions{dy.dtype()});
    const T* pdy = dyc.data<T>();
    const T* px = xc.data<T>();
    T* pdw = grads.dweight.data<T>();
    T* pdb = with_bias ? grads.dbias.data<T>() : nullptr;
#pragma omp parallel for schedule(static) if (d.parallel())
    for (std::int64_t o = 0; o < d.O; ++o) {
      const std::int64_t g = o / d.OG;
      double bias_acc = 0.0;
      for (std::int64_t c = 0; c < d.CG; ++c) {
        for (std::int64_t a = 0; a < d.KH; ++a) {
          for (std::int64_t b = 0; b < d.KW; ++b) {
            double acc = 0.0;
            for (std::int64_t n = 0; n < d.N; ++n) {
              const T* yplane = pdy + (n * d.O + o) * d.OH * d.OW;
              const T* xplane = px + (n * d.C + g * d.CG + c) * d.H * d.W;
              for (std::int64_t i = 0; i < d.OH; ++i) {
                const std::int64_t h = input_row(i, a, p);
                if (h < 0 || h >= d.H) continue;
                for (std::int64_t j = 0; j < d.OW; ++j) {
                  const std::int64_t w = input_col(j, b, p);
                  if (w < 0 || w >= d.W) continue;
                  acc += double(yplane[i * d.OW + j]) * double(xplane[h * d.W + w]);
                }
              }
            }
            pdw[((o * d.CG + c) * d.KH + a) * d.KW + b] = static_cast<T>(acc);
          }
        }
      }
      if (pdb) {
        for (std::int64_t n = 0; n < d.N; ++n) {
          const T* yplane = pdy + (n * d.O + o) * d.OH * d.OW;
          for (std::int64_t k = 0; k < d.OH * d.OW; ++k) bias_acc += double(yplane[k]);
        }
        pdb[o] = static_cast<T>(bias_acc);
      }
    }
    return grads;
  });
}

Tensor conv_transpose2d_reference(const Tensor& x, const Tensor& weight, const Tensor& bias, const ConvParams& p,
                                  std::array<std::int64_t, 2> output_padding) {
  const Shape y_shape = conv_transpose2d_output_shape(x.shape(), weight.shape(), p, output_padding);
  detail::check_conv_operands(x, weight, bias, y_shape[1], "conv_transpose2d");
  // Read as the convolution y -> x (its output is x): the rows output_padding adds lie past every window, so the
  // loop's bounds alone leave them at the bias.
  return scatter_through_weights(x, weight, bias, y_shape, conv_dims(y_shape, weight.shape(), x.shape(), p.groups), p,
                                 "conv_transpose2d");
}

}  // namespace vigil::kernels
