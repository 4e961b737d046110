// The fixed two-layer network of tools/golden/optim.py, rebuilt with vigil ops, and the optimiser configurations
// of tests/golden/optim.json, shared by the optim tests.
//   h = x @ fc1.weight + fc1.bias;  y = h @ fc2.weight + fc2.bias;  loss = sum((y - target)^2) / 16
#pragma once

#include "support/golden.hpp"

#include <vigil/optim/optim.hpp>

#include <memory>
#include <string>
#include <vector>

namespace vigil::testing {

struct GoldenNetwork {
  Tensor x, target;
  std::vector<optim::NamedParameter> init;  // fc1.weight, fc1.bias, fc2.weight, fc2.bias
};

// The network and the cases of tests/golden/optim.json.
const GoldenNetwork& golden_network();
const nlohmann::json& golden_optim_cases();

// Fresh leaf parameters (requires_grad; copies, see raw::to_dtype) with the initial values, in `dtype`.
std::vector<optim::NamedParameter> fresh_parameters(DType dtype = DType::Float32);
// The loss of the network at `params`; records the tape (call backward on it).
Tensor network_loss(const std::vector<optim::NamedParameter>& params);

// The optimiser a golden case describes (its "optimizer", "options", "weight_decay_kind" and "groups").
std::unique_ptr<optim::Optimizer> make_optimizer(const nlohmann::json& c, const std::vector<optim::NamedParameter>& params);

// One training step as the golden script makes it: zero_grad, loss, backward, the case's clipping, step.
// Returns the loss before the step; *clip_norm receives clip_grad_norm's result when the case clips by norm.
float train_step(optim::Optimizer& opt, const std::vector<optim::NamedParameter>& params, const nlohmann::json& c,
                 double* clip_norm = nullptr);

}  // namespace vigil::testing
