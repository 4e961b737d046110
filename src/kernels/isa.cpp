// The CPU feature check behind vigil/kernels/isa.hpp's run-time instruction-set choice.
#include <vigil/kernels/isa.hpp>

#include <atomic>

namespace vigil::kernels {

namespace {

std::atomic<int> portable_guards{0};

}  // namespace

bool cpu_has_avx512() {
#if VIGIL_HAS_AVX512_PATH
  static const bool supported = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
                                __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw");
  return supported && portable_guards.load(std::memory_order_relaxed) == 0;
#else
  return false;
#endif
}

PortableBuildGuard::PortableBuildGuard() { portable_guards.fetch_add(1); }
PortableBuildGuard::~PortableBuildGuard() { portable_guards.fetch_sub(1); }

}  // namespace vigil::kernels
