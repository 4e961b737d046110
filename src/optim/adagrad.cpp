// Adagrad: see adagrad.hpp for the update. The elementwise order of operations follows torch.optim.Adagrad's
// _single_tensor_adagrad, each PyTorch op rounding to the parameter's dtype where it does.
#include <vigil/optim/adagrad.hpp>

#include "fused.hpp"

#include <cmath>

namespace vigil::optim {

namespace {

const AdagradOptions& checked(const AdagradOptions& o) {
  check_hyper(o.lr >= 0, "Adagrad", "learning rate", ">= 0", o.lr);
  check_hyper(o.lr_decay >= 0, "Adagrad", "lr_decay", ">= 0", o.lr_decay);
  check_hyper(o.weight_decay >= 0, "Adagrad", "weight_decay", ">= 0", o.weight_decay);
  check_hyper(o.initial_accumulator_value >= 0, "Adagrad", "initial_accumulator_value", ">= 0",
              o.initial_accumulator_value);
  check_hyper(o.eps >= 0, "Adagrad", "eps", ">= 0", o.eps);
  return o;
}

}  // namespace

Adagrad::Adagrad(std::vector<ParamGroup> groups, const AdagradOptions& options)
    : Optimizer("Adagrad", std::move(groups), checked(options).lr, options.weight_decay, options.weight_decay_kind,
                {{"sum", options.initial_accumulator_value}}),
      options_(options) {}

Adagrad::Adagrad(std::vector<NamedParameter> params, const AdagradOptions& options)
    : Adagrad(std::vector<ParamGroup>{ParamGroup{std::move(params), {}, {}}}, options) {}

void Adagrad::update(const Tensor& p, const Tensor& g, ParamState& state, const StepScalars& s) {
  // The learning rate decays with this parameter's own update count, in double as PyTorch's Python scalar.
  const double clr = s.lr / (1.0 + static_cast<double>(state.step - 1) * options_.lr_decay);
  kernels::dispatch_floating(p.dtype(), "Adagrad.step", [&](auto zero) {
    using T = decltype(zero);
    T* pp = p.data<T>();
    const T* pg = g.data<T>();
    T* psum = state.buffers.at("sum").data<T>();
    const T decay = static_cast<T>(s.decay_factor), wd = static_cast<T>(s.coupled_wd);
    const T eps = static_cast<T>(options_.eps), neg_clr = static_cast<T>(-clr);
    detail::with_flags(
        [&](auto coupled) {
          detail::fused_loop(p.numel(), [=](std::int64_t i) {
            const T p0 = pp[i];
            T gv = pg[i];
            if constexpr (coupled) gv = gv + wd * p0;
            const T sum = psum[i] + gv * gv;
            psum[i] = sum;
            pp[i] = p0 * decay + (neg_clr * gv) / (std::sqrt(sum) + eps);
          });
        },
        s.coupled_wd != 0);
  });
}

}  // namespace vigil::optim
