// Activation layers: each wraps the function of the same name in vigil/autograd/ops/activation.hpp, so that an
// activation is a named child in a module tree (visible to summaries, hooks and the doctor).
#pragma once

#include <vigil/autograd/ops/activation.hpp>
#include <vigil/nn/module.hpp>

namespace vigil::nn {

class ReLU : public Module {
 public:
  Tensor forward(const Tensor& x) override { return relu(x); }
};

}  // namespace vigil::nn
