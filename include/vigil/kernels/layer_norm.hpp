// Layer normalisation kernels (Ba et al., 2016), fused: one pass structure per row for the forward, one for dx.
//
// Dims: x is viewed as [M, N], M rows of N = prod(normalized_shape) elements (the trailing dims), row-major.
// weight (gamma) and bias (beta) hold N elements each, or are undefined (gamma = 1, beta = 0).
//
// Forward, per row:   mean = sum(x) / N,  var = sum((x - mean)^2) / N  (biased, as torch),
//                     rstd = 1 / sqrt(var + eps),  xhat = (x - mean) rstd,  y = xhat * gamma + beta.
// The statistics are summed in double in two passes (a one-pass sum of squares cancels when |mean| >> std).
//
// Backward, with dxhat = dy * gamma and row means <.> over the N elements:
//   dx     = rstd * (dxhat - <dxhat> - xhat * <dxhat * xhat>)      (xhat's Jacobian, contracted in closed form)
//   dgamma = sum over rows of dy * xhat,   dbeta = sum over rows of dy.
//
// The *_reference twins are the naive versions the tests compare with: the forward in separate whole-tensor
// passes, the backward contracting the explicit Jacobian d xhat_j / d x_i = rstd (delta_ij - 1/N - xhat_i xhat_j / N)
// element by element (O(N^2) per row).
#pragma once

#include <vigil/tensor/tensor.hpp>

#include <cstdint>

namespace vigil::kernels {

struct LayerNormForward {
  Tensor y;     // x's shape and dtype, row-major
  Tensor mean;  // float64 [M]
  Tensor rstd;  // float64 [M]
};

// x any layout (read as a row-major copy when not contiguous); n divides x.numel(); weight and bias, when
// defined, have n elements and x's dtype.
LayerNormForward layer_norm_forward(const Tensor& x, std::int64_t n, const Tensor& weight, const Tensor& bias,
                                    double eps);
LayerNormForward layer_norm_forward_reference(const Tensor& x, std::int64_t n, const Tensor& weight,
                                              const Tensor& bias, double eps);

struct LayerNormGrads {
  Tensor dx;       // x's shape, row-major
  Tensor dweight;  // [n] in x's dtype; undefined unless asked for
  Tensor dbias;    // [n] in x's dtype; undefined unless asked for
};

// dy has x's shape; mean and rstd are the forward's. need_dx / need_dparams choose what is computed.
LayerNormGrads layer_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& mean, const Tensor& rstd,
                                   const Tensor& weight, std::int64_t n, bool need_dx, bool need_dparams);
LayerNormGrads layer_norm_backward_reference(const Tensor& dy, const Tensor& x, const Tensor& mean,
                                             const Tensor& rstd, const Tensor& weight, std::int64_t n, bool need_dx,
                                             bool need_dparams);

}  // namespace vigil::kernels
