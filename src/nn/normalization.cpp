// layer_norm: the fused kernels' forward, then its analytic backward right below it.
#include <vigil/autograd/function.hpp>
#include <vigil/kernels/layer_norm.hpp>
#include <vigil/nn/normalization.hpp>

namespace vigil::nn {

namespace {

void check_parameter(const Tensor& p, const char* what, const Tensor& x, const Shape& normalized_shape) {
  if (!p.defined()) return;
  VIGIL_CHECK(p.shape() == normalized_shape, ShapeError,
              "layer_norm: {} of shape {} does not match normalized_shape {} (input of shape {})", what,
              p.shape().str(), normalized_shape.str(), x.shape().str());
  VIGIL_CHECK(p.dtype() == x.dtype(), DTypeError, "layer_norm: {} is {} but the input is {}", what,
              dtype_name(p.dtype()), dtype_name(x.dtype()));
}

}  // namespace

Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight, const Tensor& bias,
                  double eps) {
  const int k = normalized_shape.size();
  bool trailing = k > 0 && x.dim() >= k;
  for (int i = 0; trailing && i < k; ++i) trailing = x.shape()[x.dim() - k + i] == normalized_shape[i];
  VIGIL_CHECK(trailing && normalized_shape.numel() > 0, ShapeError,
              "layer_norm: input of shape {} does not end with normalized_shape {}", x.shape().str(),
              normalized_shape.str());
  VIGIL_CHECK(eps >= 0.0, Error, "layer_norm: eps must be >= 0, got {}", eps);
  check_parameter(weight, "weight", x, normalized_shape);
  check_parameter(bias, "bias", x, normalized_shape);
  const std::int64_t n = normalized_shape.numel();
  kernels::LayerNormForward fwd = kernels::layer_norm_forward(x, n, weight, bias, eps);
  Tensor out = fwd.y;
  record<3>("layer_norm", out, {&x, &weight, &bias},
            [x = saved(x), weight = saved(weight), mean = fwd.mean, rstd = fwd.rstd, n,
             shape = normalized_shape](const Tensor& g, GradInputs& dx) {
              const bool need_dparams = dx.needs(1) || dx.needs(2);
              kernels::LayerNormGrads grads =
                  kernels::layer_norm_backward(g, x, mean, rstd, weight, n, dx.needs(0), need_dparams);
              if (dx.needs(0)) dx[0] = grads.dx;
              if (dx.needs(1)) dx[1] = raw::reshape(grads.dweight, shape);
              if (dx.needs(2)) dx[2] = raw::reshape(grads.dbias, shape);
            });
  return out;
}

LayerNorm::LayerNorm(const Shape& normalized_shape, double eps, bool elementwise_affine)
    : normalized_shape_(normalized_shape), eps_(eps) {
  VIGIL_CHECK(!normalized_shape.empty() && normalized_shape.numel() > 0, ShapeError,
              "LayerNorm: normalized_shape must be non-empty with positive extents, got {}", normalized_shape.str());
  VIGIL_CHECK(eps >= 0.0, Error, "LayerNorm: eps must be >= 0, got {}", eps);
  if (elementwise_affine) {
    weight_ = register_parameter("weight", ones(normalized_shape));
    bias_ = register_parameter("bias", zeros(normalized_shape));
  }
}

Tensor LayerNorm::forward(const Tensor& x) { return layer_norm(x, normalized_shape_, weight_, bias_, eps_); }

}  // namespace vigil::nn
