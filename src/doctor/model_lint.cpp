#include "vigil/doctor/model_lint.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <optional>
#include <set>

#include "data_sample.hpp"
#include "vigil/nn/activation.hpp"
#include "vigil/nn/dropout.hpp"
#include "vigil/nn/loss.hpp"
#include "vigil/nn/sequential.hpp"
#include "vigil/nn/spatial_dropout.hpp"

namespace vigil::doctor {

namespace {

std::string num(double v) { return fmt::format("{:.4g}", v); }

// Layers that compute an affine map of their input: two in a row collapse into one.
bool is_affine(const std::string& type) {
  static const std::set<std::string> affine = {"Linear", "Conv1d", "Conv2d", "ConvTranspose2d", "DropConnect"};
  return affine.contains(type);
}

// Layers that are linear (or the identity) at inference and add no nonlinearity between two affine layers.
// BatchNorm counts here: in eval mode it is affine, and in training it only rescales.
bool is_linear_passthrough(const std::string& type) {
  static const std::set<std::string> linear = {
      "Dropout",   "GaussianDropout", "AlphaDropout",      "Dropout2d", "DropBlock", "Identity",      "Flatten",
      "BatchNorm", "BatchNorm1d",     "BatchNorm2d",       "AvgPool2d", "GlobalAvgPool2d", "AdaptiveAvgPool2d",
      "Upsample"};
  return linear.contains(type);
}

// The layers of a Sequential in forward order, nested Sequentials expanded in place.
void expand(const nn::Sequential& seq, const std::string& prefix, std::vector<std::pair<std::string, const nn::Module*>>& out,
            std::set<const nn::Module*>& expanded) {
  expanded.insert(&seq);
  for (const auto& [name, child] : seq.named_children()) {
    const std::string path = prefix.empty() ? name : prefix + "." + name;
    if (const auto* inner = dynamic_cast<const nn::Sequential*>(child.get())) expand(*inner, path, out, expanded);
    else out.emplace_back(path, child.get());
  }
}

void check_missing_nonlinearity(const nn::Module& model, Report& report) {
  std::set<const nn::Module*> expanded;
  for (const auto& [path, module] : model.named_modules()) {
    const auto* seq = dynamic_cast<const nn::Sequential*>(module);
    if (!seq || expanded.contains(seq)) continue;
    std::vector<std::pair<std::string, const nn::Module*>> layers;
    expand(*seq, path, layers, expanded);
    std::optional<std::size_t> last_affine;
    for (std::size_t i = 0; i < layers.size(); ++i) {
      const std::string type = layers[i].second->type_name();
      if (is_affine(type)) {
        if (last_affine) {
          std::vector<std::string> between;
          for (std::size_t k = *last_affine + 1; k < i; ++k) between.push_back(layers[k].second->type_name());
          const auto& [first_path, first] = layers[*last_affine];
          report.add(Finding{
              .check = "model.missing_nonlinearity",
              .severity = Severity::warning,
              .cause = Cause::model,
              .where = fmt::format("{} -> {}", first_path, layers[i].first),
              .value = std::nullopt,
              .threshold = std::nullopt,
              .explanation = fmt::format(
                  "{} ({}) feeds {} ({}) with {} in between: two affine maps in a row are one affine map, so the "
                  "extra layer adds parameters but no expressive power.",
                  first_path, first->type_name(), layers[i].first, type,
                  between.empty() ? "nothing" : fmt::format("only {}", fmt::join(between, ", "))),
              .suggestion = "Insert a nonlinearity (ReLU, GELU) between them, or drop one of the two layers.",
              .excess = 0.0});
        }
        last_affine = i;
      } else if (!is_linear_passthrough(type)) {
        last_affine.reset();
      }
    }
  }
}

void check_dropout(nn::Module& model, const ModelThresholds& th, Report& report) {
  for (const auto& [path, module] : model.named_modules()) {
    std::optional<double> p;
    if (const auto* d = dynamic_cast<const nn::Dropout*>(module)) p = d->p();
    if (const auto* g = dynamic_cast<const nn::GaussianDropout*>(module)) p = g->p();
    if (const auto* a = dynamic_cast<const nn::AlphaDropout*>(module)) p = a->p();
    if (const auto* c = dynamic_cast<const nn::DropConnect*>(module)) p = c->p();
    if (const auto* d2 = dynamic_cast<const nn::Dropout2d*>(module)) p = d2->p();
    if (const auto* b = dynamic_cast<const nn::DropBlock*>(module)) p = b->p();
    if (!p || *p <= th.max_dropout) continue;
    report.add(Finding{
        .check = "model.heavy_dropout",
        .severity = Severity::warning,
        .cause = Cause::capacity,
        .where = path.empty() ? module->type_name() : path,
        .value = *p,
        .threshold = th.max_dropout,
        .explanation = fmt::format("{} at {} drops {:.0f}% of its inputs in training, so most of the signal (and "
                                   "gradient) is noise; the model will underfit and train slowly.",
                                   module->type_name(), path.empty() ? "the model" : path, 100.0 * *p),
        .suggestion = fmt::format("Use p between 0.1 and 0.5 (is {} meant as the keep probability? vigil's p is the "
                                  "drop probability).", num(*p)),
        .excess = std::log(*p / th.max_dropout)});
  }
}

// The last leaf module a forward pass ran, when its output is the model's output: found with forward hooks.
struct LastLayer {
  std::string path;
  const nn::Module* module = nullptr;
};

struct Forward {
  Tensor outputs;
  std::optional<LastLayer> last;
};

Forward traced_forward(nn::Module& model, const Tensor& inputs) {
  std::vector<nn::HookHandle> handles;
  std::vector<std::pair<LastLayer, const TensorImpl*>> calls;
  for (auto& [path, module] : model.named_modules()) {
    if (!module->named_children().empty()) continue;
    const std::string p = path;
    handles.push_back(module->register_forward_hook([&calls, p](const nn::Module& m, const Tensor&, const Tensor& y) {
      calls.emplace_back(LastLayer{p, &m}, y.impl_ptr().get());
    }));
  }
  Forward result;
  try {
    result.outputs = detail::eval_forward(model, inputs);
  } catch (...) {
    for (auto& h : handles) h.remove();
    throw;
  }
  for (auto& h : handles) h.remove();
  if (!calls.empty() && calls.back().second == result.outputs.impl_ptr().get()) result.last = calls.back().first;
  return result;
}

// Rows of a [N, C] output: probabilities (in [0, 1], summing to 1) or log-probabilities (logsumexp 0).
bool rows_are(const Tensor& outputs, bool log_space) {
  if (outputs.dim() != 2 || outputs.size(1) < 2) return false;
  const std::vector<double> v = detail::values(outputs);
  const std::int64_t n = outputs.size(0), c = outputs.size(1);
  for (std::int64_t r = 0; r < n; ++r) {
    double total = 0.0;
    for (std::int64_t k = 0; k < c; ++k) {
      const double x = v[r * c + k];
      if (log_space ? x > 1e-6 : (x < -1e-6 || x > 1.0 + 1e-6)) return false;
      total += log_space ? std::exp(x) : x;
    }
    if (std::abs(total - 1.0) > 1e-4) return false;
  }
  return true;
}

// setup.loss behaves like `reference` on these outputs and on the outputs shifted by 1 (cross-entropy is
// invariant to the shift, nll_loss is not: the two are told apart even on log-probabilities).
bool behaves_like(const train::LossFunction& loss, const train::LossFunction& reference, const Tensor& outputs,
                  const Tensor& targets) {
  NoGradGuard no_grad;
  const Tensor shifted = add(outputs, 1.0);
  return detail::same_value(detail::loss_value(loss, outputs, targets),
                            detail::loss_value(reference, outputs, targets)) &&
         detail::same_value(detail::loss_value(loss, shifted, targets),
                            detail::loss_value(reference, shifted, targets));
}

void check_classification_output(const Setup& setup, const Forward& fwd, const Tensor& targets, Report& report) {
  const Tensor& out = fwd.outputs;
  const std::string type = fwd.last ? fwd.last->module->type_name() : "";
  const std::string where = fwd.last ? (fwd.last->path.empty() ? type : fwd.last->path) : "model output";
  const bool integer_targets = targets.dtype() == DType::Int64 || targets.dtype() == DType::Int32;
  const bool like_ce = behaves_like(
      setup.loss, [](const Tensor& y, const Tensor& t) { return nn::cross_entropy(y, t); }, out, targets);
  const bool like_nll =
      integer_targets &&
      behaves_like(setup.loss, [](const Tensor& y, const Tensor& t) { return nn::nll_loss(y, t); }, out, targets);
  const bool softmax = type == "Softmax" || rows_are(out, false);
  const bool log_softmax = type == "LogSoftmax" || rows_are(out, true);

  if (like_ce && softmax) {
    report.add(Finding{
        .check = "model.softmax_into_cross_entropy",
        .severity = Severity::warning,
        .cause = Cause::model,
        .where = where,
        .value = std::nullopt,
        .threshold = std::nullopt,
        .explanation = "The model outputs probabilities (a softmax) and the loss is cross-entropy, which applies "
                       "log-softmax again: logits squeezed into [0, 1] make every class nearly equally likely and "
                       "the gradients vanish.",
        .suggestion = "Remove the final Softmax and feed logits to cross_entropy (apply softmax only for predictions).",
        .excess = 0.0});
  } else if (like_ce && log_softmax) {
    report.add(Finding{
        .check = "model.log_softmax_into_cross_entropy",
        .severity = Severity::info,
        .cause = Cause::model,
        .where = where,
        .value = std::nullopt,
        .threshold = std::nullopt,
        .explanation = "The model outputs log-probabilities (a log-softmax) and the loss is cross-entropy, which "
                       "applies log-softmax again; harmless (log-softmax is idempotent) but redundant.",
        .suggestion = "Drop the final LogSoftmax, or keep it and use nll_loss.",
        .excess = 0.0});
  } else if (like_nll && !log_softmax) {
    report.add(Finding{
        .check = "model.nll_without_log_softmax",
        .severity = Severity::warning,
        .cause = Cause::model,
        .where = where,
        .value = std::nullopt,
        .threshold = std::nullopt,
        .explanation = fmt::format("The loss is nll_loss but the model's outputs are not log-probabilities{}: "
                                   "nll_loss then just pushes one raw output up without bound.",
                                   type.empty() ? "" : fmt::format(" (last layer {})", type)),
        .suggestion = "Use cross_entropy on the logits (or add a LogSoftmax before nll_loss).",
        .excess = 0.0});
  } else if (like_ce && fwd.last) {
    static const std::set<std::string> squashing = {"ReLU", "Sigmoid", "Tanh", "Softplus", "Hardtanh", "ReLU6",
                                                     "ELU", "SELU", "CELU", "Softsign", "LeakyReLU"};
    if (squashing.contains(type)) {
      report.add(Finding{
          .check = "model.activation_on_logits",
          .severity = Severity::warning,
          .cause = Cause::model,
          .where = where,
          .value = std::nullopt,
          .threshold = std::nullopt,
          .explanation = fmt::format("The last layer is {} and its output goes into cross-entropy as logits: the "
                                     "activation limits the logits ({}), so some classes can never be predicted "
                                     "confidently and gradients die where it saturates.",
                                     type, type == "ReLU" ? "negatives become 0" : "to a bounded range"),
          .suggestion = fmt::format("Remove the final {}: cross_entropy expects raw, unbounded logits.", type),
          .excess = 0.0});
    }
  }
}

// The range a last layer of this type can produce, if bounded.
std::optional<std::pair<double, double>> output_range(const nn::Module& m) {
  const std::string type = m.type_name();
  if (type == "Sigmoid") return std::pair{0.0, 1.0};
  if (type == "Tanh" || type == "Softsign") return std::pair{-1.0, 1.0};
  if (type == "ReLU" || type == "Softplus") return std::pair{0.0, INFINITY};
  if (const auto* h = dynamic_cast<const nn::Hardtanh*>(&m)) return std::pair{h->min_val(), h->max_val()};
  return std::nullopt;
}

void check_output_range(const Forward& fwd, const detail::DataSample& s, const ModelThresholds& th, Report& report) {
  if (!fwd.last) return;
  const auto range = output_range(*fwd.last->module);
  if (!range || s.targets.empty()) return;
  const auto [lo, hi] = *range;
  std::int64_t outside = 0;
  double tmin = INFINITY, tmax = -INFINITY;
  for (double t : s.targets) {
    if (!std::isfinite(t)) continue;
    tmin = std::min(tmin, t);
    tmax = std::max(tmax, t);
    if (t < lo - 1e-6 || t > hi + 1e-6) ++outside;
  }
  const double fraction = static_cast<double>(outside) / s.targets.size();
  if (outside == 0 || fraction < th.output_range_fraction) return;
  const std::string type = fwd.last->module->type_name();
  const std::string where = fwd.last->path.empty() ? type : fwd.last->path;
  report.add(Finding{
      .check = "model.output_range",
      .severity = fraction > th.output_range_error_fraction ? Severity::error : Severity::warning,
      .cause = Cause::model,
      .where = where,
      .value = fraction,
      .threshold = th.output_range_fraction,
      .explanation = fmt::format("The last layer {} outputs values in [{}, {}] but {:.1f}% of the targets read lie "
                                 "outside it (targets span [{}, {}]): those can never be fitted.",
                                 type, num(lo), num(hi), 100.0 * fraction, num(tmin), num(tmax)),
      .suggestion = fmt::format("Remove the final {} (a linear output for regression), or rescale the targets into "
                                "its range.", type),
      .excess = std::log(fraction / th.output_range_fraction)});
}

void check_class_indices_as_numbers(const Setup& setup, const Forward& fwd, const data::Batch& probe,
                                    const detail::DataSample& s, const ModelThresholds& th, Report& report) {
  const Tensor& out = fwd.outputs;
  if (out.dim() == 0 || out.numel() != out.size(0) || s.target_width != 1 || s.rows == 0) return;
  std::set<double> distinct;
  for (double t : s.targets) {
    if (!std::isfinite(t) || t != std::round(t)) return;
    distinct.insert(t);
    if (static_cast<std::int64_t>(distinct.size()) > th.class_index_max_distinct) return;
  }
  const double repeats = static_cast<double>(s.rows) / distinct.size();
  if (distinct.size() < 2 || repeats < th.class_index_min_repeats) return;
  const Tensor targets = raw::reshape(probe.targets, out.shape());
  auto equals = [&](const train::LossFunction& reference) {
    return detail::same_value(detail::loss_value(setup.loss, out, probe.targets),
                              detail::loss_value(reference, out, targets));
  };
  const bool mse = equals([](const Tensor& y, const Tensor& t) { return nn::mse_loss(y, t); });
  const bool l1 = !mse && equals([](const Tensor& y, const Tensor& t) { return nn::l1_loss(y, t); });
  if (!mse && !l1) return;
  std::vector<double> listed(distinct.begin(), distinct.end());
  if (listed.size() > 8) listed.resize(8);
  const bool binary = distinct.size() == 2;
  report.add(Finding{
      .check = "model.regression_on_class_indices",
      .severity = Severity::warning,
      .cause = Cause::model,
      .where = "loss",
      .value = static_cast<double>(distinct.size()),
      .threshold = static_cast<double>(th.class_index_max_distinct),
      .explanation = fmt::format("The targets take only {} integer values ({}{}) over {} samples and a single "
                                 "output is trained with {}: if these are classes, the loss treats them as "
                                 "ordered numbers and predicts in-between values.",
                                 distinct.size(), fmt::join(listed, ", "), distinct.size() > listed.size() ? ", ..." : "",
                                 s.rows, mse ? "mse_loss" : "l1_loss"),
      .suggestion = binary ? "For two classes use binary_cross_entropy_with_logits on the single output."
                           : fmt::format("Give the head {} outputs and use cross_entropy with int64 labels.",
                                         distinct.size()),
      .excess = 0.0});
}

}  // namespace

void lint_model(const Setup& setup, const Task& task, const Options& options, Report& report,
                const ModelThresholds& thresholds) {
  check_missing_nonlinearity(setup.model, report);
  check_dropout(setup.model, thresholds, report);

  const detail::DataSample sample = detail::read_sample(setup.train, options.max_batches);
  if (sample.rows == 0) return;
  const data::Batch probe = detail::probe_batch(sample);
  Forward fwd;
  try {
    fwd = traced_forward(setup.model, probe.inputs);
  } catch (const std::exception&) {
    return;  // the model cannot run a training batch: the probes report that
  }
  if (!detail::all_finite(fwd.outputs)) return;  // non-finite outputs: the data checks and probes report them
  if (task.classification) {
    check_classification_output(setup, fwd, probe.targets, report);
  } else {
    check_output_range(fwd, sample, thresholds, report);
    check_class_indices_as_numbers(setup, fwd, probe, sample, thresholds, report);
  }
}

}  // namespace vigil::doctor
