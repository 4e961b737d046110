// Walking strided tensors. for_each_strided visits every index of a shape in row-major order and passes, for each
// of K tensors, the element offset sum_i index[i] * strides_k[i]. This is the general (slow-but-always-right)
// path that naive reference kernels use and that fast kernels fall back to for non-contiguous views.
#pragma once

#include <vigil/tensor/shape.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <tuple>

namespace vigil {

template <std::size_t K, class F>
void for_each_strided(const Shape& shape, const std::array<Strides, K>& strides, F&& f) {
  const int rank = shape.size();
  const std::int64_t n = shape.numel();
  if (n == 0) return;
  if (rank == 0) {
    std::array<std::int64_t, K> zero{};
    std::apply(f, zero);
    return;
  }
  std::array<std::int64_t, kMaxDims> index{};
  std::array<std::int64_t, K> off{};
  const std::int64_t inner = shape[rank - 1];
  std::array<std::int64_t, K> inner_stride{};
  for (std::size_t k = 0; k < K; ++k) inner_stride[k] = strides[k][rank - 1];
  for (std::int64_t done = 0; done < n; done += inner) {
    std::array<std::int64_t, K> o = off;
    for (std::int64_t j = 0; j < inner; ++j) {
      std::apply(f, o);
      for (std::size_t k = 0; k < K; ++k) o[k] += inner_stride[k];
    }
    // Advance the outer index (odometer), updating offsets incrementally.
    for (int d = rank - 2; d >= 0; --d) {
      if (++index[static_cast<std::size_t>(d)] < shape[d]) {
        for (std::size_t k = 0; k < K; ++k) off[k] += strides[k][d];
        break;
      }
      for (std::size_t k = 0; k < K; ++k) off[k] -= strides[k][d] * (shape[d] - 1);
      index[static_cast<std::size_t>(d)] = 0;
    }
  }
}

// Strides that read a tensor of shape `from` (with strides `strides`) as if broadcast to `to`: size-1 or missing
// leading dims get stride 0. `to` must be a broadcast of `from` (see broadcast_shapes).
inline Strides broadcast_strides(const Shape& from, const Strides& strides, const Shape& to) {
  Strides out = Shape::filled(to.size(), 0);
  const int lead = to.size() - from.size();
  for (int i = 0; i < from.size(); ++i) out[lead + i] = from[i] == 1 ? 0 : strides[i];
  return out;
}

}  // namespace vigil
