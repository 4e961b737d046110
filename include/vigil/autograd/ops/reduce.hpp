// Differentiable reductions over dims. `dims` empty means every dim; keepdim keeps reduced dims as size 1.
#pragma once

#include <vigil/tensor/tensor.hpp>

#include <initializer_list>
#include <span>

namespace vigil {

Tensor sum(const Tensor& x, std::span<const std::int64_t> dims = {}, bool keepdim = false);
inline Tensor sum(const Tensor& x, std::initializer_list<std::int64_t> dims, bool keepdim = false) {
  return sum(x, std::span<const std::int64_t>(dims.begin(), dims.size()), keepdim);
}

}  // namespace vigil
