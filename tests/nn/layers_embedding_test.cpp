// Embedding: PyTorch goldens (repeated indices, padding_idx, any index shape), the layer's initialisation, the
// padding row's zero gradient, gradcheck of the weight, and the errors.
#include "support/golden.hpp"
#include "tensor/expect_error.hpp"

#include <vigil/nn/nn.hpp>

#include <cmath>
#include <optional>
#include <vector>

namespace vigil::testing {
namespace {

Tensor ids(std::vector<std::int64_t> values, Shape shape) { return from_vector_i64(values, shape); }

TEST(Embedding, MatchesPyTorch) {
  int checked = 0;
  for (const auto& c : load_golden("layers")) {
    if (c.params.at("layer") != "embedding") continue;
    ++checked;
    check_golden_case(c, [](const std::vector<Tensor>& x, const nlohmann::json& p) {
      const std::optional<std::int64_t> padding =
          p.contains("padding_idx") ? std::optional<std::int64_t>(p.at("padding_idx").get<std::int64_t>()) : std::nullopt;
      return nn::embedding(x[0], x[1], padding);
    });
  }
  EXPECT_EQ(checked, 5);
}

TEST(Embedding, LooksUpRowsForAnyIndexShape) {
  const Tensor weight = raw::reshape(arange(0, 12), {4, 3});
  const Tensor out = nn::embedding(weight, ids({3, 0, 3, 1, 2, 2}, {2, 1, 3}));
  EXPECT_EQ(out.shape(), (Shape{2, 1, 3, 3}));
  EXPECT_EQ(out.to_vector(), (std::vector<float>{9, 10, 11, 0, 1, 2, 9, 10, 11, 3, 4, 5, 6, 7, 8, 6, 7, 8}));
  EXPECT_EQ(nn::embedding(weight, ids({2}, {})).shape(), (Shape{3}));
  EXPECT_EQ(nn::embedding(weight, ids({}, {0})).shape(), (Shape{0, 3}));
  // A transposed weight reads through its strides.
  const Tensor wt = raw::transpose(raw::reshape(arange(0, 12), {3, 4}), 0, 1);
  EXPECT_EQ(nn::embedding(wt, ids({1}, {1})).to_vector(), (std::vector<float>{1, 5, 9}));
}

TEST(Embedding, LayerInitialisesNormalWithAZeroPaddingRow) {
  Generator gen(0);
  nn::Embedding layer(2000, 16, gen, 3);
  EXPECT_EQ(layer.weight().shape(), (Shape{2000, 16}));
  EXPECT_EQ(layer.padding_idx(), 3);
  ASSERT_EQ(layer.named_parameters().size(), 1u);
  EXPECT_EQ(layer.named_parameters()[0].first, "weight");
  const auto w = layer.weight().to_vector();
  double sum = 0, sq = 0;
  for (float v : w) {
    sum += v;
    sq += double(v) * v;
  }
  const double n = static_cast<double>(w.size()), mean = sum / n;
  EXPECT_NEAR(mean, 0.0, 5.0 / std::sqrt(n));
  EXPECT_NEAR(sq / n - mean * mean, 1.0, 5.0 * std::sqrt(2.0 / n));
  for (int j = 0; j < 16; ++j) EXPECT_EQ(w[3 * 16 + j], 0.0f);
  EXPECT_EQ(nn::Embedding(5, 2, gen, -1).padding_idx(), 4);
  EXPECT_FALSE(nn::Embedding(5, 2, gen).padding_idx().has_value());
}

TEST(Embedding, PaddingRowGetsNoGradientAndRepeatsAccumulate) {
  Generator gen(1);
  nn::Embedding layer(5, 2, gen, 0);
  const Tensor y = layer(ids({0, 2, 2, 0, 4, 2}, {2, 3}));
  EXPECT_EQ(y.shape(), (Shape{2, 3, 2}));
  backward(sum(y));
  EXPECT_EQ(layer.weight().grad().to_vector(), (std::vector<float>{0, 0, 0, 0, 3, 3, 0, 0, 1, 1}));
  // The padding row embeds to zeros.
  EXPECT_EQ(layer(ids({0}, {1})).to_vector(), (std::vector<float>{0, 0}));
}

TEST(Embedding, GradcheckOfTheWeight) {
  Generator gen(2);
  const Tensor weight = randn({6, 3}, gen, TensorOptions{DType::Float32, true});
  const Tensor index = ids({1, 5, 1, 0, 2, 1, 5, 3}, {2, 4});
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return nn::embedding(x[0], x[1]); }, {weight, index}));
  // With a padding row the check would fail by design: that row feeds the output but gets no gradient (torch's
  // rule, so padding vectors stay fixed); PaddingRowGetsNoGradientAndRepeatsAccumulate covers it.
}

TEST(Embedding, IndexOutsideTheTableNamesIndexPositionAndCount) {
  const Tensor weight = zeros({5, 2});
  EXPECT_TRUE(throws_with<IndexError>([&] { nn::embedding(weight, ids({0, 1, 2, 3, 7, 1}, {2, 3})); },
                                      {"embedding", "index 7", "position [1, 1]", "[0, 5)"}));
  EXPECT_TRUE(throws_with<IndexError>([&] { nn::embedding(weight, ids({-1}, {1})); }, {"index -1", "[0]", "[0, 5)"}));
}

TEST(Embedding, WrongShapesAndDtypesThrow) {
  EXPECT_TRUE(throws_with<ShapeError>([] { nn::embedding(zeros({5}), ids({0}, {1})); }, {"embedding", "[5]", "[1]"}));
  EXPECT_TRUE(throws_with<DTypeError>([] { nn::embedding(zeros({5, 2}), zeros({3})); }, {"embedding", "int64", "float32"}));
  EXPECT_TRUE(throws_with<Error>([] { nn::embedding(zeros({5, 2}), ids({0}, {1}), 5); }, {"padding_idx 5", "[-5, 5)"}));
  Generator gen(3);
  EXPECT_TRUE(throws_with<Error>([&] { nn::Embedding(5, 2, gen, -6); }, {"Embedding", "padding_idx -6"}));
  EXPECT_THROW(nn::Embedding(0, 2, gen), ShapeError);
}

}  // namespace
}  // namespace vigil::testing
