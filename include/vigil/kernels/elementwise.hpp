// Elementwise kernels: the engine every pointwise op (add, exp, relu, ...) runs on.
//
// map_unary(x, f):       y[i] = f(x[i])                  y has x's shape, row-major
// map_binary(a, b, f):   z[i] = f(a[i'], b[i''])          NumPy broadcasting of a and b
// map_ternary(a, b, c):  likewise with three inputs (where, clamp by tensors, backward formulas)
//
// `f` is a generic lambda over the element type, `[](auto v) { return v * v; }`, so one definition serves
// float32 and float64. Fast paths: contiguous same-shape inputs (a flat, vectorisable, OpenMP-split loop) and a
// scalar operand; everything else takes the strided path. The *_reference versions take only the strided path,
// single-threaded: they are the naive twins the tests compare the fast paths with.
#pragma once

#include <vigil/kernels/dispatch.hpp>
#include <vigil/tensor/strided.hpp>

namespace vigil::kernels {

namespace detail {

template <class T, class F>
void flat_loop(std::int64_t n, F&& body) {
#pragma omp parallel for simd schedule(static) if (n >= kParallelGrain)
  for (std::int64_t i = 0; i < n; ++i) body(i);
}

}  // namespace detail

template <class F>
Tensor map_unary(const Tensor& x, F f, const char* op) {
  return dispatch_floating(x.dtype(), op, [&](auto zero) {
    using T = decltype(zero);
    using R = std::invoke_result_t<F, T>;
    Tensor y = empty(x.shape(), TensorOptions{dtype_of<R>()});
    R* py = y.data<R>();
    const T* px = x.data<T>();
    if (x.is_contiguous()) {
      detail::flat_loop<T>(x.numel(), [&](std::int64_t i) { py[i] = f(px[i]); });
    } else {
      std::int64_t i = 0;
      for_each_strided<1>(x.shape(), {x.strides()}, [&](std::int64_t o) { py[i++] = f(px[o]); });
    }
    return y;
  });
}

template <class F>
Tensor map_unary_reference(const Tensor& x, F f, const char* op) {
  return dispatch_floating(x.dtype(), op, [&](auto zero) {
    using T = decltype(zero);
    using R = std::invoke_result_t<F, T>;
    Tensor y = empty(x.shape(), TensorOptions{dtype_of<R>()});
    R* py = y.data<R>();
    const T* px = x.data<T>();
    for_each_strided<2>(x.shape(), {y.strides(), x.strides()}, [&](std::int64_t oy, std::int64_t ox) { py[oy] = f(px[ox]); });
    return y;
  });
}

template <class F>
Tensor map_binary(const Tensor& a, const Tensor& b, F f, const char* op) {
  check_same_dtype(a, b, op);
  const Shape shape = broadcast_shapes(a.shape(), b.shape(), op);
  return dispatch_floating(a.dtype(), op, [&](auto zero) {
    using T = decltype(zero);
    using R = std::invoke_result_t<F, T, T>;
    Tensor z = empty(shape, TensorOptions{dtype_of<R>()});
    R* pz = z.data<R>();
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    const std::int64_t n = z.numel();
    const bool a_full = a.shape() == shape && a.is_contiguous(), b_full = b.shape() == shape && b.is_contiguous();
    if (a_full && b_full) {
      detail::flat_loop<T>(n, [&](std::int64_t i) { pz[i] = f(pa[i], pb[i]); });
    } else if (a_full && b.numel() == 1) {
      const T s = pb[0];
      detail::flat_loop<T>(n, [&](std::int64_t i) { pz[i] = f(pa[i], s); });
    } else if (b_full && a.numel() == 1) {
      const T s = pa[0];
      detail::flat_loop<T>(n, [&](std::int64_t i) { pz[i] = f(s, pb[i]); });
    } else {
      const Strides sa = broadcast_strides(a.shape(), a.strides(), shape);
      const Strides sb = broadcast_strides(b.shape(), b.strides(), shape);
      std::int64_t i = 0;
      for_each_strided<2>(shape, {sa, sb}, [&](std::int64_t oa, std::int64_t ob) { pz[i++] = f(pa[oa], pb[ob]); });
    }
    return z;
  });
}

template <class F>
Tensor map_binary_reference(const Tensor& a, const Tensor& b, F f, const char* op) {
  check_same_dtype(a, b, op);
  const Shape shape = broadcast_shapes(a.shape(), b.shape(), op);
  return dispatch_floating(a.dtype(), op, [&](auto zero) {
    using T = decltype(zero);
    using R = std::invoke_result_t<F, T, T>;
    Tensor z = empty(shape, TensorOptions{dtype_of<R>()});
    R* pz = z.data<R>();
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    const Strides sa = broadcast_strides(a.shape(), a.strides(), shape);
    const Strides sb = broadcast_strides(b.shape(), b.strides(), shape);
    for_each_strided<3>(shape, {z.strides(), sa, sb},
                        [&](std::int64_t oz, std::int64_t oa, std::int64_t ob) { pz[oz] = f(pa[oa], pb[ob]); });
    return z;
  });
}

// Three floating inputs of one dtype, broadcast together (strided path; used by where, clamp and backward rules).
template <class F>
Tensor map_ternary(const Tensor& a, const Tensor& b, const Tensor& c, F f, const char* op) {
  check_same_dtype(a, b, op);
  check_same_dtype(a, c, op);
  const Shape shape = broadcast_shapes(broadcast_shapes(a.shape(), b.shape(), op), c.shape(), op);
  return dispatch_floating(a.dtype(), op, [&](auto zero) {
    using T = decltype(zero);
    using R = std::invoke_result_t<F, T, T, T>;
    Tensor z = empty(shape, TensorOptions{dtype_of<R>()});
    R* pz = z.data<R>();
    const T *pa = a.data<T>(), *pb = b.data<T>(), *pc = c.data<T>();
    const std::int64_t n = z.numel();
    if (a.shape() == shape && b.shape() == shape && c.shape() == shape && a.is_contiguous() && b.is_contiguous() &&
        c.is_contiguous()) {
      detail::flat_loop<T>(n, [&](std::int64_t i) { pz[i] = f(pa[i], pb[i], pc[i]); });
      return z;
    }
    const Strides sa = broadcast_strides(a.shape(), a.strides(), shape);
    const Strides sb = broadcast_strides(b.shape(), b.strides(), shape);
    const Strides sc = broadcast_strides(c.shape(), c.strides(), shape);
    std::int64_t i = 0;
    for_each_strided<3>(shape, {sa, sb, sc},
                        [&](std::int64_t oa, std::int64_t ob, std::int64_t oc) { pz[i++] = f(pa[oa], pb[ob], pc[oc]); });
    return z;
  });
}

// In place: dst[i] = f(dst[i], src[i']) with src broadcast to dst's shape. dst must not overlap src unless equal.
template <class F>
void update_inplace(const Tensor& dst, const Tensor& src, F f, const char* op) {
  check_same_dtype(dst, src, op);
  VIGIL_CHECK(broadcast_shapes(dst.shape(), src.shape(), op) == dst.shape(), ShapeError,
              "{}: source of shape {} does not broadcast to destination shape {}", op, src.shape().str(),
              dst.shape().str());
  dispatch_floating(dst.dtype(), op, [&](auto zero) {
    using T = decltype(zero);
    T* pd = dst.data<T>();
    const T* ps = src.data<T>();
    if (dst.is_contiguous() && src.is_contiguous() && src.shape() == dst.shape()) {
      detail::flat_loop<T>(dst.numel(), [&](std::int64_t i) { pd[i] = f(pd[i], ps[i]); });
      return;
    }
    const Strides ss = broadcast_strides(src.shape(), src.strides(), dst.shape());
    for_each_strided<2>(dst.shape(), {dst.strides(), ss}, [&](std::int64_t od, std::int64_t os) { pd[od] = f(pd[od], ps[os]); });
  });
}

}  // namespace vigil::kernels
