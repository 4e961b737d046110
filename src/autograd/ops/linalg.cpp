// matmul: forward through the kernel, backward right below.
#include <vigil/autograd/function.hpp>
#include <vigil/autograd/ops/linalg.hpp>
#include <vigil/autograd/ops/shape.hpp>
#include <vigil/kernels/matmul.hpp>
#include <vigil/kernels/reduce.hpp>

namespace vigil {

namespace {

// Both operands as >= 2-D (a 1-D a becomes [1, K], a 1-D b becomes [K, 1]); the product of those, recorded.
Tensor matmul_2d_or_batched(const Tensor& a, const Tensor& b) {
  Tensor out = kernels::matmul(a, b);
  record<2>("matmul", out, {&a, &b}, [a = saved(a), b = saved(b)](const Tensor& g, GradInputs& dx) {
    // dA = dC @ B^T, dB = A^T @ dC (transposes are strided views: no copies), summed over broadcast batch dims.
    if (dx.needs(0)) dx[0] = kernels::sum_to(kernels::matmul(g, raw::transpose(b, -1, -2)), a.shape());
    if (dx.needs(1)) dx[1] = kernels::sum_to(kernels::matmul(raw::transpose(a, -1, -2), g), b.shape());
  });
  return out;
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  VIGIL_CHECK(a.dim() >= 1 && b.dim() >= 1, ShapeError, "matmul: operands must have at least 1 dim, got {} and {}",
              a.shape().str(), b.shape().str());
  if (a.dim() == 1 && b.dim() == 1) {
    VIGIL_CHECK(a.numel() == b.numel(), ShapeError, "matmul: vectors of shapes {} and {} differ in length",
                a.shape().str(), b.shape().str());
    return reshape(matmul_2d_or_batched(unsqueeze(a, 0), unsqueeze(b, 1)), Shape{});
  }
  if (a.dim() == 1) return squeeze(matmul_2d_or_batched(unsqueeze(a, 0), b), -2);
  if (b.dim() == 1) return squeeze(matmul_2d_or_batched(a, unsqueeze(b, 1)), -1);
  return matmul_2d_or_batched(a, b);
}

}  // namespace vigil
