#pragma once
// Pre-flight optimiser checks: does the optimiser see the model's parameters, and are its hyper-parameters in
// the ranges where that optimiser is known to work?
//
// Check ids (silence them through Options::silenced):
//   optim.nothing_to_train     error    the model has no trainable parameter
//   optim.missing_parameters   error    trainable model parameters the optimiser does not update (named)
//   optim.unknown_parameters   warning  optimiser parameters that are not the model's (built for another model?)
//   optim.learning_rate        warning  a group's lr outside the usual range for this optimiser (error when 0)
//   optim.momentum             warning  SGD/RMSprop momentum >= max_momentum: the velocity never decays
//   optim.betas                warning  Adam/AdamW beta2 below min_beta2: the step size becomes noisy
//   optim.eps                  warning  Adam/AdamW/RMSprop/Adagrad eps above max_eps: updates shrink to lr*g/eps
//   optim.weight_decay         warning  weight decay above max_weight_decay (error when decoupled lr*wd >= 1)
//   optim.summed_loss          warning  the loss sums over the batch while SGD uses a mean-loss learning rate
//
// Hyper-parameters beyond lr and weight decay are read from the concrete optimisers' options() (SGD, Adam,
// AdamW, RMSprop, Adagrad) through dynamic_cast; no accessor was added to the Optimizer base.
// Cost: one eval-mode forward pass of at most 256 training samples (for optim.summed_loss).
#include "vigil/doctor/finding.hpp"
#include "vigil/doctor/setup.hpp"

namespace vigil::doctor {

// Usual learning-rate range of an optimiser: below lo training barely moves in a normal budget, above hi it
// diverges for most models. From common practice and PyTorch defaults (Adam 1e-3, SGD 1e-2..1e-1, Adadelta 1).
struct LrRange {
  double lo;
  double hi;
};

struct OptimizerThresholds {
  LrRange adam{1e-6, 1e-2};      // Adam, AdamW: the step is ~lr per weight whatever the gradient scale
  LrRange sgd{1e-5, 1.0};        // SGD: the step is lr * gradient
  LrRange rmsprop{1e-6, 1e-1};   // RMSprop: adaptive like Adam, a little more tolerant
  LrRange adagrad{1e-5, 1.0};    // Adagrad: the step decays as squared gradients accumulate
  LrRange adadelta{1e-2, 10.0};  // Adadelta: lr multiplies an already unit-correct step; 1.0 is the default
  // Momentum 1 never forgets a gradient (the velocity grows without bound); above ~0.99 it barely forgets.
  double max_momentum = 0.999;
  // beta2 averages squared gradients over ~1/(1 - beta2) steps; under 10 steps the denominator is noisy.
  double min_beta2 = 0.9;
  // eps larger than typical sqrt(v) (~1e-3 and below for unit-scale gradients) turns Adam into SGD with lr/eps.
  double max_eps = 1e-3;
  // Weight decay above 0.1 usually dominates the data term (coupled L2) or shrinks weights faster than they
  // learn (decoupled); decoupled lr * wd >= 1 zeroes or flips every weight each step.
  double max_weight_decay = 0.1;
  // optim.summed_loss: SGD's step grows with the batch size when the loss is a sum; warn when lr * N exceeds
  // this (a mean-loss learning rate times the batch size).
  double max_summed_step = 1.0;
};

// Runs every optimiser check above and adds its findings to `report`. `task` comes from infer_task(setup).
void check_optimizer(const Setup& setup, const Task& task, const Options& options, Report& report,
                     const OptimizerThresholds& thresholds = {});

}  // namespace vigil::doctor
