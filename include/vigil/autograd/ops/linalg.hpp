// Differentiable matrix product with torch.matmul's rules:
//   1-D @ 1-D -> scalar (dot); [K] @ [..., K, N] -> [..., N]; [..., M, K] @ [K] -> [..., M];
//   [..., M, K] @ [..., K, N] -> [..., M, N] with broadcast batch dims.
// Backward: dA = dC @ B^T and dB = A^T @ dC, each summed over the batch dims its operand was broadcast along.
#pragma once

#include <vigil/tensor/tensor.hpp>

namespace vigil {

Tensor matmul(const Tensor& a, const Tensor& b);

// y = x W^T + b, fused for speed (the composite matmul(x, t(W)) + b gives the same values):
//   x [..., in], W [out, in], b [out] (or undefined) -> y [..., out]
// Fused because the composite's gradient for W arrives as a transposed view that must be copied into W.grad, and
// its bias add is a broadcast pass of its own. Here: dX = dY W, dW = dY^T X (already W's layout), db = sum of dY
// over rows; the bias is added in the same pass that leaves the product.
Tensor fused_linear(const Tensor& x, const Tensor& weight, const Tensor& bias);

}  // namespace vigil
