// Learning-rate schedules: the rate an optimiser uses at each step, as a pure function of the step.
//
// A schedule is built with the base rate of the parameter group it drives (`base_lr`; OneCycleLR takes its
// peak `max_lr` instead) and answers rate(step) for step = 0, 1, 2, ...: the number of optimiser steps (or
// epochs, whichever the caller counts) taken so far. Because the rate depends on nothing but the step, a run
// resumed from a checkpoint that stored the step gets exactly the rates it would have had, and rates may be
// asked for in any order. A parameter group with its own base rate builds its own schedule.
//
// Every schedule reproduces torch.optim.lr_scheduler's rate sequence (tests/golden/schedules.json, written by
// tools/golden/schedules.py): rate(k) is the rate torch's optimiser holds after the scheduler's k-th step().
// torch computes most rates recursively from the previous one ("chainable" form); vigil uses the closed
// forms, which equal the recursion in exact arithmetic and agree with it to ~1e-12 relative in doubles.
//
// ReduceOnPlateau depends on the metrics it has seen, so it is not a Schedule: it is a small state machine
// whose State can be saved and restored exactly.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace vigil::optim {

// A learning rate as a function of the step.
//   requires: step >= 0 (throws vigil::Error otherwise)
//   ensures:  rate(step) is the same value however many times and in whatever order it is asked for
class Schedule {
 public:
  virtual ~Schedule() = default;

  double rate(std::int64_t step) const;

  // The base rate given at construction (OneCycleLR: max_lr).
  double base_lr() const { return base_lr_; }
  // The class name, as used in error messages ("CosineAnnealingLR").
  const std::string& name() const { return name_; }

 protected:
  // Throws vigil::Error unless base_lr is finite and >= 0.
  Schedule(std::string name, double base_lr);

 private:
  virtual double rate_at(std::int64_t step) const = 0;  // step already checked to be >= 0

  std::string name_;
  double base_lr_;
};

// torch's ConstantLR: base_lr * factor for steps < total_iters, base_lr from then on. The defaults give a
// plain constant rate (torch's defaults are factor = 1/3, total_iters = 5).
//   requires: 0 <= factor <= 1, total_iters >= 0
class ConstantLR final : public Schedule {
 public:
  explicit ConstantLR(double base_lr, double factor = 1.0, std::int64_t total_iters = 0);

 private:
  double rate_at(std::int64_t step) const override;
  double factor_;
  std::int64_t total_iters_;
};

// base_lr * gamma^floor(step / step_size): decays by gamma every step_size steps.
//   requires: step_size > 0, gamma > 0
class StepLR final : public Schedule {
 public:
  StepLR(double base_lr, std::int64_t step_size, double gamma = 0.1);

 private:
  double rate_at(std::int64_t step) const override;
  std::int64_t step_size_;
  double gamma_;
};

// base_lr * gamma^(number of milestones <= step). A milestone listed twice decays twice, as in torch.
//   requires: milestones non-decreasing and >= 0, gamma > 0
class MultiStepLR final : public Schedule {
 public:
  MultiStepLR(double base_lr, std::vector<std::int64_t> milestones, double gamma = 0.1);

 private:
  double rate_at(std::int64_t step) const override;
  std::vector<std::int64_t> milestones_;
  double gamma_;
};

// base_lr * gamma^step.
//   requires: gamma > 0
class ExponentialLR final : public Schedule {
 public:
  ExponentialLR(double base_lr, double gamma);

 private:
  double rate_at(std::int64_t step) const override;
  double gamma_;
};

// Cosine annealing from base_lr down to eta_min over t_max steps (SGDR without restarts):
//   rate(t) = eta_min + (base_lr - eta_min) * (1 + cos(pi * t / t_max)) / 2
// This is torch's closed form (_get_closed_form_lr). torch's step() uses a recursion,
//   rate(t) = eta_min + (rate(t-1) - eta_min) * (1 + cos(pi t / T)) / (1 + cos(pi (t-1) / T)),
// with an additive special case where the denominator vanishes (t = (2k+1) T + 1); it agrees with the closed
// form to float tolerance for every t. Past t_max neither stops at eta_min: the cosine carries on and the
// rate climbs back towards base_lr, reaching it at t = 2 t_max (use a SequentialSchedule or
// CosineAnnealingWarmRestarts for anything else).
//   requires: t_max > 0, eta_min >= 0
class CosineAnnealingLR final : public Schedule {
 public:
  CosineAnnealingLR(double base_lr, std::int64_t t_max, double eta_min = 0.0);

 private:
  double rate_at(std::int64_t step) const override;
  std::int64_t t_max_;
  double eta_min_;
};

// SGDR: cosine annealing that restarts at base_lr. Cycle i lasts T_i = t_0 * t_mult^i steps; within a cycle,
//   rate = eta_min + (base_lr - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2,   T_cur = steps since the restart.
// The cycle is found with integer arithmetic, matching torch's step-by-step counter exactly (torch's
// step(epoch) form goes through a floating logarithm and can misplace a restart by one step).
//   requires: t_0 > 0, t_mult >= 1, eta_min >= 0
class CosineAnnealingWarmRestarts final : public Schedule {
 public:
  CosineAnnealingWarmRestarts(double base_lr, std::int64_t t_0, std::int64_t t_mult = 1, double eta_min = 0.0);

 private:
  double rate_at(std::int64_t step) const override;
  std::int64_t t_0_;
  std::int64_t t_mult_;
  double eta_min_;
};

// torch's LinearLR, usually a warm-up: the factor moves linearly from start_factor to end_factor over
// total_iters steps and then stays at end_factor:
//   rate(t) = base_lr * (start_factor + (end_factor - start_factor) * min(t, total_iters) / total_iters)
//   requires: 0 < start_factor <= 1, 0 <= end_factor <= 1, total_iters > 0
class LinearWarmup final : public Schedule {
 public:
  LinearWarmup(double base_lr, double start_factor = 1.0 / 3.0, double end_factor = 1.0,
               std::int64_t total_iters = 5);

 private:
  double rate_at(std::int64_t step) const override;
  double start_factor_;
  double end_factor_;
  std::int64_t total_iters_;
};

enum class Anneal { Cos, Linear };

struct OneCycleOptions {
  double pct_start = 0.3;           // share of the steps spent rising to max_lr
  Anneal anneal = Anneal::Cos;      // the shape of every phase
  double div_factor = 25.0;         // initial rate = max_lr / div_factor
  double final_div_factor = 1e4;    // final rate = initial rate / final_div_factor
  bool three_phase = false;         // rise, fall back to the initial rate, then anneal to the final rate
};

// The 1cycle policy (Smith & Topin), as torch's OneCycleLR (rates only; torch also cycles momentum, which is
// the optimiser's business). With p = pct_start * total_steps, phases end at these steps:
//   two-phase:   initial -> max_lr at p - 1;  max_lr -> final at total_steps - 1
//   three-phase: initial -> max_lr at p - 1;  max_lr -> initial at 2p - 2;  initial -> final at total_steps - 1
// Within a phase from step s0 to s1, pct = (t - s0) / (s1 - s0) and
//   cos:    rate = end + (start - end) * (1 + cos(pi * pct)) / 2
//   linear: rate = start + (end - start) * pct
// rate(total_steps) is defined (it extrapolates the last phase by one step, as torch does after its last
// step()); later steps throw vigil::Error.
//   requires: max_lr > 0, total_steps > 0, 0 <= pct_start <= 1, div_factor > 0, final_div_factor > 0, and
//             every phase spans more than zero steps (p > 1; two-phase: pct_start < 1;
//             three-phase: 2p - 2 < total_steps - 1)
class OneCycleLR final : public Schedule {
 public:
  OneCycleLR(double max_lr, std::int64_t total_steps, OneCycleOptions options = {});

  std::int64_t total_steps() const { return total_steps_; }

 private:
  struct Phase {
    double end_step;
    double start_lr;
    double end_lr;
  };
  double rate_at(std::int64_t step) const override;
  std::int64_t total_steps_;
  Anneal anneal_;
  std::vector<Phase> phases_;
};

// torch's SequentialLR: schedules[0] until milestones[0], then schedules[1] restarted at its own step 0, and
// so on. With milestones m_1 < m_2 < ...,
//   rate(t) = schedules[i].rate(t - m_i)   where i = number of milestones <= t  (m_0 = 0)
// e.g. warm-up then cosine: SequentialSchedule({LinearWarmup(lr, 0.01, 1, 10), CosineAnnealingLR(lr, 90)}, {10}).
// Its base_lr is schedules[0]'s.
//   requires: at least one schedule, none null, milestones.size() == schedules.size() - 1, milestones
//             strictly increasing and > 0
class SequentialSchedule final : public Schedule {
 public:
  SequentialSchedule(std::vector<std::shared_ptr<const Schedule>> schedules, std::vector<std::int64_t> milestones);

 private:
  double rate_at(std::int64_t step) const override;
  std::vector<std::shared_ptr<const Schedule>> schedules_;
  std::vector<std::int64_t> milestones_;
};

enum class PlateauMode { Min, Max };     // Min: lower metrics are better (a loss); Max: higher (an accuracy)
enum class ThresholdMode { Rel, Abs };   // how far past the best a metric must be to count as an improvement

struct PlateauOptions {
  PlateauMode mode = PlateauMode::Min;
  double factor = 0.1;            // new rate = rate * factor
  std::int64_t patience = 10;     // steps without improvement tolerated; the next one reduces the rate
  double threshold = 1e-4;
  ThresholdMode threshold_mode = ThresholdMode::Rel;
  std::int64_t cooldown = 0;      // steps after a reduction during which bad steps are not counted
  double min_lr = 0.0;            // the rate never goes below this
  double eps = 1e-8;              // a reduction smaller than this is skipped
};

// torch's ReduceLROnPlateau for one parameter group. A metric improves on the best so far when
//   Min, Rel: metric < best * (1 - threshold)     Max, Rel: metric > best * (1 + threshold)
//   Min, Abs: metric < best - threshold           Max, Abs: metric > best + threshold
// (a NaN metric never improves). After more than `patience` consecutive steps without improvement (not
// counting those in cooldown) the rate becomes max(rate * factor, min_lr), unless that lowers it by no more
// than eps; then cooldown starts and the count restarts.
//   requires: 0 < factor < 1, patience >= 0, threshold >= 0, cooldown >= 0, min_lr >= 0, eps >= 0,
//             base_lr finite and >= 0
class ReduceOnPlateau {
 public:
  // Everything step() reads and writes: save it with a checkpoint and set_state() it to resume exactly.
  struct State {
    double rate = 0.0;
    double best = 0.0;                  // +infinity (Min) or -infinity (Max) until the first metric
    std::int64_t num_bad_epochs = 0;    // consecutive steps without improvement
    std::int64_t cooldown_counter = 0;  // steps of cooldown left
    std::int64_t steps = 0;             // metrics seen so far
  };

  explicit ReduceOnPlateau(double base_lr, PlateauOptions options = {});

  // Feeds one metric (typically once per epoch, after validation) and returns the rate to use from now on.
  double step(double metric);

  double rate() const { return state_.rate; }
  const PlateauOptions& options() const { return options_; }

  const State& state() const { return state_; }
  // Throws vigil::Error if the state is impossible (negative rate or counters, NaN best).
  void set_state(const State& state);

 private:
  bool is_better(double metric) const;

  PlateauOptions options_;
  State state_;
};

}  // namespace vigil::optim
