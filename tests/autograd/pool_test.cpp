// Pooling ops against PyTorch goldens (padding, odd sizes, stride != kernel, ties, non-divisible adaptive sizes,
// spatial pyramid pooling, a transposed input), gradcheck of each, and the shape errors.
#include "support/golden.hpp"
#include "tensor/expect_error.hpp"

#include <vector>

namespace vigil::testing {
namespace {

Size2 size2(const nlohmann::json& j) { return {j.at(0).get<std::int64_t>(), j.at(1).get<std::int64_t>()}; }

Tensor apply_pool(const std::vector<Tensor>& x, const nlohmann::json& p) {
  const std::string op = p.at("op");
  if (op == "max_pool2d") return max_pool2d(x[0], size2(p.at("kernel")), size2(p.at("stride")), size2(p.at("padding")));
  if (op == "avg_pool2d") {
    return avg_pool2d(x[0], size2(p.at("kernel")), size2(p.at("stride")), size2(p.at("padding")),
                      p.at("count_include_pad").get<bool>());
  }
  if (op == "adaptive_avg_pool2d") return adaptive_avg_pool2d(x[0], size2(p.at("output_size")));
  if (op == "adaptive_max_pool2d") return adaptive_max_pool2d(x[0], size2(p.at("output_size")));
  if (op == "spp") return spatial_pyramid_pool(x[0], p.at("levels").get<std::vector<std::int64_t>>());
  if (op == "global_avg") return global_avg_pool2d(x[0]);
  throw Error("unknown golden op " + op);
}

TEST(PoolGolden, MatchesPyTorch) {
  int checked = 0;
  for (const auto& c : load_golden("pool")) {
    const std::string op = c.params.at("op");
    if (op == "upsample" || op == "batch_norm") continue;
    ++checked;
    check_golden_case(c, apply_pool, 1e-5, 1e-6);
  }
  EXPECT_EQ(checked, 23);
}

TEST(PoolGradcheck, EveryOpPassesInFloat64) {
  Generator gen(1);
  auto input = [&](Shape s) { return randn(s, gen, TensorOptions{DType::Float32, true}); };
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return max_pool2d(x[0], {2, 2}); }, {input({2, 2, 4, 6})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return max_pool2d(x[0], {3, 3}, {2, 1}, {1, 1}); },
                               {input({1, 2, 7, 5})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return avg_pool2d(x[0], {3, 2}, {2, 1}, {1, 1}); },
                               {input({2, 2, 5, 5})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return avg_pool2d(x[0], {3, 3}, {2, 2}, {1, 1}, false); },
                               {input({1, 2, 6, 7})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return adaptive_avg_pool2d(x[0], {3, 2}); }, {input({2, 2, 7, 5})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return adaptive_max_pool2d(x[0], {3, 4}); }, {input({1, 3, 5, 7})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return spatial_pyramid_pool(x[0], {1, 2, 4}); },
                               {input({2, 2, 9, 7})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return global_avg_pool2d(x[0]); }, {input({2, 3, 4, 5})}));
}

// Ties route the whole gradient to the first maximum of each window, as PyTorch.
TEST(PoolBackward, MaxTiesGoToTheFirstMaximum) {
  const Tensor x = ones({1, 1, 2, 2}).set_requires_grad(true);
  backward(sum(max_pool2d(x, {2, 2})));
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{1, 0, 0, 0}));
}

TEST(PoolShapes, SpatialPyramidGivesAFixedLengthForAnyInputSize) {
  for (Shape s : {Shape{2, 3, 4, 4}, Shape{2, 3, 9, 13}, Shape{2, 3, 31, 17}}) {
    EXPECT_EQ(spatial_pyramid_pool(zeros(s), {1, 2, 4}).shape(), (Shape{2, 3 * 21}));
  }
  EXPECT_EQ(global_avg_pool2d(zeros({2, 3, 4, 5}), true).shape(), (Shape{2, 3, 1, 1}));
  EXPECT_EQ(max_pool2d(zeros({1, 1, 7, 7}), {2, 2}).shape(), (Shape{1, 1, 3, 3}));  // stride defaults to kernel
}

TEST(PoolErrors, NameTheOpAndTheShapes) {
  EXPECT_TRUE(throws_with<ShapeError>([] { (void)max_pool2d(zeros({1, 1, 2, 2}), {3, 3}); },
                                      {"max_pool2d", "larger than the padded input", "[1, 1, 2, 2]"}));
  EXPECT_TRUE(throws_with<ShapeError>([] { (void)avg_pool2d(zeros({1, 2, 2}), {2, 2}); },
                                      {"avg_pool2d", "4-D", "[1, 2, 2]"}));
  EXPECT_TRUE(throws_with<ShapeError>([] { (void)max_pool2d(zeros({1, 1, 8, 8}), {2, 2}, {0, 0}, {2, 2}); },
                                      {"max_pool2d", "padding"}));
  EXPECT_TRUE(throws_with<ShapeError>([] { (void)adaptive_avg_pool2d(zeros({2, 3}), {1, 1}); },
                                      {"adaptive_avg_pool2d", "[2, 3]"}));
  EXPECT_TRUE(throws_with<ShapeError>([] { (void)adaptive_max_pool2d(zeros({1, 1, 4, 4}), {0, 2}); },
                                      {"adaptive_max_pool2d", "output size"}));
  EXPECT_TRUE(throws_with<ShapeError>([] { (void)spatial_pyramid_pool(zeros({1, 1, 4, 4}), {}); },
                                      {"spatial_pyramid_pool"}));
  EXPECT_TRUE(throws_with<DTypeError>([] { (void)max_pool2d(zeros({1, 1, 4, 4}, {DType::Int64}), {2, 2}); },
                                      {"max_pool2d", "int64"}));
}

}  // namespace
}  // namespace vigil::testing
