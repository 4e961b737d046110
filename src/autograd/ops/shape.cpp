// Views and copies: forward through vigil::raw, backward right below each.
#include <vigil/autograd/function.hpp>
#include <vigil/autograd/ops/shape.hpp>
#include <vigil/kernels/reduce.hpp>

#include <array>

namespace vigil {

namespace {

// Backward of any view that reads a subset of the input: scatter g into zeros of the input's shape through the
// same view applied to the zeros.
template <class MakeView>
Tensor scatter_into_zeros(const Tensor& g, const Shape& input_shape, MakeView&& make_view) {
  Tensor dx = zeros(input_shape, TensorOptions{g.dtype()});
  raw::copy_(make_view(dx), g);
  return dx;
}

}  // namespace

Tensor view(const Tensor& x, const Shape& shape) {
  Tensor out = raw::view(x, shape);
  record<1>("view", out, {&x}, [s = x.shape()](const Tensor& g, GradInputs& dx) { dx[0] = raw::reshape(g, s); });
  return out;
}

Tensor reshape(const Tensor& x, const Shape& shape) {
  Tensor out = raw::reshape(x, shape);
  record<1>("reshape", out, {&x}, [s = x.shape()](const Tensor& g, GradInputs& dx) { dx[0] = raw::reshape(g, s); });
  return out;
}

Tensor permute(const Tensor& x, std::span<const std::int64_t> order) {
  Tensor out = raw::permute(x, order);
  std::array<std::int64_t, kMaxDims> inverse{};
  for (std::size_t i = 0; i < order.size(); ++i) {
    inverse[static_cast<std::size_t>(normalize_dim(order[i], x.dim(), "permute"))] = static_cast<std::int64_t>(i);
  }
  record<1>("permute", out, {&x}, [inverse, rank = order.size()](const Tensor& g, GradInputs& dx) {
    dx[0] = raw::permute(g, std::span<const std::int64_t>(inverse.data(), rank));
  });
  return out;
}

Tensor transpose(const Tensor& x, std::int64_t d0, std::int64_t d1) {
  Tensor out = raw::transpose(x, d0, d1);
  record<1>("transpose", out, {&x}, [d0, d1](const Tensor& g, GradInputs& dx) { dx[0] = raw::transpose(g, d0, d1); });
  return out;
}

Tensor t(const Tensor& x) {
  VIGIL_CHECK(x.dim() <= 2, ShapeError, "t: expects a tensor of at most 2 dims, got shape {}", x.shape().str());
  return x.dim() < 2 ? view(x, x.shape()) : transpose(x, 0, 1);
}

Tensor narrow(const Tensor& x, std::int64_t dim, std::int64_t start, std::int64_t length) {
  Tensor out = raw::narrow(x, dim, start, length);
  record<1>("narrow", out, {&x}, [s = x.shape(), dim, start, length](const Tensor& g, GradInputs& dx) {
    dx[0] = scatter_into_zeros(g, s, [&](const Tensor& z) { return raw::narrow(z, dim, start, length); });
  });
  return out;
}

Tensor slice(const Tensor& x, std::int64_t dim, std::int64_t start, std::int64_t stop, std::int64_t step) {
  Tensor out = raw::slice(x, dim, start, stop, step);
  record<1>("slice", out, {&x}, [s = x.shape(), dim, start, stop, step](const Tensor& g, GradInputs& dx) {
    dx[0] = scatter_into_zeros(g, s, [&](const Tensor& z) { return raw::slice(z, dim, start, stop, step); });
  });
  return out;
}

Tensor expand(const Tensor& x, const Shape& shape) {
  Tensor out = raw::expand(x, shape);
  record<1>("expand", out, {&x}, [s = x.shape()](const Tensor& g, GradInputs& dx) { dx[0] = kernels::sum_to(g, s); });
  return out;
}

Tensor squeeze(const Tensor& x) {
  Tensor out = raw::squeeze(x);
  record<1>("squeeze", out, {&x}, [s = x.shape()](const Tensor& g, GradInputs& dx) { dx[0] = raw::reshape(g, s); });
  return out;
}

Tensor squeeze(const Tensor& x, std::int64_t dim) {
  Tensor out = raw::squeeze(x, dim);
  record<1>("squeeze", out, {&x}, [s = x.shape()](const Tensor& g, GradInputs& dx) { dx[0] = raw::reshape(g, s); });
  return out;
}

Tensor unsqueeze(const Tensor& x, std::int64_t dim) {
  Tensor out = raw::unsqueeze(x, dim);
  record<1>("unsqueeze", out, {&x}, [s = x.shape()](const Tensor& g, GradInputs& dx) { dx[0] = raw::reshape(g, s); });
  return out;
}

Tensor flatten(const Tensor& x, std::int64_t start_dim, std::int64_t end_dim) {
  Tensor out = raw::flatten(x, start_dim, end_dim);
  record<1>("flatten", out, {&x}, [s = x.shape()](const Tensor& g, GradInputs& dx) { dx[0] = raw::reshape(g, s); });
  return out;
}

Tensor contiguous(const Tensor& x) {
  if (x.is_contiguous()) return x;
  return clone(x);
}

Tensor clone(const Tensor& x) {
  Tensor out = raw::clone(x);
  record<1>("clone", out, {&x}, [](const Tensor& g, GradInputs& dx) { dx[0] = g; });
  return out;
}

Tensor to_dtype(const Tensor& x, DType dtype) {
  Tensor out = raw::to_dtype(x, dtype);
  if (is_floating(x.dtype()) && is_floating(dtype)) {
    record<1>("to_dtype", out, {&x}, [from = x.dtype()](const Tensor& g, GradInputs& dx) { dx[0] = raw::to_dtype(g, from); });
  }
  return out;
}

}  // namespace vigil
