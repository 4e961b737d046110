// LayerNorm: PyTorch goldens (affine or not, over 1, 2 and 3 trailing dims, odd sizes, a transposed input),
// the fused kernels against their naive twins, numerical stability at a large offset, gradcheck, the layer's
// parameters and the shape errors.
#include "support/golden.hpp"
#include "tensor/expect_error.hpp"

#include <vigil/kernels/layer_norm.hpp>
#include <vigil/nn/nn.hpp>

#include <cmath>
#include <vector>

namespace vigil::testing {
namespace {

Shape shape_of(const nlohmann::json& dims) { return Shape(std::vector<std::int64_t>(dims.begin(), dims.end())); }

TEST(LayerNorm, MatchesPyTorch) {
  int checked = 0;
  for (const auto& c : load_golden("layers")) {
    if (c.params.at("layer") != "layer_norm") continue;
    ++checked;
    check_golden_case(c, [](const std::vector<Tensor>& x, const nlohmann::json& p) {
      const Shape shape = shape_of(p.at("normalized_shape"));
      const double eps = p.value("eps", 1e-5);
      if (!p.at("affine").get<bool>()) return nn::layer_norm(x[0], shape, Tensor(), Tensor(), eps);
      return nn::layer_norm(x[0], shape, x[1], x[2], eps);
    }, 1e-4, 1e-5);
  }
  EXPECT_EQ(checked, 8);
}

// The layer with torch's initial parameters (ones, zeros) equals the plain function.
TEST(LayerNorm, LayerHasTorchsParameters) {
  nn::LayerNorm layer(Shape{3, 4});
  std::vector<std::string> paths;
  for (const auto& [path, parameter] : layer.named_parameters()) paths.push_back(path);
  EXPECT_EQ(paths, (std::vector<std::string>{"weight", "bias"}));
  EXPECT_EQ(layer.weight().shape(), (Shape{3, 4}));
  EXPECT_EQ(layer.weight().to_vector(), std::vector<float>(12, 1.0f));
  EXPECT_EQ(layer.bias().to_vector(), std::vector<float>(12, 0.0f));
  EXPECT_EQ(layer.eps(), 1e-5);
  Generator gen(0);
  const Tensor x = randn({2, 3, 4}, gen);
  EXPECT_TRUE(tensors_close(layer(x), nn::layer_norm(x, Shape{3, 4}), 0, 1e-7));
  backward(sum(layer(x) * x));
  EXPECT_TRUE(layer.weight().grad().defined());
  EXPECT_TRUE(layer.bias().grad().defined());
  nn::LayerNorm plain(Shape{4}, 1e-3, false);
  EXPECT_TRUE(plain.parameters().empty());
  EXPECT_FALSE(plain.weight().defined());
  EXPECT_TRUE(tensors_close(plain(x), nn::layer_norm(x, Shape{4}, Tensor(), Tensor(), 1e-3), 0, 0));
}

TEST(LayerNorm, EachRowHasZeroMeanAndUnitVariance) {
  Generator gen(1);
  const Tensor y = nn::layer_norm(randn({5, 33}, gen) * 4.0 + 2.0, Shape{33}, Tensor(), Tensor(), 0.0);
  const auto v = y.to_vector();
  for (int i = 0; i < 5; ++i) {
    double sum = 0, sq = 0;
    for (int j = 0; j < 33; ++j) sum += v[i * 33 + j];
    for (int j = 0; j < 33; ++j) sq += std::pow(v[i * 33 + j] - sum / 33, 2);
    EXPECT_NEAR(sum / 33, 0.0, 1e-6);
    EXPECT_NEAR(sq / 33, 1.0, 1e-5);
  }
}

// Fast kernels vs the naive twins (explicit-Jacobian backward), on float32 and float64, with and without
// parameters, on a transposed input, and on rows large enough to take the parallel path.
TEST(LayerNormKernels, MatchTheirReferences) {
  Generator gen(2);
  struct Case {
    Shape shape;
    std::int64_t n;
    bool affine;
    bool transposed;
  };
  const std::vector<Case> cases{{{4, 7}, 7, true, false},    {{3, 5, 3}, 15, false, false},
                                {{6, 6}, 6, true, true},     {{2, 3, 1}, 1, true, false},
                                {{160, 257}, 257, true, false}};
  for (DType dtype : {DType::Float32, DType::Float64}) {
    for (const Case& c : cases) {
      SCOPED_TRACE(c.shape.str());
      Tensor x = to_dtype(randn(c.shape, gen) * 3.0 + 1.0, dtype);
      if (c.transposed) x = raw::transpose(raw::contiguous(raw::transpose(x, -1, -2)), -1, -2);
      const Tensor w = c.affine ? to_dtype(rand({c.n}, gen) + 0.5, dtype) : Tensor();
      const Tensor b = c.affine ? to_dtype(randn({c.n}, gen), dtype) : Tensor();
      const Tensor dy = to_dtype(randn(c.shape, gen), dtype);
      const auto fast = kernels::layer_norm_forward(x, c.n, w, b, 1e-5);
      const auto ref = kernels::layer_norm_forward_reference(x, c.n, w, b, 1e-5);
      const double tol = dtype == DType::Float32 ? 1e-5 : 1e-12;
      EXPECT_TRUE(tensors_close(fast.y, ref.y, tol, tol));
      EXPECT_TRUE(tensors_close(fast.mean, ref.mean, 1e-12, 1e-12));
      EXPECT_TRUE(tensors_close(fast.rstd, ref.rstd, 1e-12, 1e-12));
      const auto gf = kernels::layer_norm_backward(dy, x, fast.mean, fast.rstd, w, c.n, true, true);
      const auto gr = kernels::layer_norm_backward_reference(dy, x, ref.mean, ref.rstd, w, c.n, true, true);
      EXPECT_TRUE(tensors_close(gf.dx, gr.dx, tol * 10, tol * 10));
      EXPECT_TRUE(tensors_close(gf.dweight, gr.dweight, tol * 10, tol * 10));
      EXPECT_TRUE(tensors_close(gf.dbias, gr.dbias, tol * 10, tol * 10));
    }
  }
}

// Rows with |mean| >> std: a one-pass E[x^2] - E[x]^2 in float32 would lose every digit of the variance.
TEST(LayerNormKernels, StableAtALargeOffset) {
  Generator gen(3);
  const Tensor x = randn({4, 64}, gen) * 0.01 + 1000.0;
  const Tensor y = nn::layer_norm(x, Shape{64}, Tensor(), Tensor(), 0.0);
  const Tensor y64 = kernels::layer_norm_forward_reference(x, 64, Tensor(), Tensor(), 0.0).y;
  EXPECT_TRUE(tensors_close(y, y64, 1e-5, 1e-5));
  double sq = 0;
  for (float v : y.to_vector()) sq += double(v) * v;
  EXPECT_NEAR(sq / 256, 1.0, 1e-5);
}

TEST(LayerNorm, Gradcheck) {
  Generator gen(4);
  auto input = [&](Shape s) { return randn(s, gen, TensorOptions{DType::Float32, true}); };
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return nn::layer_norm(x[0], Shape{5}, x[1], x[2]); },
                               {input({3, 5}), input({5}), input({5})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return nn::layer_norm(x[0], Shape{3, 4}, x[1], x[2], 1e-3); },
                               {input({2, 3, 4}), input({3, 4}), input({3, 4})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return nn::layer_norm(x[0], Shape{7}); }, {input({2, 7})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return nn::layer_norm(x[0], Shape{4}, x[1]); },
                               {input({3, 4}), input({4})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return nn::layer_norm(x[0], Shape{4}, Tensor(), x[1]); },
                               {input({3, 4}), input({4})}));
  // A transposed input.
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return nn::layer_norm(transpose(x[0], 0, 1), Shape{3}, x[1], x[2]); },
                               {input({3, 4}), input({3}), input({3})}));
}

TEST(LayerNorm, WrongShapesShowBothShapes) {
  EXPECT_TRUE(throws_with<ShapeError>([] { nn::layer_norm(zeros({2, 3, 4}), Shape{3}); },
                                      {"layer_norm", "[2, 3, 4]", "[3]"}));
  EXPECT_TRUE(throws_with<ShapeError>([] { nn::layer_norm(zeros({4}), Shape{2, 4}); }, {"[4]", "[2, 4]"}));
  EXPECT_TRUE(throws_with<ShapeError>([] { nn::layer_norm(zeros({2, 4}), Shape{4}, ones({3})); },
                                      {"weight", "[3]", "[4]"}));
  EXPECT_TRUE(throws_with<ShapeError>([] { nn::layer_norm(zeros({2, 4}), Shape{4}, ones({4}), zeros({2, 4})); },
                                      {"bias", "[2, 4]", "[4]"}));
  EXPECT_TRUE(throws_with<DTypeError>(
      [] { nn::layer_norm(zeros({2, 4}), Shape{4}, ones({4}, TensorOptions{DType::Float64})); }, {"weight", "float64"}));
  EXPECT_TRUE(throws_with<ShapeError>([] { nn::LayerNorm(Shape{}); }, {"LayerNorm", "[]"}));
  nn::LayerNorm layer(Shape{5});
  EXPECT_TRUE(throws_with<ShapeError>([&] { layer(zeros({5, 4})); }, {"[5, 4]", "[5]"}));
}

}  // namespace
}  // namespace vigil::testing
