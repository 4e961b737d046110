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
// Fast kernels run one channel per OpenMP task over row-major x (compiled for AVX-512 where the CPU has it, with the
// same bits: vigil/kernels/isa.hpp); the *_reference twins read through strides, one thread, and (for dx in
// training) contract the explicit Jacobian
//   d xhat_j / d x_i = rstd (delta_ij - 1/M - xhat_i xhat_j / M)
// element by element (O(M^2) per channel).
#pragma once

#include <vigil/tensor/tensor.hpp>

#include <cstdint>
#include <memory>

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

// Batch norm, ReLU and 2x2 max pooling with stride 2 (no padding) fused, for x [N, C, H, W] with H, W >= 2:
//   y = max_pool2d(max(0, xhat gamma + beta), 2), [N, C, H / 2, W / 2] (floor, as PyTorch),
// the same values as batch_norm_normalize(relu = true) then max_pool2d_forward (the same winner: the first maximum,
// a NaN over any number), in one pass that never writes the full-size activation. With want_winners, `winners`
// holds one byte per output: the winner's place in its window (bit 0 its column, bit 1 its row: where
// max_pool2d's index points) and bit 2 set when the winner was not positive (the ReLU passes it no gradient).
// The backward reads these instead of an int64 index per output and a saved full-size activation.
struct BatchNormReluPool {
  Tensor y;
  std::shared_ptr<std::uint8_t[]> winners;  // y.numel() bytes; null unless asked for
};
BatchNormReluPool batch_norm_relu_max_pool_2x2(const Tensor& x, const Tensor& mean, const Tensor& rstd,
                                               const Tensor& weight, const Tensor& bias, bool want_winners);
// Training's form: each channel's batch statistics (as batch_norm_stats, and rstd as batch_norm_rstd(var, eps))
// computed channel by channel in the same pass, just before that channel is normalised, so that its values are
// still in cache: x is read from memory once instead of twice. The same bits as the two calls.
struct BatchNormReluPoolTraining {
  BatchNormStats stats;
  Tensor rstd;  // float64 [C]
  BatchNormReluPool pooled;
};
BatchNormReluPoolTraining batch_norm_relu_max_pool_2x2_training(const Tensor& x, const Tensor& weight,
                                                                const Tensor& bias, double eps, bool want_winners);
// The composition of the reference kernels: normalize (relu), then max pooling.
Tensor batch_norm_relu_max_pool_2x2_reference(const Tensor& x, const Tensor& mean, const Tensor& rstd,
                                              const Tensor& weight, const Tensor& bias);

// From dy of y's shape and the forward's winners: the gradients batch_norm_backward(relu = true) gives for dy routed
// to each window's winner by max_pool2d_backward, bit for bit. Throws ShapeError when dy's shape is not y's.
BatchNormGrads batch_norm_relu_max_pool_2x2_backward(const Tensor& dy, const std::uint8_t* winners, const Tensor& x,
                                                     const Tensor& mean, const Tensor& rstd, const Tensor& weight,
                                                     const Tensor& bias, bool training, bool need_dx,
                                                     bool need_dparams);
// The composition of the reference kernels (winners recomputed by the reference max pooling).
BatchNormGrads batch_norm_relu_max_pool_2x2_backward_reference(const Tensor& dy, const Tensor& x, const Tensor& mean,
                                                               const Tensor& rstd, const Tensor& weight,
                                                               const Tensor& bias, bool training, bool need_dx,
                                                               bool need_dparams);

// In place: running_mean = (1 - momentum) running_mean + momentum mean,
//           running_var  = (1 - momentum) running_var  + momentum var * M / (M - 1)   (unbiased, as PyTorch).
// running_* are contiguous floating [C] tensors (any floating dtype); mean, var the batch's float64 [C].
// Requires count M >= 2.
void batch_norm_update_running(const Tensor& running_mean, const Tensor& running_var, const BatchNormStats& batch,
                               std::int64_t count, double momentum);

}  // namespace vigil::kernels
