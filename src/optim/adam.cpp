// Adam and AdamW: see adam.hpp for the update. The elementwise order of operations follows torch.optim.Adam's
// _single_tensor_adam (and AdamW's), each PyTorch op rounding to the parameter's dtype where it does; the bias
// corrections are Python-float (double) scalars there and here.
#include <vigil/optim/adam.hpp>

#include "fused.hpp"

#include <algorithm>
#include <cmath>

namespace vigil::optim {

namespace {

const AdamOptions& checked(const std::string& name, const AdamOptions& o) {
  check_hyper(o.lr >= 0, name, "learning rate", ">= 0", o.lr);
  check_hyper(o.eps >= 0, name, "eps", ">= 0", o.eps);
  check_hyper(o.beta1 >= 0 && o.beta1 < 1, name, "beta1", "in [0, 1)", o.beta1);
  check_hyper(o.beta2 >= 0 && o.beta2 < 1, name, "beta2", "in [0, 1)", o.beta2);
  check_hyper(o.weight_decay >= 0, name, "weight_decay", ">= 0", o.weight_decay);
  return o;
}

std::vector<Optimizer::BufferSpec> adam_buffers(const AdamOptions& o) {
  std::vector<Optimizer::BufferSpec> buffers{{"exp_avg", 0.0}, {"exp_avg_sq", 0.0}};
  if (o.amsgrad) buffers.push_back({"max_exp_avg_sq", 0.0});
  return buffers;
}

AdamOptions as_adam(const AdamWOptions& o) {
  return AdamOptions{o.lr, o.beta1, o.beta2, o.eps, o.weight_decay, o.amsgrad, o.weight_decay_kind};
}

}  // namespace

Adam::Adam(std::string name, std::vector<ParamGroup> groups, const AdamOptions& options)
    : Optimizer(name, std::move(groups), checked(name, options).lr, options.weight_decay, options.weight_decay_kind,
                adam_buffers(options)),
      options_(options) {}

Adam::Adam(std::vector<ParamGroup> groups, const AdamOptions& options) : Adam("Adam", std::move(groups), options) {}

Adam::Adam(std::vector<NamedParameter> params, const AdamOptions& options)
    : Adam("Adam", std::vector<ParamGroup>{ParamGroup{std::move(params), {}, {}}}, options) {}

AdamW::AdamW(std::vector<ParamGroup> groups, const AdamWOptions& options)
    : Adam("AdamW", std::move(groups), as_adam(options)) {}

AdamW::AdamW(std::vector<NamedParameter> params, const AdamWOptions& options)
    : Adam("AdamW", std::vector<ParamGroup>{ParamGroup{std::move(params), {}, {}}}, as_adam(options)) {}

void Adam::update(const Tensor& p, const Tensor& g, ParamState& state, const StepScalars& s) {
  const double t = static_cast<double>(state.step);
  const double bias_correction1 = 1.0 - std::pow(options_.beta1, t);
  const double bias_correction2_sqrt = std::sqrt(1.0 - std::pow(options_.beta2, t));
  const double step_size = s.lr / bias_correction1;
  kernels::dispatch_floating(p.dtype(), "Adam.step", [&](auto zero) {
    using T = decltype(zero);
    T* pp = p.data<T>();
    const T* pg = g.data<T>();
    T* pm = state.buffers.at("exp_avg").data<T>();
    T* pv = state.buffers.at("exp_avg_sq").data<T>();
    T* pvmax = options_.amsgrad ? state.buffers.at("max_exp_avg_sq").data<T>() : nullptr;
    const T decay = static_cast<T>(s.decay_factor), wd = static_cast<T>(s.coupled_wd);
    const T beta1 = static_cast<T>(options_.beta1), one_minus_beta1 = static_cast<T>(1.0 - options_.beta1);
    const T beta2 = static_cast<T>(options_.beta2), one_minus_beta2 = static_cast<T>(1.0 - options_.beta2);
    const T bc2_sqrt = static_cast<T>(bias_correction2_sqrt), eps = static_cast<T>(options_.eps);
    const T neg_step_size = static_cast<T>(-step_size);
    detail::with_flags(
        [&](auto coupled, auto amsgrad) {
          detail::fused_loop(p.numel(), [=](std::int64_t i) {
            const T p0 = pp[i];
            T gv = pg[i];
            if constexpr (coupled) gv = gv + wd * p0;
            const T m = pm[i] * beta1 + one_minus_beta1 * gv;
            const T v = pv[i] * beta2 + one_minus_beta2 * gv * gv;
            pm[i] = m;
            pv[i] = v;
            T v_used = v;
            if constexpr (amsgrad) {
              v_used = std::max(pvmax[i], v);
              pvmax[i] = v_used;
            }
            pp[i] = p0 * decay + (neg_step_size * m) / (std::sqrt(v_used) / bc2_sqrt + eps);
          });
        },
        s.coupled_wd != 0, pvmax != nullptr);
  });
}

}  // namespace vigil::optim
