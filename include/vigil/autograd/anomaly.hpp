// Anomaly mode: find the first op that produced a non-finite value (NaN or Inf), in the forward pass or in the
// backward pass.
//
//   AnomalyGuard guard;                 // on for this thread until the guard is destroyed
//   Tensor loss = loss_fn(model(x), y);
//   backward(loss);
//   if (guard.first()) fmt::print("{} of op '{}'\n", guard.first()->phase == Anomaly::Phase::forward ? "forward"
//                                 : "backward", guard.first()->op);
//
// While a guard is alive on a thread, every op that records itself on that thread (grad mode on, an input
// requiring a gradient) has its output checked, and the backward engine checks every gradient a node's backward
// returns. Ops that record nothing (under NoGradGuard, or on inputs that need no gradient) are not checked: the
// guard watches a training step's graph.
//
// Record, not throw. The guard keeps the first anomaly and lets the computation run on. A throw would leave the
// forward half-done, so the caller could not attribute the op to a layer (the doctor does that with module hooks,
// which fire only when a module's forward returns) and would have to unwind through user code (losses, custom
// modules). The first anomaly is what matters: later ones are its consequences. After it, checks stop, so the rest
// of the pass costs only its op count.
//
// Cost: nothing when no guard is alive beyond one thread-local read per recorded op and per backward node; while
// alive, a pass over every output and gradient until the first anomaly. Meant for re-running one suspicious step,
// not for every step.
//
// Op indices let a caller map an op to the code that ran it: ops recorded in the guard's scope are numbered from 1
// in recording order (ops_recorded() is the latest number), and a backward anomaly carries the number of the op
// whose backward produced it (0 for an op recorded outside the scope). Guards nest: an inner guard has its own
// record and numbering, and the outer one resumes when it ends. Not copyable; not shared between threads.
#pragma once

#include <vigil/tensor/tensor.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

namespace vigil {

class Node;

struct Anomaly {
  enum class Phase { forward, backward };
  Phase phase = Phase::forward;
  std::string op;              // the op's name, as recorded ("log", "sqrt", "conv2d", ...)
  std::uint64_t op_index = 0;  // see the file comment
  // Forward: the index of the first input that was already non-finite (-1: all were finite, so this op made the
  // value). Backward: the input whose gradient went non-finite.
  std::int64_t input = -1;
  // Backward: whether the gradient arriving at the op's output was finite (false: the op passed it on).
  bool grad_output_finite = true;
};

class AnomalyGuard {
 public:
  AnomalyGuard();
  ~AnomalyGuard();
  AnomalyGuard(const AnomalyGuard&) = delete;
  AnomalyGuard& operator=(const AnomalyGuard&) = delete;

  // Whether a guard is alive on this thread.
  static bool is_enabled();
  // The first anomaly seen in this guard's scope, if any.
  const std::optional<Anomaly>& first() const;
  // How many ops recorded in this guard's scope so far.
  std::uint64_t ops_recorded() const;

  struct State;

 private:
  std::unique_ptr<State> state_;
  State* previous_;
};

// True when `t` holds no NaN or Inf (integer and bool tensors always). Any layout.
bool all_finite(const Tensor& t);

namespace detail {
// Called by record() and the backward engine; they do nothing unless a guard is alive.
void anomaly_check_forward(const char* op, const Tensor& out, std::span<const Tensor* const> inputs, const Node* node);
void anomaly_check_backward(const Node& node, const Tensor& grad_output, std::span<const Tensor> grad_inputs);
}  // namespace detail

}  // namespace vigil
