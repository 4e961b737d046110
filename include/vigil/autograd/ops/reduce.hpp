// Differentiable reductions and softmax, matched to PyTorch 1.13. `dims` empty means every dim; keepdim keeps
// reduced dims as size 1; negative dims count from the end. Floating inputs (float32, float64) only.
#pragma once

#include <vigil/kernels/reduce.hpp>
#include <vigil/tensor/tensor.hpp>

#include <initializer_list>
#include <span>

namespace vigil {

// {values, int64 indices} of max/min along a dim (torch.return_types.max). indices carry no gradient.
using kernels::ValuesIndices;

Tensor sum(const Tensor& x, std::span<const std::int64_t> dims = {}, bool keepdim = false);
inline Tensor sum(const Tensor& x, std::initializer_list<std::int64_t> dims, bool keepdim = false) {
  return sum(x, std::span<const std::int64_t>(dims.begin(), dims.size()), keepdim);
}

// sum / N. Backward: dx = g / N at every reduced element.
Tensor mean(const Tensor& x, std::span<const std::int64_t> dims = {}, bool keepdim = false);
inline Tensor mean(const Tensor& x, std::initializer_list<std::int64_t> dims, bool keepdim = false) {
  return mean(x, std::span<const std::int64_t>(dims.begin(), dims.size()), keepdim);
}

// Max/min along `dim`: values and the first index of the extremum (NaN propagates). The gradient goes to the
// selected index only, as torch. Throws IndexError for an empty dim.
ValuesIndices max(const Tensor& x, std::int64_t dim, bool keepdim = false);
ValuesIndices min(const Tensor& x, std::int64_t dim, bool keepdim = false);
// Max/min of all elements, a 0-d tensor. The gradient is shared evenly among the elements equal to the result
// (torch 1.13's rule for the all-elements form). Throws IndexError for an empty x.
Tensor max(const Tensor& x);
Tensor min(const Tensor& x);

// The position of the max/min along `dim` (int64, no gradient; first on ties), or, without a dim, the flat
// row-major position in x as a 0-d tensor.
Tensor argmax(const Tensor& x, std::int64_t dim, bool keepdim = false);
Tensor argmin(const Tensor& x, std::int64_t dim, bool keepdim = false);
Tensor argmax(const Tensor& x);
Tensor argmin(const Tensor& x);

// var = sum((x - mean)^2) / (N - correction) (correction 1: unbiased, torch's default).
// Backward: dx = g * 2 (x - mean) / (N - correction).
Tensor var(const Tensor& x, std::span<const std::int64_t> dims = {}, std::int64_t correction = 1, bool keepdim = false);
inline Tensor var(const Tensor& x, std::initializer_list<std::int64_t> dims, std::int64_t correction = 1,
                  bool keepdim = false) {
  return var(x, std::span<const std::int64_t>(dims.begin(), dims.size()), correction, keepdim);
}
// std = sqrt(var). Backward: dvar = g / (2 std), taken as 0 where std == 0 (torch's rule), then var's backward.
Tensor std(const Tensor& x, std::span<const std::int64_t> dims = {}, std::int64_t correction = 1, bool keepdim = false);
inline Tensor std(const Tensor& x, std::initializer_list<std::int64_t> dims, std::int64_t correction = 1,
                  bool keepdim = false) {
  return std(x, std::span<const std::int64_t>(dims.begin(), dims.size()), correction, keepdim);
}

// log(sum(exp(x))) over dims, stable (see kernels::logsumexp). Backward: dx = g * exp(x - out) = g * softmax(x).
Tensor logsumexp(const Tensor& x, std::span<const std::int64_t> dims = {}, bool keepdim = false);
inline Tensor logsumexp(const Tensor& x, std::initializer_list<std::int64_t> dims, bool keepdim = false) {
  return logsumexp(x, std::span<const std::int64_t>(dims.begin(), dims.size()), keepdim);
}

// softmax and log_softmax along `dim`, stable for logits of any finite size. Shapes: out = x's shape.
// Backward (y the output, sums along dim):  softmax: dx = y * (g - sum(g * y));  log_softmax: dx = g - exp(y) sum(g).
Tensor softmax(const Tensor& x, std::int64_t dim);
Tensor log_softmax(const Tensor& x, std::int64_t dim);

}  // namespace vigil
