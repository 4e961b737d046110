// Adadelta: see adadelta.hpp for the update. The elementwise order of operations follows torch.optim.Adadelta's
// _single_tensor_adadelta, each PyTorch op rounding to the parameter's dtype where it does.
#include <vigil/optim/adadelta.hpp>

#include "fused.hpp"

#include <cmath>

namespace vigil::optim {

namespace {

const AdadeltaOptions& checked(const AdadeltaOptions& o) {
  check_hyper(o.lr >= 0, "Adadelta", "learning rate", ">= 0", o.lr);
  check_hyper(o.rho >= 0 && o.rho <= 1, "Adadelta", "rho", "in [0, 1]", o.rho);
  check_hyper(o.eps >= 0, "Adadelta", "eps", ">= 0", o.eps);
  check_hyper(o.weight_decay >= 0, "Adadelta", "weight_decay", ">= 0", o.weight_decay);
  return o;
}

}  // namespace

Adadelta::Adadelta(std::vector<ParamGroup> groups, const AdadeltaOptions& options)
    : Optimizer("Adadelta", std::move(groups), checked(options).lr, options.weight_decay, options.weight_decay_kind,
                {{"square_avg", 0.0}, {"acc_delta", 0.0}}),
      options_(options) {}

Adadelta::Adadelta(std::vector<NamedParameter> params, const AdadeltaOptions& options)
    : Adadelta(std::vector<ParamGroup>{ParamGroup{std::move(params), {}, {}}}, options) {}

void Adadelta::update(const Tensor& p, const Tensor& g, ParamState& state, const StepScalars& s) {
  kernels::dispatch_floating(p.dtype(), "Adadelta.step", [&](auto zero) {
    using T = decltype(zero);
    T* pp = p.data<T>();
    const T* pg = g.data<T>();
    T* pv_sq = state.buffers.at("square_avg").data<T>();
    T* pu = state.buffers.at("acc_delta").data<T>();
    const T decay = static_cast<T>(s.decay_factor), wd = static_cast<T>(s.coupled_wd);
    const T rho = static_cast<T>(options_.rho), one_minus_rho = static_cast<T>(1.0 - options_.rho);
    const T eps = static_cast<T>(options_.eps), neg_lr = static_cast<T>(-s.lr);
    detail::with_flags(
        [&](auto coupled) {
          detail::fused_loop(p.numel(), [=](std::int64_t i) {
            const T p0 = pp[i];
            T gv = pg[i];
            if constexpr (coupled) gv = gv + wd * p0;
            const T v = pv_sq[i] * rho + one_minus_rho * gv * gv;
            pv_sq[i] = v;
            const T u = pu[i];
            const T delta = std::sqrt(u + eps) / std::sqrt(v + eps) * gv;
            pu[i] = u * rho + one_minus_rho * delta * delta;
            pp[i] = p0 * decay + neg_lr * delta;
          });
        },
        s.coupled_wd != 0);
  });
}

}  // namespace vigil::optim
