// How an op records itself on the tape. An op file writes its forward, then, right below, its backward as a
// lambda that captures what it saved:
//
//   Tensor mul(const Tensor& a, const Tensor& b) {
//     Tensor out = kernels::mul(a, b);
//     record<2>("mul", out, {a, b}, [a = saved(a), b = saved(b)](const Tensor& g, GradInputs& dx) {
//       if (dx.needs(0)) dx[0] = sum_to(kernels::mul(g, b), a.shape());   // d(ab)/da = b
//       if (dx.needs(1)) dx[1] = sum_to(kernels::mul(g, a), b.shape());   // d(ab)/db = a
//     });
//     return out;
//   }
//
// record() does nothing when grad mode is off or no input requires a gradient, so inference pays nothing. The
// node is allocated from the small-object pool and the lambda is stored inline (no std::function), so recording
// allocates nothing from the system in steady state. Backward lambdas run with grad mode off and use raw kernels.
// Under an AnomalyGuard (anomaly.hpp), record() also checks the output for NaN/Inf.
#pragma once

#include <vigil/autograd/anomaly.hpp>
#include <vigil/autograd/grad_mode.hpp>
#include <vigil/autograd/node.hpp>
#include <vigil/tensor/pool.hpp>

#include <array>
#include <optional>

namespace vigil {

// A tensor kept for backward: shares storage, carries no graph (see Node).
inline Tensor saved(const Tensor& t) { return t.defined() ? t.detach() : Tensor(); }

template <std::size_t N, class Backward>
class LambdaNode final : public Node {
 public:
  LambdaNode(const char* name, std::array<Edge, N> edges, Backward&& backward)
      : Node(name), edges_(std::move(edges)), backward_(std::move(backward)) {}
  std::span<const Edge> edges() const override { return edges_; }

 protected:
  void backward(const Tensor& grad_output, GradInputs& grad_inputs) override { (*backward_)(grad_output, grad_inputs); }
  void release_saved() override { backward_.reset(); }

 private:
  std::array<Edge, N> edges_;
  std::optional<Backward> backward_;
};

// A node over a run-time number of inputs (cat, stack).
template <class Backward>
class VariadicNode final : public Node {
 public:
  VariadicNode(const char* name, std::vector<Edge> edges, Backward&& backward)
      : Node(name), edges_(std::move(edges)), backward_(std::move(backward)) {}
  std::span<const Edge> edges() const override { return edges_; }

 protected:
  void backward(const Tensor& grad_output, GradInputs& grad_inputs) override { (*backward_)(grad_output, grad_inputs); }
  void release_saved() override { backward_.reset(); }

 private:
  std::vector<Edge> edges_;
  std::optional<Backward> backward_;
};

// True when an op on these inputs must be recorded.
bool should_record(std::span<const Tensor* const> inputs);

// Makes `out` the output of a new node when recording is needed. N inputs, in the order the lambda indexes them.
template <std::size_t N, class Backward>
void record(const char* name, Tensor& out, std::array<const Tensor*, N> inputs, Backward&& backward) {
  if (!should_record(inputs)) return;
  std::array<Edge, N> edges;
  for (std::size_t i = 0; i < N; ++i) edges[i] = edge_to(*inputs[i]);
  using NodeT = LambdaNode<N, std::decay_t<Backward>>;
  auto node = std::allocate_shared<NodeT>(PoolAllocator<NodeT>{}, name, std::move(edges), std::forward<Backward>(backward));
  node->set_output_meta(out.shape(), out.dtype());
  if (AnomalyGuard::is_enabled()) detail::anomaly_check_forward(name, out, inputs, node.get());
  out.impl().grad_fn = std::move(node);
  out.impl().requires_grad = true;
}

template <class Backward>
void record_variadic(const char* name, Tensor& out, std::span<const Tensor> inputs, Backward&& backward) {
  std::vector<const Tensor*> ptrs;
  ptrs.reserve(inputs.size());
  for (const Tensor& t : inputs) ptrs.push_back(&t);
  if (!should_record(ptrs)) return;
  std::vector<Edge> edges;
  edges.reserve(inputs.size());
  for (const Tensor& t : inputs) edges.push_back(edge_to(t));
  using NodeT = VariadicNode<std::decay_t<Backward>>;
  auto node = std::allocate_shared<NodeT>(PoolAllocator<NodeT>{}, name, std::move(edges), std::forward<Backward>(backward));
  node->set_output_meta(out.shape(), out.dtype());
  if (AnomalyGuard::is_enabled()) detail::anomaly_check_forward(name, out, ptrs, node.get());
  out.impl().grad_fn = std::move(node);
  out.impl().requires_grad = true;
}

}  // namespace vigil
