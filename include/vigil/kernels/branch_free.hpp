// Branch-free selection through bit masks, for loops whose condition is data (a ReLU mask, the winner of a pooling
// window). Written as `keep ? v : 0` or `take ? a : b`, GCC often emits a branch per element, which mispredicts
// about every other time on such data and stops vectorisation (measured: 2x2 max pooling 20.7 ms with branches,
// 9.8 ms without; the batch norm backward with a fused ReLU mask 10x slower). The bit operations below leave the
// compiler nothing to branch on.
#pragma once

#include <bit>
#include <cstdint>
#include <type_traits>

namespace vigil::kernels {

// The unsigned integer of a floating T's width.
template <class T>
using FloatBits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;

// v where keep, else +0 (the exact bits of v, or all zero bits).
template <class T>
T keep_if(T v, bool keep) {
  using Bits = FloatBits<T>;
  return std::bit_cast<T>(std::bit_cast<Bits>(v) & (Bits{0} - static_cast<Bits>(keep)));
}

// if_true where take, else if_false (the exact bits of one of them).
template <class T>
T select(bool take, T if_true, T if_false) {
  using Bits = FloatBits<T>;
  const Bits mask = Bits{0} - static_cast<Bits>(take);
  return std::bit_cast<T>((std::bit_cast<Bits>(if_true) & mask) | (std::bit_cast<Bits>(if_false) & ~mask));
}

}  // namespace vigil::kernels
