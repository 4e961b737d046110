// Linear: y = x W^T + b, from the differentiable matmul and add.
#include <vigil/nn/linear.hpp>

#include <cmath>

namespace vigil::nn {

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) { return fused_linear(x, weight, bias); }

namespace {

// U(-bound, bound) of `shape`, drawn from gen, as a fresh leaf.
Tensor uniform(const Shape& shape, double bound, Generator& gen) {
  NoGradGuard no_grad;
  return (rand(shape, gen) * (2.0 * bound) - bound).detach();
}

}  // namespace

Linear::Linear(std::int64_t in_features, std::int64_t out_features, Generator& gen)
    : Linear(in_features, out_features, true, gen) {}

Linear::Linear(std::int64_t in_features, std::int64_t out_features, bool bias, Generator& gen)
    : in_features_(in_features), out_features_(out_features) {
  VIGIL_CHECK(in_features > 0 && out_features > 0, ShapeError,
              "Linear: in_features and out_features must be positive, got {} and {}", in_features, out_features);
  const double bound = 1.0 / std::sqrt(static_cast<double>(in_features));
  weight_ = register_parameter("weight", uniform(Shape{out_features, in_features}, bound, gen));
  if (bias) bias_ = register_parameter("bias", uniform(Shape{out_features}, bound, gen));
}

Tensor Linear::forward(const Tensor& x) { return linear(x, weight_, bias_); }

std::string Linear::extra_repr() const {
  return fmt::format("{} -> {}{}", in_features_, out_features_, bias_.defined() ? "" : ", no bias");
}

}  // namespace vigil::nn
