#include "vigil/doctor/probes.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <numeric>

#include "vigil/autograd/anomaly.hpp"
#include "vigil/autograd/autograd.hpp"
#include "vigil/autograd/gradcheck.hpp"
#include "vigil/doctor/lr_range.hpp"
#include "vigil/nn/activation.hpp"
#include "vigil/nn/conv.hpp"
#include "vigil/nn/linear.hpp"

namespace vigil::doctor {

namespace {

data::Batch first_batch(const Setup& setup) {
  auto epoch = setup.train.epoch(0);
  auto it = epoch.begin();
  VIGIL_CHECK(it != epoch.end(), Error, "doctor: the training loader yields no batch");
  return *it;
}

// The first n samples (dim 0) of x, as a fresh contiguous tensor.
Tensor head(const Tensor& x, std::int64_t n) {
  if (x.dim() == 0) return raw::clone(x);
  return raw::clone(raw::slice(x, 0, 0, std::min(n, x.size(0))));
}

std::vector<double> values(const Tensor& x) {
  const Tensor c = raw::contiguous(raw::to_dtype(x, DType::Float64));
  const double* p = c.data<double>();
  return {p, p + c.numel()};
}

double rms(const std::vector<double>& v) {
  double s = 0;
  for (double e : v) s += e * e;
  return v.empty() ? 0.0 : std::sqrt(s / static_cast<double>(v.size()));
}

double stddev(const std::vector<double>& v) {
  if (v.empty()) return 0.0;
  const double mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  double s = 0;
  for (double e : v) s += (e - mean) * (e - mean);
  return std::sqrt(s / static_cast<double>(v.size()));
}

double excess_of(double value, double threshold) {
  return value > 0 && threshold > 0 && std::isfinite(value) ? std::abs(std::log(value / threshold)) : 0.0;
}

Finding finding(std::string check, Severity severity, Cause cause, std::string where = "") {
  Finding f;
  f.check = std::move(check);
  f.severity = severity;
  f.cause = cause;
  f.where = std::move(where);
  return f;
}

std::string describe(const nn::Module& module, const std::string& path) {
  return fmt::format("{} '{}'", module.type_name(), path.empty() ? "model" : path);
}

// Every module of the tree once (the first of its paths), parents before children.
std::vector<std::pair<std::string, nn::Module*>> distinct_modules(nn::Module& model) {
  std::vector<std::pair<std::string, nn::Module*>> out;
  for (auto& [path, m] : model.named_modules()) {
    if (std::none_of(out.begin(), out.end(), [m = m](const auto& e) { return e.second == m; })) out.emplace_back(path, m);
  }
  return out;
}

// True when `path` lies strictly below `ancestor` in the module tree.
bool is_below(const std::string& path, const std::string& ancestor) {
  if (ancestor.empty()) return !path.empty();
  return path.size() > ancestor.size() && path.compare(0, ancestor.size(), ancestor) == 0 && path[ancestor.size()] == '.';
}

// Removes its forward hooks when it goes out of scope, also on an exception.
class Hooks {
 public:
  Hooks() = default;
  Hooks(const Hooks&) = delete;
  Hooks& operator=(const Hooks&) = delete;
  ~Hooks() {
    for (nn::HookHandle& h : handles_) h.remove();
  }
  void add(nn::Module& m, nn::ForwardHook hook) { handles_.push_back(m.register_forward_hook(std::move(hook))); }

 private:
  std::vector<nn::HookHandle> handles_;
};

// The first input each module receives during one eval-mode, no-grad forward pass of x: its first n samples.
std::map<const nn::Module*, Tensor> record_inputs(const Setup& setup, const Tensor& x, std::int64_t n) {
  std::map<const nn::Module*, Tensor> inputs;
  Hooks hooks;
  for (auto& [path, m] : distinct_modules(setup.model)) {
    hooks.add(*m, [&inputs, n](const nn::Module& module, const Tensor& input, const Tensor&) {
      if (!inputs.contains(&module) && input.defined() && input.dim() >= 1) inputs.emplace(&module, head(input, n));
    });
  }
  setup.model.eval();
  NoGradGuard no_grad;
  setup.model(x);
  return inputs;
}

// A recorded activation with a little noise (1e-3 of its RMS): real values keep the input in the layer's domain
// (positive where it takes logs), the noise breaks the exact ties (max pooling over ReLU zeros) at which finite
// differences and the analytic gradient legitimately disagree. Integer inputs (token ids) stay as they are.
Tensor jittered(const Tensor& x, DType dtype, Generator& gen) {
  if (!is_floating(x.dtype())) return raw::clone(x);
  NoGradGuard no_grad;
  const Tensor x64 = raw::to_dtype(x, DType::Float64);
  const double scale = 1e-3 * std::max(rms(values(x64)), 1e-3);
  return raw::to_dtype(add(x64, mul(randn(x.shape(), gen, {DType::Float64}), scale)), dtype);
}

// Loss of knowing nothing: ln C for classification; for regression the user's loss of predicting the per-output
// target mean (the target variance for MSE). NaN when it cannot be formed.
double know_nothing_loss(const Setup& setup, const Task& task, const Tensor& outputs, const Tensor& targets) {
  if (task.classification) return task.num_classes >= 2 ? std::log(static_cast<double>(task.num_classes)) : NAN;
  if (!is_floating(targets.dtype()) || targets.shape() != outputs.shape() || targets.dim() == 0) return NAN;
  NoGradGuard no_grad;
  const Tensor mean_prediction = raw::contiguous(raw::expand(mean(targets, {0}, true), targets.shape()));
  return setup.loss(mean_prediction, targets).item();
}

// Fraction of samples whose argmax over dim 1 matches the label (class indices, or the argmax of soft labels).
double accuracy(const Tensor& outputs, const Tensor& targets, bool soft) {
  NoGradGuard no_grad;
  const std::vector<double> pred = values(argmax(outputs, 1));
  const std::vector<double> label = values(soft ? argmax(targets, 1) : targets);
  std::int64_t right = 0, counted = 0;
  for (std::size_t i = 0; i < std::min(pred.size(), label.size()); ++i) {
    if (label[i] < 0) continue;  // ignore_index
    ++counted;
    right += pred[i] == label[i];
  }
  return counted ? static_cast<double>(right) / static_cast<double>(counted) : NAN;
}

double train_step(const Setup& setup, const Tensor& x, const Tensor& t) {
  setup.optimizer.zero_grad();
  const Tensor loss = setup.loss(setup.model(x), t);
  const double value = loss.item();
  if (std::isfinite(value)) {
    backward(loss);
    setup.optimizer.step();
  }
  return value;
}

// The model's outputs and loss in eval mode, without a graph; the mode is put back to training.
std::pair<Tensor, double> evaluate_batch(const Setup& setup, const Tensor& x, const Tensor& t) {
  setup.model.eval();
  NoGradGuard no_grad;
  Tensor y = setup.model(x);
  const double loss = setup.loss(y, t).item();
  setup.model.train();
  return {y, loss};
}

// ---- Gradient check ----

// Makes a module run in float64 for as long as it lives: each floating parameter and buffer of the subtree views a
// float64 copy of itself (its TensorImpl is replaced and put back), so that vigil::gradcheck can check the
// layer's own ops with float64 finite differences. No core change: the tensors the layer holds are handles, and
// the layer sees whatever their TensorImpl holds.
class Float64Module {
 public:
  explicit Float64Module(const nn::Module& m) {
    for (auto& [path, p] : m.named_parameters()) swap_in(p);
    for (auto& [path, b] : m.named_buffers()) {
      if (is_floating(b.dtype())) swap_in(b);
    }
  }
  Float64Module(const Float64Module&) = delete;
  Float64Module& operator=(const Float64Module&) = delete;
  ~Float64Module() {
    for (auto& [t, saved] : saved_) t.impl() = saved;
  }

 private:
  void swap_in(const Tensor& t) {
    saved_.emplace_back(t, t.impl());
    const Tensor copy = raw::to_dtype(t, DType::Float64);
    t.impl() = copy.impl();
  }
  std::vector<std::pair<Tensor, TensorImpl>> saved_;
};

// While it lives, parameter p reads its values from gradcheck's input w and passes its gradient back to w: p's
// TensorImpl becomes that of a differentiable view of w (converted to p's running dtype), so finite differences
// (which perturb w) and backward (which reaches w through the view) both see the layer's real forward and backward.
class ParameterAlias {
 public:
  ParameterAlias(const Tensor& p, const Tensor& w, DType dtype) : p_(p), saved_(p.impl()) {
    const Tensor view = w.dtype() == dtype ? vigil::view(w, w.shape()) : vigil::to_dtype(w, dtype);
    p_.impl() = view.impl();
  }
  ParameterAlias(const ParameterAlias&) = delete;
  ParameterAlias& operator=(const ParameterAlias&) = delete;
  ~ParameterAlias() { p_.impl() = saved_; }

 private:
  Tensor p_;
  TensorImpl saved_;
};

struct ModuleCheck {
  bool checked = false;  // false: the module could not be checked (no differentiable input, a forward that threw)
  GradcheckResult result;
  std::vector<std::string> input_names;
};

// Gradcheck of one module's forward at input x: its input and its own trainable parameters are checked (the
// children's parameters are their own checks). Float64 first; a module that cannot run in float64 (a custom op
// with a float-only kernel) is checked in float32 with a larger step and looser tolerances.
ModuleCheck check_module(nn::Module& m, const Tensor& x, const ProbeThresholds& th, std::uint64_t seed) {
  ModuleCheck out;
  std::vector<Tensor> params;
  std::vector<Tensor> inputs;
  Tensor x_in = raw::clone(x);
  if (is_floating(x_in.dtype())) x_in.set_requires_grad(true);
  inputs.push_back(x_in);
  out.input_names.push_back("its input");
  for (auto& [name, p] : m.own_parameters()) {
    if (!p.requires_grad()) continue;
    params.push_back(p);
    inputs.push_back(raw::clone(p).set_requires_grad(true));
    out.input_names.push_back("parameter '" + name + "'");
  }
  const bool any_differentiable = std::any_of(inputs.begin(), inputs.end(), [](const Tensor& t) { return t.requires_grad(); });
  if (!any_differentiable) return out;

  for (const DType dtype : {DType::Float64, DType::Float32}) {
    try {
      std::optional<Float64Module> wide;
      if (dtype == DType::Float64) wide.emplace(m);
      const TensorFunction f = [&](const std::vector<Tensor>& in) {
        std::vector<std::unique_ptr<ParameterAlias>> aliases;
        for (std::size_t k = 0; k < params.size(); ++k) aliases.push_back(std::make_unique<ParameterAlias>(params[k], in[k + 1], dtype));
        const Tensor& xin = in[0];
        const Tensor y = m.forward(is_floating(xin.dtype()) && xin.dtype() != dtype ? vigil::to_dtype(xin, dtype) : xin);
        return is_floating(y.dtype()) && y.dtype() != DType::Float64 ? vigil::to_dtype(y, DType::Float64) : y;
      };
      GradcheckOptions go;
      go.seed = seed;
      go.max_elements_per_input = th.gradcheck_elements;
      go.random_directions = 2;
      go.atol = th.gradcheck_atol;
      go.rtol = th.gradcheck_rtol;
      if (dtype == DType::Float32) {  // float32 rounding (1e-7 relative) over a 1e-2 step: ~1e-5, truncation ~1e-4
        go.step = 1e-2;
        go.atol = 1e-2;
        go.rtol = 2e-2;
      }
      m.eval();
      // A forward that is already NaN/Inf at these inputs (a log of negative values) leaves finite differences
      // nothing to compare: that is no wrong backward, and the loss probe names the layer.
      const Tensor y = f(inputs);
      if (is_floating(y.dtype()) && !all_finite(y)) return out;
      out.result = gradcheck(f, inputs, go);
      if (!out.result.passed) {  // confirm with other elements and directions: a kink crossed by chance is no fault
        go.seed = seed + 1;
        const GradcheckResult again = gradcheck(f, inputs, go);
        if (again.passed) out.result = again;
      }
      out.checked = true;
      return out;
    } catch (const Error&) {
      // the next dtype, or unchecked
    }
  }
  return out;
}

// ---- Batch independence ----

// Largest |d out[i] / d in[j]| over j != i, relative to the largest |d out[i] / d in[i]|, for i = 0 and N - 1, with
// a random projection of out[i]. -1 when f's output does not keep the batch dimension.
struct CrossSample {
  double ratio = -1;
  double cross = 0;  // the largest cross-sample gradient
  std::int64_t i = 0, j = 0;
};

CrossSample cross_sample(const std::function<Tensor(const Tensor&)>& f, const Tensor& x, Generator& gen) {
  CrossSample out;
  const std::int64_t n = x.size(0);
  for (const std::int64_t i : {std::int64_t{0}, n - 1}) {
    Tensor xl = raw::clone(x);
    xl.set_requires_grad(true);
    const Tensor y = f(xl);
    if (y.dim() == 0 || y.size(0) != n || !y.requires_grad()) return CrossSample{};
    const Tensor yi = narrow(y, 0, i, 1);
    const Tensor u = raw::to_dtype(randn(yi.shape(), gen), yi.dtype());
    backward(sum(mul(yi, u)));
    if (!xl.grad().defined()) return CrossSample{};
    const std::vector<double> g = values(xl.grad());
    const std::size_t per = g.size() / static_cast<std::size_t>(n);
    double own = 0;
    std::vector<double> largest(static_cast<std::size_t>(n), 0.0);
    for (std::size_t k = 0; k < g.size(); ++k) largest[k / per] = std::max(largest[k / per], std::abs(g[k]));
    own = largest[static_cast<std::size_t>(i)];
    for (std::int64_t j = 0; j < n; ++j) {
      if (j == i) continue;
      const double c = largest[static_cast<std::size_t>(j)];
      const double ratio = c == 0 ? 0.0 : c / std::max(own, 1e-30);
      if (ratio > out.ratio) out = CrossSample{ratio, c, i, j};
    }
  }
  return out;
}

// ---- Activations ----

struct LayerStats {
  std::string path;
  const nn::Module* module = nullptr;
  bool weight_layer = false;
  double std = 0;
  double dead = -1;        // ReLU: share of units (channels) never positive
  double saturated = -1;   // sigmoid / tanh: share of outputs where the derivative is < 1% of its maximum
  std::int64_t units = 0;
  bool identical = false;  // weight layer: every output unit equal to the first
};

bool is_weight_layer(const nn::Module& m) {
  return dynamic_cast<const nn::Linear*>(&m) || dynamic_cast<const nn::Conv2d*>(&m) ||
         dynamic_cast<const nn::Conv1d*>(&m) || dynamic_cast<const nn::ConvTranspose2d*>(&m);
}

LayerStats layer_stats(const std::string& path, const nn::Module& m, const Tensor& output) {
  LayerStats s;
  s.path = path;
  s.module = &m;
  s.weight_layer = is_weight_layer(m);
  if (!is_floating(output.dtype()) || output.numel() == 0) return s;
  const std::vector<double> v = values(output);
  s.std = stddev(v);
  const std::int64_t n = output.dim() >= 1 ? output.size(0) : 1;
  const std::int64_t c = output.dim() >= 2 ? output.size(1) : 1;
  const std::int64_t inner = static_cast<std::int64_t>(v.size()) / std::max<std::int64_t>(n * c, 1);
  s.units = c;
  if (dynamic_cast<const nn::ReLU*>(&m)) {
    std::vector<bool> alive(static_cast<std::size_t>(c), false);
    for (std::size_t k = 0; k < v.size(); ++k) {
      if (v[k] > 0) alive[static_cast<std::size_t>((static_cast<std::int64_t>(k) / inner) % c)] = true;
    }
    s.dead = static_cast<double>(std::count(alive.begin(), alive.end(), false)) / static_cast<double>(c);
  }
  const bool tanh = dynamic_cast<const nn::Tanh*>(&m) != nullptr;
  if (tanh || dynamic_cast<const nn::Sigmoid*>(&m)) {
    std::int64_t stuck = 0;
    for (double e : v) stuck += tanh ? std::abs(e) > 0.995 : (e < 0.0025 || e > 0.9975);
    s.saturated = static_cast<double>(stuck) / static_cast<double>(v.size());
  }
  if (s.weight_layer && c >= 2) {
    double largest = 0, diff = 0;
    for (std::size_t k = 0; k < v.size(); ++k) {
      const std::int64_t flat = static_cast<std::int64_t>(k);
      const std::int64_t first = (flat / (c * inner)) * c * inner + flat % inner;  // the same place in unit 0
      largest = std::max(largest, std::abs(v[k]));
      diff = std::max(diff, std::abs(v[k] - v[static_cast<std::size_t>(first)]));
    }
    s.identical = diff <= 1e-6 * largest;
    if (s.identical && largest == 0) {  // all zero: symmetric only if the weights are constant, else a dead input
      for (auto& [name, p] : m.own_parameters()) {
        if (name != "weight") continue;
        const std::vector<double> w = values(p);
        s.identical = std::all_of(w.begin(), w.end(), [&](double e) { return e == w.front(); });
      }
    }
  }
  return s;
}

// A non-finite loss at initialisation: the first leaf module (in the order they return) whose output holds NaN/Inf
// although its input is finite made it, and is named. When the batch itself is not finite the data checks say so.
void report_non_finite_loss(const Setup& setup, const Tensor& x, double loss, Report& report) {
  std::string culprit_path;
  const nn::Module* culprit = nullptr;
  std::int64_t bad = 0, total = 0;
  {
    Hooks hooks;
    for (auto& [path, m] : distinct_modules(setup.model)) {
      if (!m->named_children().empty()) continue;
      hooks.add(*m, [&, path = path](const nn::Module& module, const Tensor& input, const Tensor& output) {
        if (culprit != nullptr || !output.defined() || !is_floating(output.dtype())) return;
        if (all_finite(output) || (input.defined() && is_floating(input.dtype()) && !all_finite(input))) return;
        culprit = &module;
        culprit_path = path;
        for (double v : values(output)) bad += !std::isfinite(v);
        total = output.numel();
      });
    }
    setup.model(x);
  }
  const bool from_module = culprit != nullptr;
  Finding f = finding("probe.loss_at_init", from_module ? Severity::error : Severity::warning,
                      from_module ? Cause::model : Cause::initialisation, culprit_path);
  f.value = loss;
  f.excess = 10.0;
  if (from_module) {
    f.explanation = fmt::format("The loss at initialisation is {}: {} turns finite inputs into NaN/Inf ({} of its {} "
                                "outputs on the first batch), so every step from the first is poisoned.",
                                loss, describe(*culprit, culprit_path), bad, total);
    f.suggestion = "Keep the layer's inputs in its domain (log and sqrt of positive values: clamp or add an "
                   "epsilon, softplus before a log) or fix its forward.";
  } else {
    f.explanation = fmt::format("The loss at initialisation is {}, and no layer turns finite inputs into NaN/Inf: "
                                "the batch, the parameters or the loss function is not finite.",
                                loss);
    f.suggestion = "Check the data for NaN/Inf (data.non_finite) and the loss function's inputs (log of 0, "
                   "division by 0).";
  }
  report.add(std::move(f));
}

}  // namespace

void probe_loss_at_init(const Setup& setup, const Task& task, const Options&, Report& report,
                        const ProbeThresholds& th) {
  StateSnapshot snapshot(setup.model, setup.optimizer);
  const data::Batch batch = first_batch(setup);
  const Tensor x = head(batch.inputs, th.init_samples), t = head(batch.targets, th.init_samples);
  setup.model.train();  // the statistics the first training step sees (batch norm on batch statistics)
  NoGradGuard no_grad;
  const Tensor y = setup.model(x);
  const double total = setup.loss(y, t).item();
  // The data loss alone: a regulariser's penalty is its own check's business (train.regularizer_dominates).
  const double penalty = setup.regularizer ? setup.regularizer().item() : 0.0;
  const double data_loss = total - penalty;
  // A loss summed over the batch doubles when the batch is repeated (a mean does not): compare per sample, and leave
  // the reduction itself to optim.summed_loss. Regression's reference comes from the same loss, summed alike.
  const std::int64_t n = y.dim() >= 1 ? y.size(0) : 1;
  double loss = data_loss;
  bool summed = false;
  if (task.classification && std::isfinite(data_loss) && std::abs(data_loss) > 1e-12 && n >= 2) {
    try {
      const double twice = setup.loss(cat({y, y}, 0), cat({t, t}, 0)).item() - penalty;
      summed = std::abs(twice / data_loss - 2.0) < 0.01;
    } catch (const Error&) {
      // a loss that cannot take the repeated batch: judge it as it is
    }
    if (summed) loss = data_loss / static_cast<double>(n);
  }
  double reference = know_nothing_loss(setup, task, y, t);
  if (!task.classification) reference -= penalty;
  if (!std::isfinite(loss)) {
    report_non_finite_loss(setup, x, total, report);
  } else if (std::isfinite(reference) && reference > 0 && !(loss <= th.init_loss_ratio * reference)) {
    Finding f = finding("probe.loss_at_init", Severity::warning, Cause::initialisation);
    f.value = loss;
    f.threshold = th.init_loss_ratio * reference;
    f.excess = excess_of(loss, *f.threshold);
    if (task.classification) {
      f.explanation = fmt::format("The {}loss at initialisation is {:.4g}, {:.1f}x the {:.4g} of predicting all {} "
                                  "classes equally (ln {}): the untrained model is confidently wrong.",
                                  summed ? "per-sample " : "", loss, loss / reference, reference, task.num_classes,
                                  task.num_classes);
      f.suggestion = "Initialise the last layer smaller (or zero it) so that the initial outputs are near uniform, "
                     "and check that the inputs are standardised.";
    } else {
      const std::vector<double> tv = values(t);
      const double mean = std::accumulate(tv.begin(), tv.end(), 0.0) / static_cast<double>(tv.size());
      f.explanation = fmt::format("The loss at initialisation is {:.4g}, {:.1f}x the {:.4g} of predicting the target "
                                  "mean ({:.4g}, std {:.4g}): the initial outputs are far off the targets' scale.",
                                  loss, loss / reference, reference, mean, stddev(tv));
      f.suggestion = "Standardise the targets (or set the last layer's bias to their mean) and initialise the last "
                     "layer smaller.";
    }
    report.add(std::move(f));
  }
  if (task.classification && task.num_classes >= 2 && y.dim() >= 2 && y.size(0) >= 20) {
    const std::vector<double> pred = values(argmax(y, 1));
    std::map<std::int64_t, std::int64_t> histogram;
    for (double p : pred) ++histogram[static_cast<std::int64_t>(p)];
    const auto top = std::max_element(histogram.begin(), histogram.end(),
                                      [](const auto& a, const auto& b) { return a.second < b.second; });
    const double share = static_cast<double>(top->second) / static_cast<double>(pred.size());
    if (share >= th.collapsed_share) {
      Finding f = finding("probe.collapsed_predictions", Severity::warning, Cause::initialisation);
      f.value = share;
      f.threshold = th.collapsed_share;
      f.excess = excess_of(share, th.collapsed_share);
      f.explanation = fmt::format("At initialisation {:.0f}% of {} predictions are class {}: the outputs hardly "
                                  "depend on the input (a large bias, or one direction of the features dominating).",
                                  100 * share, pred.size(), top->first);
      f.suggestion = "Standardise the inputs, use a fan-in scaled initialisation (kaiming / xavier) and start the "
                     "last layer's bias at zero.";
      report.add(std::move(f));
    }
  }
}

void probe_activations(const Setup& setup, const Task&, const Options&, Report& report, const ProbeThresholds& th) {
  StateSnapshot snapshot(setup.model, setup.optimizer);
  const data::Batch batch = first_batch(setup);
  std::vector<LayerStats> stats;
  {
    Hooks hooks;
    for (auto& [path, m] : distinct_modules(setup.model)) {
      if (!m->named_children().empty()) continue;
      hooks.add(*m, [&stats, path = path](const nn::Module& module, const Tensor&, const Tensor& output) {
        stats.push_back(layer_stats(path, module, output));
      });
    }
    setup.model.train();
    NoGradGuard no_grad;
    setup.model(head(batch.inputs, th.activation_samples));
  }
  std::vector<const LayerStats*> weight_layers;
  for (const LayerStats& s : stats) {
    if (s.weight_layer) weight_layers.push_back(&s);
  }
  for (const LayerStats& s : stats) {
    const std::string name = describe(*s.module, s.path);
    if (s.identical) {
      Finding f = finding("probe.symmetric_init", Severity::error, Cause::initialisation, s.path);
      f.explanation = fmt::format("All {} output units of {} are identical at initialisation: symmetric weights (a "
                                  "constant init) give every unit the same gradient, so they stay copies of one unit.",
                                  s.units, name);
      f.suggestion = "Initialise the weights randomly (kaiming_uniform or xavier), never with a constant.";
      report.add(std::move(f));
    }
    if (s.dead > th.dead_fraction) {
      Finding f = finding("probe.dead_relu", Severity::warning, Cause::initialisation, s.path);
      f.value = s.dead;
      f.threshold = th.dead_fraction;
      f.excess = excess_of(s.dead, th.dead_fraction);
      f.explanation = fmt::format("{:.0f}% of the {} units of {} are never positive over {} samples at "
                                  "initialisation: dead units pass no gradient and never recover.",
                                  100 * s.dead, s.units, name, std::min(th.activation_samples, batch.inputs.size(0)));
      f.suggestion = "Check the bias init of the layer before (a large negative bias kills units), use a fan-in "
                     "scaled init, or try LeakyReLU.";
      report.add(std::move(f));
    }
    if (s.saturated > th.saturated_fraction) {
      Finding f = finding("probe.saturation", Severity::warning, Cause::initialisation, s.path);
      f.value = s.saturated;
      f.threshold = th.saturated_fraction;
      f.excess = excess_of(s.saturated, th.saturated_fraction);
      f.explanation = fmt::format("{:.0f}% of the outputs of {} sit at its bounds at initialisation, where its "
                                  "derivative is below 1% of its maximum: their gradient vanishes.",
                                  100 * s.saturated, name);
      f.suggestion = "Scale the pre-activations down: standardise the inputs, use xavier initialisation for the "
                     "layer before, or add a normalisation layer.";
      report.add(std::move(f));
    }
  }
  for (std::size_t k = 0; k + 1 < weight_layers.size(); ++k) {  // the last is the output (the loss probe's)
    const LayerStats& s = *weight_layers[k];
    if (s.identical || (s.std >= th.activation_std_low && s.std <= th.activation_std_high)) continue;
    const bool low = s.std < th.activation_std_low;
    Finding f = finding("probe.activation_scale", Severity::warning, Cause::initialisation, s.path);
    f.value = s.std;
    f.threshold = low ? th.activation_std_low : th.activation_std_high;
    f.excess = excess_of(s.std, *f.threshold);
    f.explanation = fmt::format("The outputs of {} have std {:.3g} at initialisation, {} the healthy range [{:.3g}, "
                                "{:.3g}]: the signal into the next layer is {}.",
                                describe(*s.module, s.path), s.std, low ? "below" : "above", th.activation_std_low,
                                th.activation_std_high, low ? "vanishing" : "exploding");
    f.suggestion = "Use a fan-in scaled initialisation (kaiming for ReLU, xavier for tanh), standardise the inputs, "
                   "or add normalisation layers.";
    report.add(std::move(f));
  }
  // The trend runs over the hidden weight layers: the output layer's scale follows the task (a width-1 regression
  // head, logits) and is the loss probe's business.
  std::vector<const LayerStats*> hidden(weight_layers.begin(), weight_layers.end() - (weight_layers.empty() ? 0 : 1));
  if (hidden.size() >= 3) {
    bool falling = true, rising = true;
    for (std::size_t k = 1; k < hidden.size(); ++k) {
      falling = falling && hidden[k]->std < hidden[k - 1]->std;
      rising = rising && hidden[k]->std > hidden[k - 1]->std;
    }
    const double first = hidden.front()->std, last = hidden.back()->std;
    const double ratio = first > 0 ? last / first : INFINITY;
    if ((falling && ratio < 1 / th.activation_trend_ratio) || (rising && ratio > th.activation_trend_ratio)) {
      Finding f = finding("probe.activation_trend", Severity::warning, Cause::initialisation, hidden.back()->path);
      f.value = ratio;
      f.threshold = falling ? 1 / th.activation_trend_ratio : th.activation_trend_ratio;
      f.excess = excess_of(ratio, *f.threshold);
      std::string trail;
      for (const LayerStats* s : hidden) trail += fmt::format("{}{:.3g}", trail.empty() ? "" : " -> ", s->std);
      f.explanation = fmt::format("The output std of the {} hidden Linear / Conv layers {} steadily with depth ({}), "
                                  "a factor {:.3g} from first to last: the forward signal is {}.",
                                  hidden.size(), falling ? "shrinks" : "grows", trail, ratio,
                                  falling ? "vanishing" : "exploding");
      f.suggestion = "Use a fan-in scaled initialisation (kaiming for ReLU, xavier for tanh) or add normalisation "
                     "layers between the weight layers.";
      report.add(std::move(f));
    }
  }
}

void probe_gradients(const Setup& setup, const Task&, const Options& options, Report& report,
                     const ProbeThresholds& th) {
  StateSnapshot snapshot(setup.model, setup.optimizer);
  const data::Batch batch = first_batch(setup);
  const auto recorded = record_inputs(setup, head(batch.inputs, th.gradcheck_samples), th.gradcheck_samples);
  Generator gen(options.seed);
  struct Failure {
    std::string path;
    nn::Module* module;
    ModuleCheck check;
  };
  std::vector<Failure> failures;
  for (auto& [path, m] : distinct_modules(setup.model)) {
    const auto it = recorded.find(m);
    if (it == recorded.end()) continue;
    ModuleCheck check = check_module(*m, jittered(it->second, it->second.dtype(), gen), th, options.seed);
    if (check.checked && !check.result.passed) failures.push_back({path, m, std::move(check)});
  }
  for (const Failure& fail : failures) {
    const bool has_failing_child = std::any_of(failures.begin(), failures.end(),
                                               [&](const Failure& o) { return is_below(o.path, fail.path); });
    if (has_failing_child) continue;  // the fault lies below: report the deepest module only
    const GradcheckResult& r = fail.check.result;
    Finding f = finding("probe.gradcheck", Severity::error, Cause::model, fail.path);
    f.value = r.worst_excess;
    f.threshold = 1.0;
    f.excess = excess_of(r.worst_excess, 1.0);
    const std::string input = r.worst_input >= 0 ? fail.check.input_names[static_cast<std::size_t>(r.worst_input)] : "";
    f.explanation = fmt::format("The backward of {} disagrees with finite differences: the gradient for {} ({}) is "
                                "{:.6g} but the numeric derivative is {:.6g} ({:.3g}x the tolerance).",
                                describe(*fail.module, fail.path), input,
                                r.worst_element >= 0 ? fmt::format("element {}", r.worst_element) : "a random direction",
                                r.analytic, r.numeric, r.worst_excess);
    f.suggestion = "Fix the backward of the custom op this module uses (a sign, a missing factor, a transposed or "
                   "mis-indexed term); check it alone with vigil::gradcheck.";
    report.add(std::move(f));
  }
}

void probe_batch_independence(const Setup& setup, const Task&, const Options& options, Report& report,
                              const ProbeThresholds& th) {
  StateSnapshot snapshot(setup.model, setup.optimizer);
  const data::Batch batch = first_batch(setup);
  const Tensor x = head(batch.inputs, th.independence_samples);
  if (x.dim() == 0 || x.size(0) < 2 || !is_floating(x.dtype())) return;
  Generator gen(options.seed);
  setup.model.eval();  // training-mode batch norm mixes samples on purpose; in eval mode nothing may
  const CrossSample whole = cross_sample([&](const Tensor& in) { return setup.model(in); }, x, gen);
  if (whole.ratio <= th.cross_sample_ratio) return;
  // Localise: the deepest module that mixes samples on its own input.
  const auto recorded = record_inputs(setup, x, th.independence_samples);
  std::vector<std::pair<std::string, nn::Module*>> mixing;
  for (auto& [path, m] : distinct_modules(setup.model)) {
    const auto it = recorded.find(m);
    if (it == recorded.end() || !is_floating(it->second.dtype()) || it->second.size(0) != x.size(0)) continue;
    const CrossSample own = cross_sample([m = m](const Tensor& in) { return m->forward(in); },
                                         jittered(it->second, it->second.dtype(), gen), gen);
    if (own.ratio > th.cross_sample_ratio) mixing.emplace_back(path, m);
  }
  std::string where;
  const nn::Module* culprit = &setup.model;
  for (auto& [path, m] : mixing) {
    const bool has_mixing_child = std::any_of(mixing.begin(), mixing.end(),
                                              [&](const auto& o) { return is_below(o.first, path); });
    if (!has_mixing_child) {
      where = path;
      culprit = m;
      break;
    }
  }
  Finding f = finding("probe.batch_independence", Severity::error, Cause::model, where);
  f.value = whole.ratio;
  f.threshold = th.cross_sample_ratio;
  f.excess = excess_of(whole.ratio, th.cross_sample_ratio);
  f.explanation = fmt::format("In eval mode the output of sample {} depends on sample {} of the batch (largest "
                              "cross-sample gradient {:.3g}, {:.3g}x the sample's own), and {} is the first module "
                              "that mixes samples: a reshape, transpose or reduction runs across the batch dimension.",
                              whole.i, whole.j, whole.cross, whole.ratio, describe(*culprit, where));
  f.suggestion = "Keep dim 0 the batch: reshape with the batch size first (x.reshape({N, -1})), transpose only "
                 "other dims, and reduce over dims >= 1.";
  report.add(std::move(f));
}

void probe_overfit_one_batch(const Setup& setup, const Task& task, const Options&, Report& report,
                             const ProbeThresholds& th) {
  StateSnapshot snapshot(setup.model, setup.optimizer);
  const data::Batch batch = first_batch(setup);
  const Tensor x = head(batch.inputs, th.overfit_samples), t = head(batch.targets, th.overfit_samples);
  setup.model.train();
  const bool classify = task.classification;
  double reference = NAN;
  if (!classify) {
    NoGradGuard no_grad;
    reference = know_nothing_loss(setup, task, evaluate_batch(setup, x, t).first, t);
    if (!std::isfinite(reference) || reference <= 0) return;  // targets without spread: nothing to fit
  }
  const double first_loss = evaluate_batch(setup, x, t).second;
  double score = NAN, last_loss = first_loss;
  std::int64_t steps = 0;
  bool diverged = false;
  auto passed = [&] { return classify ? score >= th.overfit_accuracy : score <= th.overfit_loss_share; };
  while (steps < th.overfit_steps) {
    const double loss = train_step(setup, x, t);
    ++steps;
    if (!std::isfinite(loss)) {
      diverged = true;
      last_loss = loss;
      break;
    }
    if (steps % 10 == 0 || steps == th.overfit_steps) {
      const auto [y, eval_loss] = evaluate_batch(setup, x, t);
      last_loss = eval_loss;
      score = classify ? accuracy(y, t, task.soft_labels) : eval_loss / reference;
      if (passed()) return;
    }
  }
  Finding f = finding("probe.overfit_one_batch", Severity::error, Cause::model);
  f.value = score;
  f.threshold = classify ? th.overfit_accuracy : th.overfit_loss_share;
  f.excess = std::isfinite(score) ? excess_of(score, *f.threshold) : 10.0;
  const std::string trained = fmt::format("{} steps of {} at lr {:.3g} on {} samples of the first batch", steps,
                                          setup.optimizer.name(), setup.optimizer.lr(), x.size(0));
  if (diverged) {
    f.explanation = fmt::format("The loss became {} within {}: the model cannot even fit a handful of samples.",
                                last_loss, trained);
  } else if (classify) {
    f.explanation = fmt::format("After {} the training accuracy is only {:.0f}% (loss {:.4g} -> {:.4g}): a model that "
                                "cannot memorise a handful of samples has a fault in the model, the loss or the step.",
                                trained, 100 * score, first_loss, last_loss);
  } else {
    f.explanation = fmt::format("After {} the loss is still {:.0f}% of that of predicting the mean ({:.4g} -> "
                                "{:.4g}): a model that cannot fit a handful of samples has a fault in the model, the "
                                "loss or the step.",
                                trained, 100 * score, first_loss, last_loss);
  }
  f.suggestion = "Check that the loss gets what it expects (logits, not probabilities), that gradients reach every "
                 "layer (nothing frozen or detached), and that the learning rate is neither tiny nor huge.";
  report.add(std::move(f));
}

void probe_input_independent_baseline(const Setup& setup, const Task&, const Options&, Report& report,
                                      const ProbeThresholds& th) {
  StateSnapshot snapshot(setup.model, setup.optimizer);
  const data::Batch batch = first_batch(setup);
  const Tensor x = head(batch.inputs, th.overfit_samples), t = head(batch.targets, th.overfit_samples);
  const Tensor zero = zeros(x.shape(), {x.dtype()});
  setup.model.train();
  const double start = evaluate_batch(setup, x, t).second;
  auto train_on = [&](const Tensor& inputs) {
    for (std::int64_t k = 0; k < th.baseline_steps; ++k) train_step(setup, inputs, t);
    return evaluate_batch(setup, inputs, t).second;
  };
  const double real = train_on(x);
  snapshot.restore();
  setup.model.train();
  const double blind = train_on(zero);
  if (!std::isfinite(real) || !std::isfinite(blind) || !std::isfinite(start)) return;
  if (std::abs(start - real) <= 1e-3 * std::abs(start)) return;  // nothing trained: the overfit probe's finding
  const double ratio = blind > 0 ? real / blind : (real > 0 ? INFINITY : 1.0);
  if (ratio <= th.baseline_loss_ratio) return;
  Finding f = finding("probe.input_independent", Severity::warning, Cause::model);
  f.value = ratio;
  f.threshold = th.baseline_loss_ratio;
  f.excess = excess_of(ratio, th.baseline_loss_ratio);
  f.explanation = fmt::format("Trained {} steps on {} samples, the real inputs reach loss {:.4g} and zeroed inputs "
                              "{:.4g} (ratio {:.2f}): the model learns as much without its input, so it does not use it.",
                              th.baseline_steps, x.size(0), real, blind, ratio);
  f.suggestion = "Check that the inputs reach the model (a layer that zeroes or detaches them, the wrong tensor "
                 "passed) and that inputs and labels belong together.";
  report.add(std::move(f));
}

void probe_learning_rate(const Setup& setup, const Task&, const Options& options, Report& report,
                         const ProbeThresholds& th) {
  LrRangeOptions lro;
  lro.steps = th.lr_steps;
  lro.seed = options.seed;
  const LrRangeResult range = lr_range_test(setup, lro);
  if (range.suggested_lr <= 0) return;
  const double lr = setup.optimizer.lr();
  const double ratio = lr / range.suggested_lr;
  const bool high = ratio > th.lr_too_high, low = ratio < 1 / th.lr_too_low;
  if (!high && !low) return;
  Finding f = finding("probe.learning_rate", high ? Severity::warning : Severity::info, Cause::optimisation);
  f.value = lr;
  f.threshold = high ? th.lr_too_high * range.suggested_lr : range.suggested_lr / th.lr_too_low;
  f.excess = excess_of(lr, *f.threshold);
  f.explanation = fmt::format("The learning rate {:.3g} is {:.3g}x the range test's suggestion {:.3g} ({}), so "
                              "training is likely to {}.",
                              lr, ratio, range.suggested_lr, range.reason, high ? "diverge or stall" : "crawl");
  f.suggestion = fmt::format("Try a learning rate near {:.3g}.", range.suggested_lr);
  report.add(std::move(f));
}

void run_probes(const Setup& setup, const Task& task, const Options& options, Report& report,
                const ProbeThresholds& th) {
  using Probe = void (*)(const Setup&, const Task&, const Options&, Report&, const ProbeThresholds&);
  struct Entry {
    const char* name;
    Probe probe;
    std::vector<const char*> checks;  // the probe is skipped when every one is silenced
  };
  const std::vector<Entry> probes = {
      {"probe.loss_at_init", probe_loss_at_init, {"probe.loss_at_init", "probe.collapsed_predictions"}},
      {"probe.activations", probe_activations,
       {"probe.activations", "probe.activation_scale", "probe.activation_trend", "probe.dead_relu",
        "probe.saturation", "probe.symmetric_init"}},
      {"probe.gradcheck", probe_gradients, {"probe.gradcheck"}},
      {"probe.batch_independence", probe_batch_independence, {"probe.batch_independence"}},
      {"probe.overfit_one_batch", probe_overfit_one_batch, {"probe.overfit_one_batch"}},
      {"probe.input_independent", probe_input_independent_baseline, {"probe.input_independent"}},
      {"probe.learning_rate", probe_learning_rate, {"probe.learning_rate"}},
  };
  for (const Entry& e : probes) {
    if (std::all_of(e.checks.begin(), e.checks.end(), [&](const char* c) { return report.is_silenced(c); })) continue;
    try {
      e.probe(setup, task, options, report, th);
    } catch (const std::exception& error) {
      Finding f = finding(e.name, Severity::warning, Cause::model);
      f.explanation = fmt::format("The probe could not run: {}", error.what());
      f.suggestion = "Run the model on one batch by hand; the error above comes from the model, the loss or the data.";
      report.add(std::move(f));
    }
  }
}

}  // namespace vigil::doctor
