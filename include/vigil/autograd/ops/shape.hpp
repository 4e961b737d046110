// Differentiable views and copies. Views share storage with their input (see vigil::raw); their backward maps the
// gradient back through the inverse view (reshape back, permute by the inverse order, zero-pad a narrow, sum an
// expand).
#pragma once

#include <vigil/tensor/tensor.hpp>

#include <initializer_list>
#include <span>
#include <vector>

namespace vigil {

Tensor view(const Tensor& x, const Shape& shape);
Tensor reshape(const Tensor& x, const Shape& shape);
Tensor permute(const Tensor& x, std::span<const std::int64_t> order);
inline Tensor permute(const Tensor& x, std::initializer_list<std::int64_t> order) {
  return permute(x, std::span<const std::int64_t>(order.begin(), order.size()));
}
Tensor transpose(const Tensor& x, std::int64_t d0, std::int64_t d1);
// The matrix transpose of a 2-D tensor (x.t() in PyTorch).
Tensor t(const Tensor& x);
Tensor narrow(const Tensor& x, std::int64_t dim, std::int64_t start, std::int64_t length);
Tensor slice(const Tensor& x, std::int64_t dim, std::int64_t start, std::int64_t stop, std::int64_t step = 1);
Tensor expand(const Tensor& x, const Shape& shape);
Tensor squeeze(const Tensor& x);
Tensor squeeze(const Tensor& x, std::int64_t dim);
Tensor unsqueeze(const Tensor& x, std::int64_t dim);
Tensor flatten(const Tensor& x, std::int64_t start_dim = 0, std::int64_t end_dim = -1);
Tensor contiguous(const Tensor& x);
Tensor clone(const Tensor& x);
// Converts to another floating dtype (float32 <-> float64), differentiably.
Tensor to_dtype(const Tensor& x, DType dtype);

}  // namespace vigil
