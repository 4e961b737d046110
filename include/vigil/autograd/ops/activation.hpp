// Differentiable activation functions, matched to torch.nn.functional in PyTorch 1.13 (forward values, and the
// gradient at kinks: relu'(0) = 0, leaky_relu'(0) = slope, elu'(0) = alpha, hardtanh' = 0 on its bounds).
//
// All are pointwise (output shape = x's shape) except prelu (a per-channel weight) and maxout (shrinks a dim).
// Inputs are float32 or float64, else DTypeError. Each uses a form that stays finite where the textbook one
// overflows: sigmoid(x) = 1/(1 + e^-x) for x >= 0 and e^x/(1 + e^x) below; softplus(z) = max(z, 0) +
// log1p(e^-|z|); elu/selu/celu use expm1 for e^x - 1 near 0.
#pragma once

#include <vigil/tensor/tensor.hpp>

#include <cstdint>

namespace vigil {

// max(x, 0); gradient 1 where x > 0, 0 elsewhere (0 at x == 0).
Tensor relu(const Tensor& x);

// x for x > 0, negative_slope * x otherwise.
Tensor leaky_relu(const Tensor& x, double negative_slope = 0.01);

// x for x > 0, w * x otherwise, with a learned slope per channel: weight has shape [1] (one slope shared) or [C]
// where C = x.size(1), the channel dim (x of 2+ dims; a 0- or 1-dim x has one channel). Anything else throws
// ShapeError. Both x and weight get gradients: dweight[c] = sum over x's elements of channel c with x <= 0 of
// g * x.
Tensor prelu(const Tensor& x, const Tensor& weight);

// x for x > 0, alpha * (e^x - 1) otherwise.
Tensor elu(const Tensor& x, double alpha = 1.0);

// scale * elu(x, alpha) with the self-normalising constants alpha = 1.6732632423543772,
// scale = 1.0507009873554805 (Klambauer et al., 2017).
Tensor selu(const Tensor& x);

// max(0, x) + min(0, alpha * (e^(x/alpha) - 1)); alpha != 0 (Error otherwise).
Tensor celu(const Tensor& x, double alpha = 1.0);

enum class GeluApproximation { None, Tanh };
// x * Phi(x) with Phi the standard normal CDF: None computes Phi with erf, Tanh with
// Phi(x) ~ (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2.
Tensor gelu(const Tensor& x, GeluApproximation approximate = GeluApproximation::None);

// x * sigmoid(x) (swish).
Tensor silu(const Tensor& x);

// x * tanh(softplus(x)) (Misra, 2019).
Tensor mish(const Tensor& x);

// 1 / (1 + e^-x); gradient y (1 - y).
Tensor sigmoid(const Tensor& x);

// tanh(x); gradient 1 - y^2.
Tensor tanh(const Tensor& x);

// clamp(x, min_val, max_val); gradient 1 strictly inside (min_val, max_val), 0 on and beyond the bounds.
// Requires min_val <= max_val (Error otherwise).
Tensor hardtanh(const Tensor& x, double min_val = -1.0, double max_val = 1.0);

// log(1 + e^(beta x)) / beta, and x itself where beta x > threshold (where the two agree to float precision).
// Requires beta != 0 (Error otherwise). Gradient sigmoid(beta x), or 1 above the threshold.
Tensor softplus(const Tensor& x, double beta = 1.0, double threshold = 20.0);

// x / (1 + |x|); gradient 1 / (1 + |x|)^2.
Tensor softsign(const Tensor& x);

// Maxout (Goodfellow et al., 2013): splits dim into groups of `pieces` consecutive entries and keeps each group's
// maximum. x [..., K, ...] with K = x.size(dim) -> [..., K / pieces, ...]; out[..., c, ...] =
// max_{k < pieces} x[..., c * pieces + k, ...]. K must be divisible by pieces and pieces >= 1 (ShapeError
// otherwise). The gradient goes to the maximum, the first one on ties; NaN counts as the maximum.
Tensor maxout(const Tensor& x, std::int64_t pieces, std::int64_t dim = 1);

}  // namespace vigil
