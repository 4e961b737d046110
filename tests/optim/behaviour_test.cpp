// Optimiser behaviour beyond the golden trajectories: skipped parameters, weight-decay kinds, hyper-parameter
// validation, the OpenMP path, strided parameters and gradient checks.
#include "trajectory.hpp"

#include <vigil/kernels/dispatch.hpp>
#include <vigil/kernels/isa.hpp>

#include <cmath>
#include <functional>

namespace vigil::testing {
namespace {

using optim::NamedParameter;

// Expects `f` to throw E whose message contains every one of `parts`.
template <class E>
void expect_error(const std::function<void()>& f, std::initializer_list<const char*> parts) {
  try {
    f();
    ADD_FAILURE() << "expected an error containing " << *parts.begin();
  } catch (const E& e) {
    const std::string msg = e.what();
    for (const char* part : parts) EXPECT_NE(msg.find(part), std::string::npos) << msg;
  }
}

// One of every optimiser (with its stateful options on), over `params`.
std::vector<std::unique_ptr<optim::Optimizer>> every_optimizer(const std::vector<NamedParameter>& params) {
  std::vector<std::unique_ptr<optim::Optimizer>> out;
  out.push_back(std::make_unique<optim::SGD>(params, optim::SGDOptions{.lr = 0.1, .momentum = 0.9, .nesterov = true,
                                                                       .weight_decay = 0.01}));
  out.push_back(std::make_unique<optim::Adagrad>(params, optim::AdagradOptions{.lr = 0.1, .lr_decay = 0.01,
                                                                               .weight_decay = 0.01}));
  out.push_back(std::make_unique<optim::Adadelta>(params, optim::AdadeltaOptions{.weight_decay = 0.01}));
  out.push_back(std::make_unique<optim::RMSprop>(
      params, optim::RMSpropOptions{.weight_decay = 0.01, .momentum = 0.5, .centered = true}));
  out.push_back(std::make_unique<optim::Adam>(params, optim::AdamOptions{.lr = 0.01, .weight_decay = 0.01,
                                                                         .amsgrad = true}));
  out.push_back(std::make_unique<optim::AdamW>(params, optim::AdamWOptions{.lr = 0.01}));
  return out;
}

TEST(OptimBehaviour, ParametersWithoutGradientAreSkippedStateAndAll) {
  auto params = fresh_parameters();
  Generator gen(3);
  params.push_back({"unused.weight", randn({4, 2}, gen, TensorOptions{DType::Float32, true})});
  const std::vector<float> unused_before = params.back().tensor.to_vector();
  for (auto& opt : every_optimizer(params)) {
    SCOPED_TRACE(opt->name());
    for (int step = 0; step < 3; ++step) {
      opt->zero_grad();
      backward(network_loss(params));  // unused.weight is not in the loss: its grad stays undefined
      opt->step();
    }
    EXPECT_EQ(params.back().tensor.to_vector(), unused_before);
    const optim::ParamState& st = opt->state("unused.weight");
    EXPECT_EQ(st.step, 0);
    for (const auto& [name, buffer] : st.buffers)
      for (float v : buffer.to_vector()) EXPECT_EQ(v, 0.0f) << name;
    EXPECT_EQ(opt->state("fc1.weight").step, 3);
  }
}

TEST(OptimBehaviour, ZeroGradLeavesEveryGradientUndefined) {
  const auto params = fresh_parameters();
  optim::SGD opt(params, {.lr = 0.1});
  backward(network_loss(params));
  for (const auto& np : params) EXPECT_TRUE(np.tensor.grad().defined());
  opt.zero_grad();
  for (const auto& np : params) EXPECT_FALSE(np.tensor.grad().defined()) << np.path;
}

// A single weight, a given gradient each step.
struct OneWeight {
  Tensor w = from_vector(std::vector<float>{2.0f, 2.0f}, {2}).set_requires_grad(true);
  std::vector<NamedParameter> params() const { return {{"w", w}}; }
};

// For plain SGD the two kinds are the same update, up to rounding: p - lr*(g + wd*p) = p*(1 - lr*wd) - lr*g.
TEST(OptimWeightDecay, KindsAgreeForPlainSGD) {
  OneWeight a, b;
  optim::SGD coupled(a.params(), {.lr = 0.1, .weight_decay = 0.2});
  optim::SGD decoupled(b.params(), {.lr = 0.1, .weight_decay = 0.2, .weight_decay_kind = optim::WeightDecay::Decoupled});
  for (int step = 0; step < 20; ++step) {
    a.w.set_grad(from_vector(std::vector<float>{0.5f, -0.25f}, {2}));
    b.w.set_grad(from_vector(std::vector<float>{0.5f, -0.25f}, {2}));
    coupled.step();
    decoupled.step();
  }
  EXPECT_TRUE(allclose(a.w, b.w, 1e-5, 1e-7)) << a.w << b.w;
}

// For Adam they differ: the coupled term wd*p is divided by sqrt(v) like the gradient, so a weight whose gradient
// is zero moves by about lr per step whatever wd is (m / sqrt(v) = 1), while a weight with a large gradient barely
// feels its decay; decoupled decay shrinks every weight by exactly (1 - lr*wd) per step on top of the adaptive
// step.
TEST(OptimWeightDecay, CoupledIsRescaledByAdamDecoupledIsNot) {
  const double lr = 0.01, wd = 0.1;
  OneWeight a, b;
  optim::Adam coupled(a.params(), {.lr = lr, .weight_decay = wd});
  optim::AdamW decoupled(b.params(), {.lr = lr, .weight_decay = wd});
  EXPECT_EQ(decoupled.weight_decay_kind(), optim::WeightDecay::Decoupled);
  EXPECT_EQ(coupled.weight_decay_kind(), optim::WeightDecay::CoupledL2);
  // Element 0 has no gradient of its own, element 1 a large one.
  for (int step = 0; step < 10; ++step) {
    a.w.set_grad(from_vector(std::vector<float>{0.0f, 100.0f}, {2}));
    b.w.set_grad(from_vector(std::vector<float>{0.0f, 100.0f}, {2}));
    coupled.step();
    decoupled.step();
  }
  const auto pa = a.w.to_vector(), pb = b.w.to_vector();
  float expected = 2.0f;
  for (int step = 0; step < 10; ++step) expected *= static_cast<float>(1.0 - lr * wd);
  // No gradient: decoupled shrinks by exactly (1 - lr*wd) per step; coupled turns the small decay gradient wd*p
  // into a full adaptive step of about lr, 50 times more.
  EXPECT_EQ(pb[0], expected);
  EXPECT_NEAR(pa[0], 2.0 - 10 * lr, 1e-3);
  // Large gradient: coupled decay is drowned in g and normalised away (the weight moves 10 steps of lr, as with
  // no decay at all); decoupled decay still takes its 2 * (1 - (1 - lr*wd)^10) off.
  EXPECT_NEAR(pa[1], 2.0 - 10 * lr, 1e-5);
  EXPECT_NEAR(pb[1], pa[1] - 2.0 * (1 - std::pow(1 - lr * wd, 10)), 1e-3);
}

TEST(OptimHyperParameters, BadValuesThrowNamingTheOptimiserAndValue) {
  const auto params = fresh_parameters();
  expect_error<Error>([&] { optim::SGD(params, {.lr = -0.1}); }, {"SGD", "learning rate", ">= 0", "-0.1"});
  expect_error<Error>([&] { optim::SGD(params, {.lr = NAN}); }, {"SGD", "learning rate", "nan"});
  expect_error<Error>([&] { optim::SGD(params, {.lr = 0.1, .momentum = -0.5}); }, {"SGD", "momentum", "-0.5"});
  expect_error<Error>([&] { optim::SGD(params, {.lr = 0.1, .nesterov = true}); }, {"SGD", "Nesterov"});
  expect_error<Error>([&] { optim::SGD(params, {.lr = 0.1, .momentum = 0.9, .dampening = 0.1, .nesterov = true}); },
                      {"SGD", "dampening", "Nesterov"});
  expect_error<Error>([&] { optim::SGD(params, {.lr = 0.1, .weight_decay = -1}); }, {"weight_decay", "-1"});
  expect_error<Error>([&] { optim::Adam(params, {.beta1 = 1.0}); }, {"Adam", "beta1", "[0, 1)", "1"});
  expect_error<Error>([&] { optim::Adam(params, {.beta2 = -0.1}); }, {"Adam", "beta2", "[0, 1)", "-0.1"});
  expect_error<Error>([&] { optim::AdamW(params, {.beta2 = 1.5}); }, {"AdamW", "beta2", "1.5"});
  expect_error<Error>([&] { optim::Adam(params, {.lr = -1e-3}); }, {"Adam", "learning rate", "-0.001"});
  expect_error<Error>([&] { optim::Adam(params, {.eps = -1e-8}); }, {"Adam", "eps"});
  expect_error<Error>([&] { optim::RMSprop(params, {.alpha = 1.5}); }, {"RMSprop", "alpha", "[0, 1]"});
  expect_error<Error>([&] { optim::RMSprop(params, {.momentum = -0.9}); }, {"RMSprop", "momentum"});
  expect_error<Error>([&] { optim::Adadelta(params, {.rho = 1.5}); }, {"Adadelta", "rho", "1.5"});
  expect_error<Error>([&] { optim::Adagrad(params, {.lr_decay = -1}); }, {"Adagrad", "lr_decay"});
  expect_error<Error>([&] { optim::Adagrad(params, {.initial_accumulator_value = -1}); },
                      {"Adagrad", "initial_accumulator_value"});
  expect_error<Error>(
      [&] {
        optim::Adam({optim::ParamGroup{{params[0]}, {}, {}}, optim::ParamGroup{{params[1]}, -0.5, {}}}, {});
      },
      {"Adam", "group 1", "-0.5"});
  optim::Adam opt(params, {});
  expect_error<Error>([&] { opt.set_lr(-1.0); }, {"Adam", "learning rate", "-1"});
  expect_error<IndexError>([&] { opt.set_lr(3, 0.1); }, {"group 3"});
}

TEST(OptimParameters, BadParameterListsThrowNamingThePath) {
  auto params = fresh_parameters();
  expect_error<Error>([&] { optim::SGD({params[0], {"fc1.weight", params[1].tensor}}, {}); },
                      {"'fc1.weight'", "twice"});
  expect_error<Error>([&] { optim::SGD({params[0], {"alias", params[0].tensor}}, {}); }, {"'alias'"});
  expect_error<Error>([&] { optim::SGD({{"", params[0].tensor}}, {}); }, {"empty path"});
  expect_error<DTypeError>([&] { optim::SGD({{"ids", zeros({3}, TensorOptions{DType::Int64})}}, {}); },
                           {"'ids'", "int64"});
  // A gradient of another dtype than its parameter's is caught at step(), naming the parameter.
  optim::SGD opt(params, {});
  params[1].tensor.set_grad(zeros({8}, TensorOptions{DType::Float64}));
  expect_error<DTypeError>([&] { opt.step(); }, {"'fc1.bias'", "float64"});
}

TEST(OptimParameters, GroupsKeepTheirOwnLearningRateAndWeightDecay) {
  const auto params = fresh_parameters();
  optim::SGD opt({optim::ParamGroup{{params[0], params[1]}, 0.5, 0.1}, optim::ParamGroup{{params[2], params[3]}, {}, {}}},
                 {.lr = 0.01, .weight_decay = 0.2});
  ASSERT_EQ(opt.num_groups(), 2u);
  EXPECT_EQ(opt.lr(0), 0.5);
  EXPECT_EQ(opt.lr(1), 0.01);
  EXPECT_EQ(opt.weight_decay(0), 0.1);
  EXPECT_EQ(opt.weight_decay(1), 0.2);
  EXPECT_EQ(opt.params(1)[0].path, "fc2.weight");
  EXPECT_EQ(opt.parameters().size(), 4u);
  opt.set_lr(1, 0.03);
  EXPECT_EQ(opt.lr(0), 0.5);
  EXPECT_EQ(opt.lr(1), 0.03);
  opt.set_lr(0.07);
  EXPECT_EQ(opt.lr(0), 0.07);
  EXPECT_EQ(opt.lr(1), 0.07);
}

// Tensors of at least kParallelGrain elements take the OpenMP path; its result is bit-for-bit the serial one,
// checked by updating one large parameter and the same values split into small (serial) parameters.
TEST(OptimFusedLoop, ParallelPathEqualsSerialPath) {
  const std::int64_t n = 100003, chunk = 20000;
  ASSERT_GE(n, kernels::kParallelGrain);
  ASSERT_LT(chunk, kernels::kParallelGrain);
  Generator gen(11);
  const Tensor init = randn({n}, gen);
  std::vector<Tensor> grads;
  for (int step = 0; step < 3; ++step) grads.push_back(randn({n}, gen));

  auto big = std::vector<NamedParameter>{{"big", raw::clone(init).set_requires_grad(true)}};
  std::vector<NamedParameter> small;
  for (std::int64_t start = 0; start < n; start += chunk) {
    const std::int64_t len = std::min(chunk, n - start);
    small.push_back({"part" + std::to_string(start), raw::clone(raw::narrow(init, 0, start, len)).set_requires_grad(true)});
  }
  auto big_opts = every_optimizer(big);
  auto small_opts = every_optimizer(small);
  for (std::size_t k = 0; k < big_opts.size(); ++k) {
    SCOPED_TRACE(big_opts[k]->name());
    for (const Tensor& g : grads) {
      big[0].tensor.set_grad(g);
      std::int64_t start = 0;
      for (auto& np : small) {
        np.tensor.set_grad(raw::clone(raw::narrow(g, 0, start, np.tensor.numel())));
        start += np.tensor.numel();
      }
      big_opts[k]->step();
      small_opts[k]->step();
    }
    std::int64_t start = 0;
    for (const auto& np : small) {
      EXPECT_EQ(raw::narrow(big[0].tensor, 0, start, np.tensor.numel()).to_vector(), np.tensor.to_vector()) << np.path;
      start += np.tensor.numel();
    }
  }
}

// Every optimiser's update compiled for AVX-512 and for the portable baseline gives the same bits
// (vigil/kernels/isa.hpp); meaningful where the CPU has AVX-512.
TEST(OptimFusedLoop, WideAndPortableBuildsAgreeBitForBit) {
  Generator gen(12);
  const Tensor init = randn({1001}, gen);
  std::vector<Tensor> grads;
  for (int step = 0; step < 3; ++step) grads.push_back(randn({1001}, gen));
  auto trajectory = [&] {
    std::vector<std::vector<float>> ends;
    for (std::size_t k = 0; k < every_optimizer({}).size(); ++k) {
      auto params = std::vector<NamedParameter>{{"p", raw::clone(init).set_requires_grad(true)}};
      auto opt = std::move(every_optimizer(params)[k]);
      for (const Tensor& g : grads) {
        params[0].tensor.set_grad(g);
        opt->step();
      }
      ends.push_back(params[0].tensor.to_vector());
    }
    return ends;
  };
  const auto wide = trajectory();
  const kernels::PortableBuildGuard portable_only;
  EXPECT_EQ(trajectory(), wide);
}

// A strided parameter (a transposed view) is updated through a contiguous copy written back into its storage.
TEST(OptimFusedLoop, StridedParameterMatchesContiguousOne) {
  Generator gen(5);
  const Tensor base = randn({6, 4}, gen);
  Tensor strided = raw::transpose(raw::clone(base), 0, 1);  // [4, 6] view of [6, 4] storage
  ASSERT_FALSE(strided.is_contiguous());
  strided.impl().requires_grad = true;
  Tensor contiguous = raw::contiguous(raw::transpose(base, 0, 1)).set_requires_grad(true);
  optim::Adam a({{"w", strided}}, {.lr = 0.1, .weight_decay = 0.1});
  optim::Adam b({{"w", contiguous}}, {.lr = 0.1, .weight_decay = 0.1});
  for (int step = 0; step < 3; ++step) {
    const Tensor g = randn({4, 6}, gen);
    strided.set_grad(g);
    contiguous.set_grad(raw::clone(g));
    a.step();
    b.step();
  }
  EXPECT_EQ(strided.to_vector(), contiguous.to_vector());
}

}  // namespace
}  // namespace vigil::testing
