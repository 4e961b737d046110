#pragma once
// The learning-rate range test (Smith, "Cyclical Learning Rates for Training Neural Networks", 2017; fastai's
// lr_find): train for a few batches while the learning rate grows exponentially, and read a good rate off the
// loss curve.
//
// Step k of n (k = 0 .. n-1) trains one batch at lr_k = min_lr * (max_lr / min_lr)^(k / (n - 1)) with the user's
// optimiser (every parameter group gets lr_k). The raw losses are noisy, so the curve is smoothed by an exponential
// moving average with beta = 0.98, bias-corrected as in Adam: a_k = beta a_{k-1} + (1 - beta) loss_k,
// smoothed_k = a_k / (1 - beta^(k+1)) (without the correction the first values would be pulled towards 0). The
// sweep stops early once smoothed_k > divergence_factor * min(smoothed_0..k), or the loss is not finite: the rate
// is past the point of divergence and later steps add nothing.
//
// The suggestion is the rate at the minimum of the smoothed loss divided by 10 (fastai v1's "min/10"), not the
// steepest-descent point. At the minimum the rate is already about to make the loss rise; a tenth of it lies in
// the region where the loss still falls steadily. The steepest point is the derivative of a noisy curve over a few
// dozen points and jumps between runs; the minimum is stable, and min/10 is what the fastai course teaches.
// When the smoothed loss never falls 5% below its first value there is no suggestion (suggested_lr = 0; `reason`
// says so): nothing in the range trains, which is another problem than the rate. Nor is there one when the minimum
// lies in the lowest tenth of the range (log scale): a loss that is flat and noisy (a plateau that only long
// training leaves) has its minimum wherever noise puts it, often at the bottom of the sweep, and min/10 would then
// suggest a rate below the range itself.
//
// The test leaves the setup as it found it (weights, optimiser state and learning rates, buffers, dropout
// streams, mode: a StateSnapshot).
#include <cstdint>
#include <string>
#include <vector>

#include "vigil/doctor/setup.hpp"

namespace vigil::doctor {

struct LrRangeOptions {
  double min_lr = 1e-7;
  double max_lr = 10;
  std::int64_t steps = 100;        // batches (the most; the sweep stops early at divergence)
  double divergence_factor = 4;    // stop once the smoothed loss exceeds this multiple of its minimum so far
  std::uint64_t seed = 0;          // the loader epoch the batches come from: epoch(seed), epoch(seed + 1), ...
};

struct LrRangeResult {
  std::vector<double> lrs;       // the rate of each step taken
  std::vector<double> losses;    // its raw training loss (before the step's update)
  std::vector<double> smoothed;  // the bias-corrected moving average
  double suggested_lr = 0;       // 0 when there is none
  std::string reason;            // one sentence: how the suggestion was read off the curve (or why there is none)
};

// Requires 0 < min_lr < max_lr, steps >= 2, divergence_factor > 1 (Error otherwise).
LrRangeResult lr_range_test(const Setup& setup, const LrRangeOptions& options = {});

}  // namespace vigil::doctor
