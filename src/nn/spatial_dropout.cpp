// Dropout2d and DropBlock: the noise is drawn into a tensor (per channel, or per element of a block mask) and
// applied with the differentiable mul, so each backward is mul's: the gradient is scaled by the noise.
#include <vigil/kernels/dispatch.hpp>
#include <vigil/nn/spatial_dropout.hpp>

#include <algorithm>
#include <vector>

namespace vigil::nn {

namespace {

void check_p(double p, const char* who) {
  VIGIL_CHECK(p >= 0.0 && p < 1.0, Error, "{}: drop probability p must be in [0, 1), got {}", who, p);
}

// Values (row-major) into a tensor of `shape` and `dtype`.
Tensor tensor_of(const std::vector<double>& values, const Shape& shape, DType dtype, const char* op) {
  Tensor out = empty(shape, TensorOptions{dtype});
  kernels::dispatch_floating(dtype, op, [&](auto zero) {
    using T = decltype(zero);
    T* p = out.data<T>();
    for (std::size_t i = 0; i < values.size(); ++i) p[i] = static_cast<T>(values[i]);
  });
  return out;
}

}  // namespace

Tensor dropout2d(const Tensor& x, double p, Generator& gen) {
  check_p(p, "dropout2d");
  VIGIL_CHECK(x.dim() >= 3, ShapeError, "dropout2d: expected an input [N, C, *] of rank >= 3, got shape {}",
              x.shape().str());
  if (p == 0.0) return x;
  // One factor per (n, c), broadcast over the channel's positions: shape [N, C, 1, ..., 1].
  Shape mask_shape = Shape::filled(x.dim(), 1);
  mask_shape[0] = x.shape()[0];
  mask_shape[1] = x.shape()[1];
  const double scale = 1.0 / (1.0 - p);
  std::vector<double> mask(static_cast<std::size_t>(mask_shape.numel()));
  for (double& m : mask) m = gen.uniform_double() < p ? 0.0 : scale;
  return x * tensor_of(mask, mask_shape, x.dtype(), "dropout2d");
}

Tensor drop_block2d(const Tensor& x, double p, std::int64_t block_size, Generator& gen) {
  check_p(p, "drop_block2d");
  VIGIL_CHECK(x.dim() == 4, ShapeError, "drop_block2d: expected a 4-D input [N, C, H, W], got shape {}",
              x.shape().str());
  const std::int64_t planes = x.shape()[0] * x.shape()[1], H = x.shape()[2], W = x.shape()[3], b = block_size;
  VIGIL_CHECK(b >= 1 && b <= std::min(H, W), ShapeError,
              "drop_block2d: block size {} must be between 1 and the plane's smaller side (input of shape {})", b,
              x.shape().str());
  if (p == 0.0) return x;
  const std::int64_t corners_h = H - b + 1, corners_w = W - b + 1;
  const double gamma = std::min(
      1.0, p / static_cast<double>(b * b) * static_cast<double>(H * W) / static_cast<double>(corners_h * corners_w));
  std::vector<double> mask(static_cast<std::size_t>(x.numel()), 1.0);
  for (std::int64_t q = 0; q < planes; ++q) {
    double* plane = mask.data() + q * H * W;
    for (std::int64_t i = 0; i < corners_h; ++i) {
      for (std::int64_t j = 0; j < corners_w; ++j) {
        if (gen.uniform_double() >= gamma) continue;
        for (std::int64_t h = i; h < i + b; ++h) std::fill(plane + h * W + j, plane + h * W + j + b, 0.0);
      }
    }
  }
  double kept = 0;
  for (double m : mask) kept += m;
  const double scale = kept > 0 ? static_cast<double>(x.numel()) / kept : 0.0;
  for (double& m : mask) m *= scale;
  return x * tensor_of(mask, x.shape(), x.dtype(), "drop_block2d");
}

Dropout2d::Dropout2d(double p, Generator& gen) : p_(p), gen_(gen.split()) { check_p(p, "Dropout2d"); }

Tensor Dropout2d::forward(const Tensor& x) { return training() ? dropout2d(x, p_, gen_) : x; }

std::string Dropout2d::extra_repr() const { return fmt::format("p={}", p_); }

DropBlock::DropBlock(double p, std::int64_t block_size, Generator& gen)
    : p_(p), block_size_(block_size), gen_(gen.split()) {
  check_p(p, "DropBlock");
  VIGIL_CHECK(block_size >= 1, ShapeError, "DropBlock: block size must be positive, got {}", block_size);
}

Tensor DropBlock::forward(const Tensor& x) { return training() ? drop_block2d(x, p_, block_size_, gen_) : x; }

std::string DropBlock::extra_repr() const { return fmt::format("p={}, block_size={}", p_, block_size_); }

}  // namespace vigil::nn
