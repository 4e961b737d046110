// Matrix products: vigil's kernels::matmul, vigil's autograd matmul (forward + both backward products) and
// oneDNN's dnnl_sgemm on the same shapes, in the same run, then a table of vigil/sgemm per shape.
//
// Run on 1 and on 2 threads (oneDNN and vigil both follow OpenMP's thread count):
//   OMP_NUM_THREADS=1 ./build/bench/matmul_bench --benchmark_repetitions=3
//   OMP_NUM_THREADS=2 ./build/bench/matmul_bench --benchmark_repetitions=3
// The table uses each case's best repetition (the least disturbed by other work on the machine). Google
// Benchmark's flags work as usual, e.g. --benchmark_filter=square.
//
// Shapes: squares n x n @ n x n for n = 64 .. 2048, and the products of a 784-512-256-10 MLP at batch 128 with
// weights W [in, out]: forward Y = X @ W, backward dX = dY @ W^T and dW = X^T @ dY (transposes are strided views
// for vigil and 'T' flags for sgemm: no copies on either side).
#include <vigil/autograd/autograd.hpp>
#include <vigil/kernels/matmul.hpp>

#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <oneapi/dnnl/dnnl.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using vigil::Tensor;

// C [M, N] = op(A) @ op(B); a transposed operand is stored transposed ([K, M] for A, [N, K] for B).
struct Product {
  std::string name;
  std::int64_t M, N, K;
  bool trans_a = false, trans_b = false;
  double flops() const { return 2.0 * double(M) * double(N) * double(K); }
};

// One linear map of a network: Y [batch, out] = X [batch, in] @ W [in, out], and its two backward products.
struct Layer {
  std::string name;
  std::int64_t batch, in, out;
  Product forward() const { return {name + "_fwd", batch, out, in}; }
  Product backward_data() const { return {name + "_dX", batch, in, out, false, true}; }     // dY @ W^T
  Product backward_weights() const { return {name + "_dW", in, out, batch, true, false}; }  // X^T @ dY
  double flops() const { return 3.0 * forward().flops(); }
};

// A product's operands in vigil tensors, with the raw storage sgemm reads.
struct Operands {
  Tensor a_storage, b_storage, a, b;
  std::vector<float> c;
  Operands(const Product& p, vigil::Generator& gen)
      : a_storage(vigil::randn(p.trans_a ? vigil::Shape{p.K, p.M} : vigil::Shape{p.M, p.K}, gen)),
        b_storage(vigil::randn(p.trans_b ? vigil::Shape{p.N, p.K} : vigil::Shape{p.K, p.N}, gen)),
        a(p.trans_a ? vigil::raw::transpose(a_storage, 0, 1) : a_storage),
        b(p.trans_b ? vigil::raw::transpose(b_storage, 0, 1) : b_storage),
        c(static_cast<std::size_t>(p.M * p.N)) {}
};

void sgemm(const Product& p, const Operands& x, float* c) {
  const dnnl_status_t status =
      dnnl_sgemm(p.trans_a ? 'T' : 'N', p.trans_b ? 'T' : 'N', p.M, p.N, p.K, 1.0f, x.a_storage.data<float>(),
                 p.trans_a ? p.M : p.K, x.b_storage.data<float>(), p.trans_b ? p.K : p.N, 0.0f, c, p.N);
  if (status != dnnl_success) throw std::runtime_error("dnnl_sgemm failed");
}

void set_flop_rate(benchmark::State& state, double flops) {
  state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

void bench_vigil(benchmark::State& state, const Product& p) {
  vigil::Generator gen(1);
  const Operands x(p, gen);
  for (auto _ : state) {
    const Tensor c = vigil::kernels::matmul(x.a, x.b);
    benchmark::DoNotOptimize(c.data<float>());
  }
  set_flop_rate(state, p.flops());
}

void bench_sgemm(benchmark::State& state, const Product& p) {
  vigil::Generator gen(1);
  Operands x(p, gen);
  for (auto _ : state) {
    sgemm(p, x, x.c.data());
    benchmark::DoNotOptimize(x.c.data());
  }
  set_flop_rate(state, p.flops());
}

// A training step's share of a layer: Y = X @ W recorded, then backward with a given dY (both inputs need grads).
void bench_autograd(benchmark::State& state, const Layer& l) {
  vigil::Generator gen(2);
  const vigil::TensorOptions leaf{vigil::DType::Float32, true};
  const Tensor x = vigil::randn({l.batch, l.in}, gen, leaf), w = vigil::randn({l.in, l.out}, gen, leaf);
  const Tensor dy = vigil::randn({l.batch, l.out}, gen);
  for (auto _ : state) {
    const Tensor y = vigil::matmul(x, w);
    vigil::backward(y, dy);
    benchmark::DoNotOptimize(w.grad().data<float>());
    vigil::zero_grad(x);
    vigil::zero_grad(w);
  }
  set_flop_rate(state, l.flops());
}

// The peer of bench_autograd: the same three products through sgemm.
void bench_sgemm_layer(benchmark::State& state, const Layer& l) {
  vigil::Generator gen(2);
  const Product products[] = {l.forward(), l.backward_data(), l.backward_weights()};
  std::vector<Operands> operands;
  for (const Product& p : products) operands.emplace_back(p, gen);
  for (auto _ : state) {
    for (std::size_t i = 0; i < operands.size(); ++i) sgemm(products[i], operands[i], operands[i].c.data());
    benchmark::DoNotOptimize(operands.back().c.data());
  }
  set_flop_rate(state, l.flops());
}

// Console output as usual, plus each case's best seconds per iteration for the closing table.
class TableReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& r : runs) {
      if (r.run_type != Run::RT_Iteration || r.error_occurred || r.iterations == 0) continue;
      const double seconds = r.real_accumulated_time / double(r.iterations);
      auto [it, inserted] = best_.try_emplace(r.run_name.function_name, seconds);
      if (!inserted) it->second = std::min(it->second, seconds);
    }
  }
  // NaN when the case did not run (filtered out).
  double seconds(const std::string& name) const {
    const auto it = best_.find(name);
    return it == best_.end() ? NAN : it->second;
  }

 private:
  std::map<std::string, double> best_;
};

struct TableRow {
  std::string label, vigil_case, peer_case;
  double flops;
};

void print_table(const TableReporter& reporter, const std::vector<TableRow>& rows) {
  fmt::print("\nvigil vs dnnl_sgemm, {} OpenMP thread(s), best of the repetitions\n", omp_get_max_threads());
  fmt::print("{:<44} {:>12} {:>12} {:>8}\n", "shape", "vigil GF/s", "sgemm GF/s", "ratio");
  for (const TableRow& row : rows) {
    const double v = reporter.seconds(row.vigil_case), s = reporter.seconds(row.peer_case);
    if (std::isnan(v) || std::isnan(s)) continue;
    fmt::print("{:<44} {:>12.1f} {:>12.1f} {:>7.0f}%\n", row.label, row.flops / v * 1e-9, row.flops / s * 1e-9,
               100.0 * s / v);
  }
}

std::string shape_label(const Product& p) {
  const std::string a = p.trans_a ? fmt::format("[{}x{}]^T", p.K, p.M) : fmt::format("[{}x{}]", p.M, p.K);
  const std::string b = p.trans_b ? fmt::format("[{}x{}]^T", p.N, p.K) : fmt::format("[{}x{}]", p.K, p.N);
  return fmt::format("{} {}@{}", p.name, a, b);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<Product> products;
  std::vector<Layer> layers;
  for (std::int64_t n : {64, 128, 256, 512, 1024, 2048}) {
    products.push_back({fmt::format("square_{}", n), n, n, n});
    layers.push_back({fmt::format("square_{}", n), n, n, n});
  }
  const std::int64_t widths[] = {784, 512, 256, 10};
  for (int i = 0; i < 3; ++i) {
    const Layer l{fmt::format("mlp_fc{}", i + 1), 128, widths[i], widths[i + 1]};
    layers.push_back(l);
    products.push_back(l.forward());
    products.push_back(l.backward_data());
    products.push_back(l.backward_weights());
  }

  std::vector<TableRow> rows;
  for (const Product& p : products) {
    benchmark::RegisterBenchmark(("vigil/" + p.name).c_str(), bench_vigil, p)->UseRealTime();
    benchmark::RegisterBenchmark(("sgemm/" + p.name).c_str(), bench_sgemm, p)->UseRealTime();
    rows.push_back({shape_label(p), "vigil/" + p.name, "sgemm/" + p.name, p.flops()});
  }
  for (const Layer& l : layers) {
    benchmark::RegisterBenchmark(("vigil_autograd/" + l.name).c_str(), bench_autograd, l)->UseRealTime();
    benchmark::RegisterBenchmark(("sgemm_fwd_bwd/" + l.name).c_str(), bench_sgemm_layer, l)->UseRealTime();
    rows.push_back({fmt::format("autograd {} fwd+dX+dW", l.name), "vigil_autograd/" + l.name,
                    "sgemm_fwd_bwd/" + l.name, l.flops()});
  }

  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  TableReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  print_table(reporter, rows);
  benchmark::Shutdown();
  return 0;
}
