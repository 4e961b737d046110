// RMSprop: see rmsprop.hpp for the update. The elementwise order of operations follows torch.optim.RMSprop's
// _single_tensor_rmsprop, each PyTorch op rounding to the parameter's dtype where it does.
#include <vigil/optim/rmsprop.hpp>

#include "fused.hpp"

#include <cmath>

namespace vigil::optim {

namespace {

const RMSpropOptions& checked(const RMSpropOptions& o) {
  check_hyper(o.lr >= 0, "RMSprop", "learning rate", ">= 0", o.lr);
  check_hyper(o.alpha >= 0 && o.alpha <= 1, "RMSprop", "alpha", "in [0, 1]", o.alpha);
  check_hyper(o.eps >= 0, "RMSprop", "eps", ">= 0", o.eps);
  check_hyper(o.weight_decay >= 0, "RMSprop", "weight_decay", ">= 0", o.weight_decay);
  check_hyper(o.momentum >= 0, "RMSprop", "momentum", ">= 0", o.momentum);
  return o;
}

std::vector<Optimizer::BufferSpec> rmsprop_buffers(const RMSpropOptions& o) {
  std::vector<Optimizer::BufferSpec> buffers{{"square_avg", 0.0}};
  if (o.momentum > 0) buffers.push_back({"momentum_buffer", 0.0});
  if (o.centered) buffers.push_back({"grad_avg", 0.0});
  return buffers;
}

}  // namespace

RMSprop::RMSprop(std::vector<ParamGroup> groups, const RMSpropOptions& options)
    : Optimizer("RMSprop", std::move(groups), checked(options).lr, options.weight_decay, options.weight_decay_kind,
                rmsprop_buffers(options)),
      options_(options) {}

RMSprop::RMSprop(std::vector<NamedParameter> params, const RMSpropOptions& options)
    : RMSprop(std::vector<ParamGroup>{ParamGroup{std::move(params), {}, {}}}, options) {}

void RMSprop::update(const Tensor& p, const Tensor& g, ParamState& state, const StepScalars& s) {
  kernels::dispatch_floating(p.dtype(), "RMSprop.step", [&](auto zero) {
    using T = decltype(zero);
    T* pp = p.data<T>();
    const T* pg = g.data<T>();
    T* psq = state.buffers.at("square_avg").data<T>();
    T* pb = options_.momentum > 0 ? state.buffers.at("momentum_buffer").data<T>() : nullptr;
    T* pm = options_.centered ? state.buffers.at("grad_avg").data<T>() : nullptr;
    const T decay = static_cast<T>(s.decay_factor), wd = static_cast<T>(s.coupled_wd);
    const T alpha = static_cast<T>(options_.alpha), one_minus_alpha = static_cast<T>(1.0 - options_.alpha);
    const T eps = static_cast<T>(options_.eps), mu = static_cast<T>(options_.momentum);
    const T neg_lr = static_cast<T>(-s.lr);
    detail::with_flags(
        [&](auto coupled, auto centered, auto momentum) {
          detail::fused_loop(p.numel(), [=](std::int64_t i) {
            const T p0 = pp[i];
            T gv = pg[i];
            if constexpr (coupled) gv = gv + wd * p0;
            const T v = psq[i] * alpha + one_minus_alpha * gv * gv;
            psq[i] = v;
            T avg;
            if constexpr (centered) {
              const T m = pm[i] * alpha + one_minus_alpha * gv;
              pm[i] = m;
              avg = std::sqrt(v - m * m) + eps;  // v - m^2 estimates g's variance: divide by its std. deviation
            } else {
              avg = std::sqrt(v) + eps;
            }
            if constexpr (momentum) {
              const T b = pb[i] * mu + gv / avg;
              pb[i] = b;
              pp[i] = p0 * decay + neg_lr * b;
            } else {
              pp[i] = p0 * decay + (neg_lr * gv) / avg;
            }
          });
        },
        s.coupled_wd != 0, pm != nullptr, pb != nullptr);
  });
}

}  // namespace vigil::optim
