// Module: the parameter tree, mode, and hooks around forward.
#include <vigil/nn/module.hpp>

#include <algorithm>

namespace vigil::nn {

void HookHandle::remove() {
  const auto registry = registry_.lock();
  if (!registry) return;
  const auto has_id = [this](const auto& entry) { return entry.first == id_; };
  std::erase_if(registry->forward, has_id);
  std::erase_if(registry->backward, has_id);
}

Module::Module() : hooks_(std::make_shared<detail::HookRegistry>(this)) {}

Tensor Module::operator()(const Tensor& input) {
  Tensor output = forward(input);
  // Copies of the hook lists: a hook may remove itself (or others) while they run.
  if (!hooks_->forward.empty()) {
    const auto hooks = hooks_->forward;
    for (const auto& [id, hook] : hooks) hook(*this, input, output);
  }
  // Only an output some op made carries this call's graph; a leaf (an input or parameter returned unchanged) would
  // keep the hook on its accumulator for every later backward pass, so it gets none.
  if (!hooks_->backward.empty() && output.defined() && output.requires_grad() && !output.is_leaf()) {
    register_hook(output, [registry = std::weak_ptr<detail::HookRegistry>(hooks_)](const Tensor& grad_output) {
      if (const auto r = registry.lock()) {
        const auto hooks = r->backward;
        for (const auto& [id, hook] : hooks) hook(*r->module, grad_output);
      }
      return Tensor();  // observe only: the gradient flows on unchanged
    });
  }
  return output;
}

void Module::check_new_name(const std::string& name, const char* what) const {
  VIGIL_CHECK(!name.empty() && name.find('.') == std::string::npos, Error,
              "register_{}: name \"{}\" must be non-empty and contain no '.' (dots separate path components)", what,
              name);
  const auto named = [&name](const auto& entry) { return entry.first == name; };
  VIGIL_CHECK(std::none_of(parameters_.begin(), parameters_.end(), named) &&
                  std::none_of(children_.begin(), children_.end(), named),
              Error, "register_{}: name \"{}\" is already taken in this module", what, name);
}

Tensor Module::register_parameter(const std::string& name, Tensor value) {
  check_new_name(name, "parameter");
  VIGIL_CHECK(value.defined(), Error, "register_parameter: \"{}\" is an undefined tensor", name);
  VIGIL_CHECK(value.is_leaf(), Error,
              "register_parameter: \"{}\" was produced by an op; a parameter must be a leaf (use detach())", name);
  VIGIL_CHECK(is_floating(value.dtype()), DTypeError, "register_parameter: \"{}\" is {}, parameters must be floating",
              name, dtype_name(value.dtype()));
  value.set_requires_grad(true);
  parameters_.emplace_back(name, value);
  return value;
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> child) {
  check_new_name(name, "module");
  VIGIL_CHECK(child != nullptr, Error, "register_module: \"{}\" is null", name);
  child->train(training_);
  children_.emplace_back(name, std::move(child));
}

void Module::collect(const std::string& prefix, std::vector<std::pair<std::string, Tensor>>& out) const {
  for (const auto& [name, parameter] : parameters_) out.emplace_back(prefix + name, parameter);
  for (const auto& [name, child] : children_) child->collect(prefix + name + ".", out);
}

std::vector<std::pair<std::string, Tensor>> Module::named_parameters() const {
  std::vector<std::pair<std::string, Tensor>> out;
  collect("", out);
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [path, parameter] : named_parameters()) out.push_back(std::move(parameter));
  return out;
}

void Module::zero_grad() {
  for (const Tensor& parameter : parameters()) vigil::zero_grad(parameter);
}

void Module::train(bool on) {
  training_ = on;
  for (const auto& [name, child] : children_) child->train(on);
}

HookHandle Module::register_forward_hook(ForwardHook hook) {
  const std::uint64_t id = hooks_->next_id++;
  hooks_->forward.emplace_back(id, std::move(hook));
  return HookHandle(hooks_, id);
}

HookHandle Module::register_backward_hook(BackwardHook hook) {
  const std::uint64_t id = hooks_->next_id++;
  hooks_->backward.emplace_back(id, std::move(hook));
  return HookHandle(hooks_, id);
}

}  // namespace vigil::nn
