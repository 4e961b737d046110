// Upsampling against PyTorch goldens (nearest and bilinear, align_corners both ways, by size and by scale,
// fractional scales, downsampling, a transposed input), gradcheck, and the errors.
#include "support/golden.hpp"
#include "tensor/expect_error.hpp"

namespace vigil::testing {
namespace {

Tensor apply_upsample(const std::vector<Tensor>& x, const nlohmann::json& p) {
  UpsampleOptions o;
  o.mode = p.at("mode") == "nearest" ? UpsampleMode::Nearest : UpsampleMode::Bilinear;
  o.size = {p.at("size").at(0).get<std::int64_t>(), p.at("size").at(1).get<std::int64_t>()};
  o.scale = {p.at("scale").at(0).get<double>(), p.at("scale").at(1).get<double>()};
  o.align_corners = p.at("align_corners").get<bool>();
  return upsample2d(x[0], o);
}

TEST(UpsampleGolden, MatchesPyTorch) {
  int checked = 0;
  for (const auto& c : load_golden("pool")) {
    if (c.params.at("op") != "upsample") continue;
    ++checked;
    check_golden_case(c, apply_upsample, 1e-5, 1e-6);
  }
  EXPECT_EQ(checked, 11);
}

TEST(UpsampleGradcheck, BothModesPassInFloat64) {
  Generator gen(1);
  auto input = [&](Shape s) { return randn(s, gen, TensorOptions{DType::Float32, true}); };
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return upsample_nearest2d(x[0], {7, 5}); }, {input({1, 2, 3, 4})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return upsample_bilinear2d(x[0], {7, 9}); }, {input({2, 1, 4, 5})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return upsample_bilinear2d(x[0], {5, 3}, true); },
                               {input({1, 2, 3, 4})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) {
    return upsample2d(x[0], {UpsampleMode::Bilinear, {0, 0}, {1.5, 2.5}, false});
  }, {input({1, 1, 4, 3})}));
}

TEST(UpsampleShapes, ScaleFactorsFloorTheOutputSize) {
  const Tensor y = upsample2d(zeros({1, 1, 5, 4}), {UpsampleMode::Nearest, {0, 0}, {1.5, 2.5}, false});
  EXPECT_EQ(y.shape(), (Shape{1, 1, 7, 10}));
}

TEST(UpsampleErrors, NameTheOpAndTheShapes) {
  EXPECT_TRUE(throws_with<ShapeError>([] { (void)upsample_nearest2d(zeros({1, 4, 4}), {8, 8}); },
                                      {"upsample_nearest2d", "[1, 4, 4]"}));
  EXPECT_TRUE(throws_with<ShapeError>([] {
    (void)upsample2d(zeros({1, 1, 4, 4}), {UpsampleMode::Bilinear, {8, 8}, {2.0, 2.0}, false});
  }, {"upsample_bilinear2d", "both"}));
  EXPECT_TRUE(throws_with<ShapeError>([] { (void)upsample_bilinear2d(zeros({1, 1, 4, 4}), {0, 3}); },
                                      {"upsample_bilinear2d", "[1, 1, 4, 4]"}));
  EXPECT_TRUE(throws_with<Error>([] {
    (void)upsample2d(zeros({1, 1, 4, 4}), {UpsampleMode::Nearest, {8, 8}, {0.0, 0.0}, true});
  }, {"align_corners"}));
}

}  // namespace
}  // namespace vigil::testing
