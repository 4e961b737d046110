// Gradient clipping, as torch.nn.utils.clip_grad_norm_ / clip_grad_value_ (PyTorch 1.13). Both change the
// gradients in place and skip parameters whose grad is undefined; call them between backward() and step().
#pragma once

#include <vigil/optim/optimizer.hpp>

#include <limits>
#include <vector>

namespace vigil::optim {

// The norm of all gradients together, as if concatenated into one vector:
//   total = (sum over every element of every grad of |g|^q)^(1/q), or max |g| when q is infinity.
// When total > max_norm every gradient is scaled by max_norm / (total + 1e-6) (the 1e-6 keeps a zero norm from
// dividing by zero; the scale is computed in the gradients' dtype and applied only when below 1, as PyTorch).
// Returns total (accumulated in double), also when nothing was clipped; 0 when no parameter has a gradient.
// A NaN total leaves the gradients as they are (PyTorch would scale them all to NaN); the returned NaN tells.
// Requires max_norm >= 0 and norm_type > 0 (infinity allowed), else Error.
double clip_grad_norm(const std::vector<NamedParameter>& params, double max_norm, double norm_type = 2.0);
double clip_grad_norm(const std::vector<Tensor>& params, double max_norm, double norm_type = 2.0);

inline constexpr double kInfNorm = std::numeric_limits<double>::infinity();

// Clamps every gradient element into [-value, value]. Requires value >= 0, else Error.
void clip_grad_value(const std::vector<NamedParameter>& params, double value);
void clip_grad_value(const std::vector<Tensor>& params, double value);

}  // namespace vigil::optim
