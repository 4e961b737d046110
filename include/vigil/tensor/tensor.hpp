// Tensor: a view (shape, strides, offset, dtype) onto refcounted, 64-byte-aligned storage.
//
// A Tensor is a cheap handle: copying it shares the same TensorImpl, like a PyTorch tensor variable. Views
// (reshape, permute, narrow, expand, ...) make a new TensorImpl over the same Storage; clone() copies the data.
//
// Layering: this module knows nothing of gradients' arithmetic. It holds the autograd metadata that hangs off a
// tensor (requires_grad, grad, the node that produced it) so that user code reads like PyTorch, but the functions
// here that return views are the *raw* ones in namespace vigil::raw: they do not record a gradient. The
// differentiable versions (vigil::reshape, vigil::add, ...) are in the autograd module.
#pragma once

#include <vigil/tensor/dtype.hpp>
#include <vigil/tensor/error.hpp>
#include <vigil/tensor/shape.hpp>

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace vigil {

class Node;  // a step of the autograd tape; defined by the autograd module
class Generator;

// Refcounted bytes: from the caching allocator, or an external buffer with the caller's deleter.
class Storage {
 public:
  // Uninitialised storage of nbytes from the caching allocator.
  static std::shared_ptr<Storage> allocate(std::size_t nbytes);
  // Wraps memory the caller owns; `deleter` (may be empty: not owned) runs when the last view goes away.
  static std::shared_ptr<Storage> wrap(void* data, std::size_t nbytes, std::function<void(void*)> deleter);

  Storage(void* data, std::size_t nbytes, bool from_cache, std::function<void(void*)> deleter);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  std::size_t nbytes() const { return nbytes_; }

 private:
  void* data_;
  std::size_t nbytes_;
  bool from_cache_;
  std::function<void(void*)> deleter_;
};

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  std::int64_t offset = 0;  // in elements
  Shape shape;
  Strides strides;  // in elements; 0 for broadcast (expanded) dims
  DType dtype = DType::Float32;

  // Autograd metadata, used by the autograd module.
  bool requires_grad = false;
  std::shared_ptr<Node> grad_fn;           // op that produced this tensor; null for a leaf
  std::shared_ptr<Node> grad_accumulator;  // a leaf's accumulate-into-.grad node (holds hooks), shared by all uses
  std::shared_ptr<TensorImpl> grad;        // accumulated gradient
};

// Makes a TensorImpl from a small-object pool (see pool.hpp): creating views and results is allocation-free.
std::shared_ptr<TensorImpl> make_tensor_impl();

struct TensorOptions {
  DType dtype = DType::Float32;
  bool requires_grad = false;
};

class Tensor {
 public:
  Tensor() = default;  // undefined: defined() is false
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl().shape; }
  const Strides& strides() const { return impl().strides; }
  // Extent of dim d (negative counts from the end).
  std::int64_t size(std::int64_t d) const;
  int dim() const { return impl().shape.size(); }
  std::int64_t numel() const { return impl().shape.numel(); }
  DType dtype() const { return impl().dtype; }
  std::int64_t offset() const { return impl().offset; }
  bool is_contiguous() const;
  // True when this tensor and `other` view the same storage.
  bool shares_storage(const Tensor& other) const;
  const std::shared_ptr<Storage>& storage() const { return impl().storage; }

  // Typed pointer to element [0, ..., 0] (offset applied). Throws DTypeError if T is not the dtype.
  template <class T>
  T* data() const {
    check_dtype(dtype_of<T>(), "data");
    return static_cast<T*>(impl().storage->data()) + impl().offset;
  }
  void* raw_data() const;
  // The single value of a one-element tensor, as float.
  float item() const;
  // Copies the values out in row-major order.
  std::vector<float> to_vector() const;

  // Autograd state. requires_grad can be set only on leaves (tensors no op produced) of float dtype.
  bool requires_grad() const { return impl().requires_grad; }
  Tensor& set_requires_grad(bool on = true);
  bool is_leaf() const { return impl().grad_fn == nullptr; }
  // The accumulated gradient (undefined until a backward pass reaches this tensor).
  Tensor grad() const;
  void set_grad(const Tensor& g);
  const std::shared_ptr<Node>& grad_fn() const { return impl().grad_fn; }

  // A new tensor sharing this one's storage, shape and strides, cut from the graph (no grad_fn, no
  // requires_grad). Used to save tensors for backward without a reference cycle.
  Tensor detach() const;

  TensorImpl& impl() const;
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  void check_dtype(DType expected, const char* op) const;

 private:
  std::shared_ptr<TensorImpl> impl_;
};

// ---- Creation (all float32 unless options say otherwise; every dtype but bfloat16 can be made). ----
Tensor empty(const Shape& shape, TensorOptions options = {});
Tensor zeros(const Shape& shape, TensorOptions options = {});
Tensor ones(const Shape& shape, TensorOptions options = {});
Tensor full(const Shape& shape, float value, TensorOptions options = {});
Tensor scalar_tensor(float value, TensorOptions options = {});
// [start, start + step, ...) below end, as torch.arange.
Tensor arange(double start, double end, double step = 1.0, TensorOptions options = {});
// `steps` evenly spaced values from start to end inclusive, as torch.linspace.
Tensor linspace(double start, double end, std::int64_t steps, TensorOptions options = {});
Tensor eye(std::int64_t n, std::int64_t m = -1, TensorOptions options = {});
// Uniform in [0, 1), standard normal, and integers in [low, high): every value comes from `gen`. rand and randn
// make float32 or float64 (DTypeError otherwise); float64 holds the same float32 draws widened, so one seed gives
// the same values in either dtype.
Tensor rand(const Shape& shape, Generator& gen, TensorOptions options = {});
Tensor randn(const Shape& shape, Generator& gen, TensorOptions options = {});
Tensor randint(std::int64_t low, std::int64_t high, const Shape& shape, Generator& gen);
// Copies `values` (row-major) into a new tensor of `shape`; numel must match.
Tensor from_vector(std::span<const float> values, const Shape& shape, TensorOptions options = {});
Tensor from_vector_i64(std::span<const std::int64_t> values, const Shape& shape);
Tensor from_vector_bool(std::span<const bool> values, const Shape& shape);
// Views an external buffer without copying; `deleter` (may be empty) frees it when the tensor dies.
Tensor from_blob(void* data, const Shape& shape, DType dtype, std::function<void(void*)> deleter = {});

// ---- Raw (non-differentiable) views and copies; see the autograd module for the recording versions. ----
namespace raw {
// A view with a new shape (one extent may be -1). Throws ShapeError when the strides cannot express it
// without a copy; reshape() copies in that case.
Tensor view(const Tensor& x, const Shape& shape);
Tensor reshape(const Tensor& x, const Shape& shape);
Tensor permute(const Tensor& x, std::span<const std::int64_t> order);
Tensor transpose(const Tensor& x, std::int64_t d0, std::int64_t d1);
// Elements [start, start + length) of dim d.
Tensor narrow(const Tensor& x, std::int64_t d, std::int64_t start, std::int64_t length);
// Python-style slice of dim d: start, stop (exclusive, clamped), step > 0.
Tensor slice(const Tensor& x, std::int64_t d, std::int64_t start, std::int64_t stop, std::int64_t step = 1);
// Broadcast view to `shape` (size-1 dims repeat with stride 0; -1 keeps an extent).
Tensor expand(const Tensor& x, const Shape& shape);
Tensor squeeze(const Tensor& x);                 // drops every size-1 dim
Tensor squeeze(const Tensor& x, std::int64_t d);  // drops dim d if it has size 1
Tensor unsqueeze(const Tensor& x, std::int64_t d);
Tensor flatten(const Tensor& x, std::int64_t start_dim = 0, std::int64_t end_dim = -1);
// A row-major copy unless x already is one (then x itself).
Tensor contiguous(const Tensor& x);
Tensor clone(const Tensor& x);
// Copies src into dst elementwise (same shape; dst may be a strided view). dtype must match.
void copy_(const Tensor& dst, const Tensor& src);
Tensor to_dtype(const Tensor& x, DType dtype);
}  // namespace raw

// Same shape and every |a - b| <= atol + rtol * |b|, compared in float64 (NaNs equal only when equal_nan).
bool allclose(const Tensor& a, const Tensor& b, double rtol = 1e-5, double atol = 1e-8, bool equal_nan = false);

// PyTorch-like printing: values with 4 decimals (or scientific when the range calls for it; integer dtypes as
// integers, bool as true/false), summarised with "..." beyond 1000 elements, then shape and dtype.
std::string to_string(const Tensor& x);
std::ostream& operator<<(std::ostream& os, const Tensor& x);

}  // namespace vigil
