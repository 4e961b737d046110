// Convolutional blocks: output shapes, parameter and buffer lists against PyTorch mirrors (tools/zoo/zoo_params.py),
// He initialisation, descriptions, the batch norms following train()/eval(), constructor errors, and gradients.
//
// Gradients: a block's parameters are float32, while gradcheck works in float64. So each block has a functional
// twin below, built from the ops (conv2d, batch_norm, relu, max_pool2d, add, cat) and taking the input and the
// block's parameters in named_parameters() order. The tests check that the block equals its twin (forward values
// and every parameter's and the input's gradient, in float32), then gradcheck the twin in float64.
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

// Hands out a functional twin's parameters in named_parameters() order.
class ParamCursor {
 public:
  explicit ParamCursor(const std::vector<Tensor>& inputs) : inputs_(inputs) {}
  Tensor next() { return inputs_.at(next_++); }

 private:
  const std::vector<Tensor>& inputs_;
  std::size_t next_ = 1;  // inputs[0] is x
};

// Conv2d without bias, then training-mode batch norm (batch statistics; the running statistics do not affect
// the output or the gradient, so the twin leaves them out). Parameters: conv weight, bn weight, bn bias.
Tensor conv_bn_fn(const Tensor& x, ParamCursor& p, const Conv2dOptions& options) {
  const Tensor w = p.next(), gamma = p.next(), beta = p.next();
  return batch_norm(conv2d(x, w, Tensor(), options), Tensor(), Tensor(), gamma, beta, /*training=*/true);
}

Tensor conv_bn_relu_fn(const Tensor& x, ParamCursor& p, const Conv2dOptions& options) {
  return relu(conv_bn_fn(x, p, options));
}

// (x, parameters...) -> y.
using BlockFunction = std::function<Tensor(const std::vector<Tensor>&)>;

// The block equals its twin in float32: values, the input's gradient and every parameter's gradient for a random
// projection of the output; then the twin passes gradcheck in float64.
void check_block_gradients(nn::Module& block, const Shape& x_shape, const BlockFunction& twin, std::uint64_t seed) {
  Generator gen(seed);
  block.train();
  const Tensor x = randn(x_shape, gen).set_requires_grad(true);
  const Tensor y = block(x);
  const Tensor u = randn(y.shape(), gen);
  backward(sum(y * u));

  std::vector<Tensor> inputs{x.detach().set_requires_grad(true)};
  for (const Tensor& p : block.parameters()) inputs.push_back(p.detach().set_requires_grad(true));
  const Tensor y_twin = twin(inputs);
  EXPECT_TRUE(tensors_close(y, y_twin, 1e-4, 1e-5));
  backward(sum(y_twin * u));
  EXPECT_TRUE(tensors_close(x.grad(), inputs[0].grad(), 1e-3, 1e-4));
  const auto named = block.named_parameters();
  for (std::size_t i = 0; i < named.size(); ++i) {
    SCOPED_TRACE(named[i].first);
    EXPECT_TRUE(tensors_close(named[i].second.grad(), inputs[i + 1].grad(), 1e-3, 1e-4));
  }
  EXPECT_TRUE(passes_gradcheck(twin, inputs));
}

std::vector<std::string> child_names(const nn::Module& m) {
  std::vector<std::string> names;
  for (const auto& [name, child] : m.named_children()) names.push_back(name);
  return names;
}

// Every BatchNorm of the tree.
std::vector<const nn::BatchNorm*> batch_norms(const nn::Module& m) {
  std::vector<const nn::BatchNorm*> out;
  for (const auto& [path, module] : m.named_modules()) {
    if (const auto* bn = dynamic_cast<const nn::BatchNorm*>(module)) out.push_back(bn);
  }
  return out;
}

TEST(ConvBNReLU, ShapesNamesAndDescription) {
  Generator gen(0);
  nn::ConvBNReLU block(3, 8, 3, gen, {.stride = 2, .padding = 1});
  EXPECT_EQ(child_names(block), (std::vector<std::string>{"conv", "bn"}));
  EXPECT_FALSE(block.conv().bias().defined());
  EXPECT_EQ(block(randn({2, 3, 28, 28}, gen)).shape(), (Shape{2, 8, 14, 14}));
  EXPECT_EQ(block(randn({2, 3, 32, 32}, gen)).shape(), (Shape{2, 8, 16, 16}));
  EXPECT_EQ(block.type_name(), "ConvBNReLU");
  EXPECT_EQ(block.extra_repr(), "3 -> 8, kernel 3x3, stride 2, padding 1, no bias");
  EXPECT_GE(min(block(randn({2, 3, 8, 8}, gen))).item(), 0.0);  // ends in a ReLU
  expect_matches_torch(nn::ConvBNReLU(3, 8, 3, gen, {.padding = 1}), "conv_bn_relu_3_8_k3");
}

// He et al.: N(0, 2 / fan_in) for a convolution feeding a ReLU; fan_in = 64 * 3 * 3.
TEST(ConvBNReLU, HeInitialisation) {
  Generator gen(1);
  nn::ConvBNReLU block(64, 64, 3, gen, {.padding = 1});
  const std::vector<float> w = block.conv().weight().to_vector();
  double sum_sq = 0, total = 0;
  for (float v : w) {
    sum_sq += double(v) * v;
    total += v;
  }
  const double n = double(w.size());
  EXPECT_NEAR(total / n, 0.0, 0.005);
  EXPECT_NEAR(std::sqrt(sum_sq / n), std::sqrt(2.0 / 576.0), 0.03 * std::sqrt(2.0 / 576.0));
  EXPECT_EQ(block.bn().weight().to_vector(), std::vector<float>(64, 1.0f));
  EXPECT_EQ(block.bn().bias().to_vector(), std::vector<float>(64, 0.0f));
}

TEST(ConvBNReLU, Gradients) {
  Generator gen(2);
  nn::ConvBNReLU block(2, 3, 3, gen, {.stride = 2, .padding = 1});
  check_block_gradients(block, {2, 2, 5, 6}, [](const std::vector<Tensor>& in) {
    ParamCursor p(in);
    return conv_bn_relu_fn(in[0], p, {.stride = 2, .padding = 1});
  }, 20);
}

TEST(ConvBNReLU, DepthwiseGradients) {
  Generator gen(3);
  nn::ConvBNReLU block(3, 3, 3, gen, {.padding = 1, .groups = 3});
  check_block_gradients(block, {2, 3, 4, 5}, [](const std::vector<Tensor>& in) {
    ParamCursor p(in);
    return conv_bn_relu_fn(in[0], p, {.padding = 1, .groups = 3});
  }, 21);
}

TEST(VGGBlock, ShapesNamesAndDescription) {
  Generator gen(4);
  nn::VGGBlock block(3, 8, 2, gen);
  EXPECT_EQ(child_names(block), (std::vector<std::string>{"conv1", "conv2", "pool"}));
  EXPECT_EQ(block(randn({2, 3, 28, 28}, gen)).shape(), (Shape{2, 8, 14, 14}));
  EXPECT_EQ(block(randn({2, 3, 32, 32}, gen)).shape(), (Shape{2, 8, 16, 16}));
  EXPECT_EQ(block.extra_repr(), "3 -> 8, 2 convs, pool");
  nn::VGGBlock flat(1, 4, 1, gen, /*pool=*/false);
  EXPECT_EQ(flat(randn({2, 1, 7, 7}, gen)).shape(), (Shape{2, 4, 7, 7}));
  EXPECT_EQ(flat.extra_repr(), "1 -> 4, 1 conv");
  expect_matches_torch(block, "vgg_block_3_8_2convs");
}

TEST(VGGBlock, Gradients) {
  Generator gen(5);
  nn::VGGBlock block(2, 3, 2, gen);
  check_block_gradients(block, {2, 2, 4, 6}, [](const std::vector<Tensor>& in) {
    ParamCursor p(in);
    const Tensor h = conv_bn_relu_fn(conv_bn_relu_fn(in[0], p, {.padding = 1}), p, {.padding = 1});
    return max_pool2d(h, 2);
  }, 22);
}

TEST(BasicResidualBlock, ShapesNamesAndShortcut) {
  Generator gen(6);
  nn::BasicResidualBlock same(8, 8, gen);
  EXPECT_FALSE(same.has_projection());
  EXPECT_EQ(child_names(same), (std::vector<std::string>{"conv1", "bn1", "conv2", "bn2"}));
  EXPECT_EQ(same(randn({2, 8, 28, 28}, gen)).shape(), (Shape{2, 8, 28, 28}));
  EXPECT_EQ(same.extra_repr(), "8 -> 8");
  nn::BasicResidualBlock down(8, 16, gen, 2);
  EXPECT_TRUE(down.has_projection());
  EXPECT_EQ(child_names(down), (std::vector<std::string>{"conv1", "bn1", "conv2", "bn2", "shortcut"}));
  EXPECT_EQ(down(randn({2, 8, 28, 28}, gen)).shape(), (Shape{2, 16, 14, 14}));
  EXPECT_EQ(down(randn({2, 8, 32, 32}, gen)).shape(), (Shape{2, 16, 16, 16}));
  EXPECT_EQ(down.extra_repr(), "8 -> 16, stride 2, projection");
  // A channel change alone also projects.
  EXPECT_TRUE(nn::BasicResidualBlock(3, 8, gen).has_projection());
  expect_matches_torch(same, "basic_8_8_s1");
  expect_matches_torch(down, "basic_8_16_s2");
}

Tensor basic_block_fn(const std::vector<Tensor>& in, std::int64_t stride, bool projection) {
  ParamCursor p(in);
  const Tensor h = conv_bn_relu_fn(in[0], p, {.stride = stride, .padding = 1});
  const Tensor main = conv_bn_fn(h, p, {.padding = 1});
  const Tensor skip = projection ? conv_bn_fn(in[0], p, {.stride = stride}) : in[0];
  return relu(main + skip);
}

TEST(BasicResidualBlock, Gradients) {
  Generator gen(7);
  nn::BasicResidualBlock identity(3, 3, gen);
  check_block_gradients(identity, {2, 3, 4, 4}, [](const auto& in) { return basic_block_fn(in, 1, false); }, 23);
  nn::BasicResidualBlock projecting(2, 3, gen, 2);
  check_block_gradients(projecting, {2, 2, 5, 4}, [](const auto& in) { return basic_block_fn(in, 2, true); }, 24);
}

TEST(BottleneckBlock, ShapesNamesAndShortcut) {
  Generator gen(8);
  nn::BottleneckBlock same(16, 4, 16, gen);
  EXPECT_FALSE(same.has_projection());
  EXPECT_EQ(child_names(same), (std::vector<std::string>{"conv1", "bn1", "conv2", "bn2", "conv3", "bn3"}));
  EXPECT_EQ(same(randn({2, 16, 28, 28}, gen)).shape(), (Shape{2, 16, 28, 28}));
  EXPECT_EQ(same.extra_repr(), "16 -> 4 -> 16");
  nn::BottleneckBlock down(8, 4, 16, gen, 2);
  EXPECT_TRUE(down.has_projection());
  EXPECT_EQ(down(randn({2, 8, 28, 28}, gen)).shape(), (Shape{2, 16, 14, 14}));
  EXPECT_EQ(down(randn({2, 8, 32, 32}, gen)).shape(), (Shape{2, 16, 16, 16}));
  EXPECT_EQ(down.extra_repr(), "8 -> 4 -> 16, stride 2, projection");
  expect_matches_torch(same, "bottleneck_16_4_16_s1");
  expect_matches_torch(down, "bottleneck_8_4_16_s2");
}

Tensor bottleneck_fn(const std::vector<Tensor>& in, std::int64_t stride, bool projection) {
  ParamCursor p(in);
  Tensor h = conv_bn_relu_fn(in[0], p, {});
  h = conv_bn_relu_fn(h, p, {.stride = stride, .padding = 1});
  const Tensor main = conv_bn_fn(h, p, {});
  const Tensor skip = projection ? conv_bn_fn(in[0], p, {.stride = stride}) : in[0];
  return relu(main + skip);
}

TEST(BottleneckBlock, Gradients) {
  Generator gen(9);
  nn::BottleneckBlock identity(4, 2, 4, gen);
  check_block_gradients(identity, {2, 4, 4, 3}, [](const auto& in) { return bottleneck_fn(in, 1, false); }, 25);
  nn::BottleneckBlock projecting(3, 2, 4, gen, 2);
  check_block_gradients(projecting, {2, 3, 5, 5}, [](const auto& in) { return bottleneck_fn(in, 2, true); }, 26);
}

TEST(InceptionModule, ShapesNamesAndDescription) {
  Generator gen(10);
  const nn::InceptionChannels channels{.b1x1 = 4, .b3x3_reduce = 4, .b3x3 = 8, .b5x5_reduce = 2, .b5x5 = 4,
                                       .pool_proj = 4};
  nn::InceptionModule block(8, channels, gen);
  EXPECT_EQ(block.out_channels(), 20);
  EXPECT_EQ(child_names(block), (std::vector<std::string>{"branch1x1", "branch3x3", "branch5x5", "branch_pool"}));
  EXPECT_EQ(block(randn({2, 8, 28, 28}, gen)).shape(), (Shape{2, 20, 28, 28}));
  EXPECT_EQ(block(randn({2, 8, 32, 32}, gen)).shape(), (Shape{2, 20, 32, 32}));
  EXPECT_EQ(block.extra_repr(), "8 -> 4 + 8 + 4 + 4");
  expect_matches_torch(block, "inception_8_4_4_8_2_4_4");
}

TEST(InceptionModule, Gradients) {
  Generator gen(11);
  const nn::InceptionChannels channels{.b1x1 = 2, .b3x3_reduce = 2, .b3x3 = 3, .b5x5_reduce = 1, .b5x5 = 2,
                                       .pool_proj = 2};
  nn::InceptionModule block(3, channels, gen);
  check_block_gradients(block, {2, 3, 5, 5}, [](const std::vector<Tensor>& in) {
    ParamCursor p(in);
    const Tensor& x = in[0];
    const Tensor b1 = conv_bn_relu_fn(x, p, {});
    const Tensor b3 = conv_bn_relu_fn(conv_bn_relu_fn(x, p, {}), p, {.padding = 1});
    const Tensor b5 = conv_bn_relu_fn(conv_bn_relu_fn(x, p, {}), p, {.padding = 2});
    const Tensor bp = conv_bn_relu_fn(max_pool2d(x, 3, 1, 1), p, {});
    return cat({b1, b3, b5, bp}, 1);
  }, 27);
}

TEST(DepthwiseSeparable, ShapesNamesAndDescription) {
  Generator gen(12);
  nn::DepthwiseSeparable block(8, 16, gen, 2);
  EXPECT_EQ(child_names(block), (std::vector<std::string>{"depthwise", "pointwise"}));
  EXPECT_EQ(block.depthwise().conv().options().groups, 8);
  EXPECT_EQ(block.depthwise().conv().weight().shape(), (Shape{8, 1, 3, 3}));
  EXPECT_EQ(block(randn({2, 8, 28, 28}, gen)).shape(), (Shape{2, 16, 14, 14}));
  EXPECT_EQ(block(randn({2, 8, 32, 32}, gen)).shape(), (Shape{2, 16, 16, 16}));
  EXPECT_EQ(block.extra_repr(), "8 -> 16, stride 2");
  expect_matches_torch(block, "depthwise_separable_8_16_s2");
}

TEST(DepthwiseSeparable, Gradients) {
  Generator gen(13);
  nn::DepthwiseSeparable block(3, 4, gen, 2);
  check_block_gradients(block, {2, 3, 5, 6}, [](const std::vector<Tensor>& in) {
    ParamCursor p(in);
    const Tensor h = conv_bn_relu_fn(in[0], p, {.stride = 2, .padding = 1, .groups = 3});
    return conv_bn_relu_fn(h, p, {});
  }, 28);
}

// train() and eval() on a block reach every batch norm inside it: training forwards move the running statistics,
// evaluation forwards use them and change nothing.
TEST(Blocks, ModeReachesTheBatchNorms) {
  Generator gen(14);
  nn::Sequential net({std::make_shared<nn::BottleneckBlock>(3, 2, 4, gen, 2),
                      std::make_shared<nn::InceptionModule>(4, nn::InceptionChannels{1, 1, 1, 1, 1, 1}, gen),
                      std::make_shared<nn::DepthwiseSeparable>(4, 4, gen)});
  const auto norms = batch_norms(net);
  ASSERT_EQ(norms.size(), 4u + 6u + 2u);  // bottleneck 3 + its shortcut's, inception 6, depthwise-separable 2
  const Tensor x = randn({2, 3, 6, 6}, gen);
  net(x);
  for (const auto* bn : norms) EXPECT_EQ(bn->num_batches_tracked(), 1);
  net.eval();
  for (const auto* bn : norms) EXPECT_FALSE(bn->training());
  const std::vector<float> before = norms.front()->running_mean().to_vector();
  const Tensor y1 = net(x), y2 = net(x);
  EXPECT_TRUE(tensors_close(y1, y2, 0, 0));
  for (const auto* bn : norms) EXPECT_EQ(bn->num_batches_tracked(), 1);
  EXPECT_EQ(norms.front()->running_mean().to_vector(), before);
  net.train();
  for (const auto* bn : norms) EXPECT_TRUE(bn->training());
}

TEST(Blocks, ConstructorErrorsNameTheBlock) {
  Generator gen(15);
  EXPECT_TRUE(throws_with<Error>([&] { nn::ConvBNReLU(0, 8, 3, gen); }, {"ConvBNReLU", "positive"}));
  EXPECT_TRUE(throws_with<Error>([&] { nn::VGGBlock(3, 8, 0, gen); }, {"VGGBlock", "convs = 0"}));
  EXPECT_TRUE(throws_with<Error>([&] { nn::BasicResidualBlock(3, 8, gen, 0); }, {"BasicResidualBlock", "stride"}));
  EXPECT_TRUE(throws_with<Error>([&] { nn::BottleneckBlock(3, -1, 8, gen); }, {"BottleneckBlock", "-1"}));
  EXPECT_TRUE(throws_with<Error>([&] { nn::InceptionModule(3, {1, 1, 0, 1, 1, 1}, gen); }, {"InceptionModule"}));
  EXPECT_TRUE(throws_with<Error>([&] { nn::DepthwiseSeparable(3, 0, gen); }, {"DepthwiseSeparable", "0"}));
}

}  // namespace
}  // namespace vigil::testing
