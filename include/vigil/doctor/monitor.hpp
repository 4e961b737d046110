#pragma once
// Monitors: watch a training run and diagnose the failures that make no error, only a bad model.
//
// A Monitor is a train::Callback: pass it to fit() (FitOptions::callbacks) and read the Report afterwards. Users
// with their own loop call after_backward(step) after each backward pass, after_step(step, loss) after each
// optimizer step, and finish() once after the loop.
//
// Cost. Cheap statistics run every step: the batch loss, and one pass over the gradients for NaN/Inf (with fit(),
// also one copy of the parameters and buffers at each step's start, kept so that a step that goes non-finite can
// be re-run). Detailed statistics run every `every` steps: gradient, weight and update norms per parameter,
// activation statistics per leaf module (through forward hooks that do nothing between those steps), the
// modules' modes, the regulariser. On the reference Fashion-MNIST CNN the monitor's own work measured 0.5-0.9% of
// training time (bench/doctor_monitor_overhead.cpp, 2 threads, every = 10).
//
// Non-finite tracing (fit() only: it needs the batch again). When the loss or a gradient first turns NaN/Inf, the
// monitor copies the state aside, puts back the parameters, buffers and dropout streams of that step's start,
// fetches the same batch from Setup::train (loaders are deterministic in (seed, epoch)), and runs its forward and
// backward again under an AnomalyGuard (autograd/anomaly.hpp). The guard names the first op whose output or
// gradient went non-finite and its index among the recorded ops; forward hooks on every module, which fire when a
// module's forward returns, give the layer: the first module to return after the op ran is the innermost module
// that ran it (ops outside every module, in the loss function, are reported as such). Then the state after the
// step is restored, and training stops (stop_on_non_finite) since nothing after a NaN step means anything.
//
// Check ids, all train.*, each added at most once, with the step where it first showed:
//   train.non_finite_loss        the loss became NaN/Inf (with the op and layer that made the first NaN/Inf)
//   train.non_finite_gradient    a gradient became NaN/Inf while the loss was finite (op and layer as above)
//   train.exploding_gradients    |grad| / |weight| of a layer high, growing by orders of magnitude, or rising
//                                steeply from the last layer to the first
//   train.vanishing_gradients    |grad| / |weight| of a layer tiny, or falling steeply from the last layer to the
//                                first
//   train.update_ratio_low / train.update_ratio_high   |delta w| / |w| per step far from the healthy ~1e-3
//   train.frozen_parameter       a parameter that requires a gradient never changed (no gradient reaches it, the
//                                optimiser does not hold it, or its gradient is always zero); or a frozen weight
//                                (requires_grad off) that still looks freshly initialised: random features that
//                                never train (a pretrained, frozen backbone has left its init distribution)
//   train.dead_units             ReLU units never positive over the recent sampled batches, fewer at the start
//   train.saturated_units        sigmoid/tanh outputs in their flat tails, more than at the start
//   train.activation_growth / train.weight_growth   norms rising steadily by orders of magnitude
//   train.loss_spike             a batch loss far above the running median
//   train.divergence             the smoothed loss rose far above its minimum
//   train.plateau                the smoothed loss stopped improving while still high
//   train.oscillation            the loss alternating up and down with a large amplitude
//   train.wrong_mode             a module is in eval mode during training (batch norm, dropout misbehave)
//   train.gradients_not_zeroed   (own loops) after backward the gradient still holds the previous step's, and its
//                                norm grows: grads accumulate (ranked as a model fault, above the divergence it causes)
//   train.regularizer_dominates  Setup::regularizer's penalty outweighs the data loss
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vigil/doctor/finding.hpp"
#include "vigil/doctor/setup.hpp"

namespace vigil::doctor {

struct MonitorOptions {
  // Steps between detailed statistics (step 0 is always sampled). 10 keeps their cost near 1% of training.
  std::int64_t every = 10;
  // Keep a copy of the parameters and buffers of each step's start so that the first non-finite step can be
  // re-run with anomaly checks (fit() only). One copy per step: cheap next to a forward/backward pass.
  bool trace_non_finite = true;
  // Request fit() to stop after the first non-finite loss or gradient: every later step is wasted.
  bool stop_on_non_finite = true;

  // Gradients, per weight (parameters with >= 2 dims), over the sampled steps (medians: one noisy batch is no
  // finding). |g| / |w| above 10 means one SGD step at lr 0.1 would move a weight by its own size; below 1e-7 the
  // gradient is lost in float32 rounding of the weight (eps 1.2e-7) for any sane learning rate.
  double max_grad_ratio = 10.0;
  double min_grad_ratio = 1e-7;
  // Across depth: the first weight's |g|/|w| over the last weight's (named_parameters() order, inputs first).
  // Healthy nets stay within a factor of ~100; 1e4 means the first layers learn 10000x slower (or faster).
  double depth_ratio = 1e4;
  // Growth over time of a weight's gradient norm (last sample over first): three orders of magnitude.
  double grad_growth = 1e3;

  // Update-to-weight ratio |delta w| / |w| per step, median over the sampled steps: ~1e-3 is the usual healthy
  // value (Karpathy's rule of thumb); below 1e-5 the weights barely move, above 1e-1 each step rewrites a tenth
  // of the weight: the learning rate is far off.
  double min_update_ratio = 1e-5;
  double max_update_ratio = 1e-1;

  // A parameter that requires a gradient but is bit-identical after this many steps is frozen by mistake.
  std::int64_t frozen_min_steps = 20;

  // Dead ReLU units: a unit (channel or feature, dim 1) never positive over the last `activation_window` sampled
  // batches. Reported when at least `max_dead_fraction` of a layer's units are dead at the end and that fraction
  // grew by `min_increase` since the first window (dead at initialisation is the pre-flight checks' business).
  double max_dead_fraction = 0.5;
  // Saturated sigmoid/tanh outputs: derivative below 2% of its peak (sigmoid outside [0.005, 0.995], tanh
  // |y| > 0.99), as a fraction of the outputs averaged over the window; same rule as dead units.
  double max_saturated_fraction = 0.5;
  double min_increase = 0.25;
  std::int64_t activation_window = 5;

  // Growth by orders of magnitude: last sample over first, with at least 70% of the sampled changes increases
  // (steady, not one jump). Activations (RMS of a leaf module's output) by 100x; weights by 10x, since a weight
  // that grew tenfold under a norm-preserving initialisation has left the regime its layer was designed for.
  double activation_growth = 100.0;
  double weight_growth = 10.0;

  // Loss spike: a batch loss above spike_factor times the median of the previous `loss_window` losses and more
  // than 6 robust deviations (1.4826 * MAD) above it; needs 20 losses of history.
  double spike_factor = 3.0;
  std::int64_t loss_window = 50;
  // Smoothing for divergence and plateaus: the median of the last `smooth_window` batch losses.
  std::int64_t smooth_window = 20;
  // Divergence: smoothed loss above divergence_factor times its minimum, having given back at least a quarter of
  // what it had gained from its start (so a loss wobbling near 0 is no divergence).
  double divergence_factor = 2.0;
  // Plateau: the smoothed loss has not set a new best by `plateau_improvement` (relative) for the last
  // max(plateau_steps, 30% of the run) steps, while still above plateau_level times its start. A low loss that
  // stopped improving has converged; a loss that plateaued and then dropped is not reported.
  std::int64_t plateau_steps = 200;
  double plateau_improvement = 0.01;
  double plateau_level = 0.5;
  // Oscillation: in windows of `oscillation_window` steps, the detrended loss has lag-1 autocorrelation below
  // -0.5 (it alternates; noise gives ~0) and mean |step-to-step change| above 20% of the window's median loss;
  // reported when at least half of the windows (and 3) oscillate. Caveat: an unshuffled loader with two batches
  // of different difficulty alternates by construction.
  std::int64_t oscillation_window = 32;
  double oscillation_amplitude = 0.2;

  // Own loops only: gradients accumulate across steps when, after backward, the gradient still holds what the
  // previous step left: |g - left| / |g| (the share backward added), median over the sampled steps, below
  // not_zeroed_share (zeroed gradients give ~1: consecutive batches' gradients differ about as much as they
  // measure; accumulated ones ~1/sqrt(steps) or less), and the gradient norm grew not_zeroed_growth-fold since
  // the first step (a sum of ever more gradients; full-batch training, whose consecutive gradients are alike,
  // does not grow so).
  double not_zeroed_share = 0.5;
  double not_zeroed_growth = 3.0;

  // The regulariser dominates when its penalty exceeds this multiple of the data loss (median over samples).
  double max_regularizer_ratio = 1.0;
};

// One row of the per-layer time series, at a sampled step.
struct LayerSample {
  std::int64_t step = 0;
  std::string layer;  // parameter path for grad/update statistics, module path for activation statistics
  double grad_norm = 0, weight_norm = 0, update_ratio = 0;  // update_ratio = |delta w| / |w| for that step
  double activation_mean = 0, activation_std = 0, dead_fraction = 0, saturated_fraction = 0;
};

class Monitor : public train::Callback {
 public:
  // Registers forward hooks on the model's leaf modules. `setup` and `report` must outlive the monitor.
  Monitor(const Setup& setup, Task task, MonitorOptions options, Report& report);
  ~Monitor() override;  // removes its hooks
  Monitor(const Monitor&) = delete;
  Monitor& operator=(const Monitor&) = delete;

  void on_train_begin(train::TrainContext& context) override;
  void on_batch_begin(train::TrainContext& context) override;
  void on_batch_end(train::TrainContext& context) override;
  void on_train_end(train::TrainContext& context) override;

  const std::vector<LayerSample>& layer_history() const;
  // The batch loss of every step seen, in order.
  const std::vector<double>& losses() const;

  // Own training loops (no fit()): call after backward and after optimizer.step() of every step, then finish()
  // once. `step` labels the findings; sampling counts the calls.
  void after_backward(std::int64_t step);
  void after_step(std::int64_t step, double loss);
  void finish();

  struct State;

 private:
  std::unique_ptr<State> state_;
};

}  // namespace vigil::doctor
