// Running the tape backwards.
#pragma once

#include <vigil/autograd/node.hpp>

namespace vigil {

// Computes d(root)/d(leaf) for every leaf that requires a gradient and adds it into leaf.grad (accumulation, as
// PyTorch: call zero_grad between steps). A non-scalar root needs `grad_output` of its shape (the vector in the
// vector-Jacobian product). Without retain_graph the saved tensors are freed, and walking the same graph again
// throws an Error saying so.
void backward(const Tensor& root, const Tensor& grad_output = Tensor(), bool retain_graph = false);

// Calls `hook` with the gradient arriving at `t` each time a backward pass reaches it (see GradHook).
void register_hook(const Tensor& t, GradHook hook);
// Keeps the gradient of a non-leaf tensor in t.grad(), as PyTorch's retain_grad().
void retain_grad(const Tensor& t);
// Sets t.grad() to undefined (set_to_none, PyTorch's default).
void zero_grad(const Tensor& t);

}  // namespace vigil
