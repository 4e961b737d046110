// Tiny training setups for the probe tests: a learnable 3-class problem on 8 features, a model, an optimiser.
#pragma once

#include <memory>
#include <vector>

#include "vigil/autograd/autograd.hpp"
#include "vigil/data/datasets.hpp"
#include "vigil/doctor/setup.hpp"
#include "vigil/nn/nn.hpp"
#include "vigil/optim/adam.hpp"
#include "vigil/optim/sgd.hpp"

namespace vigil::doctor::testing {

// Named apart from preflight_rig.hpp's Rig: both live in vigil::doctor::testing and are linked into one binary.
struct ProbeRig {
  std::shared_ptr<nn::Module> model;
  std::unique_ptr<optim::Optimizer> optimizer;
  std::unique_ptr<data::DataLoader> loader;
  train::LossFunction loss;
  Setup setup() { return Setup{*model, loss, *optimizer, *loader}; }
  Task task() { return infer_task(setup()); }
};

// 32 samples of 8 standard-normal features; the label is the argmax of a fixed random projection to 3 classes
// (learnable), or for regression its first coordinate.
inline std::pair<Tensor, Tensor> toy_data(bool regression, std::uint64_t seed = 11) {
  Generator gen(seed);
  const Tensor x = randn({32, 8}, gen);
  const Tensor w = randn({8, 3}, gen);
  NoGradGuard no_grad;
  const Tensor z = matmul(x, w);
  if (regression) return {x, raw::contiguous(narrow(z, 1, 0, 1))};
  return {x, argmax(z, 1)};
}

inline ProbeRig make_rig(std::shared_ptr<nn::Module> model, double lr, bool regression = false, bool sgd = false) {
  ProbeRig rig;
  rig.model = std::move(model);
  if (sgd) {
    rig.optimizer = std::make_unique<optim::SGD>(optim::named_parameters(*rig.model), optim::SGDOptions{.lr = lr});
  } else {
    rig.optimizer = std::make_unique<optim::Adam>(optim::named_parameters(*rig.model), optim::AdamOptions{.lr = lr});
  }
  auto [x, t] = toy_data(regression);
  rig.loader = std::make_unique<data::DataLoader>(std::make_shared<data::TensorDataset>(x, t),
                                                  data::LoaderOptions{.batch_size = 32});
  if (regression) {
    rig.loss = [](const Tensor& y, const Tensor& target) { return nn::mse_loss(y, target); };
  } else {
    rig.loss = [](const Tensor& y, const Tensor& target) { return nn::cross_entropy(y, target); };
  }
  return rig;
}

// Linear(8, 32) - ReLU - Linear(32, 3): healthy at PyTorch's default initialisation.
inline std::shared_ptr<nn::Sequential> mlp(std::uint64_t seed = 1, std::int64_t outputs = 3) {
  Generator gen(seed);
  return std::make_shared<nn::Sequential>(std::vector<std::shared_ptr<nn::Module>>{
      std::make_shared<nn::Linear>(8, 32, gen), std::make_shared<nn::ReLU>(), std::make_shared<nn::Linear>(32, outputs, gen)});
}

// Sets every element of a parameter to f(old value), outside the graph.
template <class F>
void rewrite(const Tensor& p, F f) {
  NoGradGuard no_grad;
  raw::copy_(p, f(p));
}

}  // namespace vigil::doctor::testing
