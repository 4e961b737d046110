#include "vigil/doctor/optimizer_checks.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <optional>
#include <set>

#include "data_sample.hpp"
#include "vigil/optim/adadelta.hpp"
#include "vigil/optim/adagrad.hpp"
#include "vigil/optim/adam.hpp"
#include "vigil/optim/rmsprop.hpp"
#include "vigil/optim/sgd.hpp"

namespace vigil::doctor {

namespace {

std::string num(double v) { return fmt::format("{:.4g}", v); }

double log_excess(double value, double threshold) {
  if (value <= 0.0 || threshold <= 0.0) return 0.0;
  return std::abs(std::log(value / threshold));
}

std::string listing(const std::vector<std::string>& paths) {
  std::vector<std::string> shown(paths.begin(), paths.begin() + std::min<std::size_t>(paths.size(), 6));
  return fmt::format("{}{}", fmt::join(shown, ", "), paths.size() > shown.size() ? ", ..." : "");
}

void check_parameters(const Setup& setup, Report& report) {
  const auto trainable = setup.model.named_trainable_parameters();
  if (trainable.empty()) {
    report.add(Finding{
        .check = "optim.nothing_to_train",
        .severity = Severity::error,
        .cause = Cause::optimisation,
        .where = "model",
        .value = std::nullopt,
        .threshold = std::nullopt,
        .explanation = fmt::format("The model has no trainable parameter ({} parameters, all frozen or none "
                                   "registered), so training cannot change it.",
                                   setup.model.named_parameters().size()),
        .suggestion = "Unfreeze the layers meant to learn (Module::unfreeze), or register the parameters.",
        .excess = 0.0});
    return;
  }
  std::set<const TensorImpl*> in_optimizer;
  for (const optim::NamedParameter& p : setup.optimizer.parameters()) in_optimizer.insert(p.tensor.impl_ptr().get());
  std::vector<std::string> missing;
  for (const auto& [path, t] : trainable)
    if (!in_optimizer.contains(t.impl_ptr().get())) missing.push_back(path);
  std::set<const TensorImpl*> in_model;
  for (const auto& [path, t] : setup.model.named_parameters()) in_model.insert(t.impl_ptr().get());
  std::vector<std::string> unknown;
  for (const optim::NamedParameter& p : setup.optimizer.parameters())
    if (!in_model.contains(p.tensor.impl_ptr().get())) unknown.push_back(p.path);

  if (!missing.empty()) {
    const bool none = missing.size() == trainable.size();
    report.add(Finding{
        .check = "optim.missing_parameters",
        .severity = Severity::error,
        .cause = Cause::optimisation,
        .where = missing.front(),
        .value = static_cast<double>(missing.size()),
        .threshold = 0.0,
        .explanation = fmt::format("{} of the model's {} trainable parameters are not in the optimiser ({}), so "
                                   "they keep their initial values{}.",
                                   missing.size(), trainable.size(), listing(missing),
                                   none ? "; none of them is: the optimiser was built for another model instance"
                                        : ""),
        .suggestion = "Build the optimiser from optim::named_parameters(model) after the model is complete (after "
                      "adding heads or replacing layers).",
        .excess = std::log1p(static_cast<double>(missing.size()))});
  }
  if (!unknown.empty()) {
    report.add(Finding{
        .check = "optim.unknown_parameters",
        .severity = Severity::warning,
        .cause = Cause::optimisation,
        .where = unknown.front(),
        .value = static_cast<double>(unknown.size()),
        .threshold = 0.0,
        .explanation = fmt::format("The optimiser updates {} tensors that are not parameters of this model ({}): "
                                   "it was built for a different model or an earlier copy of its layers.",
                                   unknown.size(), listing(unknown)),
        .suggestion = "Rebuild the optimiser from optim::named_parameters(model) of the model you train.",
        .excess = std::log1p(static_cast<double>(unknown.size()))});
  }
}

std::optional<LrRange> lr_range(const optim::Optimizer& opt, const OptimizerThresholds& th) {
  const std::string& name = opt.name();
  if (name == "Adam" || name == "AdamW") return th.adam;
  if (name == "SGD") return th.sgd;
  if (name == "RMSprop") return th.rmsprop;
  if (name == "Adagrad") return th.adagrad;
  if (name == "Adadelta") return th.adadelta;
  return std::nullopt;
}

void check_learning_rate(const optim::Optimizer& opt, const OptimizerThresholds& th, Report& report) {
  const auto range = lr_range(opt, th);
  for (std::size_t g = 0; g < opt.num_groups(); ++g) {
    const double lr = opt.lr(g);
    const std::string where = opt.num_groups() > 1 ? fmt::format("{} group {}", opt.name(), g) : opt.name();
    if (lr == 0.0) {
      report.add(Finding{
          .check = "optim.learning_rate",
          .severity = Severity::error,
          .cause = Cause::optimisation,
          .where = where,
          .value = lr,
          .threshold = range ? range->lo : 0.0,
          .explanation = "The learning rate is 0, so no step changes the parameters.",
          .suggestion = "Set a learning rate (Adam: 1e-3; SGD: 1e-2 to 1e-1), or check the schedule's start value.",
          .excess = 10.0});
      continue;
    }
    if (!range || (lr >= range->lo && lr <= range->hi)) continue;
    const bool high = lr > range->hi;
    const double bound = high ? range->hi : range->lo;
    report.add(Finding{
        .check = "optim.learning_rate",
        .severity = Severity::warning,
        .cause = Cause::optimisation,
        .where = where,
        .value = lr,
        .threshold = bound,
        .explanation = fmt::format("{}'s learning rate {} is {} its usual range [{}, {}]: {}.", opt.name(), num(lr),
                                   high ? "above" : "below", num(range->lo), num(range->hi),
                                   high ? "the loss will likely oscillate or diverge"
                                        : "the parameters will barely move in a normal training budget"),
        .suggestion = "Run a learning-rate range test (grow lr from 1e-7 until the loss blows up; take ~1/10 of that), "
                      "or start from the optimiser's default.",
        .excess = log_excess(lr, bound)});
  }
}

void check_hyper_parameters(const optim::Optimizer& opt, const OptimizerThresholds& th, Report& report) {
  std::optional<double> momentum, beta2, eps;
  if (const auto* sgd = dynamic_cast<const optim::SGD*>(&opt)) momentum = sgd->options().momentum;
  if (const auto* rms = dynamic_cast<const optim::RMSprop*>(&opt)) {
    momentum = rms->options().momentum;
    eps = rms->options().eps;
  }
  if (const auto* adam = dynamic_cast<const optim::Adam*>(&opt)) {
    beta2 = adam->options().beta2;
    eps = adam->options().eps;
  }
  if (const auto* ada = dynamic_cast<const optim::Adagrad*>(&opt)) eps = ada->options().eps;
  if (momentum && *momentum >= th.max_momentum) {
    report.add(Finding{
        .check = "optim.momentum",
        .severity = *momentum >= 1.0 ? Severity::error : Severity::warning,
        .cause = Cause::optimisation,
        .where = opt.name(),
        .value = *momentum,
        .threshold = th.max_momentum,
        .explanation = fmt::format("Momentum {} keeps {:.2f}% of the velocity each step: old gradients never fade, "
                                   "so the parameters overshoot and {}.",
                                   num(*momentum), 100.0 * std::min(1.0, *momentum),
                                   *momentum >= 1.0 ? "the velocity grows without bound" : "oscillate for a long time"),
        .suggestion = "Use momentum 0.9 (or up to 0.99 with a smaller learning rate).",
        .excess = log_excess(1.0 - std::min(*momentum, 1.0 - 1e-12), 1.0 - th.max_momentum)});
  }
  if (beta2 && *beta2 < th.min_beta2) {
    report.add(Finding{
        .check = "optim.betas",
        .severity = Severity::warning,
        .cause = Cause::optimisation,
        .where = opt.name(),
        .value = *beta2,
        .threshold = th.min_beta2,
        .explanation = fmt::format("beta2 {} averages squared gradients over only ~{:.0f} steps, so the per-weight "
                                   "step size jumps with every noisy batch.",
                                   num(*beta2), 1.0 / (1.0 - *beta2)),
        .suggestion = "Use beta2 = 0.999 (or 0.98-0.99 for long transformer runs).",
        .excess = log_excess(1.0 - *beta2, 1.0 - th.min_beta2)});
  }
  if (eps && *eps > th.max_eps) {
    report.add(Finding{
        .check = "optim.eps",
        .severity = Severity::warning,
        .cause = Cause::optimisation,
        .where = opt.name(),
        .value = *eps,
        .threshold = th.max_eps,
        .explanation = fmt::format("eps {} is larger than typical root-mean-square gradients, so the update becomes "
                                   "lr * g / eps: the adaptive scaling is lost and steps shrink.",
                                   num(*eps)),
        .suggestion = "Use eps = 1e-8 (Adam) unless a larger value is a deliberate choice.",
        .excess = log_excess(*eps, th.max_eps)});
  }
}

void check_weight_decay(const optim::Optimizer& opt, const OptimizerThresholds& th, Report& report) {
  const bool decoupled = opt.weight_decay_kind() == optim::WeightDecay::Decoupled;
  for (std::size_t g = 0; g < opt.num_groups(); ++g) {
    const double wd = opt.weight_decay(g), lr = opt.lr(g);
    const std::string where = opt.num_groups() > 1 ? fmt::format("{} group {}", opt.name(), g) : opt.name();
    const bool flips = decoupled && lr * wd >= 1.0;
    if (!flips && wd <= th.max_weight_decay) continue;
    report.add(Finding{
        .check = "optim.weight_decay",
        .severity = flips ? Severity::error : Severity::warning,
        .cause = Cause::optimisation,
        .where = where,
        .value = wd,
        .threshold = th.max_weight_decay,
        .explanation = flips ? fmt::format("Decoupled weight decay multiplies every weight by 1 - lr * wd = {} each "
                                           "step, which zeroes or flips it.",
                                           num(1.0 - lr * wd))
                             : fmt::format("Weight decay {} ({}) pulls weights to 0 harder than most data terms "
                                           "push them away: the model will underfit.",
                                           num(wd), optim::weight_decay_name(opt.weight_decay_kind())),
        .suggestion = decoupled ? "Use weight decay 1e-2 to 1e-1 with AdamW-style decoupled decay."
                                : "Use weight decay 1e-5 to 1e-3 (L2 coupled to the gradient).",
        .excess = log_excess(wd, th.max_weight_decay)});
  }
}

// A summed loss doubles when the batch is repeated; a mean does not. Only SGD's step scales with the loss:
// Adam, RMSprop, Adagrad and Adadelta divide the gradient by its own magnitude.
void check_summed_loss(const Setup& setup, const Options& options, const OptimizerThresholds& th, Report& report) {
  if (setup.optimizer.name() != "SGD") return;
  const detail::DataSample sample = detail::read_sample(setup.train, std::min<std::int64_t>(options.max_batches, 2));
  if (sample.rows == 0) return;
  double single = NAN, twice = NAN;
  try {
    const data::Batch probe = detail::probe_batch(sample);
    const Tensor outputs = detail::eval_forward(setup.model, probe.inputs);
    NoGradGuard no_grad;
    single = detail::loss_value(setup.loss, outputs, probe.targets);
    twice = detail::loss_value(setup.loss, cat({outputs, outputs}, 0), cat({probe.targets, probe.targets}, 0));
  } catch (const std::exception&) {
    return;  // the model cannot run a training batch: the probes report that
  }
  if (!std::isfinite(single) || !std::isfinite(twice) || std::abs(single) < 1e-12) return;
  const double ratio = twice / single;
  if (std::abs(ratio - 2.0) > 0.01) return;
  const std::int64_t batch = setup.train.options().batch_size;
  const double lr = setup.optimizer.lr();
  const double step = lr * static_cast<double>(batch);
  if (step <= th.max_summed_step) return;
  report.add(Finding{
      .check = "optim.summed_loss",
      // An error: a mean-loss rate above max_summed_step (1 by default) diverges on nearly any network, and the
      // loss curve's divergence, spikes and growing weights are this finding's consequences.
      .severity = Severity::error,
      .cause = Cause::optimisation,
      .where = "loss",
      .value = step,
      .threshold = th.max_summed_step,
      .explanation = fmt::format("The loss sums over the batch (repeating the batch doubles it: {} -> {}), so "
                                 "SGD's step is {} times that of a mean loss; with lr {} the effective mean-loss "
                                 "learning rate is {}.",
                                 num(single), num(twice), batch, num(lr), num(step)),
      .suggestion = fmt::format("Use Reduction::Mean, or divide the learning rate by the batch size (lr {}).",
                                num(lr / static_cast<double>(batch))),
      .excess = log_excess(step, th.max_summed_step)});
}

}  // namespace

void check_optimizer(const Setup& setup, [[maybe_unused]] const Task& task, const Options& options, Report& report,
                     const OptimizerThresholds& thresholds) {
  check_parameters(setup, report);
  check_learning_rate(setup.optimizer, thresholds, report);
  check_hyper_parameters(setup.optimizer, thresholds, report);
  check_weight_decay(setup.optimizer, thresholds, report);
  check_summed_loss(setup, options, thresholds, report);
}

}  // namespace vigil::doctor
