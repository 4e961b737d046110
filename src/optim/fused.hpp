// The loop every fused optimiser update runs on: body(i) for i in [0, n), one pass over the parameter's memory,
// split across OpenMP threads when the tensor is large enough to pay for them (static split: the same result
// whatever the timing, since each element's update is independent).
#pragma once

#include <vigil/kernels/dispatch.hpp>

#include <cstdint>

namespace vigil::optim::detail {

template <class F>
void fused_loop(std::int64_t n, F&& body) {
#pragma omp parallel for simd schedule(static) if (n >= kernels::kParallelGrain)
  for (std::int64_t i = 0; i < n; ++i) body(i);
}

}  // namespace vigil::optim::detail
