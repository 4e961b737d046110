// Adagrad, as torch.optim.Adagrad (PyTorch 1.13) (Duchi, Hazan & Singer, 2011).
//
// Per parameter p with gradient g, accumulator s (starts at initial_accumulator_value), update count t:
//   g <- g + wd * p                           (CoupledL2; Decoupled instead does p <- p * (1 - lr * wd) first)
//   clr = lr / (1 + (t - 1) * lr_decay)
//   s <- s + g^2
//   p <- p - clr * g / (sqrt(s) + eps)
#pragma once

#include <vigil/optim/optimizer.hpp>

namespace vigil::optim {

struct AdagradOptions {
  double lr = 1e-2;
  double lr_decay = 0.0;
  double weight_decay = 0.0;
  double initial_accumulator_value = 0.0;
  double eps = 1e-10;
  WeightDecay weight_decay_kind = WeightDecay::CoupledL2;
};

// Buffers: "sum". Requires every option >= 0 (else Error).
class Adagrad : public Optimizer {
 public:
  Adagrad(std::vector<ParamGroup> groups, const AdagradOptions& options = {});
  Adagrad(std::vector<NamedParameter> params, const AdagradOptions& options = {});
  const AdagradOptions& options() const { return options_; }

 protected:
  void update(const Tensor& p, const Tensor& g, ParamState& state, const StepScalars& s) override;

 private:
  AdagradOptions options_;
};

}  // namespace vigil::optim
