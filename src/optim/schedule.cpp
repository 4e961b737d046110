// Learning-rate schedules in closed form, and the plateau state machine. The formulas and the torch classes
// they reproduce are in include/vigil/optim/schedule.hpp.
#include <vigil/optim/schedule.hpp>
#include <vigil/tensor/error.hpp>

#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <utility>

namespace vigil::optim {
namespace {

// eta_min + (top - eta_min) * (1 + cos(pi * t / period)) / 2: the cosine half-wave of SGDR.
double cosine_between(double top, double eta_min, double t, double period) {
  return eta_min + (top - eta_min) * (1.0 + std::cos(std::numbers::pi * t / period)) / 2.0;
}

// Validates SequentialSchedule's arguments before its Schedule base is built from schedules[0].
double checked_first_base_lr(const std::vector<std::shared_ptr<const Schedule>>& schedules,
                             const std::vector<std::int64_t>& milestones) {
  VIGIL_CHECK(!schedules.empty(), Error, "SequentialSchedule: needs at least one schedule");
  for (std::size_t i = 0; i < schedules.size(); ++i) {
    VIGIL_CHECK(schedules[i] != nullptr, Error, "SequentialSchedule: schedule {} is null", i);
  }
  VIGIL_CHECK(milestones.size() + 1 == schedules.size(), Error,
              "SequentialSchedule: {} schedules need {} milestones, got {} ([{}])", schedules.size(),
              schedules.size() - 1, milestones.size(), fmt::join(milestones, ", "));
  for (std::size_t i = 0; i < milestones.size(); ++i) {
    const std::int64_t previous = i == 0 ? 0 : milestones[i - 1];
    VIGIL_CHECK(milestones[i] > previous, Error,
                "SequentialSchedule: milestones must be strictly increasing and > 0, got [{}]",
                fmt::join(milestones, ", "));
  }
  return schedules.front()->base_lr();
}

}  // namespace

Schedule::Schedule(std::string name, double base_lr) : name_(std::move(name)), base_lr_(base_lr) {
  VIGIL_CHECK(std::isfinite(base_lr) && base_lr >= 0.0, Error, "{}: base_lr must be finite and >= 0, got {}", name_,
              base_lr);
}

double Schedule::rate(std::int64_t step) const {
  VIGIL_CHECK(step >= 0, Error, "{}: step must be >= 0, got {}", name_, step);
  return rate_at(step);
}

ConstantLR::ConstantLR(double base_lr, double factor, std::int64_t total_iters)
    : Schedule("ConstantLR", base_lr), factor_(factor), total_iters_(total_iters) {
  VIGIL_CHECK(factor >= 0.0 && factor <= 1.0, Error, "ConstantLR: factor must be in [0, 1], got {}", factor);
  VIGIL_CHECK(total_iters >= 0, Error, "ConstantLR: total_iters must be >= 0, got {}", total_iters);
}

double ConstantLR::rate_at(std::int64_t step) const { return step < total_iters_ ? base_lr() * factor_ : base_lr(); }

StepLR::StepLR(double base_lr, std::int64_t step_size, double gamma)
    : Schedule("StepLR", base_lr), step_size_(step_size), gamma_(gamma) {
  VIGIL_CHECK(step_size > 0, Error, "StepLR: step_size must be > 0, got {}", step_size);
  VIGIL_CHECK(std::isfinite(gamma) && gamma > 0.0, Error, "StepLR: gamma must be finite and > 0, got {}", gamma);
}

double StepLR::rate_at(std::int64_t step) const {
  return base_lr() * std::pow(gamma_, static_cast<double>(step / step_size_));
}

MultiStepLR::MultiStepLR(double base_lr, std::vector<std::int64_t> milestones, double gamma)
    : Schedule("MultiStepLR", base_lr), milestones_(std::move(milestones)), gamma_(gamma) {
  VIGIL_CHECK(std::is_sorted(milestones_.begin(), milestones_.end()), Error,
              "MultiStepLR: milestones must be non-decreasing, got [{}]", fmt::join(milestones_, ", "));
  VIGIL_CHECK(milestones_.empty() || milestones_.front() >= 0, Error,
              "MultiStepLR: milestones must be >= 0, got [{}]", fmt::join(milestones_, ", "));
  VIGIL_CHECK(std::isfinite(gamma) && gamma > 0.0, Error, "MultiStepLR: gamma must be finite and > 0, got {}", gamma);
}

double MultiStepLR::rate_at(std::int64_t step) const {
  const auto passed = std::upper_bound(milestones_.begin(), milestones_.end(), step) - milestones_.begin();
  return base_lr() * std::pow(gamma_, static_cast<double>(passed));
}

ExponentialLR::ExponentialLR(double base_lr, double gamma) : Schedule("ExponentialLR", base_lr), gamma_(gamma) {
  VIGIL_CHECK(std::isfinite(gamma) && gamma > 0.0, Error, "ExponentialLR: gamma must be finite and > 0, got {}",
              gamma);
}

double ExponentialLR::rate_at(std::int64_t step) const {
  return base_lr() * std::pow(gamma_, static_cast<double>(step));
}

CosineAnnealingLR::CosineAnnealingLR(double base_lr, std::int64_t t_max, double eta_min)
    : Schedule("CosineAnnealingLR", base_lr), t_max_(t_max), eta_min_(eta_min) {
  VIGIL_CHECK(t_max > 0, Error, "CosineAnnealingLR: t_max must be > 0, got {}", t_max);
  VIGIL_CHECK(std::isfinite(eta_min) && eta_min >= 0.0, Error,
              "CosineAnnealingLR: eta_min must be finite and >= 0, got {}", eta_min);
}

double CosineAnnealingLR::rate_at(std::int64_t step) const {
  return cosine_between(base_lr(), eta_min_, static_cast<double>(step), static_cast<double>(t_max_));
}

CosineAnnealingWarmRestarts::CosineAnnealingWarmRestarts(double base_lr, std::int64_t t_0, std::int64_t t_mult,
                                                         double eta_min)
    : Schedule("CosineAnnealingWarmRestarts", base_lr), t_0_(t_0), t_mult_(t_mult), eta_min_(eta_min) {
  VIGIL_CHECK(t_0 > 0, Error, "CosineAnnealingWarmRestarts: t_0 must be > 0, got {}", t_0);
  VIGIL_CHECK(t_mult >= 1, Error, "CosineAnnealingWarmRestarts: t_mult must be >= 1, got {}", t_mult);
  VIGIL_CHECK(std::isfinite(eta_min) && eta_min >= 0.0, Error,
              "CosineAnnealingWarmRestarts: eta_min must be finite and >= 0, got {}", eta_min);
}

double CosineAnnealingWarmRestarts::rate_at(std::int64_t step) const {
  if (t_mult_ == 1) {
    return cosine_between(base_lr(), eta_min_, static_cast<double>(step % t_0_), static_cast<double>(t_0_));
  }
  // Walk the cycles t_0, t_0 t_mult, t_0 t_mult^2, ...: at most 63 of them fit in an int64 step.
  std::int64_t t_cur = step;
  std::int64_t t_i = t_0_;
  while (t_cur >= t_i) {
    t_cur -= t_i;
    if (t_i > std::numeric_limits<std::int64_t>::max() / t_mult_) {
      // The next cycle is longer than any int64 step can reach, so t_cur lies inside it.
      return cosine_between(base_lr(), eta_min_, static_cast<double>(t_cur),
                            static_cast<double>(t_i) * static_cast<double>(t_mult_));
    }
    t_i *= t_mult_;
  }
  return cosine_between(base_lr(), eta_min_, static_cast<double>(t_cur), static_cast<double>(t_i));
}

LinearWarmup::LinearWarmup(double base_lr, double start_factor, double end_factor, std::int64_t total_iters)
    : Schedule("LinearWarmup", base_lr),
      start_factor_(start_factor),
      end_factor_(end_factor),
      total_iters_(total_iters) {
  VIGIL_CHECK(start_factor > 0.0 && start_factor <= 1.0, Error,
              "LinearWarmup: start_factor must be in (0, 1], got {}", start_factor);
  VIGIL_CHECK(end_factor >= 0.0 && end_factor <= 1.0, Error, "LinearWarmup: end_factor must be in [0, 1], got {}",
              end_factor);
  VIGIL_CHECK(total_iters > 0, Error, "LinearWarmup: total_iters must be > 0, got {}", total_iters);
}

double LinearWarmup::rate_at(std::int64_t step) const {
  const double done = static_cast<double>(std::min(step, total_iters_)) / static_cast<double>(total_iters_);
  return base_lr() * (start_factor_ + (end_factor_ - start_factor_) * done);
}

OneCycleLR::OneCycleLR(double max_lr, std::int64_t total_steps, OneCycleOptions options)
    : Schedule("OneCycleLR", max_lr), total_steps_(total_steps), anneal_(options.anneal) {
  const double pct_start = options.pct_start;
  VIGIL_CHECK(max_lr > 0.0, Error, "OneCycleLR: max_lr must be > 0, got {}", max_lr);
  VIGIL_CHECK(total_steps > 0, Error, "OneCycleLR: total_steps must be > 0, got {}", total_steps);
  VIGIL_CHECK(pct_start >= 0.0 && pct_start <= 1.0, Error, "OneCycleLR: pct_start must be in [0, 1], got {}",
              pct_start);
  VIGIL_CHECK(std::isfinite(options.div_factor) && options.div_factor > 0.0, Error,
              "OneCycleLR: div_factor must be finite and > 0, got {}", options.div_factor);
  VIGIL_CHECK(std::isfinite(options.final_div_factor) && options.final_div_factor > 0.0, Error,
              "OneCycleLR: final_div_factor must be finite and > 0, got {}", options.final_div_factor);

  const double initial_lr = max_lr / options.div_factor;
  const double final_lr = initial_lr / options.final_div_factor;
  const double rise_end = pct_start * static_cast<double>(total_steps) - 1.0;
  const double last = static_cast<double>(total_steps - 1);
  if (options.three_phase) {
    phases_ = {{rise_end, initial_lr, max_lr}, {2.0 * rise_end, max_lr, initial_lr}, {last, initial_lr, final_lr}};
  } else {
    phases_ = {{rise_end, initial_lr, max_lr}, {last, max_lr, final_lr}};
  }
  // torch divides by each phase's length; an empty or reversed phase gives 0/0 or a rate outside the cycle.
  double start = 0.0;
  for (std::size_t i = 0; i < phases_.size(); ++i) {
    VIGIL_CHECK(phases_[i].end_step > start, Error,
                "OneCycleLR: phase {} of {} would span no steps (it ends at step {} and starts at step {}); with "
                "total_steps={} and pct_start={} raise total_steps or move pct_start",
                i + 1, phases_.size(), phases_[i].end_step, start, total_steps, pct_start);
    start = phases_[i].end_step;
  }
}

double OneCycleLR::rate_at(std::int64_t step) const {
  VIGIL_CHECK(step <= total_steps_, Error, "OneCycleLR: step {} is past the end of the cycle (total_steps={})", step,
              total_steps_);
  // The phase holding t: the first whose end is >= t, or the last one (which rate(total_steps) extrapolates).
  const double t = static_cast<double>(step);
  std::size_t i = 0;
  double start_step = 0.0;
  while (i + 1 < phases_.size() && t > phases_[i].end_step) {
    start_step = phases_[i].end_step;
    ++i;
  }
  const Phase& phase = phases_[i];
  const double pct = (t - start_step) / (phase.end_step - start_step);
  if (anneal_ == Anneal::Cos) {
    return phase.end_lr + (phase.start_lr - phase.end_lr) / 2.0 * (std::cos(std::numbers::pi * pct) + 1.0);
  }
  return (phase.end_lr - phase.start_lr) * pct + phase.start_lr;
}

SequentialSchedule::SequentialSchedule(std::vector<std::shared_ptr<const Schedule>> schedules,
                                       std::vector<std::int64_t> milestones)
    : Schedule("SequentialSchedule", checked_first_base_lr(schedules, milestones)),
      schedules_(std::move(schedules)),
      milestones_(std::move(milestones)) {}

double SequentialSchedule::rate_at(std::int64_t step) const {
  const auto i = static_cast<std::size_t>(std::upper_bound(milestones_.begin(), milestones_.end(), step) -
                                          milestones_.begin());
  const std::int64_t start = i == 0 ? 0 : milestones_[i - 1];
  return schedules_[i]->rate(step - start);
}

ReduceOnPlateau::ReduceOnPlateau(double base_lr, PlateauOptions options) : options_(options) {
  VIGIL_CHECK(std::isfinite(base_lr) && base_lr >= 0.0, Error,
              "ReduceOnPlateau: base_lr must be finite and >= 0, got {}", base_lr);
  VIGIL_CHECK(options.factor > 0.0 && options.factor < 1.0, Error,
              "ReduceOnPlateau: factor must be in (0, 1) so that the rate goes down, got {}", options.factor);
  VIGIL_CHECK(options.patience >= 0, Error, "ReduceOnPlateau: patience must be >= 0, got {}", options.patience);
  VIGIL_CHECK(std::isfinite(options.threshold) && options.threshold >= 0.0, Error,
              "ReduceOnPlateau: threshold must be finite and >= 0, got {}", options.threshold);
  VIGIL_CHECK(options.cooldown >= 0, Error, "ReduceOnPlateau: cooldown must be >= 0, got {}", options.cooldown);
  VIGIL_CHECK(std::isfinite(options.min_lr) && options.min_lr >= 0.0, Error,
              "ReduceOnPlateau: min_lr must be finite and >= 0, got {}", options.min_lr);
  VIGIL_CHECK(std::isfinite(options.eps) && options.eps >= 0.0, Error,
              "ReduceOnPlateau: eps must be finite and >= 0, got {}", options.eps);
  state_.rate = base_lr;
  state_.best = options.mode == PlateauMode::Min ? std::numeric_limits<double>::infinity()
                                                 : -std::numeric_limits<double>::infinity();
}

bool ReduceOnPlateau::is_better(double metric) const {
  const double best = state_.best;
  const double threshold = options_.threshold;
  if (options_.mode == PlateauMode::Min) {
    return options_.threshold_mode == ThresholdMode::Rel ? metric < best * (1.0 - threshold)
                                                         : metric < best - threshold;
  }
  return options_.threshold_mode == ThresholdMode::Rel ? metric > best * (1.0 + threshold) : metric > best + threshold;
}

double ReduceOnPlateau::step(double metric) {
  ++state_.steps;
  if (is_better(metric)) {
    state_.best = metric;
    state_.num_bad_epochs = 0;
  } else {
    ++state_.num_bad_epochs;
  }
  if (state_.cooldown_counter > 0) {
    --state_.cooldown_counter;
    state_.num_bad_epochs = 0;  // bad steps during cooldown do not count
  }
  if (state_.num_bad_epochs > options_.patience) {
    const double reduced = std::max(state_.rate * options_.factor, options_.min_lr);
    if (state_.rate - reduced > options_.eps) state_.rate = reduced;
    state_.cooldown_counter = options_.cooldown;
    state_.num_bad_epochs = 0;
  }
  return state_.rate;
}

void ReduceOnPlateau::set_state(const State& state) {
  VIGIL_CHECK(std::isfinite(state.rate) && state.rate >= 0.0, Error,
              "ReduceOnPlateau: state rate must be finite and >= 0, got {}", state.rate);
  VIGIL_CHECK(!std::isnan(state.best), Error, "ReduceOnPlateau: state best must not be NaN");
  VIGIL_CHECK(state.num_bad_epochs >= 0 && state.cooldown_counter >= 0 && state.steps >= 0, Error,
              "ReduceOnPlateau: state counters must be >= 0, got num_bad_epochs={}, cooldown_counter={}, steps={}",
              state.num_bad_epochs, state.cooldown_counter, state.steps);
  state_ = state;
}

}  // namespace vigil::optim
