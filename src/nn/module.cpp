// Module: the parameter and buffer tree, freezing, mode, and hooks around forward.
#include <vigil/nn/module.hpp>

#include <cxxabi.h>

#include <algorithm>
#include <cstdlib>
#include <typeinfo>

namespace vigil::nn {

namespace {

// Whole-string glob match where '*' matches any run of characters (dots included). Greedy with backtracking to
// the last star: on a mismatch the last '*' absorbs one more character, which is linear in practice and never
// exponential (a later star supersedes an earlier one, as in the classic wildcard matcher).
bool glob_matches(std::string_view pattern, std::string_view text) {
  std::size_t p = 0, t = 0;
  std::size_t star = std::string_view::npos, star_text = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_text = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++star_text;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace

bool path_matches(std::string_view pattern, std::string_view path) {
  if (glob_matches(pattern, path)) return true;
  // A module's path: some prefix of `path` that ends where a segment does.
  for (std::size_t dot = path.find('.'); dot != std::string_view::npos; dot = path.find('.', dot + 1)) {
    if (glob_matches(pattern, path.substr(0, dot))) return true;
  }
  return false;
}

void HookHandle::remove() {
  const auto registry = registry_.lock();
  if (!registry) return;
  const auto has_id = [this](const auto& entry) { return entry.first == id_; };
  std::erase_if(registry->forward, has_id);
  std::erase_if(registry->backward, has_id);
}

Module::Module() : hooks_(std::make_shared<detail::HookRegistry>(this)) {}

std::string Module::type_name() const {
  int status = 0;
  const char* mangled = typeid(*this).name();
  char* demangled = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  std::string name = status == 0 && demangled != nullptr ? demangled : mangled;
  std::free(demangled);
  // Drop the namespaces ("vigil::nn::ReLU" -> "ReLU"), but not those inside template arguments.
  int depth = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i + 1 < name.size(); ++i) {
    if (name[i] == '<') ++depth;
    if (name[i] == '>') --depth;
    if (depth == 0 && name[i] == ':' && name[i + 1] == ':') start = i + 2;
  }
  return name.substr(start);
}

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
  const char* taken_by = nullptr;
  if (std::any_of(parameters_.begin(), parameters_.end(), named)) taken_by = "a parameter";
  if (std::any_of(buffers_.begin(), buffers_.end(), [&name](const Buffer& b) { return b.name == name; })) {
    taken_by = "a buffer";
  }
  if (std::any_of(children_.begin(), children_.end(), named)) taken_by = "a child module";
  VIGIL_CHECK(taken_by == nullptr, Error, "register_{}: name \"{}\" is already taken by {} of this {}", what, name,
              taken_by, type_name());
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

Tensor Module::register_buffer(const std::string& name, Tensor value, bool persistent) {
  check_new_name(name, "buffer");
  VIGIL_CHECK(value.defined(), Error, "register_buffer: \"{}\" is an undefined tensor", name);
  VIGIL_CHECK(!value.requires_grad(), Error,
              "register_buffer: \"{}\" requires a gradient; buffers are not trained (register a parameter, or "
              "pass a detach()ed tensor)",
              name);
  buffers_.push_back({name, value, persistent});
  return value;
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> child) {
  check_new_name(name, "module");
  VIGIL_CHECK(child != nullptr, Error, "register_module: \"{}\" is null", name);
  child->train(training_);
  children_.emplace_back(name, std::move(child));
}

void Module::collect_parameters(const std::string& prefix, std::vector<std::pair<std::string, Tensor>>& out) const {
  for (const auto& [name, parameter] : parameters_) out.emplace_back(prefix + name, parameter);
  for (const auto& [name, child] : children_) child->collect_parameters(prefix + name + ".", out);
}

std::vector<std::pair<std::string, Tensor>> Module::named_parameters() const {
  std::vector<std::pair<std::string, Tensor>> out;
  collect_parameters("", out);
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [path, parameter] : named_parameters()) out.push_back(std::move(parameter));
  return out;
}

std::vector<std::pair<std::string, Tensor>> Module::named_trainable_parameters() const {
  auto out = named_parameters();
  std::erase_if(out, [](const auto& entry) { return !entry.second.requires_grad(); });
  return out;
}

std::vector<Tensor> Module::trainable_parameters() const {
  std::vector<Tensor> out;
  for (auto& [path, parameter] : named_trainable_parameters()) out.push_back(std::move(parameter));
  return out;
}

void Module::collect_buffers(const std::string& prefix, bool persistent_only,
                             std::vector<std::pair<std::string, Tensor>>& out) const {
  for (const Buffer& b : buffers_) {
    if (b.persistent || !persistent_only) out.emplace_back(prefix + b.name, b.value);
  }
  for (const auto& [name, child] : children_) child->collect_buffers(prefix + name + ".", persistent_only, out);
}

std::vector<std::pair<std::string, Tensor>> Module::named_buffers() const {
  std::vector<std::pair<std::string, Tensor>> out;
  collect_buffers("", false, out);
  return out;
}

std::vector<std::pair<std::string, Tensor>> Module::named_persistent_buffers() const {
  std::vector<std::pair<std::string, Tensor>> out;
  collect_buffers("", true, out);
  return out;
}

std::vector<Tensor> Module::buffers() const {
  std::vector<Tensor> out;
  for (auto& [path, buffer] : named_buffers()) out.push_back(std::move(buffer));
  return out;
}

void Module::collect_modules(const std::string& path, std::vector<std::pair<std::string, const Module*>>& out) const {
  out.emplace_back(path, this);
  for (const auto& [name, child] : children_) child->collect_modules(path.empty() ? name : path + "." + name, out);
}

std::vector<std::pair<std::string, const Module*>> Module::named_modules() const {
  std::vector<std::pair<std::string, const Module*>> out;
  collect_modules("", out);
  return out;
}

std::vector<std::pair<std::string, Module*>> Module::named_modules() {
  // One walk for both overloads: the modules of a non-const tree are non-const (children are held as
  // shared_ptr<Module>), so casting the const view back is sound.
  std::vector<std::pair<std::string, Module*>> out;
  for (auto& [path, module] : std::as_const(*this).named_modules()) {
    out.emplace_back(std::move(path), const_cast<Module*>(module));
  }
  return out;
}

std::vector<std::pair<std::string, Generator*>> Module::named_generators() {
  std::vector<std::pair<std::string, Generator*>> out;
  for (const auto& [path, module] : named_modules())
    for (const auto& [name, generator] : module->own_generators())
      out.emplace_back(path.empty() ? name : path + "." + name, generator);
  return out;
}

void Module::apply(const std::function<void(Module&)>& fn) {
  for (const auto& [name, child] : children_) child->apply(fn);
  fn(*this);
}

std::size_t Module::set_trainable(std::string_view pattern, bool on, const char* op) {
  const auto named = named_parameters();
  std::size_t matched = 0;
  for (const auto& [path, parameter] : named) {
    if (!path_matches(pattern, path)) continue;
    ++matched;
    Tensor handle = parameter;
    handle.set_requires_grad(on);
    // A gradient left from before the freeze would still be applied by an optimiser that sees it.
    if (!on) vigil::zero_grad(handle);
  }
  if (matched == 0) {
    std::string known;
    constexpr std::size_t kShown = 8;
    for (std::size_t i = 0; i < named.size() && i < kShown; ++i) known += (i == 0 ? "" : ", ") + named[i].first;
    if (named.size() > kShown) known += fmt::format(", ... ({} in all)", named.size());
    throw Error(fmt::format("{}: pattern \"{}\" matches no parameter of this {} (parameters: {})", op, pattern,
                            type_name(), known.empty() ? "none" : known));
  }
  return matched;
}

std::size_t Module::freeze(std::string_view pattern) { return set_trainable(pattern, false, "freeze"); }
std::size_t Module::unfreeze(std::string_view pattern) { return set_trainable(pattern, true, "unfreeze"); }

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
