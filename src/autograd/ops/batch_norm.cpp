// batch_norm: statistics, the running update and the normalisation through kernels, the backward right below.
#include <vigil/autograd/function.hpp>
#include <vigil/autograd/ops/batch_norm.hpp>
#include <vigil/kernels/batch_norm.hpp>

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

}  // namespace

// batch_norm, and with relu = true batch_norm_relu.
Tensor batch_norm_maybe_relu(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                             const Tensor& weight, const Tensor& bias, bool training, double momentum, double eps,
                             bool relu) {
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

  Tensor mean, rstd;
  if (training) {
    const std::int64_t count = x.numel() / x.shape()[1];
    VIGIL_CHECK(count >= 2, ShapeError,
                "batch_norm: expected more than 1 value per channel when training, got input of shape {}",
                x.shape().str());
    kernels::BatchNormStats stats = kernels::batch_norm_stats(x);
    if (running_mean.defined()) kernels::batch_norm_update_running(running_mean, running_var, stats, count, momentum);
    mean = stats.mean;
    rstd = kernels::batch_norm_rstd(stats.var, eps);
  } else {
    // Copies (to_dtype always copies): the running buffers change in the next training step, this graph's
    // constants must not.
    mean = raw::to_dtype(running_mean, DType::Float64);
    rstd = kernels::batch_norm_rstd(running_var, eps);
  }
  Tensor out = kernels::batch_norm_normalize(x, mean, rstd, weight, bias, relu);
  record<3>(relu ? "batch_norm_relu" : "batch_norm", out, {&x, &weight, &bias},
            [x = saved(x), weight = saved(weight), bias = saved(bias), mean, rstd, training, relu](const Tensor& g,
                                                                                                 GradInputs& dx) {
              const bool need_dparams = dx.needs(1) || dx.needs(2);
              kernels::BatchNormGrads grads = kernels::batch_norm_backward(g, x, mean, rstd, weight, training,
                                                                           dx.needs(0), need_dparams, relu, bias);
              if (dx.needs(0)) dx[0] = grads.dx;
              if (dx.needs(1)) dx[1] = grads.dweight;
              if (dx.needs(2)) dx[2] = grads.dbias;
            });
  return out;
}

Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight,
                  const Tensor& bias, bool training, double momentum, double eps) {
  return batch_norm_maybe_relu(x, running_mean, running_var, weight, bias, training, momentum, eps, false);
}

Tensor batch_norm_relu(const Tensor& x, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight,
                       const Tensor& bias, bool training, double momentum, double eps) {
  return batch_norm_maybe_relu(x, running_mean, running_var, weight, bias, training, momentum, eps, true);
}

}  // namespace vigil
