// Layer normalisation: each sample normalised over its trailing dims, then scaled and shifted per element.
//
//   y = (x - mean) / sqrt(var + eps) * weight + bias,   mean and (biased) var over the normalised dims
//
// Shapes: normalized_shape = [d_1, ..., d_k] are x's last k dims; x [*, d_1, ..., d_k] -> y of x's shape;
// weight and bias [d_1, ..., d_k]. Unlike batch norm, no statistic crosses samples, so training and evaluation
// compute the same thing and there are no running buffers.
//
// layer_norm is one fused op (kernels::layer_norm_forward / _backward: one pass structure per row, statistics in
// double, two-pass variance) with an analytic backward for dx, dweight and dbias; the math is in
// vigil/kernels/layer_norm.hpp.
#pragma once

#include <vigil/nn/module.hpp>

namespace vigil::nn {

// weight and bias may each be undefined (gamma = 1, beta = 0). Throws ShapeError naming "layer_norm" and the
// shapes when normalized_shape is empty or is not x's trailing dims, or when a defined weight or bias is not of
// normalized_shape; DTypeError when their dtype differs from x's. Requires eps >= 0.
Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight = Tensor(),
                  const Tensor& bias = Tensor(), double eps = 1e-5);

// torch.nn.LayerNorm: defaults eps = 1e-5 and elementwise_affine = true, which registers "weight" (ones) and
// "bias" (zeros) of normalized_shape; without it the layer has no parameters.
class LayerNorm : public Module {
 public:
  explicit LayerNorm(const Shape& normalized_shape, double eps = 1e-5, bool elementwise_affine = true);
  Tensor forward(const Tensor& x) override;

  const Shape& normalized_shape() const { return normalized_shape_; }
  double eps() const { return eps_; }
  const Tensor& weight() const { return weight_; }  // undefined without elementwise_affine
  const Tensor& bias() const { return bias_; }

 private:
  Shape normalized_shape_;
  double eps_;
  Tensor weight_, bias_;
};

}  // namespace vigil::nn
