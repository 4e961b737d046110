// Shape layers: Flatten and Identity.
#pragma once

#include <vigil/autograd/ops/shape.hpp>
#include <vigil/nn/module.hpp>

#include <cstdint>

namespace vigil::nn {

// Merges dims start_dim..end_dim (inclusive; negative counts from the end) into one, as torch.nn.Flatten:
// defaults start_dim = 1, end_dim = -1 flatten each sample, [N, C, H, W] -> [N, C * H * W]. A view when x's
// strides allow it, else a row-major copy (a transposed input); the gradient is reshaped back either way.
// Throws IndexError for a dim outside x's rank and ShapeError when start_dim comes after end_dim.
class Flatten : public Module {
 public:
  explicit Flatten(std::int64_t start_dim = 1, std::int64_t end_dim = -1) : start_dim_(start_dim), end_dim_(end_dim) {}
  Tensor forward(const Tensor& x) override { return flatten(x, start_dim_, end_dim_); }
  std::int64_t start_dim() const { return start_dim_; }
  std::int64_t end_dim() const { return end_dim_; }

 private:
  std::int64_t start_dim_, end_dim_;
};

// y = x, the same tensor (a placeholder where a layer is optional, e.g. a Residual's projection).
class Identity : public Module {
 public:
  Tensor forward(const Tensor& x) override { return x; }
};

}  // namespace vigil::nn
