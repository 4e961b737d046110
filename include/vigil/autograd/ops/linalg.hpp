// Differentiable matrix product with torch.matmul's rules:
//   1-D @ 1-D -> scalar (dot); [K] @ [..., K, N] -> [..., N]; [..., M, K] @ [K] -> [..., M];
//   [..., M, K] @ [..., K, N] -> [..., M, N] with broadcast batch dims.
// Backward: dA = dC @ B^T and dB = A^T @ dC, each summed over the batch dims its operand was broadcast along.
#pragma once

#include <vigil/tensor/tensor.hpp>

namespace vigil {

Tensor matmul(const Tensor& a, const Tensor& b);

}  // namespace vigil
