// The training monitors (see monitor.hpp for the checks, thresholds and the non-finite tracing).
#include "vigil/doctor/monitor.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fmt/format.h>
#include <limits>
#include <numeric>
#include <set>
#include <utility>

#include "vigil/autograd/anomaly.hpp"
#include "vigil/autograd/grad_mode.hpp"
#include "vigil/tensor/error.hpp"

namespace vigil::doctor {

namespace {

// Statistics in float64 over a float tensor of any layout.
Tensor as_double(const Tensor& t) { return raw::contiguous(raw::to_dtype(t, DType::Float64)); }

template <class F>
void for_each_value(const Tensor& t, F&& f) {
  const Tensor c = raw::contiguous(t);
  const std::int64_t n = c.numel();
  if (c.dtype() == DType::Float32) {
    const float* p = c.data<float>();
    for (std::int64_t i = 0; i < n; ++i) f(i, static_cast<double>(p[i]));
  } else {
    const Tensor d = as_double(c);
    const double* p = d.data<double>();
    for (std::int64_t i = 0; i < n; ++i) f(i, p[i]);
  }
}

double norm(const Tensor& t) {
  double sum = 0.0;
  for_each_value(t, [&](std::int64_t, double v) { sum += v * v; });
  return std::sqrt(sum);
}

double distance(const Tensor& a, const Tensor& b) {
  const Tensor db = as_double(b);
  const double* q = db.data<double>();
  double sum = 0.0;
  for_each_value(a, [&](std::int64_t i, double v) { sum += (v - q[i]) * (v - q[i]); });
  return std::sqrt(sum);
}

bool bit_identical(const Tensor& a, const Tensor& b) {
  const Tensor ca = raw::contiguous(a), cb = raw::contiguous(b);
  if (ca.numel() != cb.numel() || ca.dtype() != cb.dtype()) return false;
  const auto bytes = static_cast<std::size_t>(ca.numel()) * dtype_size(ca.dtype());
  if (ca.dtype() == DType::Float32) return std::memcmp(ca.data<float>(), cb.data<float>(), bytes) == 0;
  if (ca.dtype() == DType::Float64) return std::memcmp(ca.data<double>(), cb.data<double>(), bytes) == 0;
  return allclose(ca, cb, 0.0, 0.0, true);
}

double median(std::vector<double> v) {
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  const auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  if (v.size() % 2 == 1) return *mid;
  return 0.5 * (*mid + *std::max_element(v.begin(), mid));
}

double excess(double value, double threshold) {
  if (!(value > 0.0) || !(threshold > 0.0) || !std::isfinite(value)) return 0.0;
  return std::abs(std::log10(value / threshold));
}

std::string num(double v) { return fmt::format("{:.3g}", v); }

// Last over first with at least 70% of the consecutive changes increases: steady growth, not one jump.
std::optional<double> steady_growth(const std::vector<double>& v) {
  if (v.size() < 4 || !(v.front() > 0.0)) return std::nullopt;
  std::size_t ups = 0;
  for (std::size_t i = 1; i < v.size(); ++i) ups += v[i] > v[i - 1];
  if (static_cast<double>(ups) < 0.7 * static_cast<double>(v.size() - 1)) return std::nullopt;
  return v.back() / v.front();
}

bool is_relu(const std::string& type) { return type == "ReLU"; }
bool is_sigmoid(const std::string& type) { return type == "Sigmoid"; }
bool is_tanh(const std::string& type) { return type == "Tanh"; }
bool mode_matters(const std::string& type) {
  return type.find("BatchNorm") != std::string::npos || type.find("Dropout") != std::string::npos;
}

}  // namespace

struct Monitor::State {
  // One trainable parameter's series at the sampled steps.
  struct Param {
    std::string path;
    Tensor param;
    Tensor before;   // the value at the current step's start (sampled steps, or every step when tracing)
    Tensor initial;  // the value when training began, for the frozen check
    bool weight = false;  // >= 2 dims: the checks on ratios skip biases and norm scales, often 0 at init
    bool in_optimizer = true;
    bool had_grad = false, grad_nonzero = false;
    double pending_grad_norm = 0, pending_weight_norm = 0;
    std::vector<std::int64_t> steps;
    std::vector<double> grad_norm, weight_norm, grad_ratio, update_ratio;
  };
  // One leaf module's output statistics at the sampled steps.
  struct Activation {
    std::string path;
    std::string type;
    std::vector<char> ever_positive;  // per unit, over the current window (ReLU)
    std::int64_t window_batches = 0;
    double window_saturated = 0;
    std::vector<double> dead_windows, saturated_windows;  // one value per finished window
    std::vector<std::int64_t> window_steps;
    std::vector<std::int64_t> steps;
    std::vector<double> rms;
    bool seen_this_batch = false;
  };

  State(const Setup& s, Task t, MonitorOptions o, Report& r) : setup(s), task(std::move(t)), options(o), report(r) {}

  const Setup& setup;
  Task task;
  MonitorOptions options;
  Report& report;

  std::vector<Param> params;
  std::vector<Activation> activations;
  std::vector<nn::HookHandle> hooks;
  std::vector<nn::Module*> leaves;  // the modules of `activations`, slot by slot
  std::vector<LayerSample> history;
  std::set<std::string> added;

  bool collecting = true;  // the next training forward is a sampled one
  std::int64_t index = 0;  // the current step, counted from 0 (labels the samples)
  std::int64_t steps_seen = 0;
  bool began = false;
  bool own_loop = false;
  bool finished = false;

  // Fit: the state at the current step's start, for re-running a non-finite step.
  std::vector<std::pair<Tensor, Tensor>> buffers;  // live, copy
  std::vector<std::pair<Generator*, Generator>> generators;
  std::int64_t step_at_begin = 0;
  bool non_finite = false;
  bool pending_bad_gradient = false;  // own loops: seen in after_backward, reported in after_step

  std::vector<double> losses;
  std::vector<std::int64_t> loss_steps;
  std::vector<double> smoothed;  // median of the last smooth_window finite losses, once that many were seen
  std::vector<double> grad_total;  // global gradient norm at the sampled steps (own loops)
  std::vector<double> grad_total_steps;
  // Own loops: the gradients left after a sampled step, and for the next step's gradient g the share
  // |g - left| / |g|: near 0 when g still holds what was left (gradients accumulate), near 1 or more when zeroed.
  std::vector<Tensor> left_grads;
  bool compare_next = false;
  std::vector<double> carried_share;
  // Parameters frozen (requires_grad off) whose weights still look freshly initialised: path, fan-in.
  std::vector<std::pair<std::string, std::int64_t>> frozen_random;
  std::vector<double> regularizer_ratio;
  std::int64_t regularizer_first_step = -1;

  void add(Finding f) {
    if (!added.insert(f.check).second) return;
    report.add(std::move(f));
  }

  void begin() {
    if (began) return;
    began = true;
    const auto in_optimizer = setup.optimizer.parameters();
    for (auto& [path, p] : setup.model.named_trainable_parameters()) {
      Param track;
      track.path = path;
      track.param = p;
      track.before = raw::clone(p);
      track.initial = raw::clone(p);
      track.weight = p.dim() >= 2;
      track.in_optimizer = std::any_of(in_optimizer.begin(), in_optimizer.end(),
                                       [&](const optim::NamedParameter& np) { return np.tensor.impl_ptr() == p.impl_ptr(); });
      params.push_back(std::move(track));
    }
    for (auto& [path, p] : setup.model.named_parameters())
      if (!p.requires_grad() && looks_freshly_initialised(p)) frozen_random.emplace_back(path, p.numel() / p.size(0));
    for (auto& [path, b] : setup.model.named_buffers()) buffers.emplace_back(b, raw::clone(b));
    for (auto& [path, g] : setup.model.named_generators()) generators.emplace_back(g, *g);
  }

  // vigil's Linear and Conv layers draw their weights from U(-b, b) with b = 1 / sqrt(fan_in) (kaiming_uniform,
  // a = sqrt(5), as PyTorch): every |w| <= b and the std is b / sqrt(3). A weight that still fits both has never
  // been trained; a pretrained one has left the bound (a few hundred Adam steps at 1e-3 move weights by ~0.1,
  // past b = 0.036 for a fan-in of 784).
  static bool looks_freshly_initialised(const Tensor& w) {
    if (w.dim() < 2 || w.numel() < 64 || !is_floating(w.dtype())) return false;
    const double bound = 1.0 / std::sqrt(static_cast<double>(w.numel() / w.size(0)));
    double largest = 0, sum = 0, sum_sq = 0;
    for_each_value(w, [&](std::int64_t, double v) {
      largest = std::max(largest, std::abs(v));
      sum += v;
      sum_sq += v * v;
    });
    const double n = static_cast<double>(w.numel());
    const double mean = sum / n, std = std::sqrt(std::max(0.0, sum_sq / n - mean * mean));
    const double expected = bound / std::sqrt(3.0);
    return largest <= bound * (1 + 1e-6) && std::abs(std / expected - 1) < 0.1 && std::abs(mean) < 0.1 * expected;
  }

  // --- activations -------------------------------------------------------------------------------------------

  // One statistics slot per leaf module, made once; the hooks that feed them come and go (attach_hooks).
  void make_activation_slots() {
    for (auto& [path, module] : setup.model.named_modules()) {
      if (!module->named_children().empty()) continue;
      Activation a;
      a.path = path.empty() ? module->type_name() : path;
      a.type = module->type_name();
      activations.push_back(std::move(a));
      leaves.push_back(module);
    }
  }

  // Under fit() the hooks are attached only for the sampled steps: a hooked layer runs unfused (Sequential fuses
  // batch norm + ReLU only without hooks), so hooks on every step would slow every step. A hand-written loop
  // tells the monitor about a step only after its forward, so there they stay attached throughout.
  void attach_hooks() {
    if (!hooks.empty()) return;
    for (std::size_t slot = 0; slot < leaves.size(); ++slot) {
      hooks.push_back(leaves[slot]->register_forward_hook(
          [this, slot](const nn::Module&, const Tensor&, const Tensor& output) { observe_activation(slot, output); }));
    }
  }

  void detach_hooks() {
    for (nn::HookHandle& h : hooks) h.remove();
    hooks.clear();
  }

  void observe_activation(std::size_t slot, const Tensor& y) {
    if (!collecting || !GradMode::is_enabled() || !y.defined() || !is_floating(y.dtype()) || y.numel() == 0) return;
    Activation& a = activations[slot];
    const bool relu = is_relu(a.type), sigmoid = is_sigmoid(a.type), tanh = is_tanh(a.type);
    const std::int64_t units = y.dim() >= 2 ? y.shape()[1] : 1;
    std::int64_t inner = 1;
    for (std::int64_t d = 2; d < y.dim(); ++d) inner *= y.shape()[d];
    if (relu && static_cast<std::int64_t>(a.ever_positive.size()) != units) a.ever_positive.assign(units, 0);
    std::vector<char> positive(relu ? units : 0, 0);
    double sum = 0, sum_sq = 0;
    std::int64_t saturated = 0;
    // Row by row ([N, units, inner] in row-major order): the inner loops vectorise, no per-element index math.
    const Tensor c = y.dtype() == DType::Float32 ? raw::contiguous(y) : raw::to_dtype(raw::contiguous(y), DType::Float32);
    const float* p = c.data<float>();
    const std::int64_t rows = y.numel() / inner;
    for (std::int64_t r = 0; r < rows; ++r) {
      const float* row = p + r * inner;
      float s1 = 0, s2 = 0, top = -std::numeric_limits<float>::infinity();
      std::int64_t sat = 0;
      for (std::int64_t i = 0; i < inner; ++i) {
        s1 += row[i];
        s2 += row[i] * row[i];
        top = std::max(top, row[i]);
      }
      if (sigmoid)
        for (std::int64_t i = 0; i < inner; ++i) sat += (row[i] < 0.005f) | (row[i] > 0.995f);
      if (tanh)
        for (std::int64_t i = 0; i < inner; ++i) sat += std::abs(row[i]) > 0.99f;
      sum += s1;
      sum_sq += s2;
      saturated += sat;
      if (relu && top > 0) positive[r % units] = 1;
    }
    const double n = static_cast<double>(y.numel());
    const double mean = sum / n;
    LayerSample row;
    row.step = index;
    row.layer = a.path;
    row.activation_mean = mean;
    row.activation_std = std::sqrt(std::max(0.0, sum_sq / n - mean * mean));
    if (relu) {
      std::int64_t dead = 0;
      for (std::int64_t u = 0; u < units; ++u) {
        dead += !positive[u];
        a.ever_positive[u] |= positive[u];
      }
      row.dead_fraction = static_cast<double>(dead) / static_cast<double>(units);
    }
    row.saturated_fraction = static_cast<double>(saturated) / n;
    a.window_saturated += row.saturated_fraction;
    a.steps.push_back(index);
    a.rms.push_back(std::sqrt(sum_sq / n));
    a.seen_this_batch = true;
    history.push_back(std::move(row));
  }

  // Closes the sampled batch for the dead/saturated windows.
  void end_activation_batch() {
    for (Activation& a : activations) {
      if (!a.seen_this_batch) continue;
      a.seen_this_batch = false;
      if (++a.window_batches < options.activation_window) continue;
      const double batches = static_cast<double>(a.window_batches);
      if (!a.ever_positive.empty()) {
        const auto dead = std::count(a.ever_positive.begin(), a.ever_positive.end(), 0);
        a.dead_windows.push_back(static_cast<double>(dead) / static_cast<double>(a.ever_positive.size()));
        std::fill(a.ever_positive.begin(), a.ever_positive.end(), 0);
      }
      a.saturated_windows.push_back(a.window_saturated / batches);
      a.window_steps.push_back(index);
      a.window_batches = 0;
      a.window_saturated = 0;
    }
  }

  // --- parameters ---------------------------------------------------------------------------------------------

  void save_before(bool with_buffers) {
    NoGradGuard no_grad;
    for (Param& p : params) raw::copy_(p.before, p.param);
    if (!with_buffers) return;
    for (auto& [live, copy] : buffers) raw::copy_(copy, live);
    for (auto& [live, copy] : generators) copy = *live;
  }

  bool gradients_finite() const {
    return std::all_of(params.begin(), params.end(), [](const Param& p) { return all_finite(p.param.grad()); });
  }

  void observe_gradients() {
    double total = 0;
    for (Param& p : params) {
      const Tensor g = p.param.grad();
      p.pending_grad_norm = g.defined() ? norm(g) : 0.0;
      p.pending_weight_norm = norm(p.before);
      if (g.defined()) p.had_grad = true;
      if (p.pending_grad_norm > 0) p.grad_nonzero = true;
      total += p.pending_grad_norm * p.pending_grad_norm;
    }
    grad_total.push_back(std::sqrt(total));
    grad_total_steps.push_back(static_cast<double>(index));
  }

  void observe_updates() {
    for (Param& p : params) {
      const double w = p.pending_weight_norm;
      const double update = w > 0 ? distance(p.param, p.before) / w : 0.0;
      p.steps.push_back(index);
      p.grad_norm.push_back(p.pending_grad_norm);
      p.weight_norm.push_back(w);
      p.grad_ratio.push_back(w > 0 ? p.pending_grad_norm / w : 0.0);
      p.update_ratio.push_back(update);
      LayerSample row;
      row.step = index;
      row.layer = p.path;
      row.grad_norm = p.pending_grad_norm;
      row.weight_norm = w;
      row.update_ratio = update;
      history.push_back(std::move(row));
    }
  }

  // Own loops: what the gradients hold after a sampled step, to compare with the next step's.
  void keep_grads() {
    left_grads.clear();
    for (const Param& p : params) {
      const Tensor g = p.param.grad();
      left_grads.push_back(g.defined() ? raw::clone(g) : Tensor());
    }
    compare_next = true;
  }

  void compare_grads() {
    compare_next = false;
    double residual = 0, total = 0;
    for (std::size_t k = 0; k < params.size() && k < left_grads.size(); ++k) {
      const Tensor g = params[k].param.grad();
      if (!g.defined()) continue;
      const double now = norm(g);
      const double diff = left_grads[k].defined() ? distance(g, left_grads[k]) : now;
      residual += diff * diff;
      total += now * now;
    }
    left_grads.clear();
    if (total > 0 && std::isfinite(total) && std::isfinite(residual)) carried_share.push_back(std::sqrt(residual / total));
  }

  // Inside a training step every module should be in training mode (fit() sets it; own loops call train()).
  void check_modes() {
    std::vector<std::string> in_eval;
    bool matters = false;
    std::string first;
    for (const auto& [path, module] : std::as_const(setup.model).named_modules()) {
      if (module->training()) continue;
      const std::string name = path.empty() ? "the model" : path;
      if (first.empty()) first = name;
      in_eval.push_back(fmt::format("{} ({})", name, module->type_name()));
      matters = matters || mode_matters(module->type_name());
    }
    if (in_eval.empty()) return;
    std::string list;
    for (std::size_t i = 0; i < in_eval.size() && i < 5; ++i) list += (i ? ", " : "") + in_eval[i];
    if (in_eval.size() > 5) list += fmt::format(" and {} more", in_eval.size() - 5);
    add({.check = "train.wrong_mode",
         .severity = matters ? Severity::error : Severity::warning,
         .cause = Cause::model,
         .where = first,
         .value = static_cast<double>(in_eval.size()),
         .threshold = 0.0,
         .explanation = fmt::format("At step {} during training, {} module(s) were in eval mode: {}; batch norm then "
                                    "normalises with stale running statistics and dropout does nothing.",
                                    index, in_eval.size(), list),
         .suggestion = "Do not call .eval() on submodules before or during training (call model.train() at the start "
                       "of each epoch; use freeze() to stop a part from learning).",
         .excess = static_cast<double>(in_eval.size())});
  }

  void observe_regularizer(double loss) {
    if (!setup.regularizer || !std::isfinite(loss)) return;
    double penalty = 0;
    {
      NoGradGuard no_grad;
      penalty = setup.regularizer().item();
    }
    const double data = loss - penalty;
    if (!std::isfinite(penalty)) return;
    const double ratio = data > 1e-12 ? penalty / data : std::numeric_limits<double>::infinity();
    if (regularizer_first_step < 0 && ratio > options.max_regularizer_ratio) regularizer_first_step = index;
    regularizer_ratio.push_back(std::min(ratio, 1e12));
  }

  // --- the loss -------------------------------------------------------------------------------------------------

  void observe_loss(std::int64_t step, double loss) {
    losses.push_back(loss);
    loss_steps.push_back(step);
    if (!std::isfinite(loss)) return;
    check_spike(step, loss);
    std::vector<double> recent;
    for (auto it = losses.rbegin(); it != losses.rend() && static_cast<std::int64_t>(recent.size()) < options.smooth_window;
         ++it)
      if (std::isfinite(*it)) recent.push_back(*it);
    if (static_cast<std::int64_t>(recent.size()) < options.smooth_window) return;
    smoothed.push_back(median(recent));
    check_divergence(step);
  }

  void check_spike(std::int64_t step, double loss) {
    std::vector<double> window;
    for (std::size_t i = losses.size() - 1; i-- > 0 && static_cast<std::int64_t>(window.size()) < options.loss_window;)
      if (std::isfinite(losses[i])) window.push_back(losses[i]);
    if (window.size() < 20) return;
    const double med = median(window);
    std::vector<double> deviations;
    for (double v : window) deviations.push_back(std::abs(v - med));
    const double scale = std::max(1.4826 * median(deviations), 1e-12);
    if (!(loss > options.spike_factor * med && loss > med + 6.0 * scale)) return;
    add({.check = "train.loss_spike",
         .severity = Severity::warning,
         .cause = Cause::optimisation,
         .where = "",
         .value = loss / med,
         .threshold = options.spike_factor,
         .explanation = fmt::format("At step {} the batch loss jumped to {}, {}x the median {} of the previous {} "
                                    "batches.",
                                    step, num(loss), num(loss / med), num(med), window.size()),
         .suggestion = "Lower the learning rate or add warm-up, clip gradients (clip_grad_norm), and look for "
                       "outlier or mislabelled examples in that batch.",
         .excess = excess(loss / med, options.spike_factor)});
  }

  void check_divergence(std::int64_t step) {
    const double start = smoothed.front();
    const double best = *std::min_element(smoothed.begin(), smoothed.end());
    const double now = smoothed.back();
    if (!(best > 0) || now <= options.divergence_factor * best || now - best < 0.25 * (start - best)) return;
    add({.check = "train.divergence",
         .severity = Severity::error,
         .cause = Cause::optimisation,
         .where = "",
         .value = now / best,
         .threshold = options.divergence_factor,
         .explanation = fmt::format("By step {} the smoothed loss had risen to {}, {}x its minimum {} (it started at "
                                    "{}): training is diverging.",
                                    step, num(now), num(now / best), num(best), num(start)),
         .suggestion = "Lower the learning rate (by 3-10x), add warm-up or a decaying schedule, and clip gradients.",
         .excess = excess(now / best, options.divergence_factor)});
  }

  // --- non-finite values --------------------------------------------------------------------------------------

  struct Trace {
    std::optional<Anomaly> anomaly;
    std::string layer;  // empty: in the loss function
    std::string error;
  };

  Trace trace_step(train::TrainContext& context) {
    Trace trace;
    nn::Module& model = setup.model;
    StateSnapshot after(model, setup.optimizer);
    {
      NoGradGuard no_grad;
      for (Param& p : params) raw::copy_(p.param, p.before);
      for (auto& [live, copy] : buffers) raw::copy_(live, copy);
      for (auto& [live, copy] : generators) *live = copy;
    }
    std::optional<data::Batch> batch;
    std::int64_t i = 0;
    for (const data::Batch& b : setup.train.epoch(context.epoch)) {
      if (i++ == context.batch) {
        batch = b;
        break;
      }
    }
    if (!batch) {
      trace.error = "the batch could not be fetched again";
      return trace;
    }
    const bool was_collecting = collecting;
    collecting = false;
    std::vector<std::pair<std::uint64_t, std::string>> returns;  // (ops recorded when the module returned, path)
    {
      AnomalyGuard guard;
      std::vector<nn::HookHandle> trace_hooks;
      for (auto& [path, module] : model.named_modules()) {
        const std::string name = path.empty() ? module->type_name() : path;
        trace_hooks.push_back(module->register_forward_hook(
            [&returns, &guard, name](const nn::Module&, const Tensor&, const Tensor&) {
              returns.emplace_back(guard.ops_recorded(), name);
            }));
      }
      model.zero_grad();
      try {
        const Tensor out = model(batch->inputs);
        const Tensor loss = setup.loss(out, batch->targets);
        if (loss.requires_grad()) backward(loss);
      } catch (const std::exception& e) {
        trace.error = e.what();
      }
      for (nn::HookHandle& h : trace_hooks) h.remove();
      trace.anomaly = guard.first();
    }
    collecting = was_collecting;
    if (trace.anomaly && trace.anomaly->op_index > 0)
      for (const auto& [ops, name] : returns)
        if (ops >= trace.anomaly->op_index) {
          trace.layer = name;
          break;
        }
    return trace;
  }

  void on_non_finite(std::int64_t step, double loss, train::TrainContext* context) {
    if (non_finite) return;
    non_finite = true;
    const bool loss_bad = !std::isfinite(loss);
    Finding f;
    f.check = loss_bad ? "train.non_finite_loss" : "train.non_finite_gradient";
    f.severity = Severity::error;
    f.cause = Cause::optimisation;
    const std::string what = loss_bad ? fmt::format("the loss became {}", num(loss)) : "a gradient became NaN/Inf";
    std::string where_text = fmt::format("At step {}{} {}", step,
                                         context ? fmt::format(" (epoch {}, batch {})", context->epoch, context->batch)
                                                 : "",
                                         what);
    f.suggestion = "Lower the learning rate, clip gradients, and guard log/sqrt/division against 0 and negative "
                   "inputs (add an epsilon, clamp, or use log_softmax/cross_entropy instead of log(softmax)).";
    if (context != nullptr && options.trace_non_finite) {
      const Trace trace = trace_step(*context);
      if (trace.anomaly) {
        const Anomaly& a = *trace.anomaly;
        const std::string layer = trace.layer.empty() ? "the loss function" : fmt::format("layer '{}'", trace.layer);
        f.where = trace.layer.empty() ? "loss" : trace.layer;
        if (a.phase == Anomaly::Phase::forward && a.input >= 0) {
          f.cause = a.op_index == 1 ? Cause::non_finite_data : Cause::optimisation;
          f.explanation = fmt::format("{}; re-running that batch with anomaly checks, the first non-finite value "
                                      "was already in input {} of op '{}' in {}, the first op of the step{}.",
                                      where_text, a.input, a.op, layer,
                                      a.op_index == 1 ? " (the batch or a parameter is non-finite)" : "");
          if (a.op_index == 1) f.suggestion = "Check the data for NaN/Inf (data.non_finite) and the parameters "
                                              "after the previous step (lower the learning rate, clip gradients).";
        } else if (a.phase == Anomaly::Phase::forward) {
          f.cause = Cause::model;
          f.explanation = fmt::format("{}; re-running that batch with anomaly checks, op '{}' in {} produced the "
                                      "first NaN/Inf in the forward pass from finite inputs (a domain error such as "
                                      "log of a value <= 0, division by 0, or an overflow).",
                                      where_text, a.op, layer);
        } else {
          f.cause = Cause::model;
          f.explanation = fmt::format("{}; re-running that batch with anomaly checks, the forward pass was finite "
                                      "but the backward of op '{}' in {} produced the first NaN/Inf gradient{} "
                                      "(e.g. sqrt or log at 0, whose derivative is infinite).",
                                      where_text, a.op, layer,
                                      a.grad_output_finite ? " from a finite incoming gradient" : "");
        }
      } else {
        f.explanation = fmt::format("{}; re-running that batch with anomaly checks produced no NaN/Inf{}, so it "
                                    "came from the state or randomness of that moment rather than one op.",
                                    where_text, trace.error.empty() ? "" : " (the re-run failed: " + trace.error + ")");
      }
    } else {
      f.explanation = where_text + (context != nullptr
                                        ? "."
                                        : "; re-run that step under vigil::AnomalyGuard to find the op that made it.");
    }
    add(std::move(f));
    if (context != nullptr && options.stop_on_non_finite)
      context->request_stop(fmt::format("doctor: non-finite {} at step {}", loss_bad ? "loss" : "gradient", step));
  }

  // --- end of run ---------------------------------------------------------------------------------------------

  void finish() {
    if (finished) return;
    finished = true;
    check_gradients();
    check_updates();
    check_not_zeroed();
    check_frozen();
    check_frozen_random();
    check_units();
    check_growth();
    if (!non_finite) {
      check_plateau();
      check_oscillation();
      check_regularizer();
    }
  }

  void check_gradients() {
    const Param* exploding = nullptr;
    const Param* vanishing = nullptr;
    double high = 0, low = std::numeric_limits<double>::infinity();
    for (const Param& p : params) {
      if (!p.weight || p.grad_ratio.size() < 3 || !p.had_grad) continue;
      const double m = median(p.grad_ratio);
      if (m > options.max_grad_ratio && m > high) high = m, exploding = &p;
      if (m < options.min_grad_ratio && m < low) low = m, vanishing = &p;
    }
    if (exploding != nullptr)
      add({.check = "train.exploding_gradients",
           .severity = Severity::warning,
           .cause = Cause::optimisation,
           .where = exploding->path,
           .value = high,
           .threshold = options.max_grad_ratio,
           .explanation = fmt::format("The gradient of {} was {}x its weight's norm (median over {} sampled steps "
                                      "from step {}).",
                                      exploding->path, num(high), exploding->grad_ratio.size(), exploding->steps.front()),
           .suggestion = "Clip gradients (clip_grad_norm), lower the learning rate, and add normalisation (batch or "
                         "layer norm) or residual connections.",
           .excess = excess(high, options.max_grad_ratio)});
    if (vanishing != nullptr)
      add({.check = "train.vanishing_gradients",
           .severity = Severity::warning,
           .cause = Cause::optimisation,
           .where = vanishing->path,
           .value = low,
           .threshold = options.min_grad_ratio,
           .explanation = fmt::format("The gradient of {} was only {}x its weight's norm (median over {} sampled "
                                      "steps from step {}): it cannot learn.",
                                      vanishing->path, num(low), vanishing->grad_ratio.size(), vanishing->steps.front()),
           .suggestion = "Use ReLU-family activations instead of sigmoid/tanh in deep stacks, He/Xavier "
                         "initialisation, normalisation layers or residual connections.",
           .excess = excess(low, options.min_grad_ratio)});
    // Growth over time.
    for (const Param& p : params) {
      if (!p.weight || p.grad_norm.size() < 4 || !(p.grad_norm.front() > 0)) continue;
      const double growth = p.grad_norm.back() / p.grad_norm.front();
      if (!(growth > options.grad_growth)) continue;
      add({.check = "train.exploding_gradients",
           .severity = Severity::warning,
           .cause = Cause::optimisation,
           .where = p.path,
           .value = growth,
           .threshold = options.grad_growth,
           .explanation = fmt::format("The gradient norm of {} grew {}x between steps {} and {} (from {} to {}).",
                                      p.path, num(growth), p.steps.front(), p.steps.back(), num(p.grad_norm.front()),
                                      num(p.grad_norm.back())),
           .suggestion = "Clip gradients, lower the learning rate, and add normalisation layers.",
           .excess = excess(growth, options.grad_growth)});
      break;
    }
    // Across depth: first weight against last weight, step by step.
    std::vector<const Param*> weights;
    for (const Param& p : params)
      if (p.weight && p.had_grad && p.grad_ratio.size() >= 3) weights.push_back(&p);
    if (weights.size() < 2) return;
    const Param& first = *weights.front();
    const Param& last = *weights.back();
    std::vector<double> ratios;
    for (std::size_t i = 0; i < first.grad_ratio.size() && i < last.grad_ratio.size(); ++i)
      if (last.grad_ratio[i] > 0 && first.grad_ratio[i] > 0) ratios.push_back(first.grad_ratio[i] / last.grad_ratio[i]);
    if (ratios.size() < 3) return;
    const double r = median(ratios);
    if (r < 1.0 / options.depth_ratio)
      add({.check = "train.vanishing_gradients",
           .severity = Severity::warning,
           .cause = Cause::optimisation,
           .where = first.path,
           .value = r,
           .threshold = 1.0 / options.depth_ratio,
           .explanation = fmt::format("Relative to its weight, the gradient of the first layer {} was {}x that of "
                                      "the last layer {} (median over {} sampled steps): the early layers barely "
                                      "learn.",
                                      first.path, num(r), last.path, ratios.size()),
           .suggestion = "Use ReLU-family activations, He initialisation, batch/layer norm or residual connections "
                         "so gradients survive the depth.",
           .excess = excess(r, 1.0 / options.depth_ratio)});
    if (r > options.depth_ratio)
      add({.check = "train.exploding_gradients",
           .severity = Severity::warning,
           .cause = Cause::optimisation,
           .where = first.path,
           .value = r,
           .threshold = options.depth_ratio,
           .explanation = fmt::format("Relative to its weight, the gradient of the first layer {} was {}x that of "
                                      "the last layer {} (median over {} sampled steps): gradients grow on their "
                                      "way back through the layers.",
                                      first.path, num(r), last.path, ratios.size()),
           .suggestion = "Check the initialisation scale (He/Xavier), add normalisation layers and clip gradients.",
           .excess = excess(r, options.depth_ratio)});
  }

  void check_updates() {
    const Param* too_low = nullptr;
    const Param* too_high = nullptr;
    double low = std::numeric_limits<double>::infinity(), high = 0;
    std::int64_t n_low = 0, n_high = 0;
    for (const Param& p : params) {
      if (!p.weight || p.update_ratio.size() < 3 || !p.grad_nonzero || !p.in_optimizer) continue;
      const double m = median(p.update_ratio);
      if (m == 0.0) continue;  // never moved: train.frozen_parameter's business
      if (m < options.min_update_ratio) {
        ++n_low;
        if (m < low) low = m, too_low = &p;
      }
      if (m > options.max_update_ratio) {
        ++n_high;
        if (m > high) high = m, too_high = &p;
      }
    }
    if (too_low != nullptr)
      add({.check = "train.update_ratio_low",
           .severity = Severity::warning,
           .cause = Cause::optimisation,
           .where = too_low->path,
           .value = low,
           .threshold = options.min_update_ratio,
           .explanation = fmt::format("Each step changed {} by only {} of its norm (median over {} sampled steps; "
                                      "healthy is near 1e-3); {} weight(s) are this slow.",
                                      too_low->path, num(low), too_low->update_ratio.size(), n_low),
           .suggestion = "Raise the learning rate (try 10x), or check that weight decay or a schedule is not "
                         "shrinking it to nothing.",
           .excess = excess(low, options.min_update_ratio)});
    if (too_high != nullptr)
      add({.check = "train.update_ratio_high",
           .severity = Severity::warning,
           .cause = Cause::optimisation,
           .where = too_high->path,
           .value = high,
           .threshold = options.max_update_ratio,
           .explanation = fmt::format("Each step changed {} by {} of its norm (median over {} sampled steps; "
                                      "healthy is near 1e-3); {} weight(s) move this fast.",
                                      too_high->path, num(high), too_high->update_ratio.size(), n_high),
           .suggestion = "Lower the learning rate (try 10x smaller) or add warm-up.",
           .excess = excess(high, options.max_update_ratio)});
  }

  void check_frozen() {
    if (steps_seen < options.frozen_min_steps) return;
    std::vector<const Param*> frozen;
    for (const Param& p : params)
      if (bit_identical(p.param, p.initial)) frozen.push_back(&p);
    if (frozen.empty()) return;
    const Param& p = *frozen.front();
    std::string why;
    if (!p.in_optimizer)
      why = "the optimiser does not hold it (it was built from another parameter list)";
    else if (!p.had_grad)
      why = "no gradient ever reached it (it is unused in the forward pass, or detached from the loss)";
    else if (!p.grad_nonzero)
      why = "its gradient was always exactly zero";
    else
      why = "its gradient was non-zero but the optimiser never changed it (a learning rate of 0 for its group?)";
    std::string others;
    if (frozen.size() > 1) others = fmt::format(" ({} parameters in all)", frozen.size());
    add({.check = "train.frozen_parameter",
         .severity = Severity::warning,
         .cause = Cause::model,
         .where = p.path,
         .value = static_cast<double>(steps_seen),
         .threshold = static_cast<double>(options.frozen_min_steps),
         .explanation = fmt::format("{} requires a gradient but is bit-identical after {} steps{}: {}.", p.path,
                                    steps_seen, others, why),
         .suggestion = "Pass model.trainable_parameters() to the optimiser, make sure the layer is used in forward "
                       "and that nothing detaches its output; freeze() it explicitly if it is meant to stay fixed.",
         .excess = static_cast<double>(frozen.size())});
  }

  void check_frozen_random() {
    if (frozen_random.empty() || steps_seen < options.frozen_min_steps) return;
    const auto& [path, fan_in] = frozen_random.front();
    std::string others;
    if (frozen_random.size() > 1) others = fmt::format(" ({} frozen weights in all)", frozen_random.size());
    add({.check = "train.frozen_parameter",
         .severity = Severity::warning,
         .cause = Cause::model,
         .where = path,
         .value = static_cast<double>(frozen_random.size()),
         .threshold = 0.0,
         .explanation = fmt::format("{} is frozen (requires_grad off){}, yet its values still look freshly "
                                    "initialised (within U(-b, b), b = 1/sqrt({}), with the std of that "
                                    "distribution): a random layer that never trains passes on random features.",
                                    path, others, fan_in),
         .suggestion = "Unfreeze it (model.unfreeze(...)) and pass its parameters to the optimiser, or load the "
                       "pretrained weights it was meant to hold before freezing it.",
         .excess = static_cast<double>(frozen_random.size())});
  }

  void check_units() {
    for (const Activation& a : activations) {
      if (a.dead_windows.size() < 2) continue;
      const double first = a.dead_windows.front(), last = a.dead_windows.back();
      if (last >= options.max_dead_fraction && last - first >= options.min_increase) {
        std::int64_t step = a.window_steps.back();
        for (std::size_t i = 0; i < a.dead_windows.size(); ++i)
          if (a.dead_windows[i] >= options.max_dead_fraction) {
            step = a.window_steps[i];
            break;
          }
        add({.check = "train.dead_units",
             .severity = Severity::warning,
             .cause = Cause::optimisation,
             .where = a.path,
             .value = last,
             .threshold = options.max_dead_fraction,
             .explanation = fmt::format("{:.0f}% of the units of {} were never positive over the last {} sampled "
                                        "batches (against {:.0f}% at the start; first over the threshold by step {}): "
                                        "they died during training and no longer learn.",
                                        100 * last, a.path, options.activation_window, 100 * first, step),
             .suggestion = "Lower the learning rate, use LeakyReLU/ELU/GELU, or add batch norm before the ReLU.",
             .excess = last - options.max_dead_fraction});
        break;
      }
    }
    for (const Activation& a : activations) {
      if (a.saturated_windows.size() < 2) continue;
      const double first = a.saturated_windows.front(), last = a.saturated_windows.back();
      if (last >= options.max_saturated_fraction && last - first >= options.min_increase) {
        add({.check = "train.saturated_units",
             .severity = Severity::warning,
             .cause = Cause::optimisation,
             .where = a.path,
             .value = last,
             .threshold = options.max_saturated_fraction,
             .explanation = fmt::format("{:.0f}% of the outputs of {} ({}) sat in its flat tails over the last {} "
                                        "sampled batches (against {:.0f}% at the start): their gradients vanish.",
                                        100 * last, a.path, a.type, options.activation_window, 100 * first),
             .suggestion = "Lower the learning rate, normalise the inputs of the layer (batch/layer norm), or use "
                           "ReLU-family activations in hidden layers.",
             .excess = last - options.max_saturated_fraction});
        break;
      }
    }
  }

  void check_growth() {
    for (const Activation& a : activations) {
      const auto growth = steady_growth(a.rms);
      if (!growth || *growth < options.activation_growth) continue;
      add({.check = "train.activation_growth",
           .severity = Severity::warning,
           .cause = Cause::optimisation,
           .where = a.path,
           .value = *growth,
           .threshold = options.activation_growth,
           .explanation = fmt::format("The RMS of the output of {} rose steadily {}x between steps {} and {} (from "
                                      "{} to {}).",
                                      a.path, num(*growth), a.steps.front(), a.steps.back(), num(a.rms.front()),
                                      num(a.rms.back())),
           .suggestion = "Add normalisation (batch/layer norm), weight decay, or lower the learning rate.",
           .excess = excess(*growth, options.activation_growth)});
      break;
    }
    for (const Param& p : params) {
      if (!p.weight) continue;
      const auto growth = steady_growth(p.weight_norm);
      if (!growth || *growth < options.weight_growth) continue;
      add({.check = "train.weight_growth",
           .severity = Severity::warning,
           .cause = Cause::optimisation,
           .where = p.path,
           .value = *growth,
           .threshold = options.weight_growth,
           .explanation = fmt::format("The norm of {} rose steadily {}x between steps {} and {} (from {} to {}).",
                                      p.path, num(*growth), p.steps.front(), p.steps.back(), num(p.weight_norm.front()),
                                      num(p.weight_norm.back())),
           .suggestion = "Add weight decay, lower the learning rate, or add normalisation layers.",
           .excess = excess(*growth, options.weight_growth)});
      break;
    }
  }

  void check_plateau() {
    const auto n = static_cast<std::int64_t>(smoothed.size());
    if (n < 2) return;
    const std::int64_t run = static_cast<std::int64_t>(losses.size());
    const std::int64_t needed = std::max(options.plateau_steps, static_cast<std::int64_t>(0.3 * static_cast<double>(run)));
    if (n <= needed) return;
    double best = smoothed.front();
    std::int64_t last_improvement = 0;
    for (std::int64_t i = 1; i < n; ++i) {
      if (smoothed[i] < best * (1.0 - options.plateau_improvement)) {
        best = smoothed[i];
        last_improvement = i;
      }
    }
    const std::int64_t flat = n - 1 - last_improvement;
    const double start = smoothed.front(), now = smoothed.back();
    if (flat < needed || !(now >= options.plateau_level * start)) return;
    const std::int64_t offset = run - n;  // smoothed[i] belongs to losses[i + offset]
    const std::int64_t since = loss_steps[static_cast<std::size_t>(last_improvement + offset)];
    std::string chance;
    if (task.classification && task.num_classes > 1)
      chance = fmt::format(" (chance level for {} classes is {})", task.num_classes,
                           num(std::log(static_cast<double>(task.num_classes))));
    add({.check = "train.plateau",
         .severity = Severity::warning,
         .cause = Cause::optimisation,
         .where = "",
         .value = static_cast<double>(flat),
         .threshold = static_cast<double>(needed),
         .explanation = fmt::format("The smoothed loss has not improved by {}% since step {} ({} steps) and sits at "
                                    "{}, {:.0f}% of its start {}{}.",
                                    100 * options.plateau_improvement, since, flat, num(now), 100 * now / start,
                                    num(start), chance),
         .suggestion = "Tune the learning rate (try 3-10x higher and lower), check the initialisation and input "
                       "normalisation, or add a schedule (reduce on plateau, warm restarts).",
         .excess = excess(static_cast<double>(flat), static_cast<double>(needed))});
  }

  void check_oscillation() {
    const std::int64_t w = options.oscillation_window;
    std::int64_t windows = 0, oscillating = 0, first_step = -1;
    double worst = 0;
    for (std::int64_t start = 0; start + w <= static_cast<std::int64_t>(losses.size()); start += w) {
      std::vector<double> y(losses.begin() + start, losses.begin() + start + w);
      if (!std::all_of(y.begin(), y.end(), [](double v) { return std::isfinite(v); })) continue;
      ++windows;
      // Detrend by a least-squares line, then lag-1 autocorrelation of the residuals.
      std::vector<double> x(static_cast<std::size_t>(w));
      std::iota(x.begin(), x.end(), 0.0);
      const double mx = (static_cast<double>(w) - 1) / 2, my = std::accumulate(y.begin(), y.end(), 0.0) / static_cast<double>(w);
      double sxy = 0, sxx = 0;
      for (std::int64_t i = 0; i < w; ++i) sxy += (x[i] - mx) * (y[i] - my), sxx += (x[i] - mx) * (x[i] - mx);
      const double slope = sxy / sxx;
      std::vector<double> r(static_cast<std::size_t>(w));
      for (std::int64_t i = 0; i < w; ++i) r[i] = y[i] - (my + slope * (x[i] - mx));
      double num_ac = 0, den = 0, change = 0;
      for (std::int64_t i = 0; i < w; ++i) den += r[i] * r[i];
      for (std::int64_t i = 1; i < w; ++i) num_ac += r[i] * r[i - 1], change += std::abs(y[i] - y[i - 1]);
      const double ac = den > 0 ? num_ac / den : 0.0;
      const double amplitude = change / static_cast<double>(w - 1) / std::max(median(y), 1e-12);
      if (ac < -0.5 && amplitude > options.oscillation_amplitude) {
        ++oscillating;
        worst = std::max(worst, amplitude);
        if (first_step < 0) first_step = loss_steps[static_cast<std::size_t>(start)];
      }
    }
    if (oscillating < 3 || 2 * oscillating < windows) return;
    add({.check = "train.oscillation",
         .severity = Severity::warning,
         .cause = Cause::optimisation,
         .where = "",
         .value = worst,
         .threshold = options.oscillation_amplitude,
         .explanation = fmt::format("The loss alternated up and down from step to step in {} of {} windows of {} "
                                    "steps (from step {}), with changes up to {:.0f}% of its level: the steps "
                                    "overshoot the minimum.",
                                    oscillating, windows, w, first_step, 100 * worst),
         .suggestion = "Lower the learning rate (try 3x smaller), or raise momentum damping / use Adam with a "
                       "smaller rate.",
         .excess = excess(worst, options.oscillation_amplitude)});
  }

  void check_not_zeroed() {
    if (!own_loop || carried_share.size() < 3 || grad_total.size() < 3) return;
    const double share = median(carried_share);
    const double largest = *std::max_element(grad_total.begin(), grad_total.end());
    const double growth = grad_total.front() > 0 ? largest / grad_total.front() : 0.0;
    if (!(share < options.not_zeroed_share) || growth < options.not_zeroed_growth) return;
    add({.check = "train.gradients_not_zeroed",
         .severity = Severity::error,
         .cause = Cause::model,
         .where = "",
         .value = share,
         .threshold = options.not_zeroed_share,
         .explanation = fmt::format("After backward, each step's gradient still held what the previous step left "
                                    "(what backward added was only {:.0f}% of the gradient's norm, median over {} "
                                    "steps), and the gradient norm grew {}x from step {} to step {}: gradients are "
                                    "accumulating across steps, so each update applies the sum of all past "
                                    "gradients (the loss diverges or stalls as a consequence).",
                                    100 * share, carried_share.size(), num(growth), grad_total_steps.front(),
                                    grad_total_steps.back()),
         .suggestion = "Call optimizer.zero_grad() (or model.zero_grad()) before each backward pass.",
         .excess = excess(options.not_zeroed_share, std::max(share, 1e-12))});
  }

  void check_regularizer() {
    if (regularizer_ratio.size() < 3) return;
    const double m = median(regularizer_ratio);
    if (!(m > options.max_regularizer_ratio)) return;
    add({.check = "train.regularizer_dominates",
         .severity = Severity::warning,
         .cause = Cause::capacity,
         .where = "",
         .value = m,
         .threshold = options.max_regularizer_ratio,
         .explanation = fmt::format("The regularisation penalty was {}x the data loss (median over {} sampled steps, "
                                    "first from step {}): training mostly shrinks the weights instead of fitting "
                                    "the data.",
                                    num(m), regularizer_ratio.size(), regularizer_first_step),
         .suggestion = "Lower the penalty's coefficient (try 10x smaller).",
         .excess = excess(m, options.max_regularizer_ratio)});
  }
};

Monitor::Monitor(const Setup& setup, Task task, MonitorOptions options, Report& report)
    : state_(std::make_unique<State>(setup, std::move(task), options, report)) {
  VIGIL_CHECK(options.every >= 1, Error, "Monitor: every must be >= 1, got {}", options.every);
  VIGIL_CHECK(options.activation_window >= 1 && options.oscillation_window >= 4 && options.smooth_window >= 1, Error,
              "Monitor: activation_window >= 1, oscillation_window >= 4 and smooth_window >= 1 required");
  state_->make_activation_slots();
  state_->attach_hooks();
}

Monitor::~Monitor() { state_->detach_hooks(); }

const std::vector<LayerSample>& Monitor::layer_history() const { return state_->history; }
const std::vector<double>& Monitor::losses() const { return state_->losses; }

void Monitor::on_train_begin(train::TrainContext& context) {
  state_->begin();
  state_->index = context.step;
  state_->detach_hooks();  // attached again for each sampled step
}

void Monitor::on_batch_begin(train::TrainContext& context) {
  State& s = *state_;
  s.begin();
  s.index = context.step;
  s.step_at_begin = context.step;
  s.collecting = context.step % s.options.every == 0;
  if (s.collecting) s.attach_hooks();
  const bool trace = s.options.trace_non_finite && !s.non_finite;
  if (s.collecting || trace) s.save_before(trace);
}

void Monitor::on_batch_end(train::TrainContext& context) {
  State& s = *state_;
  const double loss = context.batch_logs.count("loss") ? context.batch_logs.at("loss") : 0.0;
  const bool stepped = context.step != s.step_at_begin;
  s.observe_loss(s.index, loss);
  if (!s.non_finite && (!std::isfinite(loss) || (stepped && !s.gradients_finite())))
    s.on_non_finite(s.index, loss, &context);
  if (s.collecting) {
    s.end_activation_batch();
    if (stepped && !s.non_finite) {
      s.observe_gradients();
      s.observe_updates();
      s.check_modes();
      s.observe_regularizer(loss);
    }
  }
  if (stepped) ++s.steps_seen;
  s.collecting = false;
  s.detach_hooks();
}

void Monitor::on_train_end(train::TrainContext&) { state_->finish(); }

void Monitor::after_backward(std::int64_t step) {
  State& s = *state_;
  s.begin();
  s.own_loop = true;
  s.index = step;
  if (s.compare_next) s.compare_grads();
  // Decided in after_step, which knows whether the loss too was non-finite.
  s.pending_bad_gradient = !s.non_finite && !s.gradients_finite();
  if (!s.collecting) return;
  s.save_before(false);
  s.end_activation_batch();
  s.observe_gradients();
  s.check_modes();
}

void Monitor::after_step(std::int64_t step, double loss) {
  State& s = *state_;
  s.begin();
  s.own_loop = true;
  s.index = step;
  s.observe_loss(step, loss);
  if (!s.non_finite && (!std::isfinite(loss) || s.pending_bad_gradient)) s.on_non_finite(step, loss, nullptr);
  s.pending_bad_gradient = false;
  if (s.collecting && !s.non_finite) {
    s.observe_updates();
    s.observe_regularizer(loss);
    s.keep_grads();
  }
  ++s.steps_seen;
  s.collecting = s.steps_seen % s.options.every == 0;
}

void Monitor::finish() { state_->finish(); }

}  // namespace vigil::doctor
