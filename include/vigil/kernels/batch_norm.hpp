// Batch normalisation kernels (Ioffe & Szegedy, 2015): per-channel statistics over the batch and the spatial
// positions, normalisation with an optional affine map, and the analytic backward.
//
// Dims: x [N, C, *] is viewed as [N, C, S] (S = product of the trailing dims, 1 for [N, C]); channel c's
// statistics run over its M = N * S elements. weight (gamma) and bias (beta) hold C elements or are undefined
// (gamma = 1, beta = 0). Statistics are float64 [C], summed in double in two passes.
//
// Forward:   mean_c = sum(x) / M,  var_c = sum((x - mean_c)^2) / M  (biased: what normalises, as PyTorch),
//            rstd_c = 1 / sqrt(var_c + eps),  xhat = (x - mean_c) rstd_c,  y = xhat gamma_c + beta_c.
// Training, where mean and rstd are functions of x, with dxhat = dy gamma and <.> the channel mean over M:
//            dx = rstd (dxhat - <dxhat> - xhat <dxhat xhat>)
// Evaluation, where mean and rstd are constants (the running statistics):
//            dx = dy gamma rstd
// Both:      dgamma_c = sum(dy xhat),  dbeta_c = sum(dy).
// The running statistics' update (unbiased variance, momentum) is batch_norm_update_running's.
//
// Fused ReLU (relu = true): y = max(0, xhat gamma + beta) in the same pass, and the backward takes dy through the
// ReLU first, dy' = dy [y > 0], recomputing y from x, mean, rstd, gamma and beta with the forward's own arithmetic
// (so the mask is bit-exact) instead of reading a saved output: batch norm followed by ReLU then reads and writes
// the activation once in each direction instead of twice, and keeps no second activation alive for backward.
//
// Fast kernels run one channel per OpenMP task over row-major x; the *_reference twins read through strides,
// one thread, and (for dx in training) contract the explicit Jacobian
//   d xhat_j / d x_i = rstd (delta_ij - 1/M - xhat_i xhat_j / M)
// element by element (O(M^2) per channel).
#pragma once

#include <vigil/tensor/tensor.hpp>

#include <cstdint>

namespace vigil::kernels {

struct BatchNormStats {
  Tensor mean;  // float64 [C]
  Tensor var;   // float64 [C], biased (divided by M)
};

// Requires x of rank >= 2 with M = N * S >= 1.
BatchNormStats batch_norm_stats(const Tensor& x);
BatchNormStats batch_norm_stats_reference(const Tensor& x);

// rstd_c = 1 / sqrt(var_c + eps) from a [C] variance of any floating dtype, as float64 [C].
Tensor batch_norm_rstd(const Tensor& var, double eps);

// y = (x - mean) rstd gamma + beta with mean, rstd float64 [C]; y has x's shape and dtype, row-major.
// relu: y = max(0, that).
Tensor batch_norm_normalize(const Tensor& x, const Tensor& mean, const Tensor& rstd, const Tensor& weight,
                            const Tensor& bias, bool relu = false);
Tensor batch_norm_normalize_reference(const Tensor& x, const Tensor& mean, const Tensor& rstd, const Tensor& weight,
                                      const Tensor& bias, bool relu = false);

struct BatchNormGrads {
  Tensor dx;       // x's shape, row-major; undefined unless asked for
  Tensor dweight;  // [C] in x's dtype; undefined unless asked for
  Tensor dbias;    // [C] in x's dtype; undefined unless asked for
};

// `training` picks dx's formula (statistics of the batch, or constants). mean, rstd: float64 [C].
// relu: dy is the gradient of the fused max(0, .) output; `bias` (beta, or undefined) is then needed to recompute
// the mask, and is ignored otherwise.
BatchNormGrads batch_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& mean, const Tensor& rstd,
                                   const Tensor& weight, bool training, bool need_dx, bool need_dparams,
                                   bool relu = false, const Tensor& bias = Tensor());
BatchNormGrads batch_norm_backward_reference(const Tensor& dy, const Tensor& x, const Tensor& mean,
                                             const Tensor& rstd, const Tensor& weight, bool training, bool need_dx,
                                             bool need_dparams, bool relu = false, const Tensor& bias = Tensor());

// In place: running_mean = (1 - momentum) running_mean + momentum mean,
//           running_var  = (1 - momentum) running_var  + momentum var * M / (M - 1)   (unbiased, as PyTorch).
// running_* are contiguous floating [C] tensors (any floating dtype); mean, var the batch's float64 [C].
// Requires count M >= 2.
void batch_norm_update_running(const Tensor& running_mean, const Tensor& running_var, const BatchNormStats& batch,
                               std::int64_t count, double momentum);

}  // namespace vigil::kernels
