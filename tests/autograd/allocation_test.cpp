// The steady-state allocation claim: once a training step has run a few times, repeating it takes every tensor's
// storage from the caching allocator's free lists and every TensorImpl / autograd node from the small-object pool,
// so neither asks the system for memory again. The step is a 2-layer MLP built from today's ops: matmul, a
// broadcast bias add, x * x as the nonlinearity, a mean squared error through sum, backward, and an SGD update
// (mul under NoGradGuard, then kernels::update_inplace) followed by zero_grad.
#include "support/golden.hpp"

#include <vigil/kernels/elementwise.hpp>
#include <vigil/tensor/allocator.hpp>
#include <vigil/tensor/pool.hpp>

namespace vigil::testing {
namespace {

// x [N, D_in] -> h = x @ w1 + b1 [N, H] -> a = h * h -> out = a @ w2 + b2 [N, D_out]; loss = mean over rows of the
// squared error against y.
class TwoLayerMlp {
 public:
  static constexpr std::int64_t N = 64, D_in = 100, H = 48, D_out = 10;

  explicit TwoLayerMlp(Generator& gen)
      : x_(randn({N, D_in}, gen)), y_(randn({N, D_out}, gen)), w1_(parameter({D_in, H}, gen)),
        b1_(parameter({H}, gen)), w2_(parameter({H, D_out}, gen)), b2_(parameter({D_out}, gen)) {}

  // One forward, backward and SGD update; returns the loss before the update.
  float step(double lr) {
    const Tensor h = matmul(x_, w1_) + b1_;
    const Tensor out = matmul(h * h, w2_) + b2_;
    const Tensor diff = out - y_;
    const Tensor loss = sum(diff * diff) * (1.0 / N);
    backward(loss);
    NoGradGuard no_grad;
    for (Tensor* p : {&w1_, &b1_, &w2_, &b2_}) {
      const Tensor update = mul(p->grad(), lr);
      kernels::update_inplace(*p, update, [](auto w, auto u) { return w - u; }, "sgd");
      zero_grad(*p);
    }
    return loss.item();
  }

 private:
  static Tensor parameter(const Shape& shape, Generator& gen) {
    Tensor p = mul(randn(shape, gen), 0.1);
    p.set_requires_grad(true);
    return p;
  }

  Tensor x_, y_, w1_, b1_, w2_, b2_;
};

TEST(SteadyStateAllocation, TrainingStepStopsAskingTheSystemForMemory) {
  Generator gen(3);
  TwoLayerMlp mlp(gen);
  const float first_loss = mlp.step(1e-3);
  for (int i = 0; i < 3; ++i) mlp.step(1e-3);  // warm-up: caches fill, primitives are made

  const std::uint64_t storage_before = CachingAllocator::instance().stats().system_allocations;
  const std::uint64_t pool_before = pool_system_allocations();
  const std::uint64_t requests_before = CachingAllocator::instance().stats().requests;
  float last_loss = 0;
  for (int i = 0; i < 20; ++i) last_loss = mlp.step(1e-3);

  EXPECT_GT(CachingAllocator::instance().stats().requests, requests_before);  // the step does allocate tensors...
  EXPECT_EQ(CachingAllocator::instance().stats().system_allocations, storage_before);  // ...all from the cache
  EXPECT_EQ(pool_system_allocations(), pool_before);
  EXPECT_LT(last_loss, first_loss);  // and it is a real training step
}

}  // namespace
}  // namespace vigil::testing
