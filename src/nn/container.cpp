// Residual and Concat: composed from the differentiable add and cat, with shape checks that name the branch.
#include <vigil/autograd/ops/arith.hpp>
#include <vigil/autograd/ops/join.hpp>
#include <vigil/nn/container.hpp>

#include <string>
#include <utility>

namespace vigil::nn {

Residual::Residual(std::shared_ptr<Module> fn) : fn_(std::move(fn)) {
  VIGIL_CHECK(fn_ != nullptr, Error, "Residual: fn is null");
  register_module("fn", fn_);
}

Tensor Residual::forward(const Tensor& x) {
  const Tensor fx = (*fn_)(x);
  VIGIL_CHECK(fx.shape() == x.shape(), ShapeError,
              "Residual: fn's output of shape {} does not match its input of shape {} (y = x + fn(x) needs equal "
              "shapes)",
              fx.shape().str(), x.shape().str());
  return x + fx;
}

Concat::Concat(std::vector<std::shared_ptr<Module>> branches, std::int64_t dim)
    : branches_(std::move(branches)), dim_(dim) {
  VIGIL_CHECK(!branches_.empty(), Error, "Concat: needs at least one branch");
  for (std::size_t i = 0; i < branches_.size(); ++i) {
    VIGIL_CHECK(branches_[i] != nullptr, Error, "Concat: branch {} is null", i);
    register_module(std::to_string(i), branches_[i]);
  }
}

Tensor Concat::forward(const Tensor& x) {
  std::vector<Tensor> outs;
  outs.reserve(branches_.size());
  for (const auto& branch : branches_) outs.push_back((*branch)(x));
  const Shape& first = outs[0].shape();
  const int d = normalize_dim(dim_, first.size(), "Concat");
  for (std::size_t i = 1; i < outs.size(); ++i) {
    const Shape& s = outs[i].shape();
    bool fits = s.size() == first.size();
    for (int k = 0; fits && k < s.size(); ++k) fits = k == d || s[k] == first[k];
    VIGIL_CHECK(fits, ShapeError,
                "Concat: branch {} output of shape {} does not match branch 0 output of shape {} outside dim {}", i,
                s.str(), first.str(), d);
  }
  return cat(outs, dim_);
}

}  // namespace vigil::nn
