// The autograd tape. Every op that runs on a tensor requiring a gradient creates a Node: the op's backward,
// the tensors it saved, and one Edge per input pointing at the Node that produced that input (or, for a leaf, at
// the leaf's AccumulateGrad node). Each Node has exactly one differentiable output, the tensor whose grad_fn it is;
// ops with several outputs (split, chunk) are built from several single-output nodes.
//
// Saved tensors are held detached (Tensor::detach()) so that a node never owns its own output's autograd
// metadata: no reference cycles, and the whole graph is freed when the last output tensor goes away.
#pragma once

#include <vigil/tensor/tensor.hpp>

#include <functional>
#include <memory>
#include <span>
#include <vector>

namespace vigil {

class Node;

struct Edge {
  std::shared_ptr<Node> node;  // null: this input needs no gradient
};

// The gradients a Node's backward writes: dx[i] for input i, undefined where !needs(i).
class GradInputs {
 public:
  GradInputs(std::span<Tensor> grads, std::span<const Edge> edges) : grads_(grads), edges_(edges) {}
  bool needs(std::size_t i) const { return edges_[i].node != nullptr; }
  Tensor& operator[](std::size_t i) { return grads_[i]; }
  std::size_t size() const { return grads_.size(); }

 private:
  std::span<Tensor> grads_;
  std::span<const Edge> edges_;
};

// Observes (and may replace) the gradient flowing into a tensor: return an undefined Tensor to keep it.
using GradHook = std::function<Tensor(const Tensor& grad)>;

class Node {
 public:
  explicit Node(const char* name) : name_(name) {}
  virtual ~Node() = default;
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // The op's name ("mul", "matmul", ...), used in error messages and by the doctor's NaN tracing.
  const char* name() const { return name_; }
  virtual std::span<const Edge> edges() const = 0;
  // Computes the gradients of the inputs from the gradient of the output. Called by the engine only.
  void run_backward(const Tensor& grad_output, std::span<Tensor> grad_inputs);
  // Drops saved tensors after a backward pass without retain_graph.
  void release();
  bool released() const { return released_; }
  // Shape and dtype of the output, so that the engine can check the gradients a backward returns.
  void set_output_meta(const Shape& shape, DType dtype) {
    output_shape_ = shape;
    output_dtype_ = dtype;
  }
  const Shape& output_shape() const { return output_shape_; }
  DType output_dtype() const { return output_dtype_; }

  void add_hook(GradHook hook) { hooks_.push_back(std::move(hook)); }
  // Applies the hooks in registration order to the gradient arriving at this node's output.
  Tensor apply_hooks(Tensor grad) const;

  // Engine bookkeeping: gradient accumulated for this node's output during one backward pass.
  Tensor pending_grad;
  std::uint64_t visit_mark = 0;

 protected:
  virtual void backward(const Tensor& grad_output, GradInputs& grad_inputs) = 0;
  virtual void release_saved() = 0;
  // False for nodes that outlive one graph (a leaf's accumulator is shared by every graph that uses the leaf).
  virtual bool releasable() const { return true; }

 private:
  const char* name_;
  bool released_ = false;
  Shape output_shape_;
  DType output_dtype_ = DType::Float32;
  std::vector<GradHook> hooks_;
};

// The node at the end of every path to a leaf: adds the arriving gradient into leaf.grad. The leaf owns it (and
// so its hooks); it refers back weakly, so a leaf dropped by the user is freed even while a graph still exists.
class AccumulateGrad final : public Node {
 public:
  explicit AccumulateGrad(std::weak_ptr<TensorImpl> leaf) : Node("accumulate_grad"), leaf_(std::move(leaf)) {}
  std::span<const Edge> edges() const override { return {}; }

 protected:
  void backward(const Tensor& grad_output, GradInputs& grad_inputs) override;
  void release_saved() override {}
  bool releasable() const override { return false; }

 private:
  std::weak_ptr<TensorImpl> leaf_;
};

// The edge a new node should hold for `input`: its grad_fn, its leaf accumulator, or none.
Edge edge_to(const Tensor& input);

}  // namespace vigil
