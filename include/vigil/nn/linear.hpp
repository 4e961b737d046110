// Linear (fully connected) layer: y = x W^T + b.
//
// Shapes: x [*, in_features] (any number of leading dims, including none), W [out_features, in_features],
// b [out_features], y [*, out_features]. Built from matmul and a broadcasting add, so its backward is theirs:
// dx = dy W, dW = dy^T x (summed over the leading dims), db = dy summed over the leading dims.
#pragma once

#include <vigil/nn/module.hpp>

#include <cstdint>
#include <string>

namespace vigil::nn {

// The layer as a function of its parameters (gradcheck passes them as inputs). `bias` may be undefined.
// Throws ShapeError naming "linear" and the shapes when x's last dim is not in_features or b is not [out_features].
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());

class Linear : public Module {
 public:
  // PyTorch's default initialisation: kaiming_uniform with a = sqrt(5) for the weight, which works out to
  // U(-1/sqrt(in), 1/sqrt(in)) (gain sqrt(2 / (1 + a^2)) = sqrt(1/3), bound gain * sqrt(3 / in)), and the same
  // bound for the bias. Draws the weight first, then the bias, from `gen`. Parameters: "weight", "bias".
  Linear(std::int64_t in_features, std::int64_t out_features, Generator& gen);
  Linear(std::int64_t in_features, std::int64_t out_features, bool bias, Generator& gen);

  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Linear"; }
  // "in -> out", with ", no bias" for a layer without one.
  std::string extra_repr() const override;

  const Tensor& weight() const { return weight_; }
  const Tensor& bias() const { return bias_; }  // undefined without bias
  std::int64_t in_features() const { return in_features_; }
  std::int64_t out_features() const { return out_features_; }

 private:
  std::int64_t in_features_, out_features_;
  Tensor weight_, bias_;
};

}  // namespace vigil::nn
