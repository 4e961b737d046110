#pragma once
// Pre-flight probes: checks that run the model before training, on the first batch of the training loader, and
// add findings (check ids "probe.*") to a Report. Each leaves the setup exactly as it found it (a StateSnapshot
// restores weights, buffers, gradients, optimiser state, dropout streams and the mode), so probing and then
// training trains as training alone would.
//
//   probe.loss_at_init           the loss of the untrained model against the loss of knowing nothing (the data
//                                loss: Setup::regularizer's penalty left out, a summed loss taken per sample); a
//                                NaN/Inf loss names the layer that turns finite inputs into NaN/Inf (an error)
//   probe.collapsed_predictions  (almost) every sample predicted as one class at initialisation
//   probe.activation_scale       a weight layer's output std far from 1
//   probe.activation_trend       the forward signal shrinking or growing steadily with depth
//   probe.dead_relu              ReLU units never positive over a batch
//   probe.saturation             sigmoid / tanh units stuck near their bounds
//   probe.symmetric_init         a Linear / Conv whose output units are all identical
//   probe.gradcheck              a module whose backward disagrees with finite differences (modules whose forward
//                                is already NaN/Inf at the probe inputs are left to probe.loss_at_init)
//   probe.batch_independence     a sample's output depending on other samples of the batch (in eval mode)
//   probe.overfit_one_batch      the model cannot fit a handful of samples
//   probe.input_independent      zeroed inputs train as well as the real ones
//   probe.learning_rate          the optimiser's rate far from the range test's suggestion
// A probe that cannot run on a model (its forward throws, say) adds a warning under its own id saying why.
#include <cstdint>

#include "vigil/doctor/finding.hpp"
#include "vigil/doctor/setup.hpp"

namespace vigil::doctor {

// Thresholds and budgets of the probes, with the reason for each default.
struct ProbeThresholds {
  // -- Loss at initialisation --
  // Findings when the initial loss exceeds this multiple of the know-nothing loss (ln C for classification; for
  // regression the user's loss of predicting the target mean, the target variance for MSE). Logits of std s at
  // init add about s^2 / 2 to ln C, so 1.5 x ln C (C = 10: 3.45) means logits of std ~1.5 or more: the model
  // starts confidently wrong and spends its first steps undoing it.
  double init_loss_ratio = 1.5;
  // Collapsed predictions: the share of samples whose argmax is the most common class. 0.95: a healthy random
  // init spreads its argmax over several classes; nearly all in one means a bias or a dominant direction of the
  // features swamps the input-dependent part.
  double collapsed_share = 0.95;
  std::int64_t init_samples = 128;  // samples of the first batch the loss and the histogram use

  // -- Activations (one training-mode forward pass at init) --
  // Output std of a hidden Linear / Conv layer (the pre-activation; the last one, the logits, is the loss probe's).
  // Wider than the ideal [0.5, 2]: PyTorch's default init (kaiming_uniform, a = sqrt(5)) gives pre-activations of
  // std sqrt(1/3) times the input's RMS, about 0.3-0.6 in healthy networks, so 0.5 would flag every such model.
  double activation_std_low = 0.2;
  double activation_std_high = 5.0;
  // Trend: last / first output std of the hidden Linear / Conv layers (the output layer left out: its scale
  // follows the task), when there are at least 3 and every step between consecutive ones goes the same way. 10x over the depth of a network is a signal that will not survive more depth, or training.
  double activation_trend_ratio = 10.0;
  // A ReLU unit (a channel: dim 1) never positive over the batch gets no gradient; a layer with more than this
  // share of dead units has lost much of its width (a normal init kills a few percent at most).
  double dead_fraction = 0.4;
  // Sigmoid / tanh outputs where the local derivative is below 1% of its maximum (|tanh| > 0.995, sigmoid
  // outside [0.0025, 0.9975]) pass almost no gradient; findings above this share of the layer's outputs.
  double saturated_fraction = 0.25;
  std::int64_t activation_samples = 64;

  // -- Gradient check (every module, custom ones included, on 2 samples of the input it sees, in float64) --
  // Passed to vigil::gradcheck: looser than its defaults, which are for single ops on tame inputs; a wrong
  // backward (a sign, a missing factor) misses by 100% or more, far beyond these.
  double gradcheck_atol = 1e-4;
  double gradcheck_rtol = 1e-3;
  std::int64_t gradcheck_elements = 6;  // per input (activation or parameter), besides random directions
  std::int64_t gradcheck_samples = 2;

  // -- Batch independence (eval mode) --
  // Largest |d out[i] / d in[j]| (j != i) over largest |d out[i] / d in[i]|. Independent samples give exactly 0;
  // any mixing gives about 1 / N or more, so 1e-4 separates them with room for rounding.
  double cross_sample_ratio = 1e-4;
  std::int64_t independence_samples = 4;

  // -- Overfit one batch (the user's optimiser and rate, training mode; scored in eval mode) --
  // Classification must reach this accuracy on the samples it trains on (all of 16: anything less is a fault).
  double overfit_accuracy = 1.0;
  // Regression must bring the loss below this share of the know-nothing loss (MSE: 5% of the target variance).
  double overfit_loss_share = 0.05;
  std::int64_t overfit_samples = 16;
  std::int64_t overfit_steps = 200;  // a model that fits 16 samples needs tens of steps with a sane rate

  // -- Input-independent baseline --
  // Warning when the loss trained on real inputs is above this share of the loss trained on zeroed inputs: with
  // its input a model memorises a small batch (loss -> 0), without it it can learn only the label frequencies.
  double baseline_loss_ratio = 0.8;
  std::int64_t baseline_steps = 50;

  // -- Learning rate (a short lr_range_test) --
  // Warning above this multiple of the suggestion (likely to diverge), info below suggestion / lr_too_low.
  double lr_too_high = 10.0;
  double lr_too_low = 100.0;
  std::int64_t lr_steps = 60;
};

// Every probe below, in order. Each one's exceptions become a warning under its id; the others still run.
void run_probes(const Setup& setup, const Task& task, const Options& options, Report& report,
                const ProbeThresholds& thresholds = {});

void probe_loss_at_init(const Setup& setup, const Task& task, const Options& options, Report& report,
                        const ProbeThresholds& thresholds = {});
void probe_activations(const Setup& setup, const Task& task, const Options& options, Report& report,
                       const ProbeThresholds& thresholds = {});
void probe_gradients(const Setup& setup, const Task& task, const Options& options, Report& report,
                     const ProbeThresholds& thresholds = {});
void probe_batch_independence(const Setup& setup, const Task& task, const Options& options, Report& report,
                              const ProbeThresholds& thresholds = {});
void probe_overfit_one_batch(const Setup& setup, const Task& task, const Options& options, Report& report,
                             const ProbeThresholds& thresholds = {});
void probe_input_independent_baseline(const Setup& setup, const Task& task, const Options& options, Report& report,
                                      const ProbeThresholds& thresholds = {});
void probe_learning_rate(const Setup& setup, const Task& task, const Options& options, Report& report,
                         const ProbeThresholds& thresholds = {});

}  // namespace vigil::doctor
