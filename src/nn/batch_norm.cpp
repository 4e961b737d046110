// BatchNorm1d / BatchNorm2d over vigil::batch_norm, and fold_batch_norm.
#include <vigil/nn/batch_norm.hpp>

#include <vigil/kernels/dispatch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

namespace vigil::nn {

BatchNorm::BatchNorm(const char* name, std::initializer_list<int> ranks, std::int64_t num_features, double eps,
                     double momentum, bool affine)
    : name_(name), ranks_(ranks), num_features_(num_features), eps_(eps), momentum_(momentum) {
  VIGIL_CHECK(num_features > 0, ShapeError, "{}: num_features must be positive, got {}", name, num_features);
  VIGIL_CHECK(eps >= 0.0, Error, "{}: eps must be >= 0, got {}", name, eps);
  VIGIL_CHECK(momentum >= 0.0 && momentum <= 1.0, Error, "{}: momentum must be in [0, 1], got {}", name, momentum);
  if (affine) {
    weight_ = register_parameter("weight", ones(Shape{num_features}));
    bias_ = register_parameter("bias", zeros(Shape{num_features}));
  }
  running_mean_ = register_buffer("running_mean", zeros(Shape{num_features}));
  running_var_ = register_buffer("running_var", ones(Shape{num_features}));
  const std::int64_t zero = 0;
  num_batches_tracked_ = register_buffer("num_batches_tracked", from_vector_i64({&zero, 1}, Shape{}));
}

Tensor BatchNorm::forward(const Tensor& x) { return normalize(x, Fused::none); }

Tensor BatchNorm::forward_relu(const Tensor& x) { return normalize(x, Fused::relu); }

Tensor BatchNorm::forward_relu_max_pool2x2(const Tensor& x) { return normalize(x, Fused::relu_max_pool2x2); }

Tensor batch_norm_relu(BatchNorm& bn, const Tensor& x) { return bn.has_hooks() ? relu(bn(x)) : bn.forward_relu(x); }

Tensor BatchNorm::normalize(const Tensor& x, Fused fused) {
  const bool rank_ok = std::find(ranks_.begin(), ranks_.end(), x.dim()) != ranks_.end();
  VIGIL_CHECK(rank_ok, ShapeError, "{}: expected an input of rank {}, got shape {}", name_,
              ranks_.size() == 1 ? fmt::format("{}", ranks_[0]) : fmt::format("{} or {}", ranks_[0], ranks_[1]),
              x.shape().str());
  VIGIL_CHECK(x.shape()[1] == num_features_, ShapeError,
              "{}: input of shape {} has {} channels but the layer (and its running statistics) has {}", name_,
              x.shape().str(), x.shape()[1], num_features_);
  Tensor y;
  switch (fused) {
    case Fused::none: y = batch_norm(x, running_mean_, running_var_, weight_, bias_, training(), momentum_, eps_); break;
    case Fused::relu:
      y = vigil::batch_norm_relu(x, running_mean_, running_var_, weight_, bias_, training(), momentum_, eps_);
      break;
    case Fused::relu_max_pool2x2:
      y = batch_norm_relu_max_pool2x2(x, running_mean_, running_var_, weight_, bias_, training(), momentum_, eps_);
      break;
  }
  if (training()) num_batches_tracked_.data<std::int64_t>()[0] += 1;
  return y;
}

std::int64_t BatchNorm::num_batches_tracked() const { return num_batches_tracked_.data<std::int64_t>()[0]; }

std::string BatchNorm::extra_repr() const {
  return fmt::format("{}, eps={}, momentum={}{}", num_features_, eps_, momentum_, weight_.defined() ? "" : ", affine=false");
}

FoldedParameters fold_batch_norm(const Tensor& weight, const Tensor& bias, const BatchNorm& bn) {
  const std::int64_t C = bn.num_features();
  VIGIL_CHECK(weight.dim() >= 1 && weight.shape()[0] == C, ShapeError,
              "fold_batch_norm: weight of shape {} does not have the batch norm's {} output channels in dim 0",
              weight.shape().str(), C);
  VIGIL_CHECK(!bias.defined() || bias.shape() == Shape{C}, ShapeError,
              "fold_batch_norm: bias of shape {} does not match the batch norm's {} channels", bias.shape().str(), C);
  // Per-channel scale s and folded bias, in double.
  auto values = [](const Tensor& t) {
    const Tensor d = raw::contiguous(raw::to_dtype(t, DType::Float64));
    return std::vector<double>(d.data<double>(), d.data<double>() + d.numel());
  };
  const std::vector<double> mean = values(bn.running_mean()), var = values(bn.running_var());
  const std::vector<double> gamma = bn.weight().defined() ? values(bn.weight()) : std::vector<double>(C, 1.0);
  const std::vector<double> beta = bn.bias().defined() ? values(bn.bias()) : std::vector<double>(C, 0.0);
  const std::vector<double> b = bias.defined() ? values(bias) : std::vector<double>(C, 0.0);
  const std::vector<double> w = values(weight);
  const std::int64_t per_channel = weight.numel() / C;
  FoldedParameters out{empty(weight.shape(), TensorOptions{weight.dtype()}), empty(Shape{C}, TensorOptions{weight.dtype()})};
  kernels::dispatch_floating(weight.dtype(), "fold_batch_norm", [&](auto zero) {
    using T = decltype(zero);
    for (std::int64_t c = 0; c < C; ++c) {
      const auto i = static_cast<std::size_t>(c);
      const double s = gamma[i] / std::sqrt(var[i] + bn.eps());
      for (std::int64_t k = 0; k < per_channel; ++k) {
        out.weight.data<T>()[c * per_channel + k] = static_cast<T>(w[static_cast<std::size_t>(c * per_channel + k)] * s);
      }
      out.bias.data<T>()[c] = static_cast<T>((b[i] - mean[i]) * s + beta[i]);
    }
  });
  return out;
}

}  // namespace vigil::nn
