// Differentiable batch normalisation (torch.nn.functional.batch_norm, PyTorch 1.13). The math and the kernels are
// in vigil/kernels/batch_norm.hpp.
#pragma once

#include <vigil/tensor/tensor.hpp>

namespace vigil {

// x [N, C, *] -> y of x's shape, normalised per channel c:
//   training:  with the batch's mean and biased variance over N and the trailing dims; when running_mean and
//              running_var are defined they are updated in place,
//                running_mean = (1 - momentum) running_mean + momentum mean,
//                running_var  = (1 - momentum) running_var  + momentum unbiased_var      (M / (M - 1) correction);
//              needs more than one value per channel (M = N * S >= 2).
//   evaluation: with running_mean and running_var, which must be defined; nothing is updated.
// weight (gamma) and bias (beta) are [C] or undefined (no affine map). running_* are [C] floating buffers (any
// floating dtype; not differentiated).
// Backward: training differentiates through the batch statistics (dx = rstd (dxhat - <dxhat> - xhat <dxhat xhat>));
// evaluation is the affine map dx = dy gamma rstd. dweight = sum(dy xhat), dbias = sum(dy) per channel.
// Throws ShapeError naming "batch_norm" and the shapes for rank < 2, an empty input, a [C] tensor whose shape is not
// [C], only one of the running statistics given, or one value per channel in training; Error for eval without
// running statistics or eps < 0; DTypeError when weight or bias differs from x's dtype.
Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight,
                  const Tensor& bias, bool training, double momentum = 0.1, double eps = 1e-5);

// relu(batch_norm(...)) in one op: the same values and gradients (bit for bit), one pass over the activation each
// way, and one activation kept for backward instead of two (see kernels/batch_norm.hpp).
Tensor batch_norm_relu(const Tensor& x, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight,
                       const Tensor& bias, bool training, double momentum = 0.1, double eps = 1e-5);

// max_pool2d(relu(batch_norm(...)), 2) in one op, for x [N, C, H, W] with H, W >= 2: the same values and gradients
// (bit for bit), without the full-size activation, written or kept (see kernels/batch_norm.hpp). Throws ShapeError
// naming batch_norm_relu_max_pool2x2 for another rank or a plane smaller than 2x2, and batch_norm's errors.
Tensor batch_norm_relu_max_pool2x2(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                                   const Tensor& weight, const Tensor& bias, bool training, double momentum = 0.1,
                                   double eps = 1e-5);

}  // namespace vigil
