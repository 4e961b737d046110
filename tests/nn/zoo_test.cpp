// The model zoo: output shapes for 1- and 3-channel inputs at 28x28 and 32x32, parameter and buffer lists against
// PyTorch mirrors (tools/zoo/zoo_params.py; the full-size ResNet-18 and MobileNet also against their published
// counts, which the mirrors reproduce), summaries, train()/eval() reaching every batch norm, the U-Net's per-pixel
// loss and gradients, and constructor errors. Training steps with Adam are in tests/optim/zoo_training_test.cpp
// (the nn tests do not link the optimisers).
#include "nn/zoo_params.hpp"
#include "support/golden.hpp"
#include "tensor/expect_error.hpp"

#include <vigil/nn/nn.hpp>

#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace vigil::testing {
namespace {

using ModelFactory = std::function<std::shared_ptr<nn::Module>(std::int64_t in_channels, Generator& gen)>;

// Small widths keep the forward passes cheap; the architecture (depth, strides, names) is the full one.
const std::vector<std::pair<std::string, ModelFactory>>& classifiers() {
  static const std::vector<std::pair<std::string, ModelFactory>> models{
      {"SmallVGG", [](std::int64_t c, Generator& g) {
         return std::make_shared<nn::SmallVGG>(c, 10, g, nn::SmallVGGOptions{.width = 4});
       }},
      {"ResNet18", [](std::int64_t c, Generator& g) {
         return std::make_shared<nn::ResNet18>(c, 10, g, nn::ResNetOptions{.width = 4});
       }},
      {"MobileNet", [](std::int64_t c, Generator& g) {
         return std::make_shared<nn::MobileNet>(c, 10, g, nn::MobileNetOptions{.width_multiplier = 0.125});
       }},
  };
  return models;
}

std::vector<const nn::BatchNorm*> batch_norms(const nn::Module& m) {
  std::vector<const nn::BatchNorm*> out;
  for (const auto& [path, module] : m.named_modules()) {
    if (const auto* bn = dynamic_cast<const nn::BatchNorm*>(module)) out.push_back(bn);
  }
  return out;
}

TEST(Zoo, ClassifierShapesForOneAndThreeChannels) {
  Generator gen(0);
  for (const auto& [name, make] : classifiers()) {
    for (std::int64_t channels : {1, 3}) {
      for (std::int64_t size : {28, 32}) {
        SCOPED_TRACE(name + " " + std::to_string(channels) + "ch " + std::to_string(size));
        auto model = make(channels, gen);
        EXPECT_EQ((*model)(randn({2, channels, size, size}, gen)).shape(), (Shape{2, 10}));
      }
    }
  }
}

TEST(Zoo, LeNet5ShapesAtItsImageSize) {
  Generator gen(1);
  for (std::int64_t channels : {1, 3}) {
    for (std::int64_t size : {28, 32}) {
      nn::LeNet5 model(channels, 10, gen, size);
      EXPECT_EQ(model(randn({2, channels, size, size}, gen)).shape(), (Shape{2, 10}));
    }
  }
  // The 28x28 variant pads C1 by 2; an image of the other size does not fit C5.
  nn::LeNet5 mnist(1, 10, gen, 28);
  EXPECT_THROW(mnist(randn({2, 1, 32, 32}, gen)), ShapeError);
  EXPECT_EQ(mnist.extra_repr(), "1 -> 10, 28x28");
}

TEST(Zoo, UNetKeepsHeightAndWidth) {
  Generator gen(2);
  for (std::int64_t channels : {1, 3}) {
    for (std::int64_t size : {28, 32}) {
      nn::UNet model(channels, 4, gen, {.width = 4, .depth = 2});
      EXPECT_EQ(model(randn({2, channels, size, size}, gen)).shape(), (Shape{2, 4, size, size}));
    }
  }
  // Odd extents on the way down (28 -> 14 -> 7 -> 3, 30 -> 15 -> 7 -> 3): the upsampled maps are padded to the
  // skips' sizes.
  nn::UNet deep(1, 2, gen, {.width = 2, .depth = 3});
  EXPECT_EQ(deep(randn({1, 1, 28, 30}, gen)).shape(), (Shape{1, 2, 28, 30}));
  EXPECT_THROW(deep(randn({1, 1, 4, 30}, gen)), ShapeError);
}

TEST(Zoo, ParametersMatchPyTorch) {
  Generator gen(3);
  expect_matches_torch(nn::LeNet5(1, 10, gen, 28), "lenet5_1ch_10_28");
  expect_matches_torch(nn::LeNet5(3, 10, gen, 32), "lenet5_3ch_10_32");
  expect_matches_torch(nn::SmallVGG(1, 10, gen), "small_vgg_1ch_10_w32");
  expect_matches_torch(nn::SmallVGG(3, 10, gen), "small_vgg_3ch_10_w32");
  expect_matches_torch(nn::ResNet18(1, 10, gen), "resnet18_1ch_10_w64_small");
  expect_matches_torch(nn::ResNet18(3, 10, gen), "resnet18_3ch_10_w64_small");
  expect_matches_torch(nn::ResNet18(3, 1000, gen, {.small_input_stem = false}), "resnet18_3ch_1000_w64_imagenet");
  expect_matches_torch(nn::MobileNet(1, 10, gen, {.width_multiplier = 0.25}), "mobilenet_1ch_10_x0.25_small");
  expect_matches_torch(nn::MobileNet(3, 1000, gen, {.small_input_stem = false}), "mobilenet_3ch_1000_x1_imagenet");
  expect_matches_torch(nn::UNet(1, 2, gen), "unet_1ch_2_w16_d2");
  expect_matches_torch(nn::UNet(3, 5, gen, {.width = 8, .depth = 3}), "unet_3ch_5_w8_d3");
}

// The published counts, which the PyTorch mirrors reproduce: LeNet-5 on MNIST 61,706; torchvision's resnet18
// 11,689,512; MobileNet v1 (alpha 1, 1000 classes) 4,231,976 trainable parameters (Keras' count).
TEST(Zoo, PublishedParameterCounts) {
  Generator gen(4);
  EXPECT_EQ(parameter_count(nn::LeNet5(1, 10, gen, 28)), 61706);
  EXPECT_EQ(parameter_count(nn::ResNet18(3, 1000, gen, {.small_input_stem = false})), 11689512);
  EXPECT_EQ(parameter_count(nn::MobileNet(3, 1000, gen, {.small_input_stem = false})), 4231976);
}

// The reference CNN: torch_reference.py's layer list (paths "0.weight" .. "12.bias" as in a torch.nn.Sequential),
// its parameter count (conv 288 + BN 64 + conv 18,432 + BN 128 + Linear 401,536 + Linear 1,290 = 421,738), the
// flattened size following the image size, and its errors.
TEST(Zoo, ReferenceCnnIsTheBenchmarkNetwork) {
  Generator gen(9);
  const auto cnn = nn::reference_cnn(1, 28, 28, 10, gen);
  EXPECT_EQ(parameter_count(*cnn), 421738);
  std::vector<std::string> paths;
  for (const auto& [path, p] : cnn->named_parameters()) paths.push_back(path + " " + p.shape().str());
  EXPECT_EQ(paths, (std::vector<std::string>{"0.weight [32, 1, 3, 3]", "1.weight [32]", "1.bias [32]",
                                             "4.weight [64, 32, 3, 3]", "5.weight [64]", "5.bias [64]",
                                             "9.weight [128, 3136]", "9.bias [128]", "12.weight [10, 128]",
                                             "12.bias [10]"}));
  EXPECT_EQ((*cnn)(randn({2, 1, 28, 28}, gen)).shape(), (Shape{2, 10}));
  const auto rgb = nn::reference_cnn(3, 32, 20, 7, gen, 0.5);
  EXPECT_EQ((*rgb)(randn({2, 3, 32, 20}, gen)).shape(), (Shape{2, 7}));
  EXPECT_TRUE(throws_with<Error>([&] { nn::reference_cnn(1, 3, 28, 10, gen); }, {"reference_cnn", "4x4", "3x28"}));
  EXPECT_TRUE(throws_with<Error>([&] { nn::reference_cnn(1, 28, 28, 10, gen, 1.0); }, {"reference_cnn", "dropout"}));
  EXPECT_TRUE(throws_with<Error>([&] { nn::reference_cnn(1, 28, 28, 0, gen); }, {"reference_cnn", "num_classes"}));
}

TEST(Zoo, ImageNetStemsReduceTheResolution) {
  Generator gen(5);
  nn::ResNet18 resnet(3, 10, gen, {.width = 4, .small_input_stem = false});
  EXPECT_EQ(resnet(randn({1, 3, 64, 64}, gen)).shape(), (Shape{1, 10}));
  nn::MobileNet mobilenet(3, 10, gen, {.width_multiplier = 0.125, .small_input_stem = false});
  EXPECT_EQ(mobilenet(randn({1, 3, 64, 64}, gen)).shape(), (Shape{1, 10}));
}

TEST(Zoo, SummaryOfEveryModel) {
  Generator gen(6);
  std::vector<std::pair<std::shared_ptr<nn::Module>, Shape>> models{
      {std::make_shared<nn::LeNet5>(1, 10, gen, 28), Shape{1, 1, 28, 28}},
      {std::make_shared<nn::UNet>(3, 2, gen, nn::UNetOptions{.width = 4}), Shape{1, 3, 32, 32}}};
  for (const auto& [name, make] : classifiers()) models.emplace_back(make(3, gen), Shape{1, 3, 32, 32});
  for (const auto& [model, input_shape] : models) {
    SCOPED_TRACE(model->type_name());
    const nn::Summary summary = nn::summarize(*model, randn(input_shape, gen));
    ASSERT_FALSE(summary.rows.empty());
    EXPECT_EQ(summary.rows.front().path, "");
    EXPECT_EQ(summary.rows.front().type, model->type_name());
    EXPECT_EQ(summary.total_params, parameter_count(*model));
    EXPECT_EQ(summary.trainable_params, summary.total_params);
    EXPECT_NE(summary.str().find(model->type_name()), std::string::npos);
    EXPECT_TRUE(model->training());  // summarize restores the mode
  }
}

// The ResNet's rows show the blocks by their paths, with their descriptions.
TEST(Zoo, ResNetSummaryNamesTheBlocks) {
  Generator gen(7);
  nn::ResNet18 model(1, 10, gen, {.width = 4});
  const std::string table = nn::summarize(model, randn({1, 1, 28, 28}, gen)).str();
  for (const char* part : {"layer2.0.shortcut", "BasicResidualBlock(4 -> 8, stride 2, projection)", "fc", "[1, 32, 4, 4]"}) {
    EXPECT_NE(table.find(part), std::string::npos) << part << "\n" << table;
  }
}

TEST(Zoo, ModeReachesEveryBatchNorm) {
  Generator gen(8);
  std::vector<std::shared_ptr<nn::Module>> models{std::make_shared<nn::UNet>(1, 2, gen, nn::UNetOptions{.width = 4})};
  for (const auto& [name, make] : classifiers()) models.push_back(make(1, gen));
  for (const auto& model : models) {
    SCOPED_TRACE(model->type_name());
    const auto norms = batch_norms(*model);
    ASSERT_FALSE(norms.empty());
    const Tensor x = randn({2, 1, 28, 28}, gen);
    (*model)(x);
    for (const auto* bn : norms) EXPECT_EQ(bn->num_batches_tracked(), 1);
    model->eval();
    for (const auto* bn : norms) EXPECT_FALSE(bn->training());
    const Tensor y1 = (*model)(x), y2 = (*model)(x);
    EXPECT_TRUE(tensors_close(y1, y2, 0, 0));  // running statistics, no dropout: deterministic
    for (const auto* bn : norms) EXPECT_EQ(bn->num_batches_tracked(), 1);
    model->train();
    for (const auto* bn : norms) EXPECT_TRUE(bn->training());
  }
}

// Per-pixel cross-entropy over the U-Net's logits [N, K, H, W] with targets [N, H, W]: at initialisation the
// loss is near log K (the logits are small), and the backward pass reaches every parameter.
TEST(Zoo, UNetPerPixelCrossEntropy) {
  Generator gen(9);
  nn::UNet model(1, 3, gen, {.width = 4, .depth = 2});
  const Tensor x = randn({2, 1, 28, 28}, gen);
  const Tensor targets = randint(0, 3, {2, 28, 28}, gen);
  const Tensor logits = model(x);
  const Tensor loss = nn::cross_entropy(logits, targets);
  EXPECT_EQ(loss.dim(), 0);
  EXPECT_NEAR(loss.item(), std::log(3.0), 0.5);
  // The mean over pixels equals the mean of the unreduced per-pixel losses [N, H, W].
  nn::CrossEntropyOptions unreduced;
  unreduced.reduction = nn::Reduction::None;
  const Tensor per_pixel = nn::cross_entropy(logits, targets, unreduced);
  EXPECT_EQ(per_pixel.shape(), (Shape{2, 28, 28}));
  EXPECT_NEAR(mean(per_pixel).item(), loss.item(), 1e-5);
  backward(loss);
  for (const auto& [path, p] : model.named_parameters()) {
    SCOPED_TRACE(path);
    ASSERT_TRUE(p.grad().defined());
    EXPECT_EQ(p.grad().shape(), p.shape());
  }
}

TEST(Zoo, ConstructorErrorsNameTheModel) {
  Generator gen(10);
  EXPECT_TRUE(throws_with<Error>([&] { nn::LeNet5(1, 10, gen, 64); }, {"LeNet5", "28 or 32", "64"}));
  EXPECT_TRUE(throws_with<Error>([&] { nn::LeNet5(0, 10, gen); }, {"LeNet5", "in_channels"}));
  EXPECT_TRUE(throws_with<Error>([&] { nn::SmallVGG(1, 10, gen, {.width = 0}); }, {"SmallVGG", "width"}));
  EXPECT_TRUE(throws_with<Error>([&] { nn::ResNet18(3, 0, gen); }, {"ResNet18", "num_classes"}));
  EXPECT_TRUE(throws_with<Error>([&] { nn::MobileNet(3, 10, gen, {.width_multiplier = 0}); },
                                 {"MobileNet", "width_multiplier"}));
  EXPECT_TRUE(throws_with<Error>([&] { nn::UNet(1, 2, gen, {.depth = 0}); }, {"UNet", "depth"}));
}

}  // namespace
}  // namespace vigil::testing
