// The loop every fused optimiser update runs on: body(i) for i in [0, n), one pass over the parameter's memory,
// split across OpenMP threads when the tensor is large enough to pay for them (static split: the same result
// whatever the timing, since each element's update is independent).
//
// with_flags turns run-time options (momentum on, AMSGrad, coupled decay, ...) into compile-time constants, so
// that each combination gets its own branch-free loop body the compiler can vectorise.
#pragma once

#include <vigil/kernels/dispatch.hpp>
#include <vigil/kernels/isa.hpp>

#include <cstdint>
#include <type_traits>

namespace vigil::optim::detail {

// Each thread works on its own copy of `body` (capture pointers and scalars by value): the copy's members are
// then plain locals the compiler keeps in registers, which is what lets it vectorise the loop.
template <class F>
void fused_loop_portable(std::int64_t n, const F& body) {
#pragma omp parallel if (n >= kernels::kParallelGrain)
  {
    const F local = body;
#pragma omp for simd schedule(static)
    for (std::int64_t i = 0; i < n; ++i) local(i);
  }
}

#if VIGIL_HAS_AVX512_PATH
// The same loop compiled for AVX-512 (see vigil/kernels/isa.hpp: the same bits as the portable build). vigil's
// portable baseline vectorises 4 floats wide with SSE, and these updates are bound by their square root and
// division (Adam: 3.6 cycles per element on one core); AVX-512 does both 16 wide.
template <class F>
VIGIL_TARGET_AVX512 void fused_loop_avx512(std::int64_t n, const F& body) {
#pragma omp parallel if (n >= kernels::kParallelGrain)
  {
    const F local = body;
#pragma omp for simd schedule(static)
    for (std::int64_t i = 0; i < n; ++i) local(i);
  }
}
#endif

template <class F>
void fused_loop(std::int64_t n, const F& body) {
#if VIGIL_HAS_AVX512_PATH
  if (kernels::cpu_has_avx512()) {
    fused_loop_avx512(n, body);
    return;
  }
#endif
  fused_loop_portable(n, body);
}

// with_flags(f, b1, b2, ...) calls f(c1, c2, ...) where ck is std::true_type or std::false_type as bk is.
template <class F>
void with_flags(F&& f) {
  f();
}
template <class F, class... Rest>
void with_flags(F&& f, bool flag, Rest... rest) {
  if (flag) {
    with_flags([&](auto... later) { f(std::true_type{}, later...); }, rest...);
  } else {
    with_flags([&](auto... later) { f(std::false_type{}, later...); }, rest...);
  }
}

}  // namespace vigil::optim::detail
