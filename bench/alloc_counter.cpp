// Allocations per training step, counted three ways, for the same 2-layer MLP step as
// tests/autograd/allocation_test.cpp (at the 784-128-10 size of an MNIST model, batch 128):
//   - storage: requests vigil's caching allocator could not serve from its free lists (system allocations);
//   - pool:    blocks the small-object pool (TensorImpl, autograd nodes) took from the system;
//   - new:     every call of the global operator new in the process, counted by replacing it below. This sees
//              allocations that neither vigil counter can: those made inside libdnnl's primitive execute (its
//              C++ containers) and any std:: container vigil itself grows.
// Then the operator new calls of one kernels::matmul call alone, which are all oneDNN's: vigil's side of the call
// (layout, cache lookup, output from the caching allocator) allocates nothing.
//
// Run:  OMP_NUM_THREADS=1 ./build/bench/alloc_counter
//       OMP_NUM_THREADS=2 ./build/bench/alloc_counter
#include <vigil/autograd/autograd.hpp>
#include <vigil/kernels/elementwise.hpp>
#include <vigil/kernels/matmul.hpp>
#include <vigil/tensor/allocator.hpp>
#include <vigil/tensor/pool.hpp>

#include <fmt/format.h>
#include <omp.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace {

std::atomic<std::uint64_t> new_calls{0};

void* counted_allocate(std::size_t nbytes, std::size_t alignment) {
  new_calls.fetch_add(1, std::memory_order_relaxed);
  void* p = nullptr;
  if (alignment <= alignof(std::max_align_t)) {
    p = std::malloc(nbytes == 0 ? 1 : nbytes);
  } else if (posix_memalign(&p, alignment, nbytes == 0 ? alignment : nbytes) != 0) {
    p = nullptr;
  }
  return p;
}

void* counted_allocate_or_throw(std::size_t nbytes, std::size_t alignment) {
  void* p = counted_allocate(nbytes, alignment);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

}  // namespace

// The replaceable global allocation functions ([new.delete]); every form counts, every delete frees.
void* operator new(std::size_t n) { return counted_allocate_or_throw(n, 0); }
void* operator new[](std::size_t n) { return counted_allocate_or_throw(n, 0); }
void* operator new(std::size_t n, std::align_val_t a) { return counted_allocate_or_throw(n, std::size_t(a)); }
void* operator new[](std::size_t n, std::align_val_t a) { return counted_allocate_or_throw(n, std::size_t(a)); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return counted_allocate(n, 0); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return counted_allocate(n, 0); }
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return counted_allocate(n, std::size_t(a));
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return counted_allocate(n, std::size_t(a));
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }

namespace {

using vigil::Tensor;

struct Counts {
  std::uint64_t storage, pool, news;
  static Counts now() {
    return {vigil::CachingAllocator::instance().stats().system_allocations, vigil::pool_system_allocations(),
            new_calls.load()};
  }
  Counts operator-(const Counts& o) const { return {storage - o.storage, pool - o.pool, news - o.news}; }
};

// x [N, D_in] -> h = x @ w1 + b1 -> h * h -> out = (h * h) @ w2 + b2; loss = mean squared error; SGD update.
class TwoLayerMlp {
 public:
  static constexpr std::int64_t N = 128, D_in = 784, H = 128, D_out = 10;
  // Products per step: two forward, then dW2, dA (through w2) and dW1 (x needs no gradient).
  static constexpr int kMatmulsPerStep = 5;

  explicit TwoLayerMlp(vigil::Generator& gen)
      : x_(vigil::randn({N, D_in}, gen)), y_(vigil::randn({N, D_out}, gen)), w1_(parameter({D_in, H}, gen)),
        b1_(parameter({H}, gen)), w2_(parameter({H, D_out}, gen)), b2_(parameter({D_out}, gen)) {}

  float step(double lr) {
    const Tensor h = vigil::matmul(x_, w1_) + b1_;
    const Tensor out = vigil::matmul(h * h, w2_) + b2_;
    const Tensor diff = out - y_;
    const Tensor loss = vigil::sum(diff * diff) * (1.0 / N);
    vigil::backward(loss);
    vigil::NoGradGuard no_grad;
    for (Tensor* p : {&w1_, &b1_, &w2_, &b2_}) {
      const Tensor update = vigil::mul(p->grad(), lr);
      vigil::kernels::update_inplace(*p, update, [](auto w, auto u) { return w - u; }, "sgd");
      vigil::zero_grad(*p);
    }
    return loss.item();
  }

  const Tensor& x() const { return x_; }
  const Tensor& w1() const { return w1_; }

 private:
  static Tensor parameter(const vigil::Shape& shape, vigil::Generator& gen) {
    Tensor p = vigil::mul(vigil::randn(shape, gen), 0.01);
    p.set_requires_grad(true);
    return p;
  }

  Tensor x_, y_, w1_, b1_, w2_, b2_;
};

}  // namespace

int main() {
  vigil::Generator gen(1);
  TwoLayerMlp mlp(gen);
  fmt::print("2-layer MLP {}-{}-{}, batch {}, {} OpenMP thread(s)\n", TwoLayerMlp::D_in, TwoLayerMlp::H,
             TwoLayerMlp::D_out, TwoLayerMlp::N, omp_get_max_threads());
  fmt::print("{:>5} {:>9} {:>16} {:>13} {:>17}\n", "step", "loss", "storage (vigil)", "pool (vigil)",
             "operator new (all)");
  Counts last_step{};
  for (int step = 0; step < 12; ++step) {
    const Counts before = Counts::now();
    const float loss = mlp.step(1e-3);
    const Counts d = Counts::now() - before;
    last_step = d;
    fmt::print("{:>5} {:>9.4f} {:>16} {:>13} {:>17}{}\n", step, loss, d.storage, d.pool, d.news,
               step < 2 ? "   (warm-up)" : "");
  }

  constexpr int kCalls = 100;
  const Counts before = Counts::now();
  for (int i = 0; i < kCalls; ++i) (void)vigil::kernels::matmul(mlp.x(), mlp.w1());
  const Counts d = Counts::now() - before;
  const double per_call = double(d.news) / kCalls;
  fmt::print("\nkernels::matmul alone, {} calls: storage {}, pool {}, operator new {:.1f} per call\n", kCalls,
             d.storage, d.pool, per_call);
  const double dnnl_per_step = per_call * TwoLayerMlp::kMatmulsPerStep;
  fmt::print("  those operator new calls are oneDNN's own, inside dnnl_primitive_execute (vigil cannot avoid them).\n"
             "steady-state step: {} operator new calls = {:.0f} by oneDNN ({} products x {:.1f}) + {:.0f} by vigil\n",
             last_step.news, dnnl_per_step, TwoLayerMlp::kMatmulsPerStep, per_call,
             double(last_step.news) - dnnl_per_step);
  return 0;
}
