// Initialisers: sample moments against each formula, orthogonality, torch's gains, fans, determinism, layouts,
// the "init well" biases and the errors.
#include "support/golden.hpp"

#include <vigil/nn/nn.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

namespace vigil::testing {
namespace {

namespace init = nn::init;

// Raw moments of a distribution, for the standard errors of the sample mean and variance.
struct Moments {
  double mean;
  double var;
  double kurtosis;  // m4 / var^2: 3 for a normal, 9/5 for a uniform
};

constexpr Moments normal_moments(double mean, double stddev) { return {mean, stddev * stddev, 3.0}; }
constexpr Moments uniform_moments(double a, double b) { return {(a + b) / 2, (b - a) * (b - a) / 12, 9.0 / 5.0}; }

// The sample mean is within 5 standard errors (sqrt(var / n)) of the formula's, and the sample variance within 5
// of its own (sqrt((m4 - var^2) / n)).
::testing::AssertionResult moments_match(const Tensor& t, const Moments& m) {
  const std::vector<float> v = t.to_vector();
  const double n = static_cast<double>(v.size());
  double mean = 0;
  for (float x : v) mean += x;
  mean /= n;
  double var = 0;
  for (float x : v) var += (x - mean) * (x - mean);
  var /= n - 1;
  const double se_mean = std::sqrt(m.var / n);
  const double se_var = std::sqrt((m.kurtosis - 1.0) * m.var * m.var / n);
  if (std::abs(mean - m.mean) > 5 * se_mean || std::abs(var - m.var) > 5 * se_var)
    return ::testing::AssertionFailure() << "sample mean " << mean << " (expected " << m.mean << " +- " << 5 * se_mean
                                         << "), sample variance " << var << " (expected " << m.var << " +- "
                                         << 5 * se_var << ")";
  return ::testing::AssertionSuccess();
}

// Every value within [lo, hi].
bool within(const Tensor& t, double lo, double hi) {
  for (float x : t.to_vector())
    if (x < lo || x > hi) return false;
  return true;
}

TEST(Init, MomentCheckHasPower) {
  // The tolerance is tight enough to see a 3% error in the standard deviation or a shift of 0.02 std.
  Generator gen(12);
  const Tensor w = empty({300, 500});
  init::normal(w, gen, 0.0, 1.0);
  EXPECT_TRUE(moments_match(w, normal_moments(0, 1)));
  EXPECT_FALSE(moments_match(w, normal_moments(0, 1.03)));
  EXPECT_FALSE(moments_match(w, normal_moments(0.02, 1)));
  init::uniform(w, gen, -1.0, 1.0);
  EXPECT_FALSE(moments_match(w, uniform_moments(-1.03, 1.03)));
}

TEST(Init, XavierMoments) {
  Generator gen(1);
  const Tensor w = empty({300, 500});
  const double fan_sum = 800;
  init::xavier_uniform(w, gen);
  const double b = std::sqrt(6.0 / fan_sum);
  EXPECT_TRUE(moments_match(w, uniform_moments(-b, b)));
  EXPECT_TRUE(within(w, -b, b));
  init::xavier_uniform(w, gen, 2.5);
  EXPECT_TRUE(moments_match(w, uniform_moments(-2.5 * b, 2.5 * b)));
  init::xavier_normal(w, gen, init::calculate_gain(init::Nonlinearity::Tanh));
  EXPECT_TRUE(moments_match(w, normal_moments(0, 5.0 / 3.0 * std::sqrt(2.0 / fan_sum))));
}

TEST(Init, KaimingMoments) {
  Generator gen(2);
  // A conv weight [out, in, kh, kw]: fan_in = 32 * 9, fan_out = 64 * 9.
  const Tensor w = empty({64, 32, 3, 3});
  init::kaiming_normal(w, gen);
  EXPECT_TRUE(moments_match(w, normal_moments(0, std::sqrt(2.0 / 288))));
  init::kaiming_normal(w, gen, 0.0, init::FanMode::FanOut, init::Nonlinearity::ReLU);
  EXPECT_TRUE(moments_match(w, normal_moments(0, std::sqrt(2.0 / 576))));
  init::kaiming_uniform(w, gen);
  const double b = std::sqrt(2.0) * std::sqrt(3.0 / 288);
  EXPECT_TRUE(moments_match(w, uniform_moments(-b, b)));
  EXPECT_TRUE(within(w, -b, b));
  // Linear's default: a = sqrt(5) gives U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
  init::kaiming_uniform(w, gen, std::sqrt(5.0));
  EXPECT_TRUE(moments_match(w, uniform_moments(-1 / std::sqrt(288.0), 1 / std::sqrt(288.0))));
  init::kaiming_uniform(w, gen, 0.0, init::FanMode::FanOut, init::Nonlinearity::Tanh);
  const double bt = 5.0 / 3.0 * std::sqrt(3.0 / 576);
  EXPECT_TRUE(moments_match(w, uniform_moments(-bt, bt)));
}

TEST(Init, LecunNormalUniformConstantMoments) {
  Generator gen(3);
  const Tensor w = empty({400, 250});
  init::lecun_normal(w, gen);
  EXPECT_TRUE(moments_match(w, normal_moments(0, 1 / std::sqrt(250.0))));
  init::normal(w, gen, 1.5, 0.3);
  EXPECT_TRUE(moments_match(w, normal_moments(1.5, 0.3)));
  init::uniform(w, gen, -0.5, 2.0);
  EXPECT_TRUE(moments_match(w, uniform_moments(-0.5, 2.0)));
  EXPECT_TRUE(within(w, -0.5, 2.0));
  // 1-D tensors are fine where no fan is needed.
  const Tensor v = empty({100000});
  init::normal(v, gen);
  EXPECT_TRUE(moments_match(v, normal_moments(0, 1)));
  init::constant(v, 0.25);
  EXPECT_TRUE(within(v, 0.25, 0.25));
  init::zeros(v);
  EXPECT_TRUE(within(v, 0, 0));
  init::ones(v);
  EXPECT_TRUE(within(v, 1, 1));
}

TEST(Init, Float64Moments) {
  Generator gen(4);
  const Tensor w = empty({300, 400}, TensorOptions{DType::Float64});
  init::kaiming_normal(w, gen);
  EXPECT_EQ(w.dtype(), DType::Float64);
  EXPECT_TRUE(moments_match(w, normal_moments(0, std::sqrt(2.0 / 400))));
}

// max |W W^T - gain^2 I| over a [rows, cols] matrix (rows <= cols), from the float values.
double orthogonality_error(const Tensor& w2d, double gain) {
  const std::int64_t rows = w2d.size(0), cols = w2d.size(1);
  const std::vector<float> v = w2d.to_vector();
  double worst = 0;
  for (std::int64_t i = 0; i < rows; ++i)
    for (std::int64_t j = 0; j < rows; ++j) {
      double dot = 0;
      for (std::int64_t k = 0; k < cols; ++k)
        dot += static_cast<double>(v[static_cast<std::size_t>(i * cols + k)]) * v[static_cast<std::size_t>(j * cols + k)];
      worst = std::max(worst, std::abs(dot - (i == j ? gain * gain : 0.0)));
    }
  return worst;
}

TEST(Init, OrthogonalRowsAndColumnsOrthonormal) {
  Generator gen(5);
  const Tensor wide = empty({30, 50});
  init::orthogonal(wide, gen);
  EXPECT_LT(orthogonality_error(wide, 1.0), 1e-4);
  init::orthogonal(wide, gen, 1.5);
  EXPECT_LT(orthogonality_error(wide, 1.5), 1e-4);
  // Tall: the columns are orthonormal, W^T W = gain^2 I.
  const Tensor tall = empty({50, 30});
  init::orthogonal(tall, gen, 0.5);
  EXPECT_LT(orthogonality_error(raw::contiguous(raw::transpose(tall, 0, 1)), 0.5), 1e-4);
  // Square, and a conv weight viewed as [8, 36].
  const Tensor square = empty({40, 40});
  init::orthogonal(square, gen);
  EXPECT_LT(orthogonality_error(square, 1.0), 1e-4);
  EXPECT_LT(orthogonality_error(raw::contiguous(raw::transpose(square, 0, 1)), 1.0), 1e-4);
  const Tensor conv = empty({8, 4, 3, 3});
  init::orthogonal(conv, gen);
  EXPECT_LT(orthogonality_error(raw::reshape(conv, {8, 36}), 1.0), 1e-4);
  // Written through the strides of a transposed view.
  const Tensor base = zeros({20, 12});
  init::orthogonal(raw::transpose(base, 0, 1), gen, 2.0);
  EXPECT_LT(orthogonality_error(raw::contiguous(raw::transpose(base, 0, 1)), 2.0), 1e-4);
}

TEST(Init, GainsAreTorchs) {
  using init::Nonlinearity;
  for (Nonlinearity n : {Nonlinearity::Linear, Nonlinearity::Conv1d, Nonlinearity::Conv2d, Nonlinearity::Conv3d,
                         Nonlinearity::ConvTranspose1d, Nonlinearity::ConvTranspose2d, Nonlinearity::ConvTranspose3d,
                         Nonlinearity::Sigmoid})
    EXPECT_EQ(init::calculate_gain(n), 1.0);
  EXPECT_DOUBLE_EQ(init::calculate_gain(Nonlinearity::Tanh), 5.0 / 3.0);
  EXPECT_DOUBLE_EQ(init::calculate_gain(Nonlinearity::ReLU), std::sqrt(2.0));
  EXPECT_DOUBLE_EQ(init::calculate_gain(Nonlinearity::SELU), 0.75);
  EXPECT_DOUBLE_EQ(init::calculate_gain(Nonlinearity::LeakyReLU), std::sqrt(2.0 / (1 + 0.01 * 0.01)));
  EXPECT_DOUBLE_EQ(init::calculate_gain(Nonlinearity::LeakyReLU, 0.2), std::sqrt(2.0 / (1 + 0.2 * 0.2)));
  EXPECT_DOUBLE_EQ(init::calculate_gain(Nonlinearity::LeakyReLU, 0.0), std::sqrt(2.0));
}

TEST(Init, FansAsTorch) {
  const init::Fans linear = init::calculate_fans(empty({7, 3}));
  EXPECT_EQ(linear.fan_in, 3);
  EXPECT_EQ(linear.fan_out, 7);
  const init::Fans conv = init::calculate_fans(empty({16, 8, 3, 5}));
  EXPECT_EQ(conv.fan_in, 8 * 15);
  EXPECT_EQ(conv.fan_out, 16 * 15);
}

TEST(Init, DeterministicBySeed) {
  const std::vector<std::function<void(const Tensor&, Generator&)>> inits = {
      [](const Tensor& t, Generator& g) { init::xavier_uniform(t, g); },
      [](const Tensor& t, Generator& g) { init::xavier_normal(t, g); },
      [](const Tensor& t, Generator& g) { init::kaiming_uniform(t, g); },
      [](const Tensor& t, Generator& g) { init::kaiming_normal(t, g); },
      [](const Tensor& t, Generator& g) { init::lecun_normal(t, g); },
      [](const Tensor& t, Generator& g) { init::orthogonal(t, g); },
      [](const Tensor& t, Generator& g) { init::normal(t, g); },
      [](const Tensor& t, Generator& g) { init::uniform(t, g); },
  };
  for (const auto& fill : inits) {
    const Tensor a = empty({6, 9}), b = empty({6, 9}), c = empty({6, 9});
    Generator g1(42), g2(42), g3(43);
    fill(a, g1);
    fill(b, g2);
    fill(c, g3);
    EXPECT_EQ(a.to_vector(), b.to_vector());
    EXPECT_NE(a.to_vector(), c.to_vector());
  }
}

TEST(Init, FillsStridedViewsInRowMajorOrderOfTheView) {
  // A transposed view [5, 3] of a [3, 5] buffer gets the values a contiguous [5, 3] tensor would.
  const Tensor base = zeros({3, 5});
  const Tensor view = raw::transpose(base, 0, 1);
  const Tensor expected = empty({5, 3});
  Generator g1(7), g2(7);
  init::xavier_uniform(view, g1);
  init::xavier_uniform(expected, g2);
  EXPECT_EQ(view.to_vector(), expected.to_vector());
  // Only the viewed part of a buffer changes.
  const Tensor buffer = zeros({4, 6});
  init::ones(raw::narrow(buffer, 1, 2, 3));
  const std::vector<float> v = buffer.to_vector();
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 6; ++c) EXPECT_EQ(v[static_cast<std::size_t>(r * 6 + c)], (c >= 2 && c < 5) ? 1.0f : 0.0f);
}

TEST(Init, ParameterRequiringGradRecordsNothing) {
  Generator gen(8);
  nn::Linear layer(4, 3, gen);
  init::kaiming_normal(layer.weight(), gen);
  init::zeros(layer.bias());
  EXPECT_TRUE(layer.weight().requires_grad());
  EXPECT_TRUE(layer.weight().is_leaf());
  EXPECT_EQ(layer.bias().to_vector(), std::vector<float>(3, 0.0f));
}

TEST(Init, ClassifierBiasGivesThePriors) {
  const Tensor b = empty({3});
  const std::vector<double> counts = {10, 30, 60};
  init::init_classifier_bias(b, counts);
  const std::vector<float> p = softmax(b, 0).to_vector();
  EXPECT_NEAR(p[0], 0.1, 1e-6);
  EXPECT_NEAR(p[1], 0.3, 1e-6);
  EXPECT_NEAR(p[2], 0.6, 1e-6);
  EXPECT_NEAR(b.to_vector()[2], std::log(0.6), 1e-6);
  // With zero weights, the classifier's output is the priors for every input.
  Generator gen(9);
  nn::Linear head(5, 3, gen);
  init::zeros(head.weight());
  init::init_classifier_bias(head.bias(), std::vector<double>{0.1, 0.3, 0.6});
  const std::vector<float> q = softmax(head(randn({4, 5}, gen)), 1).to_vector();
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(q[static_cast<std::size_t>(i * 3 + 1)], 0.3, 1e-6);

  const Tensor single = empty({1});
  init::init_binary_classifier_bias(single, 0.2);
  EXPECT_NEAR(sigmoid(single).item(), 0.2, 1e-6);
}

TEST(Init, RegressorBiasGivesTheTargetMean) {
  const Tensor b = empty({2});
  init::init_regressor_bias(b, 4.5);
  EXPECT_EQ(b.to_vector(), (std::vector<float>{4.5f, 4.5f}));
  init::init_regressor_bias(b, std::vector<double>{-1.0, 2.0});
  EXPECT_EQ(b.to_vector(), (std::vector<float>{-1.0f, 2.0f}));
}

// The error's message names `op` and `shape`.
template <class E>
void expect_error(const std::function<void()>& f, const std::string& op, const std::string& shape) {
  try {
    f();
    ADD_FAILURE() << "expected an error from " << op;
  } catch (const E& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(op), std::string::npos) << msg;
    EXPECT_NE(msg.find(shape), std::string::npos) << msg;
  }
}

TEST(InitErrors, FansUndefinedBelowTwoDims) {
  Generator gen(10);
  const Tensor v = empty({10});
  expect_error<Error>([&] { init::xavier_uniform(v, gen); }, "xavier_uniform", "[10]");
  expect_error<Error>([&] { init::xavier_normal(v, gen); }, "xavier_normal", "[10]");
  expect_error<Error>([&] { init::kaiming_uniform(v, gen); }, "kaiming_uniform", "[10]");
  expect_error<Error>([&] { init::kaiming_normal(v, gen); }, "kaiming_normal", "[10]");
  expect_error<Error>([&] { init::lecun_normal(v, gen); }, "lecun_normal", "[10]");
  expect_error<Error>([&] { init::orthogonal(v, gen); }, "orthogonal", "[10]");
  expect_error<Error>([&] { init::xavier_uniform(scalar_tensor(1.0f), gen); }, "xavier_uniform", "[]");
}

TEST(InitErrors, BadArgumentsAndDTypes) {
  Generator gen(11);
  expect_error<DTypeError>([&] { init::normal(zeros({3}, TensorOptions{DType::Int64}), gen); }, "normal", "[3]");
  EXPECT_THROW(init::normal(empty({3}), gen, 0.0, -1.0), Error);
  EXPECT_THROW(init::uniform(empty({3}), gen, 1.0, 0.0), Error);
  expect_error<ShapeError>([] { init::init_classifier_bias(empty({2}), std::vector<double>{1, 2, 3}); },
                           "init_classifier_bias", "[2]");
  EXPECT_THROW(init::init_classifier_bias(empty({2}), std::vector<double>{1, 0}), Error);
  EXPECT_THROW(init::init_binary_classifier_bias(empty({1}), 1.0), Error);
  expect_error<ShapeError>([] { init::init_regressor_bias(empty({3}), std::vector<double>{1}); },
                           "init_regressor_bias", "[3]");
}

}  // namespace
}  // namespace vigil::testing
