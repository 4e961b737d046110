// Shape and strides: up to kMaxDims extents held inline, so that creating, viewing and broadcasting tensors never
// touches the heap (a training step in steady state allocates nothing outside the caching allocator).
// Dims are int64 like PyTorch's; negative dims in APIs count from the end (-1 is the last).
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>

namespace vigil {

inline constexpr int kMaxDims = 8;

class Shape {
 public:
  Shape() = default;
  Shape(std::initializer_list<std::int64_t> dims);
  explicit Shape(std::span<const std::int64_t> dims);
  // A shape of `rank` dims, all equal to `fill`.
  static Shape filled(int rank, std::int64_t fill);

  int size() const { return rank_; }
  bool empty() const { return rank_ == 0; }
  std::int64_t operator[](int i) const { return dims_[static_cast<std::size_t>(i)]; }
  std::int64_t& operator[](int i) { return dims_[static_cast<std::size_t>(i)]; }
  const std::int64_t* begin() const { return dims_.data(); }
  const std::int64_t* end() const { return dims_.data() + rank_; }
  std::int64_t back() const { return dims_[static_cast<std::size_t>(rank_ - 1)]; }
  std::span<const std::int64_t> span() const { return {dims_.data(), static_cast<std::size_t>(rank_)}; }

  void push_back(std::int64_t d);
  void insert(int pos, std::int64_t d);
  void erase(int pos);

  // Product of the extents (1 for a scalar's empty shape).
  std::int64_t numel() const;
  // Row-major ("C-contiguous") strides for this shape, in elements.
  Shape contiguous_strides() const;
  // "[2, 3, 4]"
  std::string str() const;

  friend bool operator==(const Shape& a, const Shape& b);

 private:
  std::array<std::int64_t, kMaxDims> dims_{};
  int rank_ = 0;
};

using Strides = Shape;

// Resolves a possibly negative dim against `rank`; throws IndexError naming `op` if it is out of range.
int normalize_dim(std::int64_t dim, int rank, const char* op);

// NumPy broadcasting: align shapes at the right; each pair of extents must be equal or one of them 1.
// Throws ShapeError naming `op` and both shapes otherwise.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

}  // namespace vigil
