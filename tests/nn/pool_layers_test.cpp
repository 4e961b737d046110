// Pooling and upsampling layers: each equals its function, reports its configuration, and rejects a bad one.
#include "support/golden.hpp"
#include "tensor/expect_error.hpp"

#include <vigil/nn/nn.hpp>

namespace vigil::testing {
namespace {

TEST(PoolLayers, EqualTheirFunctionsAndHaveNoParameters) {
  Generator gen(0);
  const Tensor x = randn({2, 3, 9, 7}, gen);
  nn::MaxPool2d max(Size2{3, 3}, Size2{2, 2}, Size2{1, 1});
  nn::AvgPool2d avg(Size2{2, 2});
  nn::GlobalAvgPool2d global;
  nn::AdaptiveAvgPool2d adaptive_avg(Size2{3, 2});
  nn::AdaptiveMaxPool2d adaptive_max(Size2{4, 4});
  nn::SpatialPyramidPool spp({1, 2, 4});
  EXPECT_TRUE(tensors_close(max(x), max_pool2d(x, {3, 3}, {2, 2}, {1, 1}), 0, 0));
  EXPECT_TRUE(tensors_close(avg(x), avg_pool2d(x, {2, 2}), 0, 0));
  EXPECT_TRUE(tensors_close(global(x), mean(x, {2, 3}), 0, 0));
  EXPECT_TRUE(tensors_close(adaptive_avg(x), adaptive_avg_pool2d(x, {3, 2}), 0, 0));
  EXPECT_TRUE(tensors_close(adaptive_max(x), adaptive_max_pool2d(x, {4, 4}), 0, 0));
  EXPECT_EQ(spp(x).shape(), (Shape{2, 3 * spp.output_multiplier()}));
  EXPECT_EQ(spp.output_multiplier(), 21);
  for (nn::Module* m : std::initializer_list<nn::Module*>{&max, &avg, &global, &adaptive_avg, &adaptive_max, &spp}) {
    EXPECT_TRUE(m->parameters().empty());
    EXPECT_TRUE(m->buffers().empty());
  }
  nn::Upsample up(UpsampleOptions{UpsampleMode::Bilinear, {0, 0}, {2.0, 2.0}, true});
  EXPECT_TRUE(tensors_close(up(x), upsample_bilinear2d(x, {18, 14}, true), 1e-6, 1e-6));
}

TEST(PoolLayers, ReportTheirConfiguration) {
  EXPECT_EQ(nn::MaxPool2d(Size2{2, 2}).type_name(), "MaxPool2d");
  EXPECT_EQ(nn::MaxPool2d(Size2{2, 2}).extra_repr(), "kernel=2, stride=2, padding=0");
  EXPECT_EQ(nn::AvgPool2d(Size2{3, 2}, Size2{1, 1}, Size2{1, 0}, false).extra_repr(),
            "kernel=(3, 2), stride=1, padding=(1, 0), count_include_pad=false");
  EXPECT_EQ(nn::GlobalAvgPool2d().type_name(), "GlobalAvgPool2d");
  EXPECT_EQ(nn::AdaptiveAvgPool2d(Size2{1, 1}).extra_repr(), "output_size=1");
  EXPECT_EQ(nn::AdaptiveMaxPool2d(Size2{3, 2}).extra_repr(), "output_size=(3, 2)");
  EXPECT_EQ(nn::SpatialPyramidPool({1, 2, 4}).extra_repr(), "levels={1, 2, 4}");
  EXPECT_EQ(nn::Upsample(UpsampleOptions{UpsampleMode::Nearest, {8, 6}, {0.0, 0.0}, false}).extra_repr(),
            "size=(8, 6), mode=nearest");
  EXPECT_EQ(nn::Upsample(UpsampleOptions{UpsampleMode::Bilinear, {0, 0}, {2.0, 2.0}, false}).extra_repr(),
            "scale=(2, 2), mode=bilinear, align_corners=false");
}

TEST(PoolLayers, RejectABadConfiguration) {
  EXPECT_TRUE(throws_with<ShapeError>([] { nn::MaxPool2d(Size2{0, 2}); }, {"MaxPool2d", "kernel"}));
  EXPECT_TRUE(throws_with<ShapeError>([] { nn::AdaptiveAvgPool2d(Size2{2, -1}); }, {"AdaptiveAvgPool2d"}));
  EXPECT_TRUE(throws_with<ShapeError>([] { nn::SpatialPyramidPool({1, 0}); }, {"SpatialPyramidPool"}));
  EXPECT_TRUE(throws_with<ShapeError>([] { nn::Upsample(UpsampleOptions{}); }, {"Upsample", "neither"}));
  nn::MaxPool2d pool(Size2{5, 5});
  EXPECT_TRUE(throws_with<ShapeError>([&] { (void)pool(zeros({1, 1, 3, 3})); }, {"max_pool2d", "[1, 1, 3, 3]"}));
}

}  // namespace
}  // namespace vigil::testing
