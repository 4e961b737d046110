// RMSprop with momentum and the centered variant, as torch.optim.RMSprop (PyTorch 1.13) (Hinton's lecture 6e;
// centered: Graves, 2013).
//
// Per parameter p with gradient g, smoothing alpha, running averages v (of g^2) and m (of g, centered only):
//   g <- g + wd * p                           (CoupledL2; Decoupled instead does p <- p * (1 - lr * wd) first)
//   v <- alpha * v + (1 - alpha) * g^2
//   centered:  m <- alpha * m + (1 - alpha) * g;  a = sqrt(v - m^2) + eps   (an estimate of g's std. deviation)
//   else:      a = sqrt(v) + eps
//   momentum > 0:  b <- momentum * b + g / a;  p <- p - lr * b
//   else:          p <- p - lr * g / a
#pragma once

#include <vigil/optim/optimizer.hpp>

namespace vigil::optim {

struct RMSpropOptions {
  double lr = 1e-2;
  double alpha = 0.99;
  double eps = 1e-8;
  double weight_decay = 0.0;
  double momentum = 0.0;
  bool centered = false;
  WeightDecay weight_decay_kind = WeightDecay::CoupledL2;
};

// Buffers: "square_avg"; "momentum_buffer" when momentum > 0; "grad_avg" when centered.
// Requires lr, eps, weight_decay, momentum >= 0 and alpha in [0, 1] (else Error).
class RMSprop : public Optimizer {
 public:
  RMSprop(std::vector<ParamGroup> groups, const RMSpropOptions& options = {});
  RMSprop(std::vector<NamedParameter> params, const RMSpropOptions& options = {});
  const RMSpropOptions& options() const { return options_; }

 protected:
  void update(const Tensor& p, const Tensor& g, ParamState& state, const StepScalars& s) override;

 private:
  RMSpropOptions options_;
};

}  // namespace vigil::optim
