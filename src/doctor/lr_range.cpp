#include "vigil/doctor/lr_range.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "vigil/autograd/autograd.hpp"

namespace vigil::doctor {

LrRangeResult lr_range_test(const Setup& setup, const LrRangeOptions& options) {
  VIGIL_CHECK(options.min_lr > 0 && options.min_lr < options.max_lr, Error,
              "lr_range_test: needs 0 < min_lr < max_lr, got {} and {}", options.min_lr, options.max_lr);
  VIGIL_CHECK(options.steps >= 2, Error, "lr_range_test: steps must be >= 2, got {}", options.steps);
  VIGIL_CHECK(options.divergence_factor > 1, Error, "lr_range_test: divergence_factor must be > 1, got {}",
              options.divergence_factor);
  constexpr double beta = 0.98;
  LrRangeResult result;
  StateSnapshot snapshot(setup.model, setup.optimizer);
  setup.model.train();
  double average = 0, best = INFINITY;
  std::int64_t k = 0;
  bool diverged = false;
  for (std::int64_t epoch = static_cast<std::int64_t>(options.seed); k < options.steps && !diverged; ++epoch) {
    std::int64_t batches = 0;
    for (const data::Batch& batch : setup.train.epoch(epoch)) {
      ++batches;
      const double lr = options.min_lr * std::pow(options.max_lr / options.min_lr,
                                                  static_cast<double>(k) / static_cast<double>(options.steps - 1));
      setup.optimizer.set_lr(lr);
      setup.optimizer.zero_grad();
      const Tensor loss = setup.loss(setup.model(batch.inputs), batch.targets);
      const double value = loss.item();
      result.lrs.push_back(lr);
      result.losses.push_back(value);
      if (!std::isfinite(value)) {
        result.smoothed.push_back(value);
        diverged = true;
        break;
      }
      average = beta * average + (1 - beta) * value;
      const double smoothed = average / (1 - std::pow(beta, static_cast<double>(k + 1)));
      result.smoothed.push_back(smoothed);
      best = std::min(best, smoothed);
      if (smoothed > options.divergence_factor * best) {
        diverged = true;
        break;
      }
      backward(loss);
      setup.optimizer.step();
      if (++k == options.steps) break;
    }
    VIGIL_CHECK(batches > 0, Error, "lr_range_test: the training loader yields no batch");
  }
  const auto finite_end = std::find_if(result.smoothed.begin(), result.smoothed.end(),
                                       [](double s) { return !std::isfinite(s); });
  const auto lowest = std::min_element(result.smoothed.begin(), finite_end);
  const std::size_t at = static_cast<std::size_t>(lowest - result.smoothed.begin());
  // A fall of less than 5% is noise in the moving average (batch to batch), not training.
  if (lowest == finite_end || at == 0 || !(*lowest < 0.95 * result.smoothed.front())) {
    result.reason = fmt::format("the smoothed loss never fell 5% below its first value ({:.4g}) between lr {:.3g} "
                                "and {:.3g}, so no rate in the range trains and there is no suggestion",
                                result.smoothed.empty() ? NAN : result.smoothed.front(), result.lrs.front(),
                                result.lrs.back());
    return result;
  }
  // A minimum in the lowest tenth of the range (log scale) is a loss that drifted down before any rate could train
  // (a plateau, noise): a rate read off it would be an artefact of where the sweep starts.
  const double edge = options.min_lr * std::pow(options.max_lr / options.min_lr, 0.1);
  if (result.lrs[at] < edge) {
    result.reason = fmt::format("the smoothed loss was lowest ({:.4g}) at lr {:.3g}, in the lowest tenth of the range "
                                "(below {:.3g}): no rate in the range trains better than the smallest ones, so there "
                                "is no suggestion",
                                *lowest, result.lrs[at], edge);
    return result;
  }
  result.suggested_lr = result.lrs[at] / 10;
  result.reason = fmt::format("the smoothed loss fell from {:.4g} to its minimum {:.4g} at lr {:.3g}{}; one tenth "
                              "of that rate, where the loss still falls steadily, is suggested",
                              result.smoothed.front(), *lowest, result.lrs[at],
                              diverged ? fmt::format(" and diverged by lr {:.3g}", result.lrs.back()) : "");
  return result;
}

}  // namespace vigil::doctor
