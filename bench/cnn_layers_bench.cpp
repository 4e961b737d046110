// One training step of issue 5's reference CNN (examples/fashion_cnn.cpp, batch 128), layer by layer: each
// kernel the step runs, on the step's shapes, timed on its own (best of --reps runs of --iters calls), with its
// GFLOP/s where it multiplies (convolutions and products: 2 multiply-adds per FLOP pair) or its GB/s of compulsory
// traffic (one read of each input and one write of each output) where it streams; then the sum of the kernels next
// to a whole step through the model (modules, autograd, cross entropy and Adam), whose difference is the framework's
// own cost, and dnnl_sgemm on a 1024^3 product as the machine's GEMM peak.
//
//   OMP_NUM_THREADS=1 ./build/bench/cnn_layers_bench [--reps R] [--iters I]
//   OMP_NUM_THREADS=2 ./build/bench/cnn_layers_bench
// On a machine shared with other work each figure is the best repetition: the uncontended speed.
#include <vigil/autograd/autograd.hpp>
#include <vigil/kernels/batch_norm.hpp>
#include <vigil/kernels/conv.hpp>
#include <vigil/kernels/elementwise.hpp>
#include <vigil/kernels/matmul.hpp>
#include <vigil/kernels/pool.hpp>
#include <vigil/nn/nn.hpp>
#include <vigil/optim/optim.hpp>

#include <fmt/format.h>
#include <oneapi/dnnl/dnnl.hpp>
#include <omp.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <chrono>
#include <functional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

using namespace vigil;

namespace {

int reps = 5, iters = 20;

// Best seconds per call over the repetitions.
double time_best(const std::function<void()>& f) {
  f();  // warm up: plans, caches, pages
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < iters; ++i) f();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / iters);
  }
  return best;
}

struct Row {
  std::string name;
  double seconds, flops, bytes;  // flops 0: a streaming kernel, reported in GB/s
};

kernels::ConvParams pad1() {
  kernels::ConvParams p;
  p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 1;
  return p;
}

double conv_flops(const Shape& y, std::int64_t c_k_k) { return 2.0 * double(y.numel()) * double(c_k_k); }
double bytes(std::initializer_list<Shape> shapes) {
  double b = 0;
  for (const Shape& s : shapes) b += 4.0 * double(s.numel());
  return b;
}

double sgemm_peak() {
  const std::int64_t n = 1024;
  std::vector<float> a(n * n, 1.0f), b(n * n, 1.0f), c(n * n);
  const double s = time_best([&] {
    if (dnnl_sgemm('N', 'N', n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f, c.data(), n) != dnnl_success) {
      throw std::runtime_error("dnnl_sgemm failed");
    }
  });
  return 2.0 * double(n * n * n) / s * 1e-9;
}

}  // namespace

int main(int argc, char** argv) try {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string arg = argv[i];
    if (arg == "--reps") reps = std::stoi(argv[i + 1]);
    else if (arg == "--iters") iters = std::stoi(argv[i + 1]);
    else throw std::runtime_error("unknown option " + arg + " (known: --reps --iters)");
  }
  const std::int64_t N = 128;
  Generator gen(1);
  const Shape x_s{N, 1, 28, 28}, w1_s{32, 1, 3, 3}, c1_s{N, 32, 28, 28}, p1_s{N, 32, 14, 14};
  const Shape w2_s{64, 32, 3, 3}, c2_s{N, 64, 14, 14}, p2_s{N, 64, 7, 7};
  const Tensor x = randn(x_s, gen), w1 = randn(w1_s, gen), w2 = randn(w2_s, gen);
  const Tensor c1 = randn(c1_s, gen), c2 = randn(c2_s, gen), p1 = randn(p1_s, gen), p2 = randn(p2_s, gen);
  const Tensor fc1_w = randn({128, 3136}, gen), fc2_w = randn({10, 128}, gen), h = randn({N, 128}, gen);
  const Tensor flat = raw::reshape(p2, Shape{N, 3136}), dlogits = randn({N, 10}, gen), dh = randn({N, 128}, gen);
  const Tensor gamma1 = ones(Shape{32}), beta1 = zeros(Shape{32}), gamma2 = ones(Shape{64}), beta2 = zeros(Shape{64});
  const kernels::BatchNormStats st1 = kernels::batch_norm_stats(c1), st2 = kernels::batch_norm_stats(c2);
  const Tensor rstd1 = kernels::batch_norm_rstd(st1.var, 1e-5), rstd2 = kernels::batch_norm_rstd(st2.var, 1e-5);
  const auto fused1 = kernels::batch_norm_relu_max_pool_2x2(c1, st1.mean, rstd1, gamma1, beta1, true);
  const auto fused2 = kernels::batch_norm_relu_max_pool_2x2(c2, st2.mean, rstd2, gamma2, beta2, true);

  std::vector<Row> rows;
  auto add = [&](const std::string& name, double flops, double traffic, const std::function<void()>& f) {
    rows.push_back({name, time_best(f), flops, traffic});
  };
  const auto p = pad1();
  const double f1 = conv_flops(c1_s, 9), f2 = conv_flops(c2_s, 32 * 9), ffc1 = 2.0 * N * 3136 * 128,
               ffc2 = 2.0 * N * 128 * 10;
  // Forward, in the step's order.
  add("conv1 forward", f1, 0, [&] { (void)kernels::conv2d(x, w1, Tensor(), p); });
  add("bn1+relu1+pool1 forward", 0, bytes({c1_s, p1_s}),
      [&] { (void)kernels::batch_norm_relu_max_pool_2x2_training(c1, gamma1, beta1, 1e-5, true); });
  add("conv2 forward", f2, 0, [&] { (void)kernels::conv2d(p1, w2, Tensor(), p); });
  add("bn2+relu2+pool2 forward", 0, bytes({c2_s, p2_s}),
      [&] { (void)kernels::batch_norm_relu_max_pool_2x2_training(c2, gamma2, beta2, 1e-5, true); });
  add("fc1 forward", ffc1, 0, [&] { (void)kernels::matmul(flat, raw::transpose(fc1_w, 0, 1)); });
  add("fc2 forward", ffc2, 0, [&] { (void)kernels::matmul(h, raw::transpose(fc2_w, 0, 1)); });
  // Backward, in the step's order.
  add("fc2 backward (dx, dw)", 2 * ffc2, 0, [&] {
    (void)kernels::matmul(dlogits, fc2_w);
    (void)kernels::matmul(raw::transpose(dlogits, 0, 1), h);
  });
  add("fc1 backward (dx, dw)", 2 * ffc1, 0, [&] {
    (void)kernels::matmul(dh, fc1_w);
    (void)kernels::matmul(raw::transpose(dh, 0, 1), flat);
  });
  add("bn2+relu2+pool2 backward", 0, bytes({p2_s, c2_s, c2_s}), [&] {
    (void)kernels::batch_norm_relu_max_pool_2x2_backward(p2, fused2.winners.get(), c2, st2.mean, rstd2, gamma2, beta2,
                                                         true, true, true);
  });
  add("conv2 backward data", f2, 0, [&] { (void)kernels::conv2d_backward_data(c2, w2, p1_s, p); });
  add("conv2 backward weights", f2, 0, [&] { (void)kernels::conv2d_backward_weights(c2, p1, w2_s, p, false); });
  add("bn1+relu1+pool1 backward", 0, bytes({p1_s, c1_s, c1_s}), [&] {
    (void)kernels::batch_norm_relu_max_pool_2x2_backward(p1, fused1.winners.get(), c1, st1.mean, rstd1, gamma1, beta1,
                                                         true, true, true);
  });
  add("conv1 backward weights", f1, 0, [&] { (void)kernels::conv2d_backward_weights(c1, x, w1_s, p, false); });

  // The whole step through the model, as examples/fashion_cnn.cpp runs it.
  const std::shared_ptr<nn::Sequential> model = nn::reference_cnn(1, 28, 28, 10, gen);
  optim::Adam adam(optim::named_parameters(*model), {.lr = 1e-3});
  Tensor labels = empty(Shape{N}, TensorOptions{DType::Int64});
  for (std::int64_t i = 0; i < N; ++i) labels.data<std::int64_t>()[i] = i % 10;
  const double step = time_best([&] {
    const Tensor loss = nn::cross_entropy((*model)(x), labels);
    adam.zero_grad();
    backward(loss);
    adam.step();
  });

  const double peak = sgemm_peak();
  fmt::print("reference CNN training step, batch {}, {} OpenMP thread(s), best of {} x {} calls\n", N,
             omp_get_max_threads(), reps, iters);
  fmt::print("{:<26} {:>9} {:>9} {:>8} {:>7}\n", "kernel", "ms", "GFLOP/s", "vs peak", "GB/s");
  double sum = 0, total_flops = 0;
  for (const Row& r : rows) {
    sum += r.seconds;
    total_flops += r.flops;
    if (r.flops > 0) {
      fmt::print("{:<26} {:>9.3f} {:>9.1f} {:>7.0f}% {:>7}\n", r.name, r.seconds * 1e3, r.flops / r.seconds * 1e-9,
                 100.0 * r.flops / r.seconds * 1e-9 / peak, "");
    } else {
      fmt::print("{:<26} {:>9.3f} {:>9} {:>8} {:>7.1f}\n", r.name, r.seconds * 1e3, "", "", r.bytes / r.seconds * 1e-9);
    }
  }
  fmt::print("{:<26} {:>9.3f} {:>9.1f} {:>7.0f}%\n", "sum of the kernels", sum * 1e3, total_flops / sum * 1e-9,
             100.0 * total_flops / sum * 1e-9 / peak);
  fmt::print("{:<26} {:>9.3f} {:>9.1f} {:>7.0f}%   ({:.0f} samples/s)\n", "whole step (model + Adam)", step * 1e3,
             total_flops / step * 1e-9, 100.0 * total_flops / step * 1e-9 / peak, double(N) / step);
  fmt::print("GEMM peak (dnnl_sgemm 1024^3, {} thread(s)): {:.1f} GFLOP/s\n", omp_get_max_threads(), peak);
  return 0;
} catch (const std::exception& e) {
  fmt::print(stderr, "error: {}\n", e.what());
  return 1;
}
