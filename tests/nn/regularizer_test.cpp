// Regularisers: penalty values and gradients (by hand and gradcheck), the weights-only selector, max-norm.
#include "support/golden.hpp"

#include <vigil/nn/nn.hpp>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

namespace vigil::testing {
namespace {

using Values = std::vector<float>;

TEST(Regularizer, PenaltyValues) {
  const std::vector<Tensor> params = {from_vector(Values{1, -2, 3}, {3}), from_vector(Values{-0.5f}, {1, 1})};
  EXPECT_NEAR(nn::l1_penalty(params, 0.1).item(), 0.1 * 6.5, 1e-6);
  EXPECT_NEAR(nn::l2_penalty(params, 0.1).item(), 0.1 * 14.25, 1e-6);
  EXPECT_NEAR(nn::elastic_net(params, 0.1, 0.01).item(), 0.1 * 6.5 + 0.01 * 14.25, 1e-6);
  EXPECT_EQ(nn::l1_penalty({}, 0.1).item(), 0.0f);
  EXPECT_EQ(nn::l2_penalty({}, 0.1).dim(), 0);
}

TEST(Regularizer, PenaltyGradients) {
  Tensor w = from_vector(Values{1, -2, 0.5f}, {3}).set_requires_grad(true);
  backward(nn::l1_penalty({w}, 0.1));
  EXPECT_TRUE(tensors_close(w.grad(), from_vector(Values{0.1f, -0.1f, 0.1f}, {3})));
  w.set_grad(Tensor());
  backward(nn::l2_penalty({w}, 0.1));
  EXPECT_TRUE(tensors_close(w.grad(), from_vector(Values{0.2f, -0.4f, 0.1f}, {3})));
  w.set_grad(Tensor());
  backward(nn::elastic_net({w}, 0.1, 0.1));
  EXPECT_TRUE(tensors_close(w.grad(), from_vector(Values{0.3f, -0.5f, 0.2f}, {3})));
}

TEST(Regularizer, Gradcheck) {
  Generator gen(1);
  // Values away from 0, where |w| has no derivative.
  auto input = [&](Shape s) {
    Tensor x = randn(s, gen);
    return (x + sign(x) * 0.1).detach().set_requires_grad(true);
  };
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return nn::l1_penalty({x[0], x[1]}, 0.3); },
                               {input({3, 4}), input({5})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return nn::l2_penalty({x[0], x[1]}, 0.3); },
                               {input({3, 4}), input({2, 3, 2})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return nn::elastic_net({x[0], x[1]}, 0.2, 0.7); },
                               {input({4, 3}), input({3})}));
  // A transposed (non-contiguous) parameter.
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return nn::l2_penalty({transpose(x[0], 0, 1)}, 0.5); },
                               {input({3, 5})}));
}

// Linear(3, 4) -> Linear(4, 2), plus a 1-D "weight" (a norm layer's scale) and a bias of its own.
class Net : public nn::Module {
 public:
  explicit Net(Generator& gen) {
    fc1_ = register_module("fc1", std::make_shared<nn::Linear>(3, 4, gen));
    norm_weight_ = register_parameter("weight", ones({4}));
    fc2_ = register_module("fc2", std::make_shared<nn::Linear>(4, 2, gen));
  }
  Tensor forward(const Tensor& x) override { return (*fc2_)((*fc1_)(x) * norm_weight_); }
  std::shared_ptr<nn::Linear> fc1_, fc2_;
  Tensor norm_weight_;
};

TEST(Regularizer, WeightsOnlyExcludesBiasesAndNormScales) {
  Generator gen(2);
  Net net(gen);
  const std::vector<Tensor> weights = nn::weights_only(net);
  ASSERT_EQ(weights.size(), 2u);
  EXPECT_TRUE(weights[0].shares_storage(net.fc1_->weight()));
  EXPECT_TRUE(weights[1].shares_storage(net.fc2_->weight()));
  const std::vector<std::pair<std::string, Tensor>> named = {
      {"0.weight", zeros({2, 2})}, {"0.bias", zeros({2})}, {"head_weight", zeros({2, 2})}, {"weight", zeros({3, 1})}};
  EXPECT_EQ(nn::weights_only(named).size(), 2u);
  // The penalty on the selected weights leaves the biases' gradient undefined.
  backward(nn::l2_penalty(nn::weights_only(net), 0.01));
  EXPECT_TRUE(net.fc1_->weight().grad().defined());
  EXPECT_FALSE(net.fc1_->bias().grad().defined());
  EXPECT_FALSE(net.norm_weight_.grad().defined());
}

double norm_of(const std::vector<float>& v, std::size_t begin, std::size_t count, std::size_t stride = 1) {
  double sq = 0;
  for (std::size_t i = 0; i < count; ++i) sq += static_cast<double>(v[begin + i * stride]) * v[begin + i * stride];
  return std::sqrt(sq);
}

TEST(Regularizer, MaxNormRescalesOnlyRowsAboveC) {
  // Rows of norm 5, 1, 13 and 3 (exactly c: untouched).
  const Values before = {3, 4, 0, 1, 0, 0, 5, 12, 0, 0, 0, 3};
  const Tensor w = from_vector(before, {4, 3}).set_requires_grad(true);
  nn::max_norm_(w, 3.0);
  const std::vector<float> after = w.to_vector();
  EXPECT_NEAR(norm_of(after, 0, 3), 3.0, 1e-6);
  EXPECT_NEAR(norm_of(after, 6, 3), 3.0, 1e-6);
  for (std::size_t i : {3u, 4u, 5u, 9u, 10u, 11u}) EXPECT_EQ(after[i], before[i]);
  // Rescaled, not clipped: the direction is kept.
  EXPECT_NEAR(after[0] / after[1], 0.75, 1e-6);
  EXPECT_TRUE(w.is_leaf());
}

TEST(Regularizer, MaxNormConvWeightOtherDimAndStridedViews) {
  Generator gen(3);
  // Conv weight [out, in, k]: each output unit's [in, k] slice.
  const Tensor conv = (randn({6, 4, 3}, gen) * 2.0).detach();
  const std::vector<float> before = conv.to_vector();
  nn::max_norm_(conv, 3.5);
  const std::vector<float> after = conv.to_vector();
  for (std::size_t u = 0; u < 6; ++u) {
    const double n0 = norm_of(before, u * 12, 12), n1 = norm_of(after, u * 12, 12);
    if (n0 <= 3.5)
      for (std::size_t i = 0; i < 12; ++i) EXPECT_EQ(after[u * 12 + i], before[u * 12 + i]);
    else
      EXPECT_NEAR(n1, 3.5, 1e-6);
  }
  // dim = 1 (columns) on a float64 matrix, and dim = -1 on a transposed view of a float32 one: the same columns.
  const Tensor m = (randn({5, 4}, gen, TensorOptions{DType::Float64}) * 3.0).detach();
  const Tensor base = raw::to_dtype(m, DType::Float32);
  const Tensor viewed = raw::clone(raw::transpose(base, 0, 1));  // [4, 5], rows = m's columns
  nn::max_norm_(m, 2.0, 1);
  nn::max_norm_(raw::transpose(viewed, 0, 1), 2.0, -1);
  EXPECT_TRUE(tensors_close(raw::transpose(viewed, 0, 1), raw::to_dtype(m, DType::Float32), 1e-6, 1e-6));
  const std::vector<float> cols = raw::to_dtype(m, DType::Float32).to_vector();
  for (std::size_t c = 0; c < 4; ++c) EXPECT_LE(norm_of(cols, c, 5, 4), 2.0 + 1e-6);
  // A float64 weight, rows along dim 0: rows within c keep their values, others reach c.
  const Tensor d = from_vector(Values{0.5f, 0.5f, 6, 8}, {2, 2});
  const Tensor d64 = raw::to_dtype(d, DType::Float64);
  nn::max_norm_(d64, 2.0);
  EXPECT_EQ(d64.dtype(), DType::Float64);
  EXPECT_EQ(d64.to_vector(), (std::vector<float>{0.5f, 0.5f, 1.2f, 1.6f}));
  // The list form.
  const Tensor a = full({2, 2}, 10.0f), b = full({3, 1}, 10.0f);
  nn::max_norm_(std::vector<Tensor>{a, b}, 4.0);
  EXPECT_NEAR(norm_of(a.to_vector(), 0, 2), 4.0, 1e-6);
  EXPECT_NEAR(b.to_vector()[2], 4.0, 1e-6);
}

TEST(RegularizerErrors, BadArguments) {
  EXPECT_THROW((void)nn::l1_penalty({zeros({2})}, -1.0), Error);
  EXPECT_THROW((void)nn::elastic_net({zeros({2})}, 0.1, -0.1), Error);
  EXPECT_THROW((void)nn::l2_penalty({zeros({2}, TensorOptions{DType::Int64})}, 0.1), DTypeError);
  EXPECT_THROW(nn::max_norm_(zeros({2, 2}), 0.0), Error);
  EXPECT_THROW(nn::max_norm_(scalar_tensor(1.0f), 1.0), ShapeError);
  try {
    nn::max_norm_(zeros({2, 3}), 1.0, 2);
    FAIL() << "expected IndexError";
  } catch (const IndexError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("max_norm_"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[2, 3]"), std::string::npos) << msg;
  }
}

}  // namespace
}  // namespace vigil::testing
