// The backward engine: a depth-first topological order from the root, then one pass in reverse, each node's
// gradient complete before its backward runs. The order is a pure function of the graph, so a seeded run
// accumulates gradients in the same order every time (bit-for-bit reproducible).
#include <vigil/autograd/backward.hpp>
#include <vigil/autograd/function.hpp>
#include <vigil/kernels/elementwise.hpp>

#include <utility>

namespace vigil {

void Node::run_backward(const Tensor& grad_output, std::span<Tensor> grad_inputs) {
  VIGIL_CHECK(!released_, Error,
              "backward: the graph through op '{}' was already freed by an earlier backward(); call the first "
              "backward with retain_graph=true to walk it twice",
              name_);
  GradInputs dx(grad_inputs, edges());
  backward(grad_output, dx);
}

void Node::release() {
  if (!releasable()) return;
  release_saved();
  released_ = true;
}

Tensor Node::apply_hooks(Tensor grad) const {
  for (const GradHook& hook : hooks_) {
    Tensor replaced = hook(grad);
    if (replaced.defined()) {
      VIGIL_CHECK(replaced.shape() == grad.shape(), ShapeError,
                  "gradient hook on op '{}' returned shape {} for a gradient of shape {}", name_, replaced.shape().str(),
                  grad.shape().str());
      grad = std::move(replaced);
    }
  }
  return grad;
}

namespace {

Tensor plus(const Tensor& a, const Tensor& b) {
  return kernels::map_binary(a, b, [](auto x, auto y) { return x + y; }, "accumulate gradient");
}

bool uniquely_owned(const Tensor& t) {
  return t.impl_ptr().use_count() == 1 && t.storage().use_count() == 1 && t.is_contiguous();
}

std::shared_ptr<Node> accumulator_of(const Tensor& leaf) {
  TensorImpl& impl = leaf.impl();
  if (!impl.grad_accumulator) {
    impl.grad_accumulator = std::allocate_shared<AccumulateGrad>(PoolAllocator<AccumulateGrad>{}, leaf.impl_ptr());
    impl.grad_accumulator->set_output_meta(leaf.shape(), leaf.dtype());
  }
  return impl.grad_accumulator;
}

// Post-order DFS without recursion (graphs of deep networks would overflow the stack). Buffers are reused
// across calls so that a training step allocates nothing here in steady state.
void topological_order(Node* root, std::vector<Node*>& order) {
  static thread_local std::uint64_t mark = 0;
  static thread_local std::vector<std::pair<Node*, std::size_t>> stack;
  ++mark;
  order.clear();
  stack.clear();
  root->visit_mark = mark;
  stack.emplace_back(root, 0);
  while (!stack.empty()) {
    auto& [node, next] = stack.back();
    const auto edges = node->edges();
    if (next < edges.size()) {
      Node* child = edges[next++].node.get();
      if (child != nullptr && child->visit_mark != mark) {
        child->visit_mark = mark;
        stack.emplace_back(child, 0);
      }
      continue;
    }
    order.push_back(node);
    stack.pop_back();
  }
}

}  // namespace

void AccumulateGrad::backward(const Tensor& grad_output, GradInputs&) {
  const std::shared_ptr<TensorImpl> leaf = leaf_.lock();
  if (!leaf) return;  // nobody can read this gradient any more
  if (!leaf->grad) {
    leaf->grad = uniquely_owned(grad_output) ? grad_output.impl_ptr() : raw::clone(grad_output).impl_ptr();
    return;
  }
  kernels::update_inplace(Tensor(leaf->grad), grad_output, [](auto a, auto b) { return a + b; }, "accumulate gradient");
}

Edge edge_to(const Tensor& input) {
  if (!input.defined() || !input.requires_grad()) return {};
  if (input.grad_fn()) return {input.grad_fn()};
  return {accumulator_of(input)};
}

bool should_record(std::span<const Tensor* const> inputs) {
  if (!GradMode::is_enabled()) return false;
  for (const Tensor* t : inputs) {
    if (t->defined() && t->requires_grad()) return true;
  }
  return false;
}

void backward(const Tensor& root, const Tensor& grad_output, bool retain_graph) {
  VIGIL_CHECK(root.requires_grad(), Error,
              "backward: the tensor of shape {} does not require a gradient (no input of the ops that made it "
              "requires one, or it was computed under NoGradGuard)",
              root.shape().str());
  Tensor seed;
  if (grad_output.defined()) {
    VIGIL_CHECK(grad_output.shape() == root.shape(), ShapeError,
                "backward: grad_output has shape {} but the tensor has shape {}", grad_output.shape().str(),
                root.shape().str());
    seed = grad_output;
  } else {
    VIGIL_CHECK(root.numel() == 1, ShapeError,
                "backward: a non-scalar tensor of shape {} needs an explicit grad_output of the same shape",
                root.shape().str());
    seed = full(root.shape(), 1.0f, TensorOptions{root.dtype()});
  }
  NoGradGuard no_grad;
  std::shared_ptr<Node> root_node = root.grad_fn() ? root.grad_fn() : accumulator_of(root);
  static thread_local std::vector<Node*> order;
  static thread_local std::vector<Tensor> grads;
  topological_order(root_node.get(), order);
  root_node->pending_grad = seed;
  struct ClearPending {  // on an exception, leave no gradient half-accumulated in the graph
    ~ClearPending() {
      for (Node* n : order) n->pending_grad = Tensor();
    }
  } clear_pending;
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node* node = *it;
    Tensor grad = std::exchange(node->pending_grad, Tensor());
    if (!grad.defined()) continue;
    grad = node->apply_hooks(std::move(grad));
    const auto edges = node->edges();
    grads.assign(edges.size(), Tensor());
    node->run_backward(grad, grads);
    if (AnomalyGuard::is_enabled()) detail::anomaly_check_backward(*node, grad, grads);
    grad = Tensor();
    for (std::size_t i = 0; i < edges.size(); ++i) {
      Node* next = edges[i].node.get();
      if (next == nullptr || !grads[i].defined()) continue;
      VIGIL_CHECK(grads[i].shape() == next->output_shape(), ShapeError,
                  "backward of op '{}' returned a gradient of shape {} for input {} of shape {}", node->name(),
                  grads[i].shape().str(), i, next->output_shape().str());
      next->pending_grad = next->pending_grad.defined() ? plus(next->pending_grad, grads[i]) : std::move(grads[i]);
    }
    grads.clear();
    if (!retain_graph) node->release();
  }
}

void register_hook(const Tensor& t, GradHook hook) {
  VIGIL_CHECK(t.requires_grad(), Error, "register_hook: the tensor of shape {} does not require a gradient",
              t.shape().str());
  (t.grad_fn() ? t.grad_fn() : accumulator_of(t))->add_hook(std::move(hook));
}

void retain_grad(const Tensor& t) {
  if (t.is_leaf()) return;  // leaves keep their gradient anyway
  std::weak_ptr<TensorImpl> target = t.impl_ptr();
  register_hook(t, [target](const Tensor& g) {
    if (auto impl = target.lock()) {
      impl->grad = impl->grad ? plus(Tensor(impl->grad), g).impl_ptr() : raw::clone(g).impl_ptr();
    }
    return Tensor();
  });
}

void zero_grad(const Tensor& t) { t.impl().grad.reset(); }

}  // namespace vigil
