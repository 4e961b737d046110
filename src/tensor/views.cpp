// Raw views (shape/stride arithmetic over shared storage) and copies.
#include <vigil/tensor/strided.hpp>
#include <vigil/tensor/tensor.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>

namespace vigil::raw {
namespace {

Tensor make_view(const Tensor& x, const Shape& shape, const Strides& strides, std::int64_t offset) {
  auto impl = make_tensor_impl();
  impl->storage = x.storage();
  impl->offset = offset;
  impl->shape = shape;
  impl->strides = strides;
  impl->dtype = x.dtype();
  return Tensor(std::move(impl));
}

// Replaces a single -1 extent by what numel implies; checks the element count.
Shape infer_shape(const Shape& requested, std::int64_t numel, const char* op, const Shape& from) {
  Shape out = requested;
  int infer = -1;
  std::int64_t known = 1;
  for (int i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      VIGIL_CHECK(infer < 0, ShapeError, "{}: only one dim can be -1, got {}", op, requested.str());
      infer = i;
    } else {
      VIGIL_CHECK(out[i] >= 0, ShapeError, "{}: negative extent in {}", op, requested.str());
      known *= out[i];
    }
  }
  if (infer >= 0) {
    VIGIL_CHECK(known != 0 && numel % known == 0, ShapeError, "{}: shape {} is invalid for input of shape {} ({} elements)",
                op, requested.str(), from.str(), numel);
    out[infer] = numel / known;
  }
  VIGIL_CHECK(out.numel() == numel, ShapeError, "{}: shape {} is invalid for input of shape {} ({} elements)", op,
              requested.str(), from.str(), numel);
  return out;
}

// Strides that let the data of (shape, strides) be read as new_shape without a copy, if any exist (PyTorch's
// rule: each run of old dims that is contiguous within itself can be re-split freely).
std::optional<Strides> view_strides(const Shape& shape, const Strides& strides, const Shape& new_shape) {
  Strides out = Shape::filled(new_shape.size(), 1);
  if (shape.numel() == 0 || shape.empty()) return new_shape.contiguous_strides();
  int view_d = new_shape.size() - 1;
  std::int64_t chunk_base_stride = strides[shape.size() - 1];
  std::int64_t tensor_numel = 1, view_numel = 1;
  for (int d = shape.size() - 1; d >= 0; --d) {
    tensor_numel *= shape[d];
    if (d == 0 || (shape[d - 1] != 1 && strides[d - 1] != tensor_numel * chunk_base_stride)) {
      while (view_d >= 0 && (view_numel < tensor_numel || new_shape[view_d] == 1)) {
        out[view_d] = view_numel * chunk_base_stride;
        view_numel *= new_shape[view_d];
        --view_d;
      }
      if (view_numel != tensor_numel) return std::nullopt;
      if (d > 0) {
        chunk_base_stride = strides[d - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  if (view_d != -1) return std::nullopt;
  return out;
}

}  // namespace

Tensor view(const Tensor& x, const Shape& shape) {
  const Shape target = infer_shape(shape, x.numel(), "view", x.shape());
  auto strides = view_strides(x.shape(), x.strides(), target);
  VIGIL_CHECK(strides.has_value(), ShapeError,
              "view: a tensor of shape {} with strides {} cannot be viewed as {} without a copy; use reshape",
              x.shape().str(), x.strides().str(), target.str());
  return make_view(x, target, *strides, x.offset());
}

Tensor reshape(const Tensor& x, const Shape& shape) {
  const Shape target = infer_shape(shape, x.numel(), "reshape", x.shape());
  if (auto strides = view_strides(x.shape(), x.strides(), target)) return make_view(x, target, *strides, x.offset());
  return view(contiguous(x), target);
}

Tensor permute(const Tensor& x, std::span<const std::int64_t> order) {
  const int rank = x.dim();
  VIGIL_CHECK(static_cast<int>(order.size()) == rank, ShapeError, "permute: order has {} dims, tensor of shape {} has {}",
              order.size(), x.shape().str(), rank);
  Shape shape = Shape::filled(rank, 0), strides = Shape::filled(rank, 0);
  std::array<bool, kMaxDims> seen{};
  for (int i = 0; i < rank; ++i) {
    const int d = normalize_dim(order[static_cast<std::size_t>(i)], rank, "permute");
    VIGIL_CHECK(!seen[static_cast<std::size_t>(d)], ShapeError, "permute: dim {} repeated in the order", d);
    seen[static_cast<std::size_t>(d)] = true;
    shape[i] = x.shape()[d];
    strides[i] = x.strides()[d];
  }
  return make_view(x, shape, strides, x.offset());
}

Tensor transpose(const Tensor& x, std::int64_t d0, std::int64_t d1) {
  const int a = normalize_dim(d0, x.dim(), "transpose"), b = normalize_dim(d1, x.dim(), "transpose");
  Shape shape = x.shape(), strides = x.strides();
  if (x.dim() == 0) return make_view(x, shape, strides, x.offset());
  std::swap(shape[a], shape[b]);
  std::swap(strides[a], strides[b]);
  return make_view(x, shape, strides, x.offset());
}

Tensor narrow(const Tensor& x, std::int64_t d, std::int64_t start, std::int64_t length) {
  const int dim = normalize_dim(d, x.dim(), "narrow");
  const std::int64_t extent = x.shape()[dim];
  if (start < 0) start += extent;
  VIGIL_CHECK(start >= 0 && length >= 0 && start + length <= extent, IndexError,
              "narrow: elements [{}, {}) of dim {} are out of range for shape {}", start, start + length, dim,
              x.shape().str());
  Shape shape = x.shape();
  shape[dim] = length;
  return make_view(x, shape, x.strides(), x.offset() + start * x.strides()[dim]);
}

Tensor slice(const Tensor& x, std::int64_t d, std::int64_t start, std::int64_t stop, std::int64_t step) {
  const int dim = normalize_dim(d, x.dim(), "slice");
  VIGIL_CHECK(step > 0, IndexError, "slice: step must be positive, got {}", step);
  const std::int64_t extent = x.shape()[dim];
  auto clamp_index = [&](std::int64_t i) { return std::clamp(i < 0 ? i + extent : i, std::int64_t{0}, extent); };
  start = clamp_index(start);
  stop = std::max(clamp_index(stop), start);
  Shape shape = x.shape(), strides = x.strides();
  shape[dim] = (stop - start + step - 1) / step;
  strides[dim] *= step;
  return make_view(x, shape, strides, x.offset() + start * x.strides()[dim]);
}

Tensor expand(const Tensor& x, const Shape& shape) {
  VIGIL_CHECK(shape.size() >= x.dim(), ShapeError, "expand: cannot expand shape {} to fewer dims {}", x.shape().str(),
              shape.str());
  const int lead = shape.size() - x.dim();
  Shape out_shape = shape, strides = Shape::filled(shape.size(), 0);
  for (int i = 0; i < shape.size(); ++i) {
    if (i < lead) {
      VIGIL_CHECK(shape[i] >= 0, ShapeError, "expand: -1 is not allowed for new leading dim {} in {}", i, shape.str());
      continue;
    }
    const std::int64_t have = x.shape()[i - lead];
    if (shape[i] == -1) out_shape[i] = have;
    VIGIL_CHECK(have == out_shape[i] || have == 1, ShapeError,
                "expand: shape {} cannot be expanded to {} (dim {}: {} is neither {} nor 1)", x.shape().str(),
                shape.str(), i, have, out_shape[i]);
    strides[i] = have == out_shape[i] ? x.strides()[i - lead] : 0;  // a repeated size-1 dim reads one element
  }
  return make_view(x, out_shape, strides, x.offset());
}

Tensor squeeze(const Tensor& x) {
  Shape shape, strides;
  for (int i = 0; i < x.dim(); ++i) {
    if (x.shape()[i] == 1) continue;
    shape.push_back(x.shape()[i]);
    strides.push_back(x.strides()[i]);
  }
  return make_view(x, shape, strides, x.offset());
}

Tensor squeeze(const Tensor& x, std::int64_t d) {
  if (x.dim() == 0) return make_view(x, x.shape(), x.strides(), x.offset());
  const int dim = normalize_dim(d, x.dim(), "squeeze");
  if (x.shape()[dim] != 1) return make_view(x, x.shape(), x.strides(), x.offset());
  Shape shape = x.shape(), strides = x.strides();
  shape.erase(dim);
  strides.erase(dim);
  return make_view(x, shape, strides, x.offset());
}

Tensor unsqueeze(const Tensor& x, std::int64_t d) {
  const int dim = normalize_dim(d, x.dim() + 1, "unsqueeze");
  Shape shape = x.shape(), strides = x.strides();
  const std::int64_t stride = dim < x.dim() ? x.strides()[dim] * x.shape()[dim] : 1;
  shape.insert(dim, 1);
  strides.insert(dim, stride);
  return make_view(x, shape, strides, x.offset());
}

Tensor flatten(const Tensor& x, std::int64_t start_dim, std::int64_t end_dim) {
  if (x.dim() == 0) return reshape(x, Shape{1});
  const int s = normalize_dim(start_dim, x.dim(), "flatten"), e = normalize_dim(end_dim, x.dim(), "flatten");
  VIGIL_CHECK(s <= e, ShapeError, "flatten: start_dim {} is after end_dim {} for shape {}", s, e, x.shape().str());
  Shape shape;
  for (int i = 0; i < s; ++i) shape.push_back(x.shape()[i]);
  std::int64_t merged = 1;
  for (int i = s; i <= e; ++i) merged *= x.shape()[i];
  shape.push_back(merged);
  for (int i = e + 1; i < x.dim(); ++i) shape.push_back(x.shape()[i]);
  return reshape(x, shape);
}

Tensor contiguous(const Tensor& x) { return x.is_contiguous() ? x : clone(x); }

Tensor clone(const Tensor& x) {
  Tensor out = empty(x.shape(), TensorOptions{x.dtype()});
  copy_(out, x);
  return out;
}

void copy_(const Tensor& dst, const Tensor& src) {
  VIGIL_CHECK(dst.shape() == src.shape(), ShapeError, "copy_: destination shape {} differs from source shape {}",
              dst.shape().str(), src.shape().str());
  VIGIL_CHECK(dst.dtype() == src.dtype(), DTypeError, "copy_: destination is {}, source is {}", dtype_name(dst.dtype()),
              dtype_name(src.dtype()));
  const auto esize = static_cast<std::int64_t>(dtype_size(src.dtype()));
  if (dst.is_contiguous() && src.is_contiguous()) {
    std::memcpy(dst.raw_data(), src.raw_data(), static_cast<std::size_t>(src.numel() * esize));
    return;
  }
  auto* d = static_cast<char*>(dst.raw_data());
  const auto* s = static_cast<const char*>(src.raw_data());
  for_each_strided<2>(src.shape(), {dst.strides(), src.strides()}, [&](std::int64_t od, std::int64_t os) {
    std::memcpy(d + od * esize, s + os * esize, static_cast<std::size_t>(esize));
  });
}

namespace {
template <class From, class To>
void convert(const Tensor& src, const Tensor& dst) {
  const From* s = src.data<From>();
  To* d = dst.data<To>();
  std::int64_t i = 0;
  for_each_strided<1>(src.shape(), {src.strides()}, [&](std::int64_t o) {
    if constexpr (std::is_same_v<To, bool>) d[i++] = s[o] != From{};
    else d[i++] = static_cast<To>(s[o]);
  });
}

template <class From>
void convert_from(const Tensor& src, const Tensor& dst) {
  switch (dst.dtype()) {
    case DType::Float32: convert<From, float>(src, dst); return;
    case DType::Float64: convert<From, double>(src, dst); return;
    case DType::Int64: convert<From, std::int64_t>(src, dst); return;
    case DType::Int32: convert<From, std::int32_t>(src, dst); return;
    case DType::Bool: convert<From, bool>(src, dst); return;
    default: throw DTypeError(fmt::format("to_dtype: no conversion to {}", dtype_name(dst.dtype())));
  }
}
}  // namespace

Tensor to_dtype(const Tensor& x, DType dtype) {
  if (x.dtype() == dtype) return clone(x);
  Tensor out = empty(x.shape(), TensorOptions{dtype});
  switch (x.dtype()) {
    case DType::Float32: convert_from<float>(x, out); break;
    case DType::Float64: convert_from<double>(x, out); break;
    case DType::Int64: convert_from<std::int64_t>(x, out); break;
    case DType::Int32: convert_from<std::int32_t>(x, out); break;
    case DType::Bool: convert_from<bool>(x, out); break;
    default: throw DTypeError(fmt::format("to_dtype: no conversion from {}", dtype_name(x.dtype())));
  }
  return out;
}

}  // namespace vigil::raw

namespace vigil {

bool allclose(const Tensor& a, const Tensor& b, double rtol, double atol, bool equal_nan) {
  if (a.shape() != b.shape()) return false;
  // Compared in float64, so that float64 tensors are held to tolerances finer than float32's rounding.
  const Tensor da = raw::to_dtype(a, DType::Float64), db = raw::to_dtype(b, DType::Float64);
  const double *va = da.data<double>(), *vb = db.data<double>();
  for (std::int64_t i = 0; i < da.numel(); ++i) {
    const double x = va[i], y = vb[i];
    if (std::isnan(x) || std::isnan(y)) {
      if (!(equal_nan && std::isnan(x) && std::isnan(y))) return false;
      continue;
    }
    if (x == y) continue;  // equal infinities
    if (std::isinf(x) || std::isinf(y)) return false;  // else inf <= atol + rtol * inf would pass
    if (!(std::abs(x - y) <= atol + rtol * std::abs(y))) return false;
  }
  return true;
}

}  // namespace vigil
