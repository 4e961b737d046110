// batch_norm: statistics, the running update and the normalisation through kernels, the backward right below.
#include <vigil/autograd/function.hpp>
#include <vigil/autograd/ops/batch_norm.hpp>
#include <vigil/kernels/batch_norm.hpp>

#include <tuple>
#include <utility>

namespace vigil {

namespace {

void check_channel_tensor(const Tensor& p, const char* what, const Tensor& x, bool same_dtype) {
  if (!p.defined()) return;
  VIGIL_CHECK(p.dim() == 1 && p.shape()[0] == x.shape()[1], ShapeError,
              "batch_norm: {} of shape {} does not match the {} channels of input of shape {}", what, p.shape().str(),
              x.shape()[1], x.shape().str());
  VIGIL_CHECK(!same_dtype || p.dtype() == x.dtype(), DTypeError, "batch_norm: {} is {} but the input is {}", what,
              dtype_name(p.dtype()), dtype_name(x.dtype()));
  VIGIL_CHECK(same_dtype || p.dtype() == DType::Float32 || p.dtype() == DType::Float64, DTypeError,
              "batch_norm: {} must be float32 or float64, got {}", what, dtype_name(p.dtype()));
  // Running statistics are updated in place, element c at offset c.
  VIGIL_CHECK(same_dtype || p.is_contiguous(), Error, "batch_norm: {} must be contiguous", what);
}

// The checks every batch norm op makes on its arguments.
void check_arguments(const Tensor& x, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight,
                     const Tensor& bias, bool training, double eps) {
  VIGIL_CHECK(x.dim() >= 2 && x.numel() > 0, ShapeError,
              "batch_norm: expected a non-empty input [N, C, *] of rank >= 2, got shape {}", x.shape().str());
  VIGIL_CHECK(eps >= 0.0, Error, "batch_norm: eps must be >= 0, got {}", eps);
  VIGIL_CHECK(running_mean.defined() == running_var.defined(), ShapeError,
              "batch_norm: give both running_mean and running_var or neither (input of shape {})", x.shape().str());
  VIGIL_CHECK(training || running_mean.defined(), Error,
              "batch_norm: evaluation mode needs running_mean and running_var (input of shape {})", x.shape().str());
  check_channel_tensor(running_mean, "running_mean", x, false);
  check_channel_tensor(running_var, "running_var", x, false);
  check_channel_tensor(weight, "weight", x, true);
  check_channel_tensor(bias, "bias", x, true);
}

// M, the values each channel's statistics run over; training needs at least 2.
std::int64_t values_per_channel(const Tensor& x) {
  const std::int64_t count = x.numel() / x.shape()[1];
  VIGIL_CHECK(count >= 2, ShapeError,
              "batch_norm: expected more than 1 value per channel when training, got input of shape {}",
              x.shape().str());
  return count;
}

// Evaluation's constants from the running buffers: copies (to_dtype always copies), since the buffers change in the
// next training step and this graph's constants must not.
std::pair<Tensor, Tensor> running_normalisation(const Tensor& running_mean, const Tensor& running_var, double eps) {
  return {raw::to_dtype(running_mean, DType::Float64), kernels::batch_norm_rstd(running_var, eps)};
}

// The statistics a batch norm normalises with, after the checks: the batch's (and the running buffers' update) in
// training, the running buffers' in evaluation. mean and rstd: float64 [C].
std::pair<Tensor, Tensor> normalisation(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                                        const Tensor& weight, const Tensor& bias, bool training, double momentum,
                                        double eps) {
  check_arguments(x, running_mean, running_var, weight, bias, training, eps);
  if (!training) return running_normalisation(running_mean, running_var, eps);
  const std::int64_t count = values_per_channel(x);
  kernels::BatchNormStats stats = kernels::batch_norm_stats(x);
  if (running_mean.defined()) kernels::batch_norm_update_running(running_mean, running_var, stats, count, momentum);
  return {stats.mean, kernels::batch_norm_rstd(stats.var, eps)};
}

// The backward's gradients into the op's inputs (x, weight, bias), those asked for.
void hand_over(kernels::BatchNormGrads& grads, GradInputs& dx) {
  if (dx.needs(0)) dx[0] = std::move(grads.dx);
  if (dx.needs(1)) dx[1] = std::move(grads.dweight);
  if (dx.needs(2)) dx[2] = std::move(grads.dbias);
}

// batch_norm, and with relu = true batch_norm_relu.
Tensor batch_norm_maybe_relu(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                             const Tensor& weight, const Tensor& bias, bool training, double momentum, double eps,
                             bool relu) {
  const auto [mean, rstd] = normalisation(x, running_mean, running_var, weight, bias, training, momentum, eps);
  Tensor out = kernels::batch_norm_normalize(x, mean, rstd, weight, bias, relu);
  record<3>(relu ? "batch_norm_relu" : "batch_norm", out, {&x, &weight, &bias},
            [x = saved(x), weight = saved(weight), bias = saved(bias), mean, rstd, training, relu](const Tensor& g,
                                                                                                 GradInputs& dx) {
              const bool need_dparams = dx.needs(1) || dx.needs(2);
              kernels::BatchNormGrads grads = kernels::batch_norm_backward(g, x, mean, rstd, weight, training,
                                                                           dx.needs(0), need_dparams, relu, bias);
              hand_over(grads, dx);
            });
  return out;
}

}  // namespace

Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight,
                  const Tensor& bias, bool training, double momentum, double eps) {
  return batch_norm_maybe_relu(x, running_mean, running_var, weight, bias, training, momentum, eps, false);
}

Tensor batch_norm_relu(const Tensor& x, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight,
                       const Tensor& bias, bool training, double momentum, double eps) {
  return batch_norm_maybe_relu(x, running_mean, running_var, weight, bias, training, momentum, eps, true);
}

Tensor batch_norm_relu_max_pool2x2(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                                   const Tensor& weight, const Tensor& bias, bool training, double momentum,
                                   double eps) {
  VIGIL_CHECK(x.dim() == 4 && x.shape()[2] >= 2 && x.shape()[3] >= 2, ShapeError,
              "batch_norm_relu_max_pool2x2: expected an input [N, C, H, W] with H, W >= 2, got shape {}",
              x.shape().str());
  check_arguments(x, running_mean, running_var, weight, bias, training, eps);
  const std::array<const Tensor*, 3> inputs{&x, &weight, &bias};
  Tensor mean, rstd;
  kernels::BatchNormReluPool pooled;
  if (training) {
    // Statistics and normalisation in one pass (kernels/batch_norm.hpp), then the running update.
    const std::int64_t count = values_per_channel(x);
    kernels::BatchNormReluPoolTraining fused =
        kernels::batch_norm_relu_max_pool_2x2_training(x, weight, bias, eps, should_record(inputs));
    if (running_mean.defined()) {
      kernels::batch_norm_update_running(running_mean, running_var, fused.stats, count, momentum);
    }
    mean = fused.stats.mean;
    rstd = fused.rstd;
    pooled = std::move(fused.pooled);
  } else {
    std::tie(mean, rstd) = running_normalisation(running_mean, running_var, eps);
    pooled = kernels::batch_norm_relu_max_pool_2x2(x, mean, rstd, weight, bias, should_record(inputs));
  }
  record<3>("batch_norm_relu_max_pool2x2", pooled.y, inputs,
            [x = saved(x), weight = saved(weight), bias = saved(bias), mean, rstd, training,
             winners = std::move(pooled.winners)](const Tensor& g, GradInputs& dx) {
              const bool need_dparams = dx.needs(1) || dx.needs(2);
              kernels::BatchNormGrads grads = kernels::batch_norm_relu_max_pool_2x2_backward(
                  g, winners.get(), x, mean, rstd, weight, bias, training, dx.needs(0), need_dparams);
              hand_over(grads, dx);
            });
  return pooled.y;
}

}  // namespace vigil
