// Module: a layer, or a tree of layers, with named parameters.
//
// A module owns parameters (leaf tensors that require gradients) and child modules, each under a name. Their
// dotted paths ("0.weight", "encoder.fc.bias") name every parameter in the tree; optimizer state, checkpoints,
// freezing and reports are keyed by these paths. named_parameters() lists a module's own parameters first, in
// registration order, then each child's, depth first (PyTorch's order).
//
// Mode is explicit: train() and eval() set the mode of the whole tree, and forward code reads training().
//
// Calling a module, `y = module(x)`, runs forward(x) and then its hooks:
//   forward hooks   hook(module, x, y) after forward, in registration order (the doctor's activation statistics);
//   backward hooks  hook(module, dy) when a backward pass reaches y, with dy = d(loss)/dy (gradient statistics).
// A backward hook is attached to the y of each call (through vigil::register_hook), so it fires once per call
// whose output the backward pass reaches; calls that record no graph (NoGradGuard), and calls whose output is a
// leaf (an input or a parameter returned unchanged), fire none. Removing a hook
// through its handle takes effect at once, also for graphs built before.
//
// A module is not copyable or movable: its parameters are shared handles, and hooks refer to it by address.
// Hold modules by std::shared_ptr when they go into containers.
#pragma once

#include <vigil/autograd/autograd.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace vigil::nn {

class Module;

using ForwardHook = std::function<void(const Module& module, const Tensor& input, const Tensor& output)>;
using BackwardHook = std::function<void(const Module& module, const Tensor& grad_output)>;

namespace detail {
// A module's hooks. Shared so that handles and the hooks attached to output tensors can outlive the module
// safely: they hold it weakly and do nothing once it is gone.
struct HookRegistry {
  explicit HookRegistry(const Module* owner) : module(owner) {}
  const Module* module;
  std::uint64_t next_id = 0;
  std::vector<std::pair<std::uint64_t, ForwardHook>> forward;
  std::vector<std::pair<std::uint64_t, BackwardHook>> backward;
};
}  // namespace detail

// Returned by register_*_hook; remove() unregisters the hook (idempotent; harmless after the module is gone).
// Dropping the handle does not remove the hook.
class HookHandle {
 public:
  HookHandle() = default;
  HookHandle(std::weak_ptr<detail::HookRegistry> registry, std::uint64_t id) : registry_(std::move(registry)), id_(id) {}
  void remove();

 private:
  std::weak_ptr<detail::HookRegistry> registry_;
  std::uint64_t id_ = 0;
};

class Module {
 public:
  Module();
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;
  Module(Module&&) = delete;
  Module& operator=(Module&&) = delete;

  // The computation. Called through operator(), which also runs the hooks.
  virtual Tensor forward(const Tensor& input) = 0;
  Tensor operator()(const Tensor& input);

  // Registers `value` under `name` and marks it as requiring a gradient; returns the same handle.
  // Requires: a floating leaf tensor; `name` non-empty, without '.', not yet used by a parameter or child.
  Tensor register_parameter(const std::string& name, Tensor value);
  // Registers `child` under `name` (same rules for the name); returns it. The child's mode becomes this module's.
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> child) {
    add_child(name, child);
    return child;
  }

  // Every parameter of the tree, in named_parameters() order.
  std::vector<Tensor> parameters() const;
  // (dotted path, parameter) for every parameter of the tree.
  std::vector<std::pair<std::string, Tensor>> named_parameters() const;
  // The direct children, in registration order.
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& named_children() const { return children_; }

  // Sets every parameter's gradient to undefined (PyTorch's set_to_none).
  void zero_grad();

  // Sets the mode of this module and of every module below it.
  void train(bool on = true);
  void eval() { train(false); }
  bool training() const { return training_; }

  HookHandle register_forward_hook(ForwardHook hook);
  HookHandle register_backward_hook(BackwardHook hook);

 private:
  void add_child(const std::string& name, std::shared_ptr<Module> child);
  void check_new_name(const std::string& name, const char* what) const;
  void collect(const std::string& prefix, std::vector<std::pair<std::string, Tensor>>& out) const;

  std::vector<std::pair<std::string, Tensor>> parameters_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
  std::shared_ptr<detail::HookRegistry> hooks_;
};

}  // namespace vigil::nn
