#pragma once
// What the doctor examines: the user's training setup, by reference, and the doctor's own options.
//
// Contract shared by every check: a check may run forward passes, backward passes and optimiser steps, but it
// leaves the setup as it found it (parameters, buffers, gradients, optimiser state, the model's mode), so that
// preflight() followed by fit() trains exactly as fit() alone would. StateSnapshot does the restoring.
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "vigil/data/loader.hpp"
#include "vigil/nn/module.hpp"
#include "vigil/optim/optimizer.hpp"
#include "vigil/train/fit.hpp"
#include "vigil/tensor/generator.hpp"

namespace vigil::doctor {

struct Setup {
  nn::Module& model;
  train::LossFunction loss;
  optim::Optimizer& optimizer;
  const data::DataLoader& train;
  const data::DataLoader* validation = nullptr;
  // The penalty term that `loss` adds to the data loss (e.g. nn::l2_penalty(weights, lambda)), when there is one:
  // the monitors evaluate it to tell how much of the loss is regularisation (train.regularizer_dominates).
  std::function<Tensor()> regularizer = nullptr;
};

struct Options {
  std::set<std::string> silenced;   // check ids or prefixes ending in '.', see Report
  std::uint64_t seed = 0;           // for every random choice a check makes (probe batches, perturbations)
  std::int64_t max_batches = 16;    // how many training batches the data checks read (the whole set if smaller)
};

// The task, read off one batch: integer targets make a classification task whose classes are the model's
// output width (dim 1); floating targets a regression (or soft-label classification when the target's shape
// equals the output's and every row sums to 1).
struct Task {
  bool classification = false;
  bool soft_labels = false;
  std::int64_t num_classes = 0;       // 0 for regression
  Shape input_shape;                  // of one batch
  Shape output_shape;                 // the model's output for that batch
};
Task infer_task(const Setup& setup);

// Copies the model's parameters and buffers, their gradients, the optimiser's state and the model's mode, and puts
// them all back when destroyed (or on restore()).
class StateSnapshot {
 public:
  StateSnapshot(nn::Module& model, optim::Optimizer& optimizer);
  ~StateSnapshot();
  StateSnapshot(const StateSnapshot&) = delete;
  StateSnapshot& operator=(const StateSnapshot&) = delete;
  void restore();

 private:
  nn::Module& model_;
  optim::Optimizer& optimizer_;
  std::vector<std::pair<Tensor, Tensor>> tensors_;  // live tensor, saved copy
  std::vector<std::pair<Tensor, std::optional<Tensor>>> grads_;
  std::vector<std::pair<Generator*, Generator>> generators_;  // dropout streams: probes must not advance them
  optim::StateDict optimizer_state_;
  bool training_ = true;
};

}  // namespace vigil::doctor
