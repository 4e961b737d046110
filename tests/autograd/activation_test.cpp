// Activation functions and maxout against PyTorch goldens (torch.nn.functional, 1.13), gradcheck of each, the
// large-|x| behaviour of the stable forms, and the error cases.
#include "support/golden.hpp"

#include <cmath>
#include <limits>

namespace vigil::testing {
namespace {

Tensor apply_activation(const std::vector<Tensor>& x, const nlohmann::json& p) {
  const std::string op = p.at("op");
  if (op == "relu") return relu(x[0]);
  if (op == "leaky_relu") return leaky_relu(x[0], p.value("negative_slope", 0.01));
  if (op == "prelu") return prelu(x[0], x[1]);
  if (op == "elu") return elu(x[0], p.value("alpha", 1.0));
  if (op == "selu") return selu(x[0]);
  if (op == "celu") return celu(x[0], p.value("alpha", 1.0));
  if (op == "gelu") {
    return gelu(x[0], p.value("approximate", "none") == "tanh" ? GeluApproximation::Tanh : GeluApproximation::None);
  }
  if (op == "silu") return silu(x[0]);
  if (op == "mish") return mish(x[0]);
  if (op == "sigmoid") return sigmoid(x[0]);
  if (op == "tanh") return tanh(x[0]);
  if (op == "hardtanh") return hardtanh(x[0], p.value("min_val", -1.0), p.value("max_val", 1.0));
  if (op == "softplus") return softplus(x[0], p.value("beta", 1.0), p.value("threshold", 20.0));
  if (op == "softsign") return softsign(x[0]);
  if (op == "maxout") return maxout(x[0], p.at("pieces").get<std::int64_t>(), p.at("dim").get<std::int64_t>());
  throw Error("unknown golden op " + op);
}

TEST(ActivationGolden, MatchesPyTorch) {
  const auto cases = load_golden("activation");
  ASSERT_GE(cases.size(), 85u);
  for (const auto& c : cases) check_golden_case(c, apply_activation, 1e-5, 1e-6);
}

class ActivationGradcheck : public ::testing::Test {
 protected:
  Generator gen{11};
  Tensor input(Shape s, double scale = 2.0) { return (randn(s, gen) * scale).detach().set_requires_grad(true); }
  // |x| >= 0.2: the kinks at 0 (relu, leaky_relu, prelu, elu, celu, selu) stay out of the difference stencil.
  Tensor away_from_zero(Shape s) {
    const Tensor x = randn(s, gen);
    return (x + sign(x) * 0.2).detach().set_requires_grad(true);
  }
};

TEST_F(ActivationGradcheck, PiecewiseActivations) {
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return relu(x[0]); }, {away_from_zero({4, 5})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return leaky_relu(x[0], 0.1); }, {away_from_zero({4, 5})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return elu(x[0], 0.7); }, {away_from_zero({4, 5})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return selu(x[0]); }, {away_from_zero({4, 5})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return celu(x[0], 1.5); }, {away_from_zero({4, 5})}));
  // Bounds at -0.1 and 0.1 are 0.1 from every value.
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return hardtanh(x[0], -0.1, 0.1); }, {away_from_zero({4, 5})}));
  const Tensor slopes = (rand({3}, gen) + 0.1).detach().set_requires_grad(true);
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return prelu(x[0], x[1]); }, {away_from_zero({2, 3, 4}), slopes}));
  const Tensor shared = (rand({1}, gen) + 0.1).detach().set_requires_grad(true);
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return prelu(x[0], x[1]); }, {away_from_zero({5, 2}), shared}));
}

TEST_F(ActivationGradcheck, SmoothActivations) {
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return gelu(x[0]); }, {input({4, 5})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return gelu(x[0], GeluApproximation::Tanh); }, {input({4, 5})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return silu(x[0]); }, {input({4, 5})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return mish(x[0]); }, {input({4, 5})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return sigmoid(x[0]); }, {input({4, 5})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return tanh(x[0]); }, {input({4, 5})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return softsign(x[0]); }, {input({4, 5})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return softplus(x[0]); }, {input({4, 5})}));
  // beta 2, threshold 1: inputs on both sides of the switch at x = 0.5 (kept clear of it by the 0.2 shift
  // around 0 plus the offset).
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return softplus(x[0] + 0.5, 2.0, 1.0); }, {away_from_zero({4, 5})}));
}

TEST_F(ActivationGradcheck, Maxout) {
  // randn values are distinct, so no group has a tie inside the finite-difference step.
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return maxout(x[0], 3, 1); }, {input({2, 6, 2})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return maxout(x[0], 2, -1); }, {input({3, 8})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return maxout(x[0], 2, 0); }, {input({4, 3})}));
}

TEST(ActivationEdges, StableAtLargeMagnitudes) {
  // In float32, e^100 and e^(1e4) overflow: the stable forms must still reach the limits, with finite gradients.
  const Tensor x = from_vector(std::vector<float>{-1e4f, -100.0f, 100.0f, 1e4f}, {4});
  const auto s = sigmoid(x).to_vector();
  EXPECT_EQ(s[0], 0.0f);
  EXPECT_EQ(s[2], 1.0f);
  EXPECT_EQ(s[3], 1.0f);
  // With a threshold no input reaches, softplus must take the log branch without overflowing.
  const auto sp = softplus(x, 1.0, 1e30).to_vector();
  EXPECT_EQ(sp[0], 0.0f);
  EXPECT_FLOAT_EQ(sp[2], 100.0f);
  EXPECT_FLOAT_EQ(sp[3], 1e4f);
  const auto m = mish(x).to_vector();
  EXPECT_EQ(m[0], 0.0f);
  EXPECT_FLOAT_EQ(m[3], 1e4f);
  using Activation = Tensor (*)(const Tensor&);
  const Activation activations[] = {
      [](const Tensor& v) { return sigmoid(v); }, [](const Tensor& v) { return softplus(v, 1.0, 1e30); },
      [](const Tensor& v) { return mish(v); },    [](const Tensor& v) { return silu(v); },
      [](const Tensor& v) { return gelu(v); },    [](const Tensor& v) { return gelu(v, GeluApproximation::Tanh); },
      [](const Tensor& v) { return elu(v); },     [](const Tensor& v) { return tanh(v); }};
  for (Activation fn : activations) {
    const Tensor leaf = x.detach().set_requires_grad(true);
    const Tensor y = fn(leaf);
    for (float v : y.to_vector()) EXPECT_TRUE(std::isfinite(v)) << v;
    backward(sum(y));
    for (float d : leaf.grad().to_vector()) EXPECT_TRUE(std::isfinite(d)) << d;
  }
}

TEST(ActivationEdges, KinksFollowPyTorch) {
  const Tensor x = from_vector(std::vector<float>{0.0f}, {1});
  auto grad_at_zero = [&](auto fn) {
    const Tensor leaf = x.detach().set_requires_grad(true);
    backward(sum(fn(leaf)));
    return leaf.grad().to_vector()[0];
  };
  EXPECT_EQ(grad_at_zero([](const Tensor& v) { return relu(v); }), 0.0f);
  EXPECT_FLOAT_EQ(grad_at_zero([](const Tensor& v) { return leaky_relu(v, 0.2); }), 0.2f);
  EXPECT_FLOAT_EQ(grad_at_zero([](const Tensor& v) { return elu(v, 0.5); }), 0.5f);
  EXPECT_FLOAT_EQ(grad_at_zero([](const Tensor& v) { return celu(v, 2.0); }), 1.0f);
  EXPECT_EQ(grad_at_zero([](const Tensor& v) { return hardtanh(v, 0.0, 1.0); }), 0.0f);
  EXPECT_FLOAT_EQ(grad_at_zero([](const Tensor& v) { return prelu(v, full({1}, 0.3f)); }), 0.3f);
}

// relu's backward is a bit-mask select (threshold_backward on the output): g passes where y > 0 and where y is NaN,
// +0 elsewhere, a NaN or negative g included; float64 takes the same path with 64-bit masks.
TEST(ActivationEdges, ReluBackwardMaskFollowsPyTorch) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (DType dtype : {DType::Float32, DType::Float64}) {
    const Tensor x = raw::to_dtype(from_vector(std::vector<float>{2.0f, -1.0f, 0.0f, nan, 3.0f, -0.0f}, {6}), dtype)
                         .set_requires_grad(true);
    const Tensor g = raw::to_dtype(from_vector(std::vector<float>{-5.0f, 7.0f, 1.0f, 4.0f, nan, -2.0f}, {6}), dtype);
    backward(relu(x), g);
    const std::vector<float> d = raw::to_dtype(x.grad(), DType::Float32).to_vector();
    EXPECT_EQ(d[0], -5.0f);
    for (int i : {1, 2, 5}) {
      EXPECT_EQ(d[i], 0.0f) << i;
      EXPECT_FALSE(std::signbit(d[i])) << i;
    }
    EXPECT_EQ(d[3], 4.0f);
    EXPECT_TRUE(std::isnan(d[4]));
  }
}

TEST(ActivationEdges, PreluOnAZeroDimInput) {
  const Tensor x = scalar_tensor(-2.0f).set_requires_grad(true);
  const Tensor w = full({1}, 0.25f).set_requires_grad(true);
  const Tensor y = prelu(x, w);
  EXPECT_EQ(y.shape(), Shape{});
  EXPECT_FLOAT_EQ(y.item(), -0.5f);
  backward(y);
  EXPECT_FLOAT_EQ(x.grad().item(), 0.25f);
  EXPECT_EQ(w.grad().shape(), Shape{1});
  EXPECT_FLOAT_EQ(w.grad().item(), -2.0f);
}

TEST(ActivationEdges, ReluKeepsNaN) {
  const Tensor x = from_vector(std::vector<float>{std::numeric_limits<float>::quiet_NaN()}, {1});
  EXPECT_TRUE(std::isnan(relu(x).item()));
  EXPECT_TRUE(std::isnan(hardtanh(x).item()));
}

TEST(ActivationEdges, MaxoutPicksFirstOfTiesAndNaN) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Tensor x = from_vector(std::vector<float>{2.0f, 2.0f, 1.0f, 2.0f, 1.0f, nan, 3.0f, nan}, {1, 8})
                       .set_requires_grad(true);
  const Tensor y = maxout(x, 4, 1);
  ASSERT_EQ(y.shape(), (Shape{1, 2}));
  EXPECT_EQ(y.to_vector()[0], 2.0f);
  EXPECT_TRUE(std::isnan(y.to_vector()[1]));
  backward(y, ones({1, 2}));
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{1, 0, 0, 0, 0, 1, 0, 0}));
}

TEST(ActivationEdges, Float64KeepsDtype) {
  const Tensor x = raw::to_dtype(from_vector(std::vector<float>{-0.5f, 2.0f}, {1, 2}), DType::Float64);
  const Tensor w = full({1}, 0.1f, {DType::Float64});
  for (const Tensor& y : {relu(x), gelu(x), mish(x), softplus(x), maxout(x, 2, 1), prelu(x, w)}) {
    EXPECT_EQ(y.dtype(), DType::Float64);
  }
}

template <class Fn>
void expect_error_mentions(Fn&& fn, const std::vector<std::string>& parts) {
  try {
    fn();
    ADD_FAILURE() << "expected an exception mentioning " << parts.front();
  } catch (const Error& e) {
    const std::string msg = e.what();
    for (const auto& part : parts) EXPECT_NE(msg.find(part), std::string::npos) << msg;
  }
}

TEST(ActivationErrors, PreluWeightShape) {
  EXPECT_THROW((void)prelu(zeros({2, 5}), zeros({4})), ShapeError);
  EXPECT_THROW((void)prelu(zeros({2, 5}), zeros({1, 5})), ShapeError);
  EXPECT_THROW((void)prelu(zeros({5}), zeros({5})), ShapeError);  // a 1-dim input has one channel, as in PyTorch
  expect_error_mentions([] { (void)prelu(zeros({2, 5, 3}), zeros({4})); }, {"prelu", "[4]", "[2, 5, 3]"});
  EXPECT_THROW((void)prelu(zeros({2, 5}), zeros({5}, TensorOptions{DType::Float64})), DTypeError);
}

TEST(ActivationErrors, MaxoutGrouping) {
  expect_error_mentions([] { (void)maxout(zeros({2, 7}), 2, 1); }, {"maxout", "[2, 7]", "2 pieces"});
  EXPECT_THROW((void)maxout(zeros({2, 6}), 0, 1), ShapeError);
  EXPECT_THROW((void)maxout(zeros({2, 6}), 2, 2), IndexError);
  EXPECT_THROW((void)maxout(scalar_tensor(1.0f), 1, 0), ShapeError);
}

TEST(ActivationErrors, BadParameters) {
  expect_error_mentions([] { (void)celu(zeros({3}), 0.0); }, {"celu", "alpha"});
  expect_error_mentions([] { (void)softplus(zeros({3}), 0.0); }, {"softplus", "beta"});
  expect_error_mentions([] { (void)hardtanh(zeros({3}), 1.0, -1.0); }, {"hardtanh", "min_val"});
}

TEST(ActivationErrors, IntegerInputs) {
  const Tensor i64 = zeros({3}, TensorOptions{DType::Int64});
  EXPECT_THROW((void)relu(i64), DTypeError);
  EXPECT_THROW((void)sigmoid(i64), DTypeError);
  EXPECT_THROW((void)maxout(zeros({2, 4}, TensorOptions{DType::Int64}), 2, 1), DTypeError);
}

}  // namespace
}  // namespace vigil::testing
