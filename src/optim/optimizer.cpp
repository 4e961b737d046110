// The Optimizer base: parameter groups, the step loop, and state keyed by parameter path.
#include <vigil/optim/optimizer.hpp>

#include <vigil/autograd/backward.hpp>
#include <vigil/autograd/grad_mode.hpp>
#include <vigil/kernels/dispatch.hpp>

#include <set>

namespace vigil::optim {

const char* weight_decay_name(WeightDecay kind) {
  switch (kind) {
    case WeightDecay::CoupledL2: return "coupled_l2";
    case WeightDecay::Decoupled: return "decoupled";
  }
  return "unknown";
}

void check_hyper(bool ok, const std::string& optimizer, const char* what, const char* rule, double value) {
  VIGIL_CHECK(ok, Error, "{}: {} must be {}, got {}", optimizer, what, rule, value);
}

namespace {

// A tensor of p's shape and dtype with every element equal to `value` (exact in float64 too).
Tensor filled_like(const Tensor& p, double value) {
  Tensor t = empty(p.shape(), TensorOptions{p.dtype()});
  kernels::dispatch_floating(p.dtype(), "optimizer state", [&](auto zero) {
    using T = decltype(zero);
    T* d = t.data<T>();
    const T v = static_cast<T>(value);
    for (std::int64_t i = 0, n = t.numel(); i < n; ++i) d[i] = v;
  });
  return t;
}

}  // namespace

Optimizer::Optimizer(std::string name, std::vector<ParamGroup> groups, double lr, double weight_decay,
                     WeightDecay kind, std::vector<BufferSpec> buffers)
    : name_(std::move(name)), weight_decay_kind_(kind), buffer_specs_(std::move(buffers)) {
  VIGIL_CHECK(!groups.empty(), Error, "{}: no parameter groups given", name_);
  std::set<const TensorImpl*> seen;
  for (std::size_t gi = 0; gi < groups.size(); ++gi) {
    ParamGroup& pg = groups[gi];
    Group group{std::move(pg.params), {}, pg.lr.value_or(lr), pg.weight_decay.value_or(weight_decay)};
    check_hyper(group.lr >= 0, name_, fmt::format("learning rate of group {}", gi).c_str(), ">= 0", group.lr);
    check_hyper(group.weight_decay >= 0, name_, fmt::format("weight_decay of group {}", gi).c_str(), ">= 0",
                group.weight_decay);
    for (const NamedParameter& np : group.params) {
      VIGIL_CHECK(!np.path.empty(), Error, "{}: a parameter of group {} has an empty path", name_, gi);
      VIGIL_CHECK(np.tensor.defined(), Error, "{}: parameter '{}' is an undefined tensor", name_, np.path);
      VIGIL_CHECK(np.tensor.dtype() == DType::Float32 || np.tensor.dtype() == DType::Float64, DTypeError,
                  "{}: parameter '{}' has dtype {}; only float32 and float64 parameters can be optimised", name_,
                  np.path, dtype_name(np.tensor.dtype()));
      VIGIL_CHECK(!state_.contains(np.path), Error, "{}: parameter path '{}' appears twice", name_, np.path);
      VIGIL_CHECK(seen.insert(np.tensor.impl_ptr().get()).second, Error,
                  "{}: parameter '{}' is a tensor already given under another path", name_, np.path);
      ParamState& st = state_[np.path];
      for (const BufferSpec& b : buffer_specs_) st.buffers.emplace(b.name, filled_like(np.tensor, b.initial));
      group.states.push_back(&st);
    }
    groups_.push_back(std::move(group));
  }
}

void Optimizer::step() {
  NoGradGuard no_grad;
  for (Group& group : groups_) {
    const bool decoupled = weight_decay_kind_ == WeightDecay::Decoupled;
    const StepScalars scalars{group.lr, decoupled ? 0.0 : group.weight_decay,
                              decoupled ? 1.0 - group.lr * group.weight_decay : 1.0};
    for (std::size_t i = 0; i < group.params.size(); ++i) {
      const NamedParameter& np = group.params[i];
      const Tensor grad = np.tensor.grad();
      if (!grad.defined()) continue;
      VIGIL_CHECK(grad.shape() == np.tensor.shape(), ShapeError,
                  "{}.step: gradient of parameter '{}' has shape {}, the parameter {}", name_, np.path,
                  grad.shape().str(), np.tensor.shape().str());
      VIGIL_CHECK(grad.dtype() == np.tensor.dtype(), DTypeError,
                  "{}.step: gradient of parameter '{}' has dtype {}, the parameter {}", name_, np.path,
                  dtype_name(grad.dtype()), dtype_name(np.tensor.dtype()));
      ParamState& st = *group.states[i];
      ++st.step;
      // The fused update loops run over flat memory; a strided parameter (rare: a view handed in as a
      // parameter) is updated through a contiguous copy written back.
      const Tensor g = raw::contiguous(grad);
      if (np.tensor.is_contiguous()) {
        update(np.tensor, g, st, scalars);
      } else {
        const Tensor p = raw::clone(np.tensor);
        update(p, g, st, scalars);
        raw::copy_(np.tensor, p);
      }
    }
  }
}

void Optimizer::zero_grad() {
  for (const Group& group : groups_)
    for (const NamedParameter& np : group.params) vigil::zero_grad(np.tensor);
}

double Optimizer::lr(std::size_t group) const {
  VIGIL_CHECK(group < groups_.size(), IndexError, "{}: group {} out of range ({} groups)", name_, group,
              groups_.size());
  return groups_[group].lr;
}

void Optimizer::set_lr(double lr) {
  check_hyper(lr >= 0, name_, "learning rate", ">= 0", lr);
  for (Group& group : groups_) group.lr = lr;
}

void Optimizer::set_lr(std::size_t group, double lr) {
  VIGIL_CHECK(group < groups_.size(), IndexError, "{}: group {} out of range ({} groups)", name_, group,
              groups_.size());
  check_hyper(lr >= 0, name_, "learning rate", ">= 0", lr);
  groups_[group].lr = lr;
}

double Optimizer::weight_decay(std::size_t group) const {
  VIGIL_CHECK(group < groups_.size(), IndexError, "{}: group {} out of range ({} groups)", name_, group,
              groups_.size());
  return groups_[group].weight_decay;
}

const std::vector<NamedParameter>& Optimizer::params(std::size_t group) const {
  VIGIL_CHECK(group < groups_.size(), IndexError, "{}: group {} out of range ({} groups)", name_, group,
              groups_.size());
  return groups_[group].params;
}

std::vector<NamedParameter> Optimizer::parameters() const {
  std::vector<NamedParameter> all;
  for (const Group& group : groups_) all.insert(all.end(), group.params.begin(), group.params.end());
  return all;
}

const ParamState& Optimizer::state(const std::string& path) const {
  const auto it = state_.find(path);
  VIGIL_CHECK(it != state_.end(), Error, "{}: no parameter with path '{}'", name_, path);
  return it->second;
}

StateDict Optimizer::state_dict() const {
  StateDict out;
  out.optimizer = name_;
  for (const Group& group : groups_) {
    out.lr.push_back(group.lr);
    out.weight_decay.push_back(group.weight_decay);
  }
  for (const auto& [path, st] : state_) {
    ParamState copy{st.step, {}};
    for (const auto& [name, buffer] : st.buffers) copy.buffers.emplace(name, raw::clone(buffer));
    out.params.emplace(path, std::move(copy));
  }
  return out;
}

void Optimizer::load_state_dict(const StateDict& state) {
  // Validate everything first so that a bad state dict leaves this optimiser as it was.
  VIGIL_CHECK(state.optimizer == name_, Error, "{}.load_state_dict: the state is for optimiser '{}'", name_,
              state.optimizer);
  VIGIL_CHECK(state.lr.size() == groups_.size() && state.weight_decay.size() == groups_.size(), Error,
              "{}.load_state_dict: the state has {} parameter groups (lr) and {} (weight_decay), this optimiser {}",
              name_, state.lr.size(), state.weight_decay.size(), groups_.size());
  for (std::size_t gi = 0; gi < groups_.size(); ++gi) {
    check_hyper(state.lr[gi] >= 0, name_, "loaded learning rate", ">= 0", state.lr[gi]);
    check_hyper(state.weight_decay[gi] >= 0, name_, "loaded weight_decay", ">= 0", state.weight_decay[gi]);
  }
  for (const auto& [path, loaded] : state.params)
    VIGIL_CHECK(state_.contains(path), Error, "{}.load_state_dict: state for unknown parameter '{}'", name_, path);
  for (const Group& group : groups_) {
    for (const NamedParameter& np : group.params) {
      const auto it = state.params.find(np.path);
      VIGIL_CHECK(it != state.params.end(), Error, "{}.load_state_dict: no state for parameter '{}'", name_,
                  np.path);
      const ParamState& loaded = it->second;
      VIGIL_CHECK(loaded.step >= 0, Error, "{}.load_state_dict: parameter '{}' has step {}", name_, np.path,
                  loaded.step);
      VIGIL_CHECK(loaded.buffers.size() == buffer_specs_.size(), Error,
                  "{}.load_state_dict: parameter '{}' has {} state buffers, this optimiser keeps {}", name_, np.path,
                  loaded.buffers.size(), buffer_specs_.size());
      for (const BufferSpec& spec : buffer_specs_) {
        const auto b = loaded.buffers.find(spec.name);
        VIGIL_CHECK(b != loaded.buffers.end() && b->second.defined(), Error,
                    "{}.load_state_dict: parameter '{}' has no '{}' buffer", name_, np.path, spec.name);
        VIGIL_CHECK(b->second.shape() == np.tensor.shape(), ShapeError,
                    "{}.load_state_dict: buffer '{}' of parameter '{}' has shape {}, the parameter {}", name_,
                    spec.name, np.path, b->second.shape().str(), np.tensor.shape().str());
        VIGIL_CHECK(b->second.dtype() == np.tensor.dtype(), DTypeError,
                    "{}.load_state_dict: buffer '{}' of parameter '{}' has dtype {}, the parameter {}", name_,
                    spec.name, np.path, dtype_name(b->second.dtype()), dtype_name(np.tensor.dtype()));
      }
    }
  }
  for (std::size_t gi = 0; gi < groups_.size(); ++gi) {
    groups_[gi].lr = state.lr[gi];
    groups_[gi].weight_decay = state.weight_decay[gi];
  }
  for (auto& [path, st] : state_) {
    const ParamState& loaded = state.params.at(path);
    st.step = loaded.step;
    for (auto& [name, buffer] : st.buffers) buffer = raw::clone(loaded.buffers.at(name));
  }
}

std::vector<NamedParameter> named_parameters(const nn::Module& module) {
  std::vector<NamedParameter> out;
  for (auto& [path, tensor] : module.named_parameters()) out.push_back({path, tensor});
  return out;
}

}  // namespace vigil::optim
