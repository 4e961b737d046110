#include <vigil/tensor/error.hpp>
#include <vigil/tensor/shape.hpp>

#include <algorithm>

namespace vigil {

Shape::Shape(std::initializer_list<std::int64_t> dims) : Shape(std::span<const std::int64_t>(dims.begin(), dims.size())) {}

Shape::Shape(std::span<const std::int64_t> dims) {
  VIGIL_CHECK(dims.size() <= kMaxDims, ShapeError, "shape: {} dims requested, vigil supports at most {}", dims.size(),
              kMaxDims);
  rank_ = static_cast<int>(dims.size());
  std::copy(dims.begin(), dims.end(), dims_.begin());
}

Shape Shape::filled(int rank, std::int64_t fill) {
  Shape s;
  for (int i = 0; i < rank; ++i) s.push_back(fill);
  return s;
}

void Shape::push_back(std::int64_t d) {
  VIGIL_CHECK(rank_ < kMaxDims, ShapeError, "shape {}: cannot add a dim, vigil supports at most {}", str(), kMaxDims);
  dims_[static_cast<std::size_t>(rank_++)] = d;
}

void Shape::insert(int pos, std::int64_t d) {
  VIGIL_CHECK(rank_ < kMaxDims, ShapeError, "shape {}: cannot add a dim, vigil supports at most {}", str(), kMaxDims);
  for (int i = rank_; i > pos; --i) dims_[static_cast<std::size_t>(i)] = dims_[static_cast<std::size_t>(i - 1)];
  dims_[static_cast<std::size_t>(pos)] = d;
  ++rank_;
}

void Shape::erase(int pos) {
  for (int i = pos; i + 1 < rank_; ++i) dims_[static_cast<std::size_t>(i)] = dims_[static_cast<std::size_t>(i + 1)];
  --rank_;
}

std::int64_t Shape::numel() const {
  std::int64_t n = 1;
  for (auto d : *this) n *= d;
  return n;
}

Shape Shape::contiguous_strides() const {
  Shape s = Shape::filled(rank_, 1);
  for (int i = rank_ - 2; i >= 0; --i) s[i] = s[i + 1] * std::max<std::int64_t>((*this)[i + 1], 1);
  return s;
}

std::string Shape::str() const {
  std::string out = "[";
  for (int i = 0; i < rank_; ++i) {
    if (i) out += ", ";
    out += std::to_string((*this)[i]);
  }
  return out + "]";
}

bool operator==(const Shape& a, const Shape& b) {
  return a.rank_ == b.rank_ && std::equal(a.begin(), a.end(), b.begin());
}

int normalize_dim(std::int64_t dim, int rank, const char* op) {
  const std::int64_t r = std::max(rank, 1);  // a scalar accepts dim 0 / -1, as in PyTorch
  VIGIL_CHECK(dim >= -r && dim < r, IndexError, "{}: dim {} is out of range for a tensor of {} dims (expected {} to {})",
              op, dim, rank, -r, r - 1);
  return static_cast<int>(dim < 0 ? dim + r : dim);
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  const int rank = std::max(a.size(), b.size());
  Shape out = Shape::filled(rank, 1);
  for (int i = 0; i < rank; ++i) {
    const int ia = a.size() - rank + i, ib = b.size() - rank + i;
    const std::int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
    VIGIL_CHECK(da == db || da == 1 || db == 1, ShapeError,
                "{}: shapes {} and {} cannot be broadcast (dim {} from the end: {} vs {})", op, a.str(), b.str(),
                rank - i, da, db);
    out[i] = da == 1 ? db : da;
  }
  return out;
}

}  // namespace vigil
