#pragma once
// Pre-flight model lint: structural mistakes visible from the module tree, one eval-mode forward pass and the
// loss, before any training.
//
// Check ids (silence them through Options::silenced):
//   model.missing_nonlinearity        warning  two Linear/Conv layers in a Sequential with only linear layers
//                                              (Dropout, Identity, Flatten, BatchNorm, average pooling) between
//   model.softmax_into_cross_entropy  warning  the output is a softmax and the loss applies log-softmax again
//   model.log_softmax_into_cross_entropy info  the output is a log-softmax and the loss is cross-entropy
//                                              (harmless: log_softmax is idempotent, but redundant)
//   model.nll_without_log_softmax     warning  the loss is nll_loss but the outputs are not log-probabilities
//   model.activation_on_logits        warning  ReLU/Sigmoid/Tanh/... as the last layer before cross-entropy
//   model.output_range                warning  regression output bounded by its last layer (Sigmoid, Tanh, ReLU,
//                                              ...) while targets lie outside that range (error past half)
//   model.regression_on_class_indices warning  a width-1 output trained with MSE/L1 on integer-valued targets
//                                              drawn from a few values: class labels treated as numbers
//   model.heavy_dropout               warning  a dropout layer with p above 0.5
//
// "The loss is cross-entropy" is measured, not assumed: setup.loss on a probe batch equals nn::cross_entropy
// (or nll_loss, mse_loss, l1_loss) on the same outputs. The last layer is the last leaf module the forward pass
// ran (found with forward hooks, removed afterwards), when its output is the model's output. Target statistics
// come from Options::max_batches training batches; the forward pass sees at most 256 of their samples.
#include <cstdint>

#include "vigil/doctor/finding.hpp"
#include "vigil/doctor/setup.hpp"

namespace vigil::doctor {

struct ModelThresholds {
  // Dropout above 0.5 drops most units: training signal per step is thin and the layer's output is noisy.
  // (Hinton et al. use 0.5 for hidden layers; 0.1-0.3 is usual today.)
  double max_dropout = 0.5;
  // output_range: share of target values outside the last layer's range that makes a warning; past
  // output_range_error_fraction the fit cannot work for most samples, an error.
  double output_range_fraction = 0.01;
  double output_range_error_fraction = 0.5;
  // regression_on_class_indices: at most this many distinct integer target values, each seen this many times on
  // average (a real-valued quantity that happens to be rounded has many more distinct values).
  std::int64_t class_index_max_distinct = 20;
  double class_index_min_repeats = 5.0;
};

// Runs every model check above and adds its findings to `report`. `task` comes from infer_task(setup).
void lint_model(const Setup& setup, const Task& task, const Options& options, Report& report,
                const ModelThresholds& thresholds = {});

}  // namespace vigil::doctor
