// Matrix products. Shapes (PyTorch's torch.matmul rules):
//   a [M, K] @ b [K, N] -> [M, N]
//   a [..., M, K] @ b [..., K, N] -> [..., M, N], batch dims broadcast (NumPy rules)
// 1-D operands are handled one level up (autograd's matmul), so both operands here have >= 2 dims.
// Operands may be strided views: a transposed operand (x.transpose(-1, -2)) is read in place, not copied.
//
// matmul runs on oneDNN's matmul primitive (float32), created once per shape and cached; float64 (gradcheck)
// and anything oneDNN does not take run the naive triple loop, matmul_reference, which tests compare it with.
//
// Ensures: the result is a fresh contiguous tensor. Requires: a and b of one floating dtype (DTypeError otherwise).
// Thread safety: matmul may be called from several threads at once (each thread keeps its own primitives). It runs
// on the OpenMP thread count in force, except products under 2e6 FLOPs, which run on one thread.
#pragma once

#include <vigil/tensor/tensor.hpp>

namespace vigil::kernels {

Tensor matmul(const Tensor& a, const Tensor& b);
Tensor matmul_reference(const Tensor& a, const Tensor& b);

// Batch-broadcast output shape of a @ b; throws ShapeError naming both shapes when the inner dims differ.
Shape matmul_shape(const Shape& a, const Shape& b);

}  // namespace vigil::kernels
