// matmul: forward through the kernel, backward right below.
#include <vigil/autograd/function.hpp>
#include <vigil/autograd/ops/linalg.hpp>
#include <vigil/autograd/ops/shape.hpp>
#include <vigil/kernels/dispatch.hpp>
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

namespace {

// out[r, :] += bias for every row of a contiguous [rows, out] matrix.
void add_bias_rows(const Tensor& out, const Tensor& bias) {
  kernels::dispatch_floating(out.dtype(), "fused_linear", [&](auto zero) {
    using T = decltype(zero);
    const Tensor b = raw::contiguous(bias);
    T* po = out.data<T>();
    const T* pb = b.data<T>();
    const std::int64_t rows = out.size(0), cols = out.size(1);
#pragma omp parallel for schedule(static) if (rows * cols >= kernels::kParallelGrain)
    for (std::int64_t r = 0; r < rows; ++r) {
      T* row = po + r * cols;
      for (std::int64_t c = 0; c < cols; ++c) row[c] += pb[c];
    }
  });
}

}  // namespace

Tensor fused_linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  VIGIL_CHECK(weight.dim() == 2, ShapeError, "linear: weight must be [out_features, in_features], got {}",
              weight.shape().str());
  VIGIL_CHECK(x.dim() >= 1 && x.size(-1) == weight.size(1), ShapeError,
              "linear: input of shape {} does not end in in_features = {} of weight {}", x.shape().str(), weight.size(1),
              weight.shape().str());
  VIGIL_CHECK(!bias.defined() || bias.shape() == Shape{weight.size(0)}, ShapeError,
              "linear: bias of shape {} does not match weight {} (expected [{}])", bias.shape().str(),
              weight.shape().str(), weight.size(0));
  const Tensor x2 = raw::reshape(x, Shape{-1, weight.size(1)});  // [rows, in]
  Tensor y2 = kernels::matmul(x2, raw::transpose(weight, 0, 1));  // [rows, out], fresh and contiguous
  if (bias.defined()) add_bias_rows(y2, bias);
  Shape out_shape = x.shape();
  out_shape[out_shape.size() - 1] = weight.size(0);
  Tensor y = raw::reshape(y2, out_shape);
  // An undefined bias gets no edge (edge_to), so dx.needs(2) is false for it.
  record<3>("fused_linear", y, {&x, &weight, &bias},
            [x2 = saved(x2), w = saved(weight), x_shape = x.shape()](const Tensor& g,
                                                                                                GradInputs& dx) {
              const Tensor g2 = raw::reshape(g, Shape{-1, w.size(0)});  // [rows, out]
              if (dx.needs(0)) dx[0] = raw::reshape(kernels::matmul(g2, w), x_shape);         // dX = dY W
              if (dx.needs(1)) dx[1] = kernels::matmul(raw::transpose(g2, 0, 1), x2);         // dW = dY^T X
              if (dx.needs(2)) {
                const std::int64_t rows_dim = 0;
                dx[2] = kernels::sum(g2, std::span<const std::int64_t>(&rows_dim, 1));         // db = sum_rows dY
              }
            });
  return y;
}

}  // namespace vigil
