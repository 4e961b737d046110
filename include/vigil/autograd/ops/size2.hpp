// Size2: the (height, width) pair of a 2-D kernel, stride, padding or output size, shared by convolution,
// pooling and upsampling.
#pragma once

#include <cstdint>

namespace vigil {

// One number means both: `.stride = 2` or `.stride = {2, 1}` (implicit on purpose, so options read like PyTorch's
// keyword arguments and `max_pool2d(x, 2)` works).
struct Size2 {
  Size2(std::int64_t both) : h(both), w(both) {}
  Size2(std::int64_t h_, std::int64_t w_) : h(h_), w(w_) {}
  friend bool operator==(const Size2&, const Size2&) = default;
  std::int64_t h, w;
};

}  // namespace vigil
