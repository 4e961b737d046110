// Sequential: modules applied one after another, y = m_{n-1}(... m_1(m_0(x))). Children are named by position
// ("0", "1", ...), so parameter paths read "0.weight", "2.bias". Each child runs through its operator(), so its
// own hooks fire. One exception, for speed: a BatchNorm1d/2d directly followed by a ReLU runs as one fused op
// (nn::batch_norm_relu: the same values and gradients, half the memory traffic), and with a 2x2, stride-2
// MaxPool2d after the ReLU as one op with the pooling too (BatchNorm::forward_relu_max_pool2x2: the full-size
// activation is never written), when none of them has hooks; a hook on any turns that fusion off, so hooks always
// see every module's own output.
#pragma once

#include <vigil/nn/module.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace vigil::nn {

class Sequential : public Module {
 public:
  Sequential() = default;
  explicit Sequential(std::vector<std::shared_ptr<Module>> modules);

  // Appends `module` under the next index; returns it.
  template <class M>
  std::shared_ptr<M> push_back(std::shared_ptr<M> module) {
    register_module(std::to_string(layers_.size()), module);
    layers_.push_back(module);
    return module;
  }

  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Sequential"; }

  std::size_t size() const { return layers_.size(); }
  // The module at `index`; throws IndexError when out of range.
  Module& operator[](std::size_t index) const;

 private:
  std::vector<std::shared_ptr<Module>> layers_;
};

}  // namespace vigil::nn
