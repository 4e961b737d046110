// Convolutions of the reference CNN (../shared/bench/torch_reference.py: conv 1->32 3x3 pad 1 on 28x28 and conv
// 32->64 3x3 pad 1 on 14x14, batch 128, no bias): vigil's forward, backward-data and backward-weights kernels, next
// to a peer on the same work in the same run: oneDNN's own primitive for each pass with the layouts it prefers and
// its operands already in them (no reorders: the best oneDNN can do on the pass alone), and dnnl_sgemm on a
// 1024^3 product as the machine's GEMM peak. Each case reports GFLOP/s (2 N O OH OW C KH KW per pass).
//
// Run on 1 and on 2 threads (oneDNN and vigil both follow OpenMP's thread count):
//   OMP_NUM_THREADS=1 ./build/bench/conv_bench --benchmark_repetitions=3
//   OMP_NUM_THREADS=2 ./build/bench/conv_bench --benchmark_repetitions=3
// The closing table uses each case's best repetition. On a machine shared with other work, wall times per iteration
// carry the waits; DNNL_VERBOSE=1 prints each primitive's (vigil's convolutions and reorders) own time per call,
// whose minimum over calls shows the uncontended speed.
#include <vigil/kernels/conv.hpp>
#include <vigil/tensor/generator.hpp>

#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <oneapi/dnnl/dnnl.hpp>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

using vigil::Shape;
using vigil::Tensor;

struct Layer {
  std::string name;
  std::int64_t N, C, H, W, O, K, pad;
  Shape x() const { return {N, C, H, W}; }
  Shape weight() const { return {O, C, K, K}; }
  Shape y() const { return {N, O, H + 2 * pad - K + 1, W + 2 * pad - K + 1}; }
  vigil::kernels::ConvParams params() const {
    vigil::kernels::ConvParams p;
    p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = pad;
    return p;
  }
  double flops() const { return 2.0 * double(y().numel()) * double(C * K * K); }
};

enum class Pass { Forward, BackwardData, BackwardWeights };
const char* pass_name(Pass p) {
  return p == Pass::Forward ? "fwd" : p == Pass::BackwardData ? "bwd_data" : "bwd_weights";
}

void set_flop_rate(benchmark::State& state, double flops) {
  state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

void bench_vigil(benchmark::State& state, const Layer& l, Pass pass) {
  vigil::Generator gen(1);
  const Tensor x = vigil::randn(l.x(), gen), w = vigil::randn(l.weight(), gen), dy = vigil::randn(l.y(), gen);
  const auto p = l.params();
  for (auto _ : state) {
    Tensor out;
    if (pass == Pass::Forward) out = vigil::kernels::conv2d(x, w, Tensor(), p);
    if (pass == Pass::BackwardData) out = vigil::kernels::conv2d_backward_data(dy, w, l.x(), p);
    if (pass == Pass::BackwardWeights) out = vigil::kernels::conv2d_backward_weights(dy, x, l.weight(), p, false).dweight;
    benchmark::DoNotOptimize(out.data<float>());
  }
  set_flop_rate(state, l.flops());
}

// The peer: oneDNN's primitive for the pass with format_tag::any everywhere, operands allocated in the chosen
// layouts (their values do not matter for speed), executed alone.
void bench_onednn(benchmark::State& state, const Layer& l, Pass pass) {
  using namespace dnnl;
  using tag = memory::format_tag;
  const engine eng(engine::kind::cpu, 0);
  stream strm(eng);
  const auto f32 = memory::data_type::f32;
  const auto y = l.y();
  const memory::desc src(memory::dims{l.N, l.C, l.H, l.W}, f32, tag::any), dst(memory::dims{l.N, l.O, y[2], y[3]}, f32, tag::any);
  const memory::desc wei(memory::dims{l.O, l.C, l.K, l.K}, f32, tag::any);
  const memory::dims strides{1, 1}, pads{l.pad, l.pad};
  const convolution_forward::primitive_desc fwd(
      convolution_forward::desc(prop_kind::forward_training, algorithm::convolution_direct, src, wei, dst, strides,
                                pads, pads),
      eng);
  primitive prim;
  std::unordered_map<int, memory> args;
  if (pass == Pass::Forward) {
    prim = convolution_forward(fwd);
    args = {{DNNL_ARG_SRC, memory(fwd.src_desc(), eng)}, {DNNL_ARG_WEIGHTS, memory(fwd.weights_desc(), eng)},
            {DNNL_ARG_DST, memory(fwd.dst_desc(), eng)}};
  } else if (pass == Pass::BackwardData) {
    const convolution_backward_data::primitive_desc bwd(
        convolution_backward_data::desc(algorithm::convolution_direct, src, wei, dst, strides, pads, pads), eng, fwd);
    prim = convolution_backward_data(bwd);
    args = {{DNNL_ARG_DIFF_DST, memory(bwd.diff_dst_desc(), eng)}, {DNNL_ARG_WEIGHTS, memory(bwd.weights_desc(), eng)},
            {DNNL_ARG_DIFF_SRC, memory(bwd.diff_src_desc(), eng)}};
  } else {
    const convolution_backward_weights::primitive_desc bwd(
        convolution_backward_weights::desc(algorithm::convolution_direct, src, wei, dst, strides, pads, pads), eng,
        fwd);
    prim = convolution_backward_weights(bwd);
    args = {{DNNL_ARG_DIFF_DST, memory(bwd.diff_dst_desc(), eng)}, {DNNL_ARG_SRC, memory(bwd.src_desc(), eng)},
            {DNNL_ARG_DIFF_WEIGHTS, memory(bwd.diff_weights_desc(), eng)}};
  }
  for (auto& [id, m] : args) {  // zeros: no denormal or NaN slow paths
    auto* p = static_cast<float*>(m.get_data_handle());
    std::fill(p, p + m.get_desc().get_size() / sizeof(float), 0.0f);
  }
  for (auto _ : state) {
    prim.execute(strm, args);
    strm.wait();
  }
  set_flop_rate(state, l.flops());
}

void bench_sgemm_peak(benchmark::State& state) {
  const std::int64_t n = 1024;
  std::vector<float> a(n * n, 1.0f), b(n * n, 1.0f), c(n * n);
  for (auto _ : state) {
    if (dnnl_sgemm('N', 'N', n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f, c.data(), n) != dnnl_success) {
      throw std::runtime_error("dnnl_sgemm failed");
    }
    benchmark::DoNotOptimize(c.data());
  }
  set_flop_rate(state, 2.0 * double(n * n * n));
}

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
  double seconds(const std::string& name) const {
    const auto it = best_.find(name);
    return it == best_.end() ? NAN : it->second;
  }

 private:
  std::map<std::string, double> best_;
};

}  // namespace

int main(int argc, char** argv) {
  const std::vector<Layer> layers{{"conv1_1to32_28x28", 128, 1, 28, 28, 32, 3, 1},
                                  {"conv2_32to64_14x14", 128, 32, 14, 14, 64, 3, 1}};
  const Pass passes[] = {Pass::Forward, Pass::BackwardData, Pass::BackwardWeights};
  for (const Layer& l : layers) {
    for (Pass pass : passes) {
      const std::string name = l.name + "/" + pass_name(pass);
      benchmark::RegisterBenchmark(("vigil/" + name).c_str(), bench_vigil, l, pass)->UseRealTime();
      benchmark::RegisterBenchmark(("onednn_blocked/" + name).c_str(), bench_onednn, l, pass)->UseRealTime();
    }
  }
  benchmark::RegisterBenchmark("sgemm_peak/1024", bench_sgemm_peak)->UseRealTime();

  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  TableReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);

  const double peak = 2.0 * 1024.0 * 1024.0 * 1024.0 / reporter.seconds("sgemm_peak/1024") * 1e-9;
  fmt::print("\nconvolutions, {} OpenMP thread(s), best of the repetitions; GEMM peak (sgemm 1024^3) {:.1f} GF/s\n",
             omp_get_max_threads(), peak);
  fmt::print("{:<36} {:>10} {:>10} {:>12} {:>9} {:>9}\n", "layer/pass", "vigil ms", "vigil GF/s", "oneDNN GF/s",
             "vs oneDNN", "vs peak");
  for (const Layer& l : layers) {
    for (Pass pass : passes) {
      const std::string name = l.name + "/" + pass_name(pass);
      const double v = reporter.seconds("vigil/" + name), o = reporter.seconds("onednn_blocked/" + name);
      if (std::isnan(v)) continue;
      const double gf = l.flops() / v * 1e-9;
      fmt::print("{:<36} {:>10.3f} {:>10.1f} {:>12.1f} {:>8.0f}% {:>8.0f}%\n", name, v * 1e3, gf,
                 l.flops() / o * 1e-9, 100.0 * o / v, 100.0 * gf / peak);
    }
  }
  benchmark::Shutdown();
  return 0;
}
