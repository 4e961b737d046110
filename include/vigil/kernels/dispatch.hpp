// Dtype dispatch for kernels: runs a generic lambda with a value of the C++ type behind a floating dtype.
//   dispatch_floating(x.dtype(), "relu", [&](auto zero) { using T = decltype(zero); ... });
#pragma once

#include <vigil/tensor/tensor.hpp>

namespace vigil::kernels {

template <class F>
decltype(auto) dispatch_floating(DType dtype, const char* op, F&& f) {
  switch (dtype) {
    case DType::Float32: return f(float{});
    case DType::Float64: return f(double{});
    default:
      throw DTypeError(fmt::format("{}: expected a float32 or float64 tensor, got {}", op, dtype_name(dtype)));
  }
}

// Throws DTypeError naming `op` unless a and b have the same dtype.
inline void check_same_dtype(const Tensor& a, const Tensor& b, const char* op) {
  VIGIL_CHECK(a.dtype() == b.dtype(), DTypeError, "{}: dtypes differ: {} of shape {} and {} of shape {}", op,
              dtype_name(a.dtype()), a.shape().str(), dtype_name(b.dtype()), b.shape().str());
}

// Loops of at least this many elements are split across OpenMP threads; below it, thread start-up costs more than
// it saves. Splits are static, so results do not depend on timing.
inline constexpr std::int64_t kParallelGrain = 1 << 15;

}  // namespace vigil::kernels
