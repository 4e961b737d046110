// The naive matrix product: the definition every fast path is tested against.
//   C[b, i, j] = sum_k A[b', i, k] * B[b'', k, j]   (b', b'' broadcast batch indices; sum in double)
#include <vigil/kernels/dispatch.hpp>
#include <vigil/kernels/matmul.hpp>
#include <vigil/tensor/strided.hpp>

namespace vigil::kernels {

Shape matmul_shape(const Shape& a, const Shape& b) {
  VIGIL_CHECK(a.size() >= 2 && b.size() >= 2, ShapeError, "matmul: operands need at least 2 dims here, got {} and {}",
              a.str(), b.str());
  VIGIL_CHECK(a.back() == b[b.size() - 2], ShapeError,
              "matmul: shapes {} and {} do not fit (inner dims {} and {} differ)", a.str(), b.str(), a.back(),
              b[b.size() - 2]);
  const Shape batch_a(std::span<const std::int64_t>(a.begin(), a.end() - 2));
  const Shape batch_b(std::span<const std::int64_t>(b.begin(), b.end() - 2));
  Shape out = broadcast_shapes(batch_a, batch_b, "matmul");
  out.push_back(a[a.size() - 2]);
  out.push_back(b.back());
  return out;
}

Tensor matmul_reference(const Tensor& a, const Tensor& b) {
  check_same_dtype(a, b, "matmul");
  const Shape out_shape = matmul_shape(a.shape(), b.shape());
  const int rank = out_shape.size();
  const std::int64_t M = out_shape[rank - 2], N = out_shape[rank - 1], K = a.shape().back();
  const Shape batch(std::span<const std::int64_t>(out_shape.begin(), out_shape.end() - 2));
  auto batch_strides = [&](const Tensor& x) {
    const Shape xb(std::span<const std::int64_t>(x.shape().begin(), x.shape().end() - 2));
    const Strides xs(std::span<const std::int64_t>(x.strides().begin(), x.strides().end() - 2));
    return broadcast_strides(xb, xs, batch);
  };
  return dispatch_floating(a.dtype(), "matmul", [&](auto zero) {
    using T = decltype(zero);
    Tensor c = empty(out_shape, TensorOptions{a.dtype()});
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    T* pc = c.data<T>();
    const std::int64_t am = a.strides()[a.dim() - 2], ak = a.strides()[a.dim() - 1];
    const std::int64_t bk = b.strides()[b.dim() - 2], bn = b.strides()[b.dim() - 1];
    std::int64_t base_c = 0;
    for_each_strided<2>(batch, {batch_strides(a), batch_strides(b)}, [&](std::int64_t oa, std::int64_t ob) {
      for (std::int64_t i = 0; i < M; ++i) {
        for (std::int64_t j = 0; j < N; ++j) {
          double acc = 0;
          for (std::int64_t k = 0; k < K; ++k) acc += double(pa[oa + i * am + k * ak]) * double(pb[ob + k * bk + j * bn]);
          pc[base_c + i * N + j] = static_cast<T>(acc);
        }
      }
      base_c += M * N;
    });
    return c;
  });
}

}  // namespace vigil::kernels
