// Conv2d, Conv1d and ConvTranspose2d layers: parameter names and shapes, PyTorch's default init bounds, the layer
// equals its op, descriptions, gradcheck through the layer's parameters, and constructor errors.
#include "support/golden.hpp"
#include "tensor/expect_error.hpp"

#include <vigil/nn/nn.hpp>

#include <cmath>
#include <string>
#include <vector>

namespace vigil::testing {
namespace {

std::vector<std::string> parameter_names(const nn::Module& m) {
  std::vector<std::string> names;
  for (const auto& [path, p] : m.named_parameters()) names.push_back(path);
  return names;
}

// Every value of t within [-bound, bound], and the values spread over most of it (a uniform draw, not zeros).
void expect_uniform_within(const Tensor& t, double bound) {
  double lo = bound, hi = -bound;
  for (float v : t.to_vector()) {
    EXPECT_LE(std::abs(v), bound);
    lo = std::min(lo, double(v));
    hi = std::max(hi, double(v));
  }
  EXPECT_GT(hi - lo, bound);  // with >= 16 draws, the range covers more than half of [-b, b]
}

TEST(Conv2dLayer, ParametersInitAndForward) {
  Generator gen(1);
  nn::Conv2d conv(6, 8, 3, gen, {.padding = 1, .groups = 2});
  EXPECT_EQ(parameter_names(conv), (std::vector<std::string>{"weight", "bias"}));
  EXPECT_EQ(conv.weight().shape(), (Shape{8, 3, 3, 3}));
  EXPECT_EQ(conv.bias().shape(), (Shape{8}));
  const double bound = 1.0 / std::sqrt(3.0 * 9.0);  // fan_in = (in / groups) * kh * kw
  expect_uniform_within(conv.weight(), bound);
  expect_uniform_within(conv.bias(), bound);
  const Tensor x = randn({2, 6, 5, 7}, gen);
  EXPECT_TRUE(tensors_close(conv(x), conv2d(x, conv.weight(), conv.bias(), {.padding = 1, .groups = 2}), 0, 0));
  backward(sum(conv(x)));
  EXPECT_EQ(conv.weight().grad().shape(), conv.weight().shape());
  EXPECT_EQ(conv.bias().grad().shape(), conv.bias().shape());
}

TEST(Conv2dLayer, SameSeedSameWeights) {
  Generator a(5), b(5);
  nn::Conv2d first(3, 4, {3, 2}, a), second(3, 4, {3, 2}, b);
  EXPECT_TRUE(tensors_close(first.weight(), second.weight(), 0, 0));
  EXPECT_TRUE(tensors_close(first.bias(), second.bias(), 0, 0));
}

TEST(Conv2dLayer, Description) {
  Generator gen(2);
  EXPECT_EQ(nn::Conv2d(1, 32, 3, gen).extra_repr(), "1 -> 32, kernel 3x3");
  EXPECT_EQ(nn::Conv2d(1, 32, 3, gen).type_name(), "Conv2d");
  EXPECT_EQ(nn::Conv2d(4, 8, {3, 5}, gen, {.stride = 2, .padding = "same", .dilation = {2, 1}, .groups = 4}, false)
                .extra_repr(),
            "4 -> 8, kernel 3x5, stride 2, padding same, dilation (2, 1), groups 4, no bias");
  nn::Conv2d no_bias(3, 4, 3, gen, {}, false);
  EXPECT_EQ(parameter_names(no_bias), (std::vector<std::string>{"weight"}));
  EXPECT_FALSE(no_bias.bias().defined());
}

TEST(Conv1dLayer, ParametersInitAndForward) {
  Generator gen(3);
  nn::Conv1d conv(4, 6, 5, gen, {.padding = "same"});
  EXPECT_EQ(conv.weight().shape(), (Shape{6, 4, 5}));
  expect_uniform_within(conv.weight(), 1.0 / std::sqrt(20.0));
  const Tensor x = randn({2, 4, 11}, gen);
  EXPECT_EQ(conv(x).shape(), (Shape{2, 6, 11}));
  EXPECT_TRUE(tensors_close(conv(x), conv1d(x, conv.weight(), conv.bias(), {.padding = "same"}), 0, 0));
  EXPECT_EQ(conv.extra_repr(), "4 -> 6, kernel 5, padding same");
  EXPECT_EQ(conv.type_name(), "Conv1d");
}

TEST(ConvTranspose2dLayer, ParametersInitAndForward) {
  Generator gen(4);
  nn::ConvTranspose2d up(8, 4, 3, gen, {.stride = 2, .padding = 1, .output_padding = 1, .groups = 2});
  EXPECT_EQ(up.weight().shape(), (Shape{8, 2, 3, 3}));  // [in, out / groups, kh, kw]
  EXPECT_EQ(up.bias().shape(), (Shape{4}));
  const double bound = 1.0 / std::sqrt(2.0 * 9.0);  // torch's fan_in reads weight.size(1) = out / groups
  expect_uniform_within(up.weight(), bound);
  const Tensor x = randn({2, 8, 5, 6}, gen);
  EXPECT_EQ(up(x).shape(), (Shape{2, 4, 10, 12}));  // (5 - 1) 2 - 2 + 3 + 1
  EXPECT_EQ(up.extra_repr(), "8 -> 4, kernel 3x3, stride 2, padding 1, output_padding 1, groups 2");
  EXPECT_EQ(up.type_name(), "ConvTranspose2d");
}

// gradcheck through each layer's parameters: the layer's weight and bias are passed in as the inputs.
TEST(ConvLayers, Gradcheck) {
  Generator gen(5);
  nn::Conv2d conv(2, 3, 3, gen, {.stride = 2, .padding = 1});
  EXPECT_TRUE(passes_gradcheck(
      [&](const auto& in) { return conv2d(in[0], in[1], in[2], conv.options()); },
      {randn({2, 2, 5, 6}, gen, {DType::Float32, true}), conv.weight().detach().set_requires_grad(),
       conv.bias().detach().set_requires_grad()}));
  nn::ConvTranspose2d up(2, 3, 2, gen, {.stride = 2});
  EXPECT_TRUE(passes_gradcheck(
      [&](const auto& in) { return conv_transpose2d(in[0], in[1], in[2], up.options()); },
      {randn({1, 2, 3, 4}, gen, {DType::Float32, true}), up.weight().detach().set_requires_grad(),
       up.bias().detach().set_requires_grad()}));
}

TEST(ConvLayers, ConstructorErrorsNameTheLayer) {
  Generator gen(6);
  EXPECT_TRUE(throws_with<Error>([&] { nn::Conv2d(6, 8, 3, gen, {.groups = 4}); }, {"Conv2d", "groups = 4", "6", "8"}));
  EXPECT_TRUE(throws_with<Error>([&] { nn::Conv2d(0, 8, 3, gen); }, {"Conv2d", "positive"}));
  EXPECT_TRUE(throws_with<Error>([&] { nn::Conv2d(3, 8, 3, gen, {.padding = "half"}); }, {"Conv2d", "half"}));
  EXPECT_TRUE(throws_with<Error>([&] { nn::Conv1d(3, 8, 3, gen, {.padding = "full"}); }, {"Conv1d", "full"}));
  EXPECT_TRUE(throws_with<Error>([&] { nn::ConvTranspose2d(4, 6, 3, gen, {.groups = 4}); }, {"ConvTranspose2d", "groups"}));
  nn::Conv2d conv(3, 4, 3, gen);
  EXPECT_TRUE(throws_with<ShapeError>([&] { (void)conv(zeros({1, 2, 5, 5})); }, {"conv2d", "[1, 2, 5, 5]", "[4, 3, 3, 3]"}));
}

}  // namespace
}  // namespace vigil::testing
