// Module: a layer, or a tree of layers, with named parameters and buffers.
//
// A module owns parameters (leaf tensors trained by gradient descent), buffers (state that is not trained: running
// statistics, counters, RNG states) and child modules, each under a name unique within the module (parameters,
// buffers and children share one namespace). Their dotted paths ("0.weight", "encoder.fc.bias") name every
// parameter and buffer in the tree; optimizer state, checkpoints, freezing and reports are keyed by these paths.
// named_parameters() lists a module's own parameters first, in registration order, then each child's, depth first
// (PyTorch's order); named_buffers() and named_modules() walk the tree in the same order.
//
// A checkpoint of a module is named_parameters() plus named_persistent_buffers(): every tensor whose value a
// trained model depends on, each under its path. Non-persistent buffers are state derived or rebuilt at run time
// (a cached mask), which a checkpoint leaves out.
//
// Freezing: freeze(pattern) turns off requires_grad on the parameters whose paths match a glob (see path_matches),
// so backward passes stop producing their gradients and optimisers, which skip parameters without a gradient,
// leave them unchanged. Frozen parameters stay in named_parameters() (checkpoints keep them);
// named_trainable_parameters() lists the others. Freeze between steps, not between a forward and its backward.
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

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vigil::nn {

class Module;

// Whether the dotted `path` of a parameter or buffer matches `pattern`, the glob grammar of freeze():
//   - `*` matches any run of characters, dots included, so it can span path segments: "*.bias" matches "0.bias"
//     and "encoder.fc.bias" (not a top-level "bias"), "encoder.*" everything below encoder. "**" is the same as
//     "*". Every other character matches itself; there are no other wildcards.
//   - The pattern must match the whole path, or the whole path of a module above it: "encoder" and "encoder.0"
//     match "encoder.0.weight", as "encoder.*" and "encoder.0.*" do; "encoder.0.w" does not (no partial segments).
bool path_matches(std::string_view pattern, std::string_view path);

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

  // A short name of the module's kind for reports, e.g. "Linear". By default the class name without its
  // namespaces (from the C++ type); layers override it when that would be less clear.
  virtual std::string type_name() const;
  // The configuration that tells two modules of one type apart, e.g. "784 -> 512" for a Linear; empty by default.
  virtual std::string extra_repr() const { return {}; }

  // Registers `value` under `name` and marks it as requiring a gradient; returns the same handle.
  // Requires: a floating leaf tensor; `name` non-empty, without '.', not yet used by a parameter, buffer or child.
  Tensor register_parameter(const std::string& name, Tensor value);
  // Registers `value` as a buffer: module state that is not trained (running statistics, counters, RNG states);
  // returns the same handle. Layers update a buffer in place, so the handle stays valid. `persistent` buffers
  // belong in checkpoints (named_persistent_buffers()); others are rebuilt at run time.
  // Requires: a defined tensor of any dtype that does not require a gradient (detach() one that does); `name` as
  // for register_parameter.
  Tensor register_buffer(const std::string& name, Tensor value, bool persistent = true);
  // Registers `child` under `name` (same rules for the name); returns it. The child's mode becomes this module's.
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> child) {
    add_child(name, child);
    return child;
  }

  // Every parameter of the tree, in named_parameters() order.
  std::vector<Tensor> parameters() const;
  // (dotted path, parameter) for every parameter of the tree, frozen or not.
  std::vector<std::pair<std::string, Tensor>> named_parameters() const;
  // The parameters that require a gradient (are not frozen), in named_parameters() order.
  std::vector<Tensor> trainable_parameters() const;
  std::vector<std::pair<std::string, Tensor>> named_trainable_parameters() const;
  // This module's own parameters (not its children's), by name, in registration order.
  const std::vector<std::pair<std::string, Tensor>>& own_parameters() const { return parameters_; }

  // Every buffer of the tree, persistent or not, in the order of named_parameters().
  std::vector<Tensor> buffers() const;
  // (dotted path, buffer) for every buffer of the tree.
  std::vector<std::pair<std::string, Tensor>> named_buffers() const;

  // The random generators this module itself draws from (a dropout layer's mask stream), by name; none by default.
  // Checkpoints save their states, so a resumed run draws the same masks as an uninterrupted one.
  virtual std::vector<std::pair<std::string, Generator*>> own_generators() { return {}; }
  // Every generator of the tree under its dotted path ("2.generator"), in named_modules() order.
  std::vector<std::pair<std::string, Generator*>> named_generators();
  // (dotted path, buffer) for the persistent buffers: with named_parameters(), what a checkpoint holds.
  std::vector<std::pair<std::string, Tensor>> named_persistent_buffers() const;

  // The direct children, in registration order.
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& named_children() const { return children_; }
  // (dotted path, module) for this module (path "") and every module below it, parents before their children,
  // children in registration order. A module registered under two paths is listed under both.
  std::vector<std::pair<std::string, Module*>> named_modules();
  std::vector<std::pair<std::string, const Module*>> named_modules() const;
  // Calls fn on every module of the tree: each child's subtree first (in registration order), then this module,
  // PyTorch's order. E.g. re-initialising every Linear of a model.
  void apply(const std::function<void(Module&)>& fn);

  // Freezes (requires_grad off, gradient reset to undefined) or unfreezes (requires_grad on) every parameter
  // whose path matches `pattern` (path_matches grammar: "features.*", "*.bias", "0.weight", "encoder"). Returns
  // the number of parameters matched, including those already in the requested state. Throws Error naming the
  // pattern when it matches no parameter (most likely a typo).
  std::size_t freeze(std::string_view pattern);
  std::size_t unfreeze(std::string_view pattern);

  // Sets every parameter's gradient to undefined (PyTorch's set_to_none).
  void zero_grad();

  // Sets the mode of this module and of every module below it.
  void train(bool on = true);
  void eval() { train(false); }
  bool training() const { return training_; }

  HookHandle register_forward_hook(ForwardHook hook);
  HookHandle register_backward_hook(BackwardHook hook);
  // True while any hook is registered: fused fast paths that skip this module's own call are then not taken.
  bool has_hooks() const { return !hooks_->forward.empty() || !hooks_->backward.empty(); }

 private:
  void add_child(const std::string& name, std::shared_ptr<Module> child);
  void check_new_name(const std::string& name, const char* what) const;
  void collect_parameters(const std::string& prefix, std::vector<std::pair<std::string, Tensor>>& out) const;
  void collect_buffers(const std::string& prefix, bool persistent_only,
                       std::vector<std::pair<std::string, Tensor>>& out) const;
  void collect_modules(const std::string& path, std::vector<std::pair<std::string, const Module*>>& out) const;
  std::size_t set_trainable(std::string_view pattern, bool on, const char* op);

  struct Buffer {
    std::string name;
    Tensor value;
    bool persistent;
  };

  std::vector<std::pair<std::string, Tensor>> parameters_;
  std::vector<Buffer> buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
  std::shared_ptr<detail::HookRegistry> hooks_;
};

}  // namespace vigil::nn
