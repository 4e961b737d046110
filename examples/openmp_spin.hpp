// Shared by the Fashion-MNIST examples: a shorter OpenMP spin, so that training stays fast on a busy machine.
//
// libgomp's idle threads spin GOMP_SPINCOUNT pause loops (300000 by default: milliseconds) before they sleep. On an
// idle machine that only keeps them warm between a step's parallel regions, but when another process holds one of
// the cores, vigil's two threads share the other one and every barrier then waits out a whole spin: one epoch on 2
// threads fell from about 115k to under 5k samples/s with a compiler running beside it. 1000 spins (tens of
// microseconds) still bridge the gaps between a step's regions (no measurable cost on an idle machine) and keep
// 2 threads at about 1-thread speed when a core is taken. libgomp reads the variable once, when it is loaded, so
// the program sets it and runs itself again; a user's own OMP_WAIT_POLICY or GOMP_SPINCOUNT is left alone.
#pragma once

#include <cstdlib>

#include <unistd.h>

namespace vigil::examples {

// Call first thing in main(): returns only when no re-exec is needed (or it failed: then the default spin stays).
// `spins`: 1000 suits the MLP; a CNN step has longer gaps between its parallel regions (autograd, Adam, small
// one-thread kernels), and with 1000 its threads fall asleep and pay a futex wake-up per region: measured on 2
// threads, 38.2 ms per step with 1000 spins against 28.4-28.9 ms with 10000 to 300000, so the CNN uses 10000.
inline void exec_with_short_openmp_spin(char** argv, const char* spins = "1000") {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr || std::getenv("GOMP_SPINCOUNT") != nullptr) return;
  if (setenv("GOMP_SPINCOUNT", spins, 0) != 0) return;
  execv("/proc/self/exe", argv);
}

}  // namespace vigil::examples
