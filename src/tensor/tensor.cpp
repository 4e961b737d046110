// Storage, the Tensor handle, and tensor creation.
#include <vigil/tensor/allocator.hpp>
#include <vigil/tensor/generator.hpp>
#include <vigil/tensor/pool.hpp>
#include <vigil/tensor/strided.hpp>
#include <vigil/tensor/tensor.hpp>

#include <cmath>
#include <cstring>

namespace vigil {

// ---- Storage ----

Storage::Storage(void* data, std::size_t nbytes, bool from_cache, std::function<void(void*)> deleter)
    : data_(data), nbytes_(nbytes), from_cache_(from_cache), deleter_(std::move(deleter)) {}

Storage::~Storage() {
  if (from_cache_) {
    CachingAllocator::instance().deallocate(data_, nbytes_);
  } else if (deleter_) {
    deleter_(data_);
  }
}

std::shared_ptr<Storage> Storage::allocate(std::size_t nbytes) {
  void* p = CachingAllocator::instance().allocate(nbytes);
  return std::allocate_shared<Storage>(PoolAllocator<Storage>{}, p, nbytes, true, std::function<void(void*)>{});
}

std::shared_ptr<Storage> Storage::wrap(void* data, std::size_t nbytes, std::function<void(void*)> deleter) {
  return std::allocate_shared<Storage>(PoolAllocator<Storage>{}, data, nbytes, false, std::move(deleter));
}

std::shared_ptr<TensorImpl> make_tensor_impl() { return std::allocate_shared<TensorImpl>(PoolAllocator<TensorImpl>{}); }

// ---- Tensor ----

TensorImpl& Tensor::impl() const {
  if (!impl_) throw Error("use of an undefined tensor (default-constructed, or a gradient that was never computed)");
  return *impl_;
}

std::int64_t Tensor::size(std::int64_t d) const { return shape()[normalize_dim(d, dim(), "size")]; }

bool Tensor::is_contiguous() const {
  const auto& s = shape();
  std::int64_t expected = 1;
  for (int i = s.size() - 1; i >= 0; --i) {
    if (s[i] != 1 && strides()[i] != expected) return false;
    expected *= s[i];
  }
  return true;
}

bool Tensor::shares_storage(const Tensor& other) const { return storage() == other.storage(); }

void* Tensor::raw_data() const {
  return static_cast<char*>(impl().storage->data()) + impl().offset * static_cast<std::int64_t>(dtype_size(dtype()));
}

void Tensor::check_dtype(DType expected, const char* op) const {
  VIGIL_CHECK(dtype() == expected, DTypeError, "{}: expected a {} tensor, got {} of shape {}", op, dtype_name(expected),
              dtype_name(dtype()), shape().str());
}

float Tensor::item() const {
  VIGIL_CHECK(numel() == 1, ShapeError, "item: expected a tensor with one element, got shape {}", shape().str());
  switch (dtype()) {
    case DType::Float32: return *data<float>();
    case DType::Float64: return static_cast<float>(*data<double>());
    case DType::Int64: return static_cast<float>(*data<std::int64_t>());
    case DType::Int32: return static_cast<float>(*data<std::int32_t>());
    case DType::Bool: return *data<bool>() ? 1.0f : 0.0f;
    default: throw DTypeError(fmt::format("item: no conversion from {}", dtype_name(dtype())));
  }
}

std::vector<float> Tensor::to_vector() const {
  Tensor f = dtype() == DType::Float32 ? raw::contiguous(*this) : raw::to_dtype(*this, DType::Float32);
  const float* p = f.data<float>();
  return std::vector<float>(p, p + f.numel());
}

Tensor& Tensor::set_requires_grad(bool on) {
  VIGIL_CHECK(is_leaf(), Error,
              "set_requires_grad: only leaf tensors can be marked; this one was produced by an op (use detach() first)");
  VIGIL_CHECK(!on || is_floating(dtype()), DTypeError,
              "set_requires_grad: only floating-point tensors can require gradients, got {}", dtype_name(dtype()));
  impl().requires_grad = on;
  return *this;
}

Tensor Tensor::grad() const {
  const auto& g = impl().grad;
  return g ? Tensor(g) : Tensor();
}

void Tensor::set_grad(const Tensor& g) {
  if (g.defined()) {
    VIGIL_CHECK(g.shape() == shape(), ShapeError, "set_grad: gradient of shape {} for a tensor of shape {}",
                g.shape().str(), shape().str());
  }
  impl().grad = g.impl_ptr();
}

Tensor Tensor::detach() const {
  auto out = make_tensor_impl();
  const TensorImpl& src = impl();
  out->storage = src.storage;
  out->offset = src.offset;
  out->shape = src.shape;
  out->strides = src.strides;
  out->dtype = src.dtype;
  return Tensor(std::move(out));
}

// ---- Creation ----

Tensor empty(const Shape& shape, TensorOptions options) {
  for (auto d : shape) VIGIL_CHECK(d >= 0, ShapeError, "empty: negative extent in shape {}", shape.str());
  auto impl = make_tensor_impl();
  impl->storage = Storage::allocate(static_cast<std::size_t>(shape.numel()) * dtype_size(options.dtype));
  impl->shape = shape;
  impl->strides = shape.contiguous_strides();
  impl->dtype = options.dtype;
  Tensor t(std::move(impl));
  if (options.requires_grad) t.set_requires_grad(true);
  return t;
}

namespace {

// Writes `value` into element i of a freshly made contiguous tensor of any dtype but bfloat16.
void store(const Tensor& t, std::int64_t i, double value, const char* op) {
  switch (t.dtype()) {
    case DType::Float32: t.data<float>()[i] = static_cast<float>(value); return;
    case DType::Float64: t.data<double>()[i] = value; return;
    case DType::Int64: t.data<std::int64_t>()[i] = static_cast<std::int64_t>(value); return;
    case DType::Int32: t.data<std::int32_t>()[i] = static_cast<std::int32_t>(value); return;
    case DType::Bool: t.data<bool>()[i] = value != 0.0; return;
    default: throw DTypeError(fmt::format("{}: no kernel for {}", op, dtype_name(t.dtype())));
  }
}

// Writes `value` into every element of a freshly made contiguous tensor of any dtype.
void fill_contiguous(const Tensor& t, double value) {
  const std::int64_t n = t.numel();
  switch (t.dtype()) {
    case DType::Float32: std::fill_n(t.data<float>(), n, static_cast<float>(value)); break;
    case DType::Float64: std::fill_n(t.data<double>(), n, value); break;
    case DType::Int64: std::fill_n(t.data<std::int64_t>(), n, static_cast<std::int64_t>(value)); break;
    case DType::Int32: std::fill_n(t.data<std::int32_t>(), n, static_cast<std::int32_t>(value)); break;
    case DType::Bool: std::fill_n(t.data<bool>(), n, value != 0.0); break;
    default: throw DTypeError(fmt::format("fill: no kernel for {}", dtype_name(t.dtype())));
  }
}

template <class Fill>
Tensor make_filled(const Shape& shape, TensorOptions options, Fill&& fill) {
  TensorOptions plain = options;
  plain.requires_grad = false;
  Tensor t = empty(shape, plain);
  fill(t);
  if (options.requires_grad) t.set_requires_grad(true);
  return t;
}

}  // namespace

Tensor full(const Shape& shape, float value, TensorOptions options) {
  return make_filled(shape, options, [&](const Tensor& t) { fill_contiguous(t, value); });
}
Tensor zeros(const Shape& shape, TensorOptions options) { return full(shape, 0.0f, options); }
Tensor ones(const Shape& shape, TensorOptions options) { return full(shape, 1.0f, options); }
Tensor scalar_tensor(float value, TensorOptions options) { return full(Shape{}, value, options); }

Tensor arange(double start, double end, double step, TensorOptions options) {
  VIGIL_CHECK(step != 0.0, Error, "arange: step must be non-zero");
  VIGIL_CHECK((end - start) / step >= 0, Error, "arange: step {} goes away from end ({} -> {})", step, start, end);
  const auto n = static_cast<std::int64_t>(std::ceil((end - start) / step));
  return make_filled(Shape{n}, options, [&](const Tensor& t) {
    for (std::int64_t i = 0; i < n; ++i) store(t, i, start + static_cast<double>(i) * step, "arange");
  });
}

Tensor linspace(double start, double end, std::int64_t steps, TensorOptions options) {
  VIGIL_CHECK(steps >= 0, Error, "linspace: steps must be >= 0, got {}", steps);
  return make_filled(Shape{steps}, options, [&](const Tensor& t) {
    const double step = steps > 1 ? (end - start) / static_cast<double>(steps - 1) : 0.0;
    // Like PyTorch: the first half counts up from start, the second half down from end, so both ends are exact
    // (a single step is start alone).
    const std::int64_t half = steps == 1 ? 1 : steps / 2;
    for (std::int64_t i = 0; i < steps; ++i) {
      store(t, i, i < half ? start + step * static_cast<double>(i) : end - step * static_cast<double>(steps - 1 - i),
            "linspace");
    }
  });
}

Tensor eye(std::int64_t n, std::int64_t m, TensorOptions options) {
  if (m < 0) m = n;
  return make_filled(Shape{n, m}, options, [&](const Tensor& t) {
    fill_contiguous(t, 0.0);
    for (std::int64_t i = 0; i < std::min(n, m); ++i) store(t, i * m + i, 1.0, "eye");
  });
}

namespace {
// Fills a float32 or float64 tensor with float32 draws; float64 ones are the same draws widened, so a seed gives
// the same values in either dtype.
template <class Draw>
Tensor random_floats(const Shape& shape, TensorOptions options, const char* op, Draw&& draw) {
  VIGIL_CHECK(is_floating(options.dtype), DTypeError, "{}: expected a float32 or float64 dtype, got {}", op,
              dtype_name(options.dtype));
  return make_filled(shape, options, [&](const Tensor& t) {
    if (t.dtype() == DType::Float64) {
      double* p = t.data<double>();
      for (std::int64_t i = 0; i < t.numel(); ++i) p[i] = draw();
    } else {
      float* p = t.data<float>();
      for (std::int64_t i = 0; i < t.numel(); ++i) p[i] = draw();
    }
  });
}
}  // namespace

Tensor rand(const Shape& shape, Generator& gen, TensorOptions options) {
  return random_floats(shape, options, "rand", [&] { return gen.uniform(); });
}

Tensor randn(const Shape& shape, Generator& gen, TensorOptions options) {
  return random_floats(shape, options, "randn", [&] { return gen.normal(); });
}

Tensor randint(std::int64_t low, std::int64_t high, const Shape& shape, Generator& gen) {
  VIGIL_CHECK(high > low, Error, "randint: empty range [{}, {})", low, high);
  Tensor t = empty(shape, TensorOptions{DType::Int64});
  auto* p = t.data<std::int64_t>();
  const auto span = static_cast<std::uint64_t>(high - low);
  for (std::int64_t i = 0; i < t.numel(); ++i) p[i] = low + static_cast<std::int64_t>(gen.below(span));
  return t;
}

namespace {
template <class T>
Tensor copy_values(std::span<const T> values, const Shape& shape, TensorOptions options, const char* op) {
  VIGIL_CHECK(static_cast<std::int64_t>(values.size()) == shape.numel(), ShapeError,
              "{}: {} values cannot fill shape {} ({} elements)", op, values.size(), shape.str(), shape.numel());
  options.dtype = dtype_of<T>();
  return make_filled(shape, options, [&](const Tensor& t) { std::copy(values.begin(), values.end(), t.data<T>()); });
}
}  // namespace

Tensor from_vector(std::span<const float> values, const Shape& shape, TensorOptions options) {
  return copy_values(values, shape, options, "from_vector");
}
Tensor from_vector_i64(std::span<const std::int64_t> values, const Shape& shape) {
  return copy_values(values, shape, {}, "from_vector_i64");
}
Tensor from_vector_bool(std::span<const bool> values, const Shape& shape) {
  VIGIL_CHECK(static_cast<std::int64_t>(values.size()) == shape.numel(), ShapeError,
              "from_vector_bool: {} values cannot fill shape {}", values.size(), shape.str());
  Tensor t = empty(shape, TensorOptions{DType::Bool});
  std::copy(values.begin(), values.end(), t.data<bool>());
  return t;
}

Tensor from_blob(void* data, const Shape& shape, DType dtype, std::function<void(void*)> deleter) {
  auto impl = make_tensor_impl();
  impl->storage = Storage::wrap(data, static_cast<std::size_t>(shape.numel()) * dtype_size(dtype), std::move(deleter));
  impl->shape = shape;
  impl->strides = shape.contiguous_strides();
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

}  // namespace vigil
