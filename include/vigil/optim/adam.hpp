// Adam (with AMSGrad) and AdamW, as torch.optim.Adam / torch.optim.AdamW (PyTorch 1.13) (Kingma & Ba, 2015;
// AMSGrad: Reddi, Kale & Kumar, 2018; AdamW: Loshchilov & Hutter, 2019).
//
// Per parameter p with gradient g, moments m and v, update count t:
//   g <- g + wd * p                           (CoupledL2, Adam's default)
//   p <- p * (1 - lr * wd)                    (Decoupled, AdamW's default; g stays the bare gradient)
//   m <- beta1 * m + (1 - beta1) * g
//   v <- beta2 * v + (1 - beta2) * g^2
//   AMSGrad: v_max <- max(v_max, v), and v_max replaces v below
//   p <- p - (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
// The bias corrections are applied in this order, with eps added after dividing sqrt(v) by its correction, exactly
// as PyTorch does (so eps acts on the bias-corrected root, and results match to rounding).
#pragma once

#include <vigil/optim/optimizer.hpp>

namespace vigil::optim {

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
  bool amsgrad = false;
  WeightDecay weight_decay_kind = WeightDecay::CoupledL2;
};

// AdamW: Adam with decoupled weight decay by default, and PyTorch's default decay of 1e-2.
struct AdamWOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 1e-2;
  bool amsgrad = false;
  WeightDecay weight_decay_kind = WeightDecay::Decoupled;
};

// Buffers: "exp_avg", "exp_avg_sq"; "max_exp_avg_sq" with AMSGrad.
// Requires lr, eps, weight_decay >= 0 and beta1, beta2 in [0, 1) (else Error).
class Adam : public Optimizer {
 public:
  Adam(std::vector<ParamGroup> groups, const AdamOptions& options = {});
  Adam(std::vector<NamedParameter> params, const AdamOptions& options = {});
  const AdamOptions& options() const { return options_; }

 protected:
  Adam(std::string name, std::vector<ParamGroup> groups, const AdamOptions& options);
  void update(const Tensor& p, const Tensor& g, ParamState& state, const StepScalars& s) override;

 private:
  AdamOptions options_;
};

class AdamW : public Adam {
 public:
  AdamW(std::vector<ParamGroup> groups, const AdamWOptions& options = {});
  AdamW(std::vector<NamedParameter> params, const AdamWOptions& options = {});
};

}  // namespace vigil::optim
