// Dropout, GaussianDropout, AlphaDropout and DropConnect: statistics of the noise (expectation, fraction dropped,
// variance) within statistical tolerances, eval as the bitwise identity, reproducibility from a seed and from a
// saved generator state, gradients only through kept units, gradcheck of DropConnect with a fixed mask, and the
// errors for p outside [0, 1).
#include "support/golden.hpp"
#include "tensor/expect_error.hpp"

#include <vigil/nn/nn.hpp>

#include <cmath>
#include <memory>
#include <vector>

namespace vigil::testing {
namespace {

constexpr std::int64_t kN = 200000;

double mean_of(const std::vector<float>& v) {
  double s = 0;
  for (float f : v) s += f;
  return s / static_cast<double>(v.size());
}

double variance_of(const std::vector<float>& v) {
  const double m = mean_of(v);
  double s = 0;
  for (float f : v) s += (f - m) * (f - m);
  return s / static_cast<double>(v.size());
}

double fraction_zero(const std::vector<float>& v) {
  std::int64_t zeros = 0;
  for (float f : v) zeros += f == 0.0f;
  return static_cast<double>(zeros) / static_cast<double>(v.size());
}

// Binomial fraction tolerance: 5 standard deviations.
double fraction_tolerance(double p, std::int64_t n) { return 5.0 * std::sqrt(p * (1 - p) / static_cast<double>(n)); }

TEST(Dropout, KeepsTheExpectationAndDropsAFractionP) {
  Generator gen(0);
  for (double p : {0.1, 0.5, 0.8}) {
    nn::Dropout layer(p, gen);
    const auto y = layer(ones({kN})).to_vector();
    EXPECT_NEAR(fraction_zero(y), p, fraction_tolerance(p, kN)) << "p = " << p;
    // Each element is 0 or 1 / (1 - p): mean 1, standard deviation sqrt(p / (1 - p)).
    EXPECT_NEAR(mean_of(y), 1.0, 5.0 * std::sqrt(p / (1 - p) / kN)) << "p = " << p;
    for (float v : y) ASSERT_TRUE(v == 0.0f || v == static_cast<float>(1.0 / (1.0 - p)));
  }
}

TEST(Dropout, EvalIsTheBitwiseIdentity) {
  Generator gen(1);
  nn::Dropout layer(0.5, gen);
  layer.eval();
  const Tensor x = randn({7, 5}, gen);
  const auto before = layer.generator().state();
  EXPECT_EQ(layer(x).impl_ptr(), x.impl_ptr());
  EXPECT_EQ(layer.generator().state(), before);  // no draws
  layer.train();
  EXPECT_NE(layer(x).impl_ptr(), x.impl_ptr());
}

TEST(Dropout, SameSeedSameMaskAndRestorableState) {
  Generator a(42), b(42), c(43);
  nn::Dropout da(0.5, a), db(0.5, b), dc(0.5, c);
  const Tensor x = ones({1000});
  const auto ya = da(x).to_vector();
  EXPECT_EQ(ya, db(x).to_vector());
  EXPECT_NE(ya, dc(x).to_vector());
  // Successive calls draw new masks; restoring the state replays one.
  const auto state = da.generator().state();
  const auto first = da(x).to_vector();
  EXPECT_NE(first, ya);
  da.generator().set_state(state);
  EXPECT_EQ(da(x).to_vector(), first);
}

TEST(Dropout, LayersFromOneGeneratorGetDifferentStreams) {
  Generator gen(5);
  nn::Dropout first(0.5, gen), second(0.5, gen);
  EXPECT_NE(first(ones({256})).to_vector(), second(ones({256})).to_vector());
}

TEST(Dropout, GradientFlowsOnlyThroughKeptUnits) {
  Generator gen(6);
  nn::Dropout layer(0.3, gen);
  const Tensor x = (randn({40, 25}, gen) + 5.0).detach().set_requires_grad(true);  // no exact zeros
  const Tensor y = layer(x);
  backward(sum(y * 2.0));
  const auto yv = y.to_vector(), xv = x.to_vector(), gv = x.grad().to_vector();
  const float scale = static_cast<float>(1.0 / 0.7);
  for (std::size_t i = 0; i < yv.size(); ++i) {
    if (yv[i] == 0.0f) {
      EXPECT_EQ(gv[i], 0.0f) << i;
    } else {
      EXPECT_FLOAT_EQ(yv[i], xv[i] * scale) << i;
      EXPECT_FLOAT_EQ(gv[i], 2.0f * scale) << i;
    }
  }
}

TEST(Dropout, PZeroIsTheIdentity) {
  Generator gen(7);
  nn::Dropout layer(0.0, gen);
  const Tensor x = randn({3, 3}, gen);
  EXPECT_EQ(layer(x).impl_ptr(), x.impl_ptr());
}

TEST(Dropout, Float64KeepsItsDtype) {
  Generator gen(8);
  const Tensor x = ones({100}, TensorOptions{DType::Float64});
  EXPECT_EQ(nn::dropout(x, 0.5, gen).dtype(), DType::Float64);
  EXPECT_EQ(nn::gaussian_dropout(x, 0.5, gen).dtype(), DType::Float64);
  EXPECT_EQ(nn::alpha_dropout(x, 0.5, gen).dtype(), DType::Float64);
}

TEST(Dropout, POutsideZeroOneThrowsNamingTheLayerAndP) {
  Generator gen(9);
  EXPECT_TRUE(throws_with<Error>([&] { nn::Dropout(1.0, gen); }, {"Dropout", "[0, 1)", "1"}));
  EXPECT_TRUE(throws_with<Error>([&] { nn::Dropout(-0.1, gen); }, {"Dropout", "-0.1"}));
  EXPECT_TRUE(throws_with<Error>([&] { nn::GaussianDropout(1.5, gen); }, {"GaussianDropout", "1.5"}));
  EXPECT_TRUE(throws_with<Error>([&] { nn::AlphaDropout(2.0, gen); }, {"AlphaDropout", "2"}));
  EXPECT_TRUE(throws_with<Error>([&] { nn::DropConnect(std::make_shared<nn::Linear>(2, 2, gen), 1.0, gen); },
                                 {"DropConnect", "1"}));
  EXPECT_TRUE(throws_with<Error>([&] { nn::dropout(ones({2}), 1.0, gen); }, {"dropout", "1"}));
  EXPECT_TRUE(throws_with<Error>([&] { nn::drop_connect_linear(ones({2}), ones({2, 2}), Tensor(), -1.0, gen); },
                                 {"drop_connect_linear", "-1"}));
}

TEST(GaussianDropout, NoiseHasMeanOneAndVariancePOverOneMinusP) {
  Generator gen(10);
  const double p = 0.4, variance = p / (1 - p);
  nn::GaussianDropout layer(p, gen);
  const auto y = layer(ones({kN})).to_vector();
  EXPECT_NEAR(mean_of(y), 1.0, 5.0 * std::sqrt(variance / kN));
  // The sample variance of a Gaussian has standard deviation variance * sqrt(2 / n).
  EXPECT_NEAR(variance_of(y), variance, 5.0 * variance * std::sqrt(2.0 / kN));
  EXPECT_EQ(fraction_zero(y), 0.0);
}

TEST(GaussianDropout, EvalIsIdentityAndGradientIsTheNoise) {
  Generator gen(11);
  nn::GaussianDropout layer(0.5, gen);
  const Tensor x = (rand({50}, gen) + 1.0).detach().set_requires_grad(true);
  const Tensor y = layer(x);
  backward(sum(y));
  const auto yv = y.to_vector(), xv = x.to_vector(), gv = x.grad().to_vector();
  for (std::size_t i = 0; i < yv.size(); ++i) EXPECT_NEAR(gv[i], yv[i] / xv[i], 1e-5) << i;
  layer.eval();
  EXPECT_EQ(layer(x).impl_ptr(), x.impl_ptr());
}

TEST(AlphaDropout, KeepsZeroMeanAndUnitVarianceOfStandardisedInputs) {
  Generator gen(12);
  for (double p : {0.1, 0.3}) {
    nn::AlphaDropout layer(p, gen);
    const Tensor x = randn({kN}, gen);
    const auto y = layer(x).to_vector();
    EXPECT_NEAR(mean_of(y), 0.0, 0.015) << "p = " << p;
    EXPECT_NEAR(variance_of(y), 1.0, 0.02) << "p = " << p;
  }
}

// torch's formula: kept units a x + b, dropped ones a alpha' + b, so E[y] = a (1 - p) x.
TEST(AlphaDropout, MatchesTorchsAffineMapAndExpectation) {
  Generator gen(13);
  const double p = 0.2, alpha = -1.7580993408473766;
  const double a = 1.0 / std::sqrt((1 - p) * (1 + p * alpha * alpha)), b = -a * alpha * p;
  nn::AlphaDropout layer(p, gen);
  const auto y = layer(full({kN}, 0.5f)).to_vector();
  std::int64_t dropped = 0;
  for (float v : y) {
    if (std::abs(v - (a * alpha + b)) < 1e-6) {
      ++dropped;
    } else {
      ASSERT_NEAR(v, a * 0.5 + b, 1e-6);
    }
  }
  EXPECT_NEAR(static_cast<double>(dropped) / kN, p, fraction_tolerance(p, kN));
  EXPECT_NEAR(mean_of(y), a * (1 - p) * 0.5, 5.0 * std::sqrt(p * (1 - p) / kN) * std::abs(a * 0.5 - a * alpha));
  layer.eval();
  const Tensor x = ones({3});
  EXPECT_EQ(layer(x).impl_ptr(), x.impl_ptr());
}

TEST(AlphaDropout, GradientFlowsOnlyThroughKeptUnits) {
  Generator gen(14);
  const double p = 0.5, alpha = -1.7580993408473766;
  const double a = 1.0 / std::sqrt((1 - p) * (1 + p * alpha * alpha));
  nn::AlphaDropout layer(p, gen);
  const Tensor x = randn({500}, gen).set_requires_grad(true);
  const Tensor y = layer(x);
  backward(sum(y));
  const float dropped_value = static_cast<float>(a * alpha * (1 - p));
  const auto yv = y.to_vector(), gv = x.grad().to_vector();
  for (std::size_t i = 0; i < yv.size(); ++i) {
    EXPECT_FLOAT_EQ(gv[i], std::abs(yv[i] - dropped_value) < 1e-6f ? 0.0f : static_cast<float>(a)) << i;
  }
}

TEST(DropConnect, EvalIsThePlainLinear) {
  Generator gen(15);
  auto linear = std::make_shared<nn::Linear>(6, 4, gen);
  nn::DropConnect layer(linear, 0.5, gen);
  layer.eval();
  const Tensor x = randn({3, 6}, gen);
  EXPECT_EQ(layer(x).to_vector(), nn::linear(x, linear->weight(), linear->bias()).to_vector());
  std::vector<std::string> paths;
  for (const auto& [path, parameter] : layer.named_parameters()) paths.push_back(path);
  EXPECT_EQ(paths, (std::vector<std::string>{"linear.weight", "linear.bias"}));
}

TEST(DropConnect, DropsWeightsNotInputsAndIsReproducible) {
  Generator gen(16);
  const double p = 0.25;
  auto linear = std::make_shared<nn::Linear>(50, 40, gen);
  nn::DropConnect layer(linear, p, gen);
  const Tensor x = randn({5, 50}, gen);
  const auto state = layer.generator().state();
  const Tensor y = layer(x);
  // The same draws through the function give the same output.
  Generator replay(0);
  replay.set_state(state);
  EXPECT_EQ(y.to_vector(), nn::drop_connect_linear(x, linear->weight(), linear->bias(), p, replay).to_vector());
  // One mask per call, shared by the batch: dW is zero exactly on the dropped weights, a fraction p of them.
  backward(sum(y));
  const auto dw = linear->weight().grad().to_vector();
  EXPECT_NEAR(fraction_zero(dw), p, fraction_tolerance(p, 2000));
  // The bias is never dropped: its gradient is the batch size everywhere.
  for (float v : linear->bias().grad().to_vector()) EXPECT_EQ(v, 5.0f);
}

TEST(DropConnect, KeepsTheExpectedOutput) {
  Generator gen(17);
  const Tensor x = randn({2, 4}, gen), w = randn({3, 4}, gen), b = randn({3}, gen);
  const int draws = 20000;
  Tensor total = zeros({2, 3});
  for (int i = 0; i < draws; ++i) total = total + nn::drop_connect_linear(x, w, b, 0.5, gen);
  // Each output sums 4 terms x_k w_jk (m_k / (1 - p)) of variance (x_k w_jk)^2 p / (1 - p) = (x_k w_jk)^2.
  const auto mean = (total / static_cast<double>(draws)).to_vector();
  const auto expected = nn::linear(x, w, b).to_vector();
  const auto xv = x.to_vector(), wv = w.to_vector();
  for (std::size_t i = 0; i < 2; ++i) {
    for (std::size_t j = 0; j < 3; ++j) {
      double variance = 0;
      for (std::size_t k = 0; k < 4; ++k) variance += std::pow(xv[i * 4 + k] * wv[j * 4 + k], 2);
      EXPECT_NEAR(mean[i * 3 + j], expected[i * 3 + j], 5.0 * std::sqrt(variance / draws) + 1e-4);
    }
  }
}

TEST(DropConnect, GradcheckWithAFixedMask) {
  Generator gen(18);
  auto input = [&](Shape s) { return randn(s, gen, TensorOptions{DType::Float32, true}); };
  // Every call re-seeds, so the finite differences see the same mask as the backward pass.
  EXPECT_TRUE(passes_gradcheck(
      [](const auto& x) {
        Generator fixed(7);
        return nn::drop_connect_linear(x[0], x[1], x[2], 0.4, fixed);
      },
      {input({3, 5}), input({4, 5}), input({4})}));
  EXPECT_TRUE(passes_gradcheck(
      [](const auto& x) {
        Generator fixed(8);
        return nn::dropout(x[0], 0.3, fixed) + nn::gaussian_dropout(x[0], 0.3, fixed) + nn::alpha_dropout(x[0], 0.3, fixed);
      },
      {input({4, 6})}));
}

TEST(DropConnect, WrongInputWidthShowsBothShapes) {
  Generator gen(19);
  nn::DropConnect layer(std::make_shared<nn::Linear>(6, 4, gen), 0.5, gen);
  EXPECT_TRUE(throws_with<ShapeError>([&] { layer(zeros({3, 5})); }, {"[3, 5]", "[4, 6]"}));
}

TEST(Dropout, GeneratorsAreListedByPathForCheckpoints) {
  Generator gen(3);
  nn::Sequential net;
  net.push_back(std::make_shared<nn::Linear>(4, 4, gen));
  auto drop = net.push_back(std::make_shared<nn::Dropout>(0.5, gen));
  auto connect = net.push_back(std::make_shared<nn::DropConnect>(std::make_shared<nn::Linear>(4, 2, gen), 0.5, gen));
  const auto generators = net.named_generators();
  ASSERT_EQ(generators.size(), 2u);
  EXPECT_EQ(generators[0].first, "1.generator");
  EXPECT_EQ(generators[0].second, &drop->generator());
  EXPECT_EQ(generators[1].first, "2.generator");
  EXPECT_EQ(generators[1].second, &connect->generator());
}

}  // namespace
}  // namespace vigil::testing
