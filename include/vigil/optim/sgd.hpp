// SGD with momentum, dampening and Nesterov momentum, as torch.optim.SGD (PyTorch 1.13).
//
// Per parameter p with gradient g, momentum mu, dampening tau, buffer b:
//   g <- g + wd * p                           (CoupledL2; Decoupled instead does p <- p * (1 - lr * wd) first)
//   if mu != 0:
//     b <- g                                  on the parameter's first update (no dampening then, as PyTorch)
//     b <- mu * b + (1 - tau) * g             afterwards
//     g <- g + mu * b  if Nesterov, else g <- b
//   p <- p - lr * g
// For SGD the two weight-decay kinds give the same update (see optimizer.hpp); both are offered for symmetry.
#pragma once

#include <vigil/optim/optimizer.hpp>

namespace vigil::optim {

struct SGDOptions {
  double lr = 1e-2;  // PyTorch has no default; this is the common one
  double momentum = 0.0;
  double dampening = 0.0;
  bool nesterov = false;
  double weight_decay = 0.0;
  WeightDecay weight_decay_kind = WeightDecay::CoupledL2;
};

// Buffers: "momentum_buffer" when momentum != 0.
// Requires lr, momentum, weight_decay >= 0; Nesterov requires momentum > 0 and dampening == 0 (else Error).
class SGD : public Optimizer {
 public:
  SGD(std::vector<ParamGroup> groups, const SGDOptions& options);
  SGD(std::vector<NamedParameter> params, const SGDOptions& options);
  const SGDOptions& options() const { return options_; }

 protected:
  void update(const Tensor& p, const Tensor& g, ParamState& state, const StepScalars& s) override;

 private:
  SGDOptions options_;
};

}  // namespace vigil::optim
