// Memory-bound kernels in GB/s (bytes read + written per second): add, mul, an exp-like and a relu-like unary op
// (through kernels::map_unary / map_binary directly), and sums over everything, within rows and over rows, at
// 2^16 .. 2^24 float32 elements. memcpy of the same byte count is the peer: the bandwidth ceiling these approach.
//
// Run on 1 and on 2 threads (vigil's loops are OpenMP-split above kernels::kParallelGrain elements):
//   OMP_NUM_THREADS=1 ./build/bench/elementwise_bench
//   OMP_NUM_THREADS=2 ./build/bench/elementwise_bench
// Sums are over a [n / 1024, 1024] matrix: sum_all -> [], sum_rows (each row's sum, dim 1) -> [n / 1024],
// sum_over_rows (down the rows, dim 0, as a bias gradient) -> [1024].
#include <vigil/kernels/elementwise.hpp>
#include <vigil/kernels/reduce.hpp>
#include <vigil/tensor/generator.hpp>

#include <benchmark/benchmark.h>

#include <cmath>
#include <cstring>
#include <vector>

namespace {

using vigil::Tensor;

constexpr std::int64_t kColumns = 1024;

void set_bandwidth(benchmark::State& state, double bytes) {
  state.counters["GB/s"] = benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

Tensor random_matrix(std::int64_t n, std::uint64_t seed) {
  vigil::Generator gen(seed);
  return vigil::randn({n / kColumns, kColumns}, gen);
}

template <class F>
void bench_binary(benchmark::State& state, F f) {
  const std::int64_t n = state.range(0);
  const Tensor a = random_matrix(n, 1), b = random_matrix(n, 2);
  (void)vigil::kernels::map_binary(a, b, f, "bench");  // warm-up: the output's block enters the allocator's cache
  for (auto _ : state) {
    const Tensor c = vigil::kernels::map_binary(a, b, f, "bench");
    benchmark::DoNotOptimize(c.raw_data());
  }
  set_bandwidth(state, 3.0 * 4.0 * double(n));
}

template <class F>
void bench_unary(benchmark::State& state, F f) {
  const std::int64_t n = state.range(0);
  const Tensor x = random_matrix(n, 1);
  (void)vigil::kernels::map_unary(x, f, "bench");
  for (auto _ : state) {
    const Tensor y = vigil::kernels::map_unary(x, f, "bench");
    benchmark::DoNotOptimize(y.raw_data());
  }
  set_bandwidth(state, 2.0 * 4.0 * double(n));
}

void bench_sum(benchmark::State& state, std::vector<std::int64_t> dims) {
  const std::int64_t n = state.range(0);
  const Tensor x = random_matrix(n, 1);
  (void)vigil::kernels::sum(x, dims);
  for (auto _ : state) {
    const Tensor s = vigil::kernels::sum(x, dims);
    benchmark::DoNotOptimize(s.raw_data());
  }
  set_bandwidth(state, 4.0 * double(n));
}

void add(benchmark::State& state) { bench_binary(state, [](auto a, auto b) { return a + b; }); }
void mul(benchmark::State& state) { bench_binary(state, [](auto a, auto b) { return a * b; }); }
void exp_like(benchmark::State& state) { bench_unary(state, [](auto v) { return std::exp(v); }); }
void relu_like(benchmark::State& state) { bench_unary(state, [](auto v) { return v > 0 ? v : decltype(v){0}; }); }
void sum_all(benchmark::State& state) { bench_sum(state, {}); }
void sum_rows(benchmark::State& state) { bench_sum(state, {1}); }
void sum_over_rows(benchmark::State& state) { bench_sum(state, {0}); }

// The peer: copying n floats (read n, write n), the most a one-input elementwise op can move.
void memcpy_peer(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  std::vector<float> src(n, 1.0f), dst(n);  // both written once here, so no page is touched first in the loop
  for (auto _ : state) {
    std::memcpy(dst.data(), src.data(), n * sizeof(float));
    benchmark::DoNotOptimize(dst.data());
  }
  set_bandwidth(state, 2.0 * 4.0 * double(n));
}

#define VIGIL_BANDWIDTH_BENCH(fn) BENCHMARK(fn)->RangeMultiplier(4)->Range(1 << 16, 1 << 24)->UseRealTime()
VIGIL_BANDWIDTH_BENCH(add);
VIGIL_BANDWIDTH_BENCH(mul);
VIGIL_BANDWIDTH_BENCH(exp_like);
VIGIL_BANDWIDTH_BENCH(relu_like);
VIGIL_BANDWIDTH_BENCH(sum_all);
VIGIL_BANDWIDTH_BENCH(sum_rows);
VIGIL_BANDWIDTH_BENCH(sum_over_rows);
VIGIL_BANDWIDTH_BENCH(memcpy_peer);

}  // namespace
