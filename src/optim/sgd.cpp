// SGD: see sgd.hpp for the update. The elementwise order of operations follows torch.optim.SGD's
// _single_tensor_sgd, each PyTorch op rounding to the parameter's dtype where it does.
#include <vigil/optim/sgd.hpp>

#include "fused.hpp"

namespace vigil::optim {

namespace {

const SGDOptions& checked(const SGDOptions& o) {
  check_hyper(o.lr >= 0, "SGD", "learning rate", ">= 0", o.lr);
  check_hyper(o.momentum >= 0, "SGD", "momentum", ">= 0", o.momentum);
  check_hyper(o.weight_decay >= 0, "SGD", "weight_decay", ">= 0", o.weight_decay);
  check_hyper(!o.nesterov || o.momentum > 0, "SGD", "momentum (with Nesterov)", "> 0", o.momentum);
  check_hyper(!o.nesterov || o.dampening == 0, "SGD", "dampening (with Nesterov)", "0", o.dampening);
  return o;
}

std::vector<Optimizer::BufferSpec> sgd_buffers(const SGDOptions& o) {
  if (o.momentum == 0) return {};
  return {{"momentum_buffer", 0.0}};
}

}  // namespace

SGD::SGD(std::vector<ParamGroup> groups, const SGDOptions& options)
    : Optimizer("SGD", std::move(groups), checked(options).lr, options.weight_decay, options.weight_decay_kind,
                sgd_buffers(options)),
      options_(options) {}

SGD::SGD(std::vector<NamedParameter> params, const SGDOptions& options)
    : SGD(std::vector<ParamGroup>{ParamGroup{std::move(params), {}, {}}}, options) {}

void SGD::update(const Tensor& p, const Tensor& g, ParamState& state, const StepScalars& s) {
  kernels::dispatch_floating(p.dtype(), "SGD.step", [&](auto zero) {
    using T = decltype(zero);
    T* pp = p.data<T>();
    const T* pg = g.data<T>();
    T* pb = options_.momentum != 0 ? state.buffers.at("momentum_buffer").data<T>() : nullptr;
    const bool first = state.step == 1;  // PyTorch starts the buffer at the first gradient, undamped
    const bool nesterov = options_.nesterov;
    const T decay = static_cast<T>(s.decay_factor), wd = static_cast<T>(s.coupled_wd);
    const T mu = static_cast<T>(options_.momentum), keep = static_cast<T>(1.0 - options_.dampening);
    const T neg_lr = static_cast<T>(-s.lr);
    detail::with_flags(
        [&](auto coupled, auto momentum, auto first_step, auto nesterov_step) {
          detail::fused_loop(p.numel(), [=](std::int64_t i) {
            const T p0 = pp[i];
            T d = pg[i];
            if constexpr (coupled) d = d + wd * p0;
            if constexpr (momentum) {
              T b = d;
              if constexpr (!first_step) b = pb[i] * mu + keep * d;
              pb[i] = b;
              d = nesterov_step ? d + mu * b : b;
            }
            pp[i] = p0 * decay + neg_lr * d;
          });
        },
        s.coupled_wd != 0, pb != nullptr, first, nesterov);
  });
}

}  // namespace vigil::optim
