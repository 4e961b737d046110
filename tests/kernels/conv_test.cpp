// The oneDNN convolution kernels against their reference twins on many geometries (odd sizes, stride 2, dilation 2,
// groups, depthwise, asymmetric "same"-style padding, the first-layer C = 1 shape, channel counts wide enough for
// oneDNN's blocked kernels, negative bottom/right padding), every pass, with and without bias, on contiguous and
// non-contiguous inputs; the transposed convolution against its own loop; float64 through the reference.
#include "support/golden.hpp"
#include "tensor/expect_error.hpp"

#include <vigil/kernels/conv.hpp>

#include <string>
#include <vector>

namespace vigil::testing {
namespace {

using kernels::ConvParams;

struct Geometry {
  std::string name;
  Shape x, weight;
  ConvParams p;
};

ConvParams params(std::int64_t stride, std::array<std::int64_t, 4> pad, std::int64_t dilation = 1,
                  std::int64_t groups = 1) {
  ConvParams p;
  p.stride_h = p.stride_w = stride;
  p.pad_top = pad[0];
  p.pad_bottom = pad[1];
  p.pad_left = pad[2];
  p.pad_right = pad[3];
  p.dilation_h = p.dilation_w = dilation;
  p.groups = groups;
  return p;
}

std::vector<Geometry> geometries() {
  ConvParams rect = params(2, {1, 0, 2, 1});
  rect.stride_w = 1;
  rect.dilation_h = 2;
  return {
      {"odd_sizes", {3, 5, 11, 13}, {7, 5, 3, 5}, params(1, {0, 0, 0, 0})},
      {"pad1", {2, 3, 7, 9}, {4, 3, 3, 3}, params(1, {1, 1, 1, 1})},
      {"stride2", {2, 3, 9, 10}, {4, 3, 3, 3}, params(2, {1, 1, 1, 1})},
      {"dilation2", {2, 3, 11, 9}, {4, 3, 3, 3}, params(1, {2, 2, 2, 2}, 2)},
      {"stride2_dilation2", {2, 4, 13, 12}, {6, 4, 3, 2}, params(2, {1, 1, 1, 1}, 2)},
      {"groups", {2, 6, 8, 7}, {9, 2, 3, 3}, params(1, {1, 1, 1, 1}, 1, 3)},
      {"depthwise", {2, 5, 9, 9}, {5, 1, 3, 3}, params(1, {1, 1, 1, 1}, 1, 5)},
      {"depthwise_stride2", {2, 16, 10, 11}, {16, 1, 3, 3}, params(2, {1, 1, 1, 1}, 1, 16)},
      {"depthwise_multiplier", {2, 4, 7, 7}, {8, 1, 5, 5}, params(1, {2, 2, 2, 2}, 1, 4)},
      {"same_even_kernel", {2, 3, 8, 9}, {4, 3, 4, 4}, params(1, {1, 2, 1, 2})},
      {"rectangular", {2, 3, 9, 8}, {5, 3, 3, 4}, rect},
      {"pointwise", {2, 8, 5, 5}, {16, 8, 1, 1}, params(1, {0, 0, 0, 0})},
      {"first_layer", {4, 1, 28, 28}, {32, 1, 3, 3}, params(1, {1, 1, 1, 1})},
      {"wide_channels", {4, 32, 14, 14}, {64, 32, 3, 3}, params(1, {1, 1, 1, 1})},
      {"wide_channels_stride2_odd", {3, 16, 15, 13}, {48, 16, 3, 3}, params(2, {1, 1, 1, 1})},
      {"wide_groups", {2, 64, 7, 7}, {64, 16, 3, 3}, params(1, {1, 1, 1, 1}, 1, 4)},
      {"negative_bottom_right", {2, 3, 10, 9}, {4, 3, 3, 3}, params(2, {1, -1, 0, -1})},
  };
}

constexpr double kTol = 2e-4;

TEST(ConvKernels, ForwardMatchesReference) {
  Generator gen(1);
  for (const auto& g : geometries()) {
    const Tensor x = randn(g.x, gen), w = randn(g.weight, gen), b = randn({g.weight[0]}, gen);
    EXPECT_TRUE(tensors_close(kernels::conv2d(x, w, b, g.p), kernels::conv2d_reference(x, w, b, g.p), kTol, kTol))
        << g.name;
    EXPECT_TRUE(tensors_close(kernels::conv2d(x, w, Tensor(), g.p), kernels::conv2d_reference(x, w, Tensor(), g.p),
                              kTol, kTol))
        << g.name << " without bias";
  }
}

TEST(ConvKernels, BackwardDataMatchesReference) {
  Generator gen(2);
  for (const auto& g : geometries()) {
    const Shape y_shape = kernels::conv2d_output_shape(g.x, g.weight, g.p);
    const Tensor dy = randn(y_shape, gen), w = randn(g.weight, gen);
    EXPECT_TRUE(tensors_close(kernels::conv2d_backward_data(dy, w, g.x, g.p),
                              kernels::conv2d_backward_data_reference(dy, w, g.x, g.p), kTol, kTol))
        << g.name;
  }
}

TEST(ConvKernels, BackwardWeightsMatchesReference) {
  Generator gen(3);
  for (const auto& g : geometries()) {
    const Shape y_shape = kernels::conv2d_output_shape(g.x, g.weight, g.p);
    const Tensor dy = randn(y_shape, gen), x = randn(g.x, gen);
    for (bool with_bias : {true, false}) {
      const auto fast = kernels::conv2d_backward_weights(dy, x, g.weight, g.p, with_bias);
      const auto ref = kernels::conv2d_backward_weights_reference(dy, x, g.weight, g.p, with_bias);
      // dw sums N * OH * OW products: the tolerance grows with that count.
      EXPECT_TRUE(tensors_close(fast.dweight, ref.dweight, kTol, 1e-3)) << g.name;
      EXPECT_EQ(fast.dbias.defined(), with_bias) << g.name;
      if (with_bias) {
        EXPECT_TRUE(tensors_close(fast.dbias, ref.dbias, kTol, 1e-3)) << g.name;
      }
    }
  }
}

// Strided views are read through their strides (copied once), not misread as contiguous.
TEST(ConvKernels, NonContiguousInputs) {
  Generator gen(4);
  const ConvParams p = params(1, {1, 1, 1, 1}, 1, 2);
  const Tensor x = raw::transpose(randn({2, 4, 9, 7}, gen), 2, 3);     // [2, 4, 7, 9]
  const Tensor w = raw::slice(randn({12, 2, 3, 3}, gen), 0, 0, 12, 2);  // [6, 2, 3, 3], every other filter
  const Tensor b = raw::slice(randn({12}, gen), 0, 0, 12, 2);
  EXPECT_TRUE(tensors_close(kernels::conv2d(x, w, b, p),
                            kernels::conv2d_reference(raw::contiguous(x), raw::contiguous(w), raw::contiguous(b), p),
                            kTol, kTol));
  const Tensor dy = raw::transpose(randn({2, 6, 9, 7}, gen), 2, 3);
  EXPECT_TRUE(tensors_close(kernels::conv2d_backward_data(dy, w, x.shape(), p),
                            kernels::conv2d_backward_data_reference(raw::contiguous(dy), raw::contiguous(w), x.shape(), p),
                            kTol, kTol));
  EXPECT_TRUE(tensors_close(kernels::conv2d_backward_weights(dy, x, w.shape(), p, true).dweight,
                            kernels::conv2d_backward_weights_reference(raw::contiguous(dy), raw::contiguous(x),
                                                                       w.shape(), p, true)
                                .dweight,
                            kTol, 1e-3));
}

TEST(ConvKernels, TransposedMatchesItsLoop) {
  Generator gen(5);
  struct Case {
    Shape x, weight;
    ConvParams p;
    std::array<std::int64_t, 2> output_padding;
  };
  ConvParams rect = params(2, {1, 1, 0, 0});
  rect.stride_w = 3;
  const std::vector<Case> cases{
      {{2, 4, 5, 6}, {4, 3, 3, 3}, params(2, {1, 1, 1, 1}), {1, 1}},
      {{2, 4, 5, 5}, {4, 3, 3, 3}, params(2, {0, 0, 0, 0}, 1, 2), {0, 0}},
      {{1, 3, 6, 5}, {3, 2, 3, 3}, params(1, {1, 1, 1, 1}, 2), {0, 0}},
      {{2, 2, 4, 3}, {2, 3, 4, 3}, rect, {1, 2}},
      {{1, 2, 5, 4}, {2, 2, 3, 3}, params(1, {0, 0, 0, 0}, 2), {1, 1}},  // output_padding >= stride, < dilation
      {{4, 64, 7, 7}, {64, 32, 3, 3}, params(2, {1, 1, 1, 1}), {1, 1}},  // oneDNN's blocked kernels
  };
  for (const auto& c : cases) {
    const Tensor x = randn(c.x, gen), w = randn(c.weight, gen);
    const Tensor b = randn({c.weight[1] * c.p.groups}, gen);
    const Tensor fast = kernels::conv_transpose2d(x, w, b, c.p, c.output_padding);
    EXPECT_EQ(fast.shape(), kernels::conv_transpose2d_output_shape(c.x, c.weight, c.p, c.output_padding));
    EXPECT_TRUE(tensors_close(fast, kernels::conv_transpose2d_reference(x, w, b, c.p, c.output_padding), kTol, kTol))
        << c.x.str();
  }
}

// float64 runs the reference loops: the same values as float32's fast path, to float32 rounding.
TEST(ConvKernels, Float64TakesTheReferencePath) {
  Generator gen(6);
  const ConvParams p = params(2, {1, 1, 1, 1});
  const Tensor x = randn({2, 3, 9, 8}, gen), w = randn({4, 3, 3, 3}, gen);
  const Tensor y64 = kernels::conv2d(raw::to_dtype(x, DType::Float64), raw::to_dtype(w, DType::Float64), Tensor(), p);
  EXPECT_EQ(y64.dtype(), DType::Float64);
  EXPECT_TRUE(tensors_close(raw::to_dtype(y64, DType::Float32), kernels::conv2d(x, w, Tensor(), p), kTol, kTol));
}

// A primitive is made once per geometry: repeated calls give bitwise-identical results.
TEST(ConvKernels, RepeatedCallsAgree) {
  Generator gen(7);
  const ConvParams p = params(1, {1, 1, 1, 1});
  const Tensor x = randn({4, 32, 14, 14}, gen), w = randn({64, 32, 3, 3}, gen);
  const Tensor first = kernels::conv2d(x, w, Tensor(), p);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(tensors_close(kernels::conv2d(x, w, Tensor(), p), first, 0, 0));
}

TEST(ConvKernels, ShapeErrorsNameTheOpAndShapes) {
  const ConvParams p;
  EXPECT_TRUE(throws_with<ShapeError>([&] { (void)kernels::conv2d(zeros({1, 3, 5, 5}), zeros({4, 2, 3, 3}), Tensor(), p); },
                                      {"conv2d", "[1, 3, 5, 5]", "[4, 2, 3, 3]"}));
  EXPECT_TRUE(throws_with<ShapeError>([&] { (void)kernels::conv2d(zeros({1, 3, 2, 5}), zeros({4, 3, 3, 3}), Tensor(), p); },
                                      {"conv2d", "larger than the padded input", "[1, 3, 2, 5]", "[4, 3, 3, 3]"}));
  EXPECT_TRUE(throws_with<ShapeError>(
      [&] { (void)kernels::conv2d_backward_data(zeros({1, 4, 2, 2}), zeros({4, 3, 3, 3}), Shape{1, 3, 5, 5}, p); },
      {"conv2d_backward_data", "[1, 4, 2, 2]", "[1, 4, 3, 3]"}));
  EXPECT_TRUE(throws_with<ShapeError>(
      [&] { (void)kernels::conv2d(zeros({1, 3, 5, 5}), zeros({4, 3, 3, 3}), zeros({3}), p); },
      {"conv2d", "bias", "[3]"}));
  EXPECT_THROW((void)kernels::conv2d(zeros({1, 3, 5, 5}), zeros({4, 3, 3, 3}, TensorOptions{DType::Float64}), Tensor(), p),
               DTypeError);
}

}  // namespace
}  // namespace vigil::testing
