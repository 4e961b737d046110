// Run-time choice of instruction set for hot loops. vigil's portable baseline is x86-64-v2 (SSE4.2: 4 floats or
// 2 doubles per instruction); the machines it mostly runs on have AVX-512 (16 floats, 8 doubles). A loop body
// compiled twice, once for each, and picked at run time gets the wide units and keeps the binary portable.
//
// Bit-exactness: every IEEE operation rounds the same at any vector width. The one difference GCC would bring in is
// contracting a * b + c into a single-rounded FMA (AVX-512 implies FMA; x86-64-v2 has none), which fp-contract=off
// forbids. A loop whose association order is fixed by its source (vigil's split sums keep a fixed number of
// partial sums, whatever the width) then gives the same bits on both paths.
#pragma once

#include <cstdint>

#if defined(__GNUC__) && defined(__x86_64__)
#define VIGIL_HAS_AVX512_PATH 1
#define VIGIL_TARGET_AVX512 __attribute__((target("avx512f,avx512dq,avx512vl,avx512bw"), optimize("fp-contract=off")))
#else
#define VIGIL_HAS_AVX512_PATH 0
#define VIGIL_TARGET_AVX512
#endif

namespace vigil::kernels {

// True when the CPU runs AVX-512 F, DQ, VL and BW (checked once) and no PortableBuildGuard is alive.
bool cpu_has_avx512();

// While one is alive, cpu_has_avx512() answers false and the portable build runs, so that tests can compare the two
// builds' results on a machine that has AVX-512. Process-wide: create it while no kernel runs on another thread.
class PortableBuildGuard {
 public:
  PortableBuildGuard();
  ~PortableBuildGuard();
  PortableBuildGuard(const PortableBuildGuard&) = delete;
  PortableBuildGuard& operator=(const PortableBuildGuard&) = delete;
};

namespace detail {

// body(i) with everything it calls inlined (flatten), so that the whole body, its lambdas and helpers included, is
// compiled for the caller's instruction set.
template <class F>
__attribute__((flatten)) void invoke_portable(const F& body, std::int64_t i) {
  body(i);
}

#if VIGIL_HAS_AVX512_PATH
template <class F>
VIGIL_TARGET_AVX512 __attribute__((flatten)) void invoke_avx512(const F& body, std::int64_t i) {
  body(i);
}
#endif

}  // namespace detail

// body(i) for i in [0, n), split statically across OpenMP threads when `parallel` (so each i runs on the same thread
// whatever the timing), each call compiled for AVX-512 when the CPU has it and for the baseline otherwise. Meant for
// coarse items (a channel, a plane): the choice is made once per call of this function.
template <class F>
void parallel_for_widest(std::int64_t n, bool parallel, const F& body) {
#if VIGIL_HAS_AVX512_PATH
  if (cpu_has_avx512()) {
#pragma omp parallel for schedule(static) if (parallel)
    for (std::int64_t i = 0; i < n; ++i) detail::invoke_avx512(body, i);
    return;
  }
#endif
#pragma omp parallel for schedule(static) if (parallel)
  for (std::int64_t i = 0; i < n; ++i) detail::invoke_portable(body, i);
}

}  // namespace vigil::kernels
