// Module (parameter paths, mode, hooks), Linear (initialisation, a hand-computed forward, gradcheck) and Sequential.
#include "support/golden.hpp"

#include <vigil/nn/nn.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace vigil::testing {
namespace {

using Values = std::vector<float>;

// scale (own parameter), encoder = Sequential(Linear(3, 4), Linear(4, 2)), head = Linear(2, 1, no bias).
class Net : public nn::Module {
 public:
  explicit Net(Generator& gen) {
    scale_ = register_parameter("scale", ones({1}));
    encoder_ = register_module("encoder", std::make_shared<nn::Sequential>(std::vector<std::shared_ptr<nn::Module>>{
                                              std::make_shared<nn::Linear>(3, 4, gen),
                                              std::make_shared<nn::Linear>(4, 2, gen)}));
    head_ = register_module("head", std::make_shared<nn::Linear>(2, 1, false, gen));
  }
  Tensor forward(const Tensor& x) override { return (*head_)((*encoder_)(x)) * scale_; }

  std::shared_ptr<nn::Sequential> encoder_;
  std::shared_ptr<nn::Linear> head_;
  Tensor scale_;
};

// Returns its input times a parameter: the smallest module with a graph of its own.
class Scale : public nn::Module {
 public:
  Scale() { factor_ = register_parameter("factor", full({1}, 3.0f)); }
  Tensor forward(const Tensor& x) override { return x * factor_; }
  Tensor factor_;
};

class Identity : public nn::Module {
 public:
  Tensor forward(const Tensor& x) override { return x; }
};

std::vector<std::string> paths(const nn::Module& m) {
  std::vector<std::string> out;
  for (const auto& [path, parameter] : m.named_parameters()) out.push_back(path);
  return out;
}

TEST(Module, ParameterPathsAreDottedAndOrdered) {
  Generator gen(0);
  Net net(gen);
  EXPECT_EQ(paths(net), (std::vector<std::string>{"scale", "encoder.0.weight", "encoder.0.bias", "encoder.1.weight",
                                                  "encoder.1.bias", "head.weight"}));
  EXPECT_EQ(paths(*net.encoder_), (std::vector<std::string>{"0.weight", "0.bias", "1.weight", "1.bias"}));
  const auto named = net.named_parameters();
  EXPECT_EQ(named[1].second.shape(), (Shape{4, 3}));
  EXPECT_EQ(named[4].second.shape(), (Shape{2}));
  const auto params = net.parameters();
  ASSERT_EQ(params.size(), named.size());
  for (std::size_t i = 0; i < params.size(); ++i) {
    EXPECT_EQ(params[i].impl_ptr(), named[i].second.impl_ptr());  // the same tensors, not copies
    EXPECT_TRUE(params[i].requires_grad());
    EXPECT_TRUE(params[i].is_leaf());
  }
  EXPECT_EQ(net.named_children().size(), 2u);
  EXPECT_EQ(net.named_children()[0].first, "encoder");
}

TEST(Module, RegistrationRules) {
  Scale m;
  EXPECT_THROW((void)m.register_parameter("factor", zeros({1})), Error);
  EXPECT_THROW((void)m.register_parameter("a.b", zeros({1})), Error);
  EXPECT_THROW((void)m.register_parameter("", zeros({1})), Error);
  EXPECT_THROW((void)m.register_module("factor", std::make_shared<Identity>()), Error);
  EXPECT_THROW((void)m.register_parameter("ints", zeros({1}, TensorOptions{DType::Int64})), DTypeError);
  const Tensor made = zeros({1}, TensorOptions{DType::Float32, true}) * 2.0;
  EXPECT_THROW((void)m.register_parameter("made", made), Error);
  EXPECT_THROW((void)m.register_parameter("undefined", Tensor()), Error);
  EXPECT_THROW((void)m.register_module("null", std::shared_ptr<Identity>()), Error);
  EXPECT_EQ(paths(m), (std::vector<std::string>{"factor"}));
}

TEST(Module, ZeroGradClearsEveryParameter) {
  Generator gen(1);
  Net net(gen);
  backward(sum(net(randn({5, 3}, gen))));
  for (const Tensor& p : net.parameters()) EXPECT_TRUE(p.grad().defined());
  net.zero_grad();
  for (const Tensor& p : net.parameters()) EXPECT_FALSE(p.grad().defined());
}

TEST(Module, TrainAndEvalReachEveryChild) {
  Generator gen(2);
  Net net(gen);
  const auto all_modes = [&](bool expected) {
    EXPECT_EQ(net.training(), expected);
    EXPECT_EQ(net.encoder_->training(), expected);
    EXPECT_EQ((*net.encoder_)[0].training(), expected);
    EXPECT_EQ((*net.encoder_)[1].training(), expected);
    EXPECT_EQ(net.head_->training(), expected);
  };
  all_modes(true);
  net.eval();
  all_modes(false);
  net.train();
  all_modes(true);
  net.train(false);
  all_modes(false);
  // A child registered later takes its parent's mode.
  const auto late = net.register_module("late", std::make_shared<Identity>());
  EXPECT_FALSE(late->training());
}

TEST(ForwardHook, SeesTheInputAndOutputOfEachCall) {
  Scale m;
  std::vector<std::string> calls;
  Tensor seen_input, seen_output;
  const nn::Module* seen_module = nullptr;
  const nn::HookHandle first = m.register_forward_hook([&](const nn::Module& module, const Tensor& in, const Tensor& out) {
    calls.push_back("first");
    seen_module = &module;
    seen_input = in;
    seen_output = out;
  });
  nn::HookHandle second = m.register_forward_hook([&](const nn::Module&, const Tensor&, const Tensor&) {
    calls.push_back("second");
  });
  const Tensor x = from_vector(Values{1, 2}, {2});
  const Tensor y = m(x);
  EXPECT_EQ(calls, (std::vector<std::string>{"first", "second"}));
  EXPECT_EQ(seen_module, &m);
  EXPECT_EQ(seen_input.impl_ptr(), x.impl_ptr());
  EXPECT_EQ(seen_output.impl_ptr(), y.impl_ptr());
  EXPECT_EQ(y.to_vector(), (Values{3, 6}));
  // forward() alone runs no hooks.
  (void)m.forward(x);
  EXPECT_EQ(calls.size(), 2u);
  second.remove();
  second.remove();  // idempotent
  (void)m(x);
  EXPECT_EQ(calls, (std::vector<std::string>{"first", "second", "first"}));
}

TEST(ForwardHook, ChildHooksFireInsideSequential) {
  Generator gen(3);
  nn::Sequential seq({std::make_shared<nn::Linear>(2, 3, gen), std::make_shared<nn::Linear>(3, 1, gen)});
  Shape first_output, second_input;
  seq[0].register_forward_hook([&](const nn::Module&, const Tensor&, const Tensor& out) { first_output = out.shape(); });
  seq[1].register_forward_hook([&](const nn::Module&, const Tensor& in, const Tensor&) { second_input = in.shape(); });
  (void)seq(zeros({4, 2}));
  EXPECT_EQ(first_output, (Shape{4, 3}));
  EXPECT_EQ(second_input, (Shape{4, 3}));
}

TEST(ForwardHook, AHookMayRemoveItself) {
  Scale m;
  int calls = 0;
  nn::HookHandle handle;
  handle = m.register_forward_hook([&](const nn::Module&, const Tensor&, const Tensor&) {
    ++calls;
    handle.remove();
  });
  (void)m(ones({1}));
  (void)m(ones({1}));
  EXPECT_EQ(calls, 1);
}

TEST(BackwardHook, ReceivesTheGradientOfTheOutput) {
  Scale m;
  const Tensor x = from_vector(Values{1, 2, 3}, {3}, TensorOptions{DType::Float32, true});
  Tensor seen;
  const nn::Module* seen_module = nullptr;
  m.register_backward_hook([&](const nn::Module& module, const Tensor& grad_output) {
    seen_module = &module;
    seen = raw::clone(grad_output);
  });
  const Tensor y = m(x);
  EXPECT_FALSE(seen.defined());  // nothing until backward
  const Tensor c = from_vector(Values{0.5f, -1.0f, 2.0f}, {3});
  backward(sum(y * c));  // d(loss)/dy = c
  ASSERT_TRUE(seen.defined());
  EXPECT_EQ(seen_module, &m);
  EXPECT_TRUE(tensors_close(seen, c));
  // Observing does not change the gradients: dx = c * factor.
  EXPECT_TRUE(tensors_close(x.grad(), from_vector(Values{1.5f, -3.0f, 6.0f}, {3})));
}

TEST(BackwardHook, FiresOncePerCallAndStopsWhenRemoved) {
  Scale m;
  int calls = 0;
  nn::HookHandle handle = m.register_backward_hook([&](const nn::Module&, const Tensor&) { ++calls; });
  const Tensor x = ones({2}, TensorOptions{DType::Float32, true});
  backward(sum(m(m(x))));  // two calls, two outputs reached
  EXPECT_EQ(calls, 2);
  const Tensor y = m(x);  // built before removal: the removal still applies
  handle.remove();
  backward(sum(y));
  backward(sum(m(x)));
  EXPECT_EQ(calls, 2);
}

TEST(BackwardHook, NoGraphNoCall) {
  Scale m;
  int calls = 0;
  m.register_backward_hook([&](const nn::Module&, const Tensor&) { ++calls; });
  {
    NoGradGuard no_grad;
    const Tensor y = m(ones({2}, TensorOptions{DType::Float32, true}));
    EXPECT_FALSE(y.requires_grad());
  }
  // An identity returns its (leaf) input: no hook is attached to the leaf, so later passes do not call it.
  Identity id;
  int id_calls = 0;
  id.register_backward_hook([&](const nn::Module&, const Tensor&) { ++id_calls; });
  const Tensor x = ones({2}, TensorOptions{DType::Float32, true});
  (void)id(x);
  backward(sum(x * 2.0));
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(id_calls, 0);
}

TEST(BackwardHook, OutlivingTheModuleIsHarmless) {
  const Tensor x = ones({2}, TensorOptions{DType::Float32, true});
  Tensor y;
  nn::HookHandle handle;
  int calls = 0;
  {
    auto m = std::make_shared<Scale>();
    handle = m->register_backward_hook([&](const nn::Module&, const Tensor&) { ++calls; });
    y = (*m)(x);
  }
  backward(sum(y));
  handle.remove();
  EXPECT_EQ(calls, 0);
  EXPECT_TRUE(tensors_close(x.grad(), full({2}, 3.0f)));
}

// Sets a Linear's parameters in place (raw copies record nothing).
void set_parameters(const nn::Linear& layer, const Values& weight, const Values& bias) {
  raw::copy_(layer.weight(), from_vector(weight, layer.weight().shape()));
  if (layer.bias().defined()) raw::copy_(layer.bias(), from_vector(bias, layer.bias().shape()));
}

TEST(Linear, ForwardMatchesAHandComputation) {
  Generator gen(4);
  nn::Linear layer(3, 2, gen);
  set_parameters(layer, {1, 2, 3, 4, 5, 6}, {0.5f, -1.0f});
  // y = x W^T + b: [1, 0, -1] -> [1 - 3, 4 - 6] + b; [2, 1, 0] -> [2 + 2, 8 + 5] + b.
  const Tensor y = layer(from_vector(Values{1, 0, -1, 2, 1, 0}, {2, 3}));
  EXPECT_EQ(y.shape(), (Shape{2, 2}));
  EXPECT_TRUE(tensors_close(y, from_vector(Values{-1.5f, -3.0f, 4.5f, 12.0f}, {2, 2})));
  // One sample without a batch dim, and two leading dims.
  EXPECT_TRUE(tensors_close(layer(from_vector(Values{1, 0, -1}, {3})), from_vector(Values{-1.5f, -3.0f}, {2})));
  const Tensor batched = layer(raw::reshape(from_vector(Values{1, 0, -1, 2, 1, 0, 1, 0, -1, 2, 1, 0}, {12}), Shape{2, 2, 3}));
  EXPECT_EQ(batched.shape(), (Shape{2, 2, 2}));
  EXPECT_TRUE(tensors_close(batched, from_vector(Values{-1.5f, -3.0f, 4.5f, 12.0f, -1.5f, -3.0f, 4.5f, 12.0f}, {2, 2, 2})));
}

TEST(Linear, WithoutBias) {
  Generator gen(5);
  nn::Linear layer(2, 2, false, gen);
  EXPECT_FALSE(layer.bias().defined());
  EXPECT_EQ(paths(layer), (std::vector<std::string>{"weight"}));
  set_parameters(layer, {1, 2, 3, 4}, {});
  EXPECT_TRUE(tensors_close(layer(from_vector(Values{1, 1}, {1, 2})), from_vector(Values{3, 7}, {1, 2})));
}

TEST(Linear, InitialisationIsPyTorchsUniformBound) {
  Generator gen(6);
  nn::Linear layer(25, 40, gen);  // bound 1 / sqrt(25) = 0.2
  EXPECT_EQ(layer.weight().shape(), (Shape{40, 25}));
  EXPECT_EQ(layer.bias().shape(), (Shape{40}));
  EXPECT_EQ(layer.in_features(), 25);
  EXPECT_EQ(layer.out_features(), 40);
  const Values w = layer.weight().to_vector(), b = layer.bias().to_vector();
  const auto [wmin, wmax] = std::minmax_element(w.begin(), w.end());
  EXPECT_GE(*wmin, -0.2f);
  EXPECT_LE(*wmax, 0.2f);
  EXPECT_LT(*wmin, -0.19f);  // 1000 draws fill the interval
  EXPECT_GT(*wmax, 0.19f);
  double mean = 0, square = 0;
  for (float v : w) {
    mean += v;
    square += v * v;
  }
  mean /= static_cast<double>(w.size());
  EXPECT_NEAR(mean, 0.0, 0.01);
  EXPECT_NEAR(std::sqrt(square / static_cast<double>(w.size())), 0.2 / std::sqrt(3.0), 0.01);  // std of U(-a, a)
  for (float v : b) EXPECT_LE(std::abs(v), 0.2f);
  // The same seed gives the same layer; the weight is drawn before the bias.
  Generator again(6);
  nn::Linear twin(25, 40, again);
  EXPECT_EQ(twin.weight().to_vector(), w);
  EXPECT_EQ(twin.bias().to_vector(), b);
}

TEST(Linear, GradcheckOnInputWeightAndBias) {
  Generator gen(7);
  const auto input = [&](Shape s) { return randn(s, gen, TensorOptions{DType::Float32, true}); };
  const auto f = [](const std::vector<Tensor>& x) { return nn::linear(x[0], x[1], x[2]); };
  EXPECT_TRUE(passes_gradcheck(f, {input({5, 3}), input({4, 3}), input({4})}));
  EXPECT_TRUE(passes_gradcheck(f, {input({2, 3, 3}), input({2, 3}), input({2})}));
  EXPECT_TRUE(passes_gradcheck(f, {input({3}), input({4, 3}), input({4})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return nn::linear(x[0], x[1]); }, {input({5, 3}), input({2, 3})}));
}

TEST(Linear, LayerGradientsMatchTheFunctionalForm) {
  Generator gen(8);
  nn::Linear layer(3, 2, gen);
  const Tensor x = randn({4, 3}, gen);
  backward(sum(layer(x)));
  // d(sum y)/dW = 1^T x: every row of dW is the column sums of x; d(sum y)/db = the batch size.
  const Tensor column_sums = sum(x, {0}, true);
  EXPECT_TRUE(tensors_close(layer.weight().grad(), raw::contiguous(raw::expand(column_sums, Shape{2, 3}))));
  EXPECT_TRUE(tensors_close(layer.bias().grad(), full({2}, 4.0f)));
}

TEST(Linear, ShapeErrorsNameTheShapes) {
  Generator gen(9);
  nn::Linear layer(3, 2, gen);
  try {
    (void)layer(zeros({5, 4}));
    FAIL() << "expected ShapeError";
  } catch (const ShapeError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("linear"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[5, 4]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[2, 3]"), std::string::npos) << msg;
  }
  EXPECT_THROW((void)nn::linear(zeros({5, 3}), zeros({2, 3}), zeros({3})), ShapeError);
  EXPECT_THROW((void)nn::linear(zeros({5, 3}), zeros({6}), Tensor()), ShapeError);
  EXPECT_THROW((void)nn::linear(scalar_tensor(1), zeros({2, 1}), Tensor()), ShapeError);
  EXPECT_THROW(nn::Linear(0, 2, gen), ShapeError);
}

TEST(Sequential, ChainsItsModules) {
  Generator gen(10);
  auto first = std::make_shared<nn::Linear>(3, 4, gen);
  auto second = std::make_shared<nn::Linear>(4, 2, gen);
  nn::Sequential seq;
  EXPECT_EQ(seq.push_back(first), first);
  seq.push_back(second);
  EXPECT_EQ(seq.size(), 2u);
  EXPECT_EQ(&seq[1], second.get());
  const Tensor x = randn({5, 3}, gen);
  EXPECT_TRUE(tensors_close(seq(x), (*second)((*first)(x))));
  EXPECT_EQ(paths(seq), (std::vector<std::string>{"0.weight", "0.bias", "1.weight", "1.bias"}));
  EXPECT_THROW((void)seq[2], IndexError);
  nn::Sequential empty;
  EXPECT_EQ(empty(x).impl_ptr(), x.impl_ptr());
}

}  // namespace
}  // namespace vigil::testing
