// Containers that combine modules other than in sequence (see sequential.hpp for that): a residual connection
// and parallel branches joined by concatenation. Children run through their operator(), so their hooks fire.
#pragma once

#include <vigil/nn/module.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace vigil::nn {

// y = x + fn(x) (He et al., 2016): the identity path carries the gradient past fn unchanged, dx = dy + dfn/dx^T dy.
// fn is the child "fn" (parameter paths "fn.weight", ...). fn(x) must have x's shape: no broadcasting is
// attempted (ShapeError naming both shapes otherwise), since a silently broadcast skip connection is a bug.
class Residual : public Module {
 public:
  explicit Residual(std::shared_ptr<Module> fn);
  Tensor forward(const Tensor& x) override;
  Module& fn() const { return *fn_; }

 private:
  std::shared_ptr<Module> fn_;
};

// Parallel branches on one input, joined along `dim` (default 1, the channel/feature dim):
//   y = cat([b_0(x), b_1(x), ...], dim)     (an Inception block; torch has no layer for it)
// Children are named by position ("0", "1", ...). Every branch output must have the same rank and the same extents
// except along dim (ShapeError naming the branch and both shapes otherwise). Requires at least one branch.
class Concat : public Module {
 public:
  explicit Concat(std::vector<std::shared_ptr<Module>> branches, std::int64_t dim = 1);
  Tensor forward(const Tensor& x) override;
  std::size_t size() const { return branches_.size(); }
  std::int64_t dim() const { return dim_; }

 private:
  std::vector<std::shared_ptr<Module>> branches_;
  std::int64_t dim_;
};

}  // namespace vigil::nn
