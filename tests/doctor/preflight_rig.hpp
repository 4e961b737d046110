#pragma once
// A tiny training setup for the pre-flight check tests: in-memory data, a model, a loss and an optimiser, each
// replaceable by the test that breaks it.
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "vigil/autograd/autograd.hpp"
#include "vigil/data/datasets.hpp"
#include "vigil/doctor/finding.hpp"
#include "vigil/doctor/setup.hpp"
#include "vigil/nn/nn.hpp"
#include "vigil/optim/adam.hpp"

namespace vigil::doctor::testing {

inline std::shared_ptr<data::DataLoader> make_loader(Tensor inputs, Tensor targets, std::int64_t batch_size = 16,
                                                     bool shuffle = true) {
  auto dataset = std::make_shared<data::TensorDataset>(std::move(inputs), std::move(targets));
  return std::make_shared<data::DataLoader>(dataset,
                                            data::LoaderOptions{.batch_size = batch_size, .shuffle = shuffle, .seed = 3});
}

// Linear(in, hidden) -> ReLU -> Linear(hidden, out).
inline std::shared_ptr<nn::Sequential> mlp(std::int64_t in, std::int64_t hidden, std::int64_t out, Generator& gen) {
  return std::make_shared<nn::Sequential>(std::vector<std::shared_ptr<nn::Module>>{
      std::make_shared<nn::Flatten>(), std::make_shared<nn::Linear>(in, hidden, gen), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::Linear>(hidden, out, gen)});
}

inline Tensor labels_tensor(const std::vector<std::int64_t>& labels) {
  return from_vector_i64(labels, {static_cast<std::int64_t>(labels.size())});
}

// i % classes for i in [0, n): balanced labels.
inline Tensor cyclic_labels(std::int64_t n, std::int64_t classes) {
  std::vector<std::int64_t> labels(n);
  for (std::int64_t i = 0; i < n; ++i) labels[i] = i % classes;
  return labels_tensor(labels);
}

inline train::LossFunction cross_entropy_loss() {
  return [](const Tensor& y, const Tensor& t) { return nn::cross_entropy(y, t); };
}

struct Rig {
  std::shared_ptr<nn::Module> model;
  train::LossFunction loss = cross_entropy_loss();
  std::shared_ptr<optim::Optimizer> optimizer;
  std::shared_ptr<data::DataLoader> train;
  std::shared_ptr<data::DataLoader> validation;

  Rig(std::shared_ptr<nn::Module> m, std::shared_ptr<data::DataLoader> train_loader)
      : model(std::move(m)),
        optimizer(std::make_shared<optim::Adam>(optim::named_parameters(*model))),
        train(std::move(train_loader)) {}

  Setup setup() const { return Setup{*model, loss, *optimizer, *train, validation.get()}; }
};

// The report's finding of `check`; throws naming it, with the whole report, when there is none. By value: the
// report is often a temporary.
inline Finding find(const Report& report, const std::string& check) {
  for (const Finding& f : report.findings())
    if (f.check == check) return f;
  throw std::runtime_error("no finding " + check + "; report:\n" + report.text());
}

}  // namespace vigil::doctor::testing
