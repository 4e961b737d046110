// Adadelta, as torch.optim.Adadelta (PyTorch 1.13) (Zeiler, 2012).
//
// Per parameter p with gradient g, running averages v (of g^2) and u (of squared updates):
//   g <- g + wd * p                           (CoupledL2; Decoupled instead does p <- p * (1 - lr * wd) first)
//   v <- rho * v + (1 - rho) * g^2
//   d <- sqrt(u + eps) / sqrt(v + eps) * g    (eps inside both roots: it also starts the first steps off zero)
//   u <- rho * u + (1 - rho) * d^2
//   p <- p - lr * d
#pragma once

#include <vigil/optim/optimizer.hpp>

namespace vigil::optim {

struct AdadeltaOptions {
  double lr = 1.0;
  double rho = 0.9;
  double eps = 1e-6;
  double weight_decay = 0.0;
  WeightDecay weight_decay_kind = WeightDecay::CoupledL2;
};

// Buffers: "square_avg", "acc_delta". Requires lr, eps, weight_decay >= 0 and rho in [0, 1] (else Error).
class Adadelta : public Optimizer {
 public:
  Adadelta(std::vector<ParamGroup> groups, const AdadeltaOptions& options = {});
  Adadelta(std::vector<NamedParameter> params, const AdadeltaOptions& options = {});
  const AdadeltaOptions& options() const { return options_; }

 protected:
  void update(const Tensor& p, const Tensor& g, ParamState& state, const StepScalars& s) override;

 private:
  AdadeltaOptions options_;
};

}  // namespace vigil::optim
