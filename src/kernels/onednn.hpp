// What the oneDNN-backed kernels (matmul.cpp, conv.cpp) share: the CPU engine, a scope that sets the OpenMP thread
// count a primitive runs on, and the status check for oneDNN's C API (used on the hot path, as the C++ API's
// execute builds a std::unordered_map of arguments per call).
#pragma once

#include <vigil/tensor/error.hpp>

#include <oneapi/dnnl/dnnl.hpp>
#include <omp.h>

namespace vigil::kernels::detail {

inline const dnnl::engine& cpu_engine() {
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

// Sets the OpenMP thread count of the calling thread for a scope.
class OmpThreadsScope {
 public:
  explicit OmpThreadsScope(int threads) : previous_(omp_get_max_threads()) {
    if (threads != previous_) omp_set_num_threads(threads);
  }
  ~OmpThreadsScope() {
    if (omp_get_max_threads() != previous_) omp_set_num_threads(previous_);
  }
  OmpThreadsScope(const OmpThreadsScope&) = delete;
  OmpThreadsScope& operator=(const OmpThreadsScope&) = delete;

 private:
  int previous_;
};

// Throws vigil::Error naming the kernel (`op`) and the oneDNN call that failed.
inline void check_dnnl(dnnl_status_t status, const char* op, const char* what) {
  VIGIL_CHECK(status == dnnl_success, Error, "{}: oneDNN {} failed with status {}", op, what, static_cast<int>(status));
}

}  // namespace vigil::kernels::detail
