// conv2d, conv1d and conv_transpose2d against PyTorch goldens (forward and the input, weight and bias gradients of
// every configuration: odd sizes, stride 2, dilation 2, groups, depthwise, "same" with even kernels, "valid",
// asymmetric padding, transposed with output_padding), gradcheck of each op in float64, and the error cases.
#include "support/golden.hpp"
#include "tensor/expect_error.hpp"

#include <vigil/tensor/allocator.hpp>
#include <vigil/tensor/pool.hpp>

namespace vigil::testing {
namespace {

Size2 size2(const nlohmann::json& v) {
  if (v.is_array()) return v.size() == 1 ? Size2(v[0].get<std::int64_t>()) : Size2(v[0].get<std::int64_t>(), v[1].get<std::int64_t>());
  return Size2(v.get<std::int64_t>());
}

ConvPadding padding(const nlohmann::json& p) {
  if (p.contains("padding_sides")) {
    const auto s = p.at("padding_sides").get<std::vector<std::int64_t>>();
    return ConvPadding::sides(s[0], s[1], s[2], s[3]);
  }
  if (!p.contains("padding")) return 0;
  const auto& v = p.at("padding");
  if (v.is_string()) return v.get<std::string>();
  if (v.is_array()) return v.size() == 1 ? ConvPadding(v[0].get<std::int64_t>()) : ConvPadding(v[0].get<std::int64_t>(), v[1].get<std::int64_t>());
  return v.get<std::int64_t>();
}

Tensor apply_conv(const std::vector<Tensor>& x, const nlohmann::json& p) {
  const std::string op = p.at("op");
  const Tensor bias = x.size() > 2 ? x[2] : Tensor();
  const std::int64_t groups = p.value("groups", 1);
  if (op == "conv2d") {
    return conv2d(x[0], x[1], bias,
                  {.stride = size2(p.value("stride", nlohmann::json(1))), .padding = padding(p),
                   .dilation = size2(p.value("dilation", nlohmann::json(1))), .groups = groups});
  }
  if (op == "conv1d") {
    return conv1d(x[0], x[1], bias,
                  {.stride = p.value("stride", 1), .padding = padding(p), .dilation = p.value("dilation", 1),
                   .groups = groups});
  }
  if (op == "conv_transpose2d") {
    return conv_transpose2d(x[0], x[1], bias,
                            {.stride = size2(p.value("stride", nlohmann::json(1))),
                             .padding = size2(p.value("padding", nlohmann::json(0))),
                             .output_padding = size2(p.value("output_padding", nlohmann::json(0))),
                             .dilation = size2(p.value("dilation", nlohmann::json(1))), .groups = groups});
  }
  throw Error("unknown golden op " + op);
}

TEST(ConvGolden, MatchesPyTorch) {
  const auto cases = load_golden("conv");
  ASSERT_GE(cases.size(), 30u);
  for (const auto& c : cases) check_golden_case(c, apply_conv, 1e-4, 1e-4);
}

// The same cases in float64 run the reference loops: they match PyTorch's float32 values to float32 rounding.
TEST(ConvGolden, Float64ReferencePathMatchesPyTorch) {
  for (const auto& c : load_golden("conv")) {
    std::vector<Tensor> inputs;
    for (const Tensor& t : c.inputs) inputs.push_back(raw::to_dtype(t, DType::Float64));
    const Tensor y = apply_conv(inputs, c.params);
    EXPECT_TRUE(tensors_close(raw::to_dtype(y, DType::Float32), c.output, 1e-4, 1e-4)) << c.name;
  }
}

TEST(ConvGradcheck, EveryOpPassesInFloat64) {
  Generator gen(3);
  auto input = [&](Shape s) { return randn(s, gen, TensorOptions{DType::Float32, true}); };
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return conv2d(x[0], x[1], x[2], {.padding = 1}); },
                               {input({2, 3, 5, 4}), input({4, 3, 3, 3}), input({4})}));
  EXPECT_TRUE(passes_gradcheck(
      [](const auto& x) { return conv2d(x[0], x[1], x[2], {.stride = 2, .padding = 1, .dilation = 2, .groups = 2}); },
      {input({1, 4, 7, 6}), input({6, 2, 3, 2}), input({6})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return conv2d(x[0], x[1], Tensor(), {.padding = "same", .groups = 3}); },
                               {input({2, 3, 5, 5}), input({3, 1, 4, 2})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return conv1d(x[0], x[1], x[2], {.stride = 2, .padding = 1}); },
                               {input({2, 3, 9}), input({4, 3, 4}), input({4})}));
  EXPECT_TRUE(passes_gradcheck(
      [](const auto& x) {
        return conv_transpose2d(x[0], x[1], x[2], {.stride = 2, .padding = 1, .output_padding = 1, .groups = 2});
      },
      {input({2, 4, 3, 4}), input({4, 2, 3, 3}), input({4})}));
  EXPECT_TRUE(passes_gradcheck(
      [](const auto& x) { return conv_transpose2d(x[0], x[1], Tensor(), {.output_padding = 1, .dilation = 2}); },
      {input({1, 2, 4, 3}), input({2, 3, 3, 2})}));
}

// Only the gradients asked for are computed, and a bias alone gets its sum.
TEST(ConvGrad, BiasOnly) {
  Generator gen(4);
  const Tensor x = randn({2, 3, 5, 5}, gen), w = randn({4, 3, 3, 3}, gen);
  Tensor b = zeros({4}).set_requires_grad();
  const Tensor y = conv2d(x, w, b);
  backward(sum(y));
  EXPECT_TRUE(tensors_close(b.grad(), full({4}, 2 * 3 * 3), 0, 1e-5));
}

TEST(ConvErrors, ChannelMismatchNamesOpAndBothShapes) {
  EXPECT_TRUE(throws_with<ShapeError>([] { (void)conv2d(zeros({2, 3, 8, 8}), zeros({4, 2, 3, 3})); },
                                      {"conv2d", "[2, 3, 8, 8]", "[4, 2, 3, 3]"}));
  EXPECT_TRUE(throws_with<ShapeError>([] { (void)conv1d(zeros({2, 3, 8}), zeros({4, 2, 3})); },
                                      {"conv1d", "[2, 3, 8]", "[4, 2, 3]"}));
  EXPECT_TRUE(throws_with<ShapeError>([] { (void)conv_transpose2d(zeros({2, 3, 8, 8}), zeros({4, 2, 3, 3})); },
                                      {"conv_transpose2d", "[2, 3, 8, 8]", "[4, 2, 3, 3]"}));
  EXPECT_TRUE(throws_with<ShapeError>([] { (void)conv2d(zeros({3, 8, 8}), zeros({4, 3, 3, 3})); },
                                      {"conv2d", "[3, 8, 8]", "[4, 3, 3, 3]"}));
}

TEST(ConvErrors, GroupsMustDivideChannels) {
  EXPECT_TRUE(throws_with<ShapeError>([] { (void)conv2d(zeros({1, 6, 5, 5}), zeros({4, 3, 3, 3}), Tensor(), {.groups = 4}); },
                                      {"conv2d", "groups", "[1, 6, 5, 5]", "[4, 3, 3, 3]"}));
  EXPECT_TRUE(throws_with<ShapeError>([] { (void)conv2d(zeros({1, 6, 5, 5}), zeros({5, 2, 3, 3}), Tensor(), {.groups = 3}); },
                                      {"conv2d", "groups", "[1, 6, 5, 5]", "[5, 2, 3, 3]"}));
  EXPECT_TRUE(throws_with<ShapeError>(
      [] { (void)conv_transpose2d(zeros({1, 6, 5, 5}), zeros({6, 2, 3, 3}), Tensor(), {.groups = 4}); },
      {"conv_transpose2d", "groups", "[1, 6, 5, 5]", "[6, 2, 3, 3]"}));
}

TEST(ConvErrors, KernelLargerThanPaddedInput) {
  EXPECT_TRUE(throws_with<ShapeError>([] { (void)conv2d(zeros({1, 3, 4, 8}), zeros({2, 3, 5, 3})); },
                                      {"conv2d", "larger than the padded input", "[1, 3, 4, 8]", "[2, 3, 5, 3]"}));
  EXPECT_TRUE(throws_with<ShapeError>(
      [] { (void)conv2d(zeros({1, 3, 4, 8}), zeros({2, 3, 3, 3}), Tensor(), {.dilation = 2}); },
      {"conv2d", "larger than the padded input", "[1, 3, 4, 8]", "[2, 3, 3, 3]"}));
  EXPECT_TRUE(throws_with<ShapeError>([] { (void)conv1d(zeros({1, 3, 4}), zeros({2, 3, 6})); },
                                      {"conv1d", "larger than the padded input", "[1, 3, 4]", "[2, 3, 6]"}));
  // Padding 1 makes room: 4 + 2 - 5 + 1 = 2 rows.
  EXPECT_EQ(conv2d(zeros({1, 3, 4, 8}), zeros({2, 3, 5, 3}), Tensor(), {.padding = 1}).shape(), (Shape{1, 2, 2, 8}));
}

TEST(ConvErrors, BadPadding) {
  EXPECT_TRUE(throws_with<Error>([] { (void)conv2d(zeros({1, 3, 5, 5}), zeros({2, 3, 3, 3}), Tensor(), {.padding = "full"}); },
                                 {"conv2d", "\"same\" or \"valid\"", "full"}));
  EXPECT_TRUE(throws_with<Error>([] { (void)conv1d(zeros({1, 3, 5}), zeros({2, 3, 3}), Tensor(), {.padding = "SAME"}); },
                                 {"conv1d", "SAME"}));
  EXPECT_TRUE(throws_with<Error>([] { (void)conv2d(zeros({1, 3, 5, 5}), zeros({2, 3, 3, 3}), Tensor(), {.padding = -1}); },
                                 {"conv2d", "negative"}));
  EXPECT_TRUE(throws_with<ShapeError>(
      [] { (void)conv2d(zeros({1, 3, 5, 5}), zeros({2, 3, 3, 3}), Tensor(), {.stride = 2, .padding = "same"}); },
      {"conv2d", "same", "strided"}));
  EXPECT_TRUE(throws_with<ShapeError>(
      [] { (void)conv_transpose2d(zeros({1, 2, 5, 5}), zeros({2, 2, 3, 3}), Tensor(), {.stride = 2, .output_padding = 2}); },
      {"conv_transpose2d", "output_padding", "[1, 2, 5, 5]", "[2, 2, 3, 3]"}));
}

TEST(ConvPadding, ResolvesLikePyTorch) {
  // "same" splits d (k - 1) with the smaller half first: kernel 4 -> (1, 2), kernel 4 dilation 3 -> (4, 5).
  EXPECT_EQ(ConvPadding("same").resolve("conv2d", 2, Size2(4, 3), Size2(1, 1), 1),
            (std::array<std::int64_t, 4>{1, 2, 1, 1}));
  EXPECT_EQ(ConvPadding("same").resolve("conv2d", 2, Size2(4, 2), Size2(3, 1), 1),
            (std::array<std::int64_t, 4>{4, 5, 0, 1}));
  EXPECT_EQ(ConvPadding("valid").resolve("conv2d", 2, 3, 1, 1), (std::array<std::int64_t, 4>{0, 0, 0, 0}));
  EXPECT_EQ(ConvPadding(2).resolve("conv1d", 1, Size2(1, 3), 1, 1), (std::array<std::int64_t, 4>{0, 0, 2, 2}));
  EXPECT_EQ(ConvPadding(1, 2).resolve("conv2d", 2, 3, 1, 1), (std::array<std::int64_t, 4>{1, 1, 2, 2}));
  EXPECT_EQ(ConvPadding(1, 2).resolve("conv1d", 1, Size2(1, 3), 1, 1), (std::array<std::int64_t, 4>{0, 0, 1, 2}));
  EXPECT_EQ(ConvPadding::sides(0, 1, 2, 3).resolve("conv2d", 2, 3, 1, 1), (std::array<std::int64_t, 4>{0, 1, 2, 3}));
  EXPECT_EQ(ConvPadding(1, 2).str(), "(1, 2)");
  EXPECT_EQ(ConvPadding("same").str(), "same");
  EXPECT_EQ(conv2d(zeros({1, 1, 7, 6}), zeros({1, 1, 4, 2}), Tensor(), {.padding = "same"}).shape(), (Shape{1, 1, 7, 6}));
}

// Once a conv step (blocked-layout layer, thin first layer, depthwise, transposed; forward and backward) has run,
// repeating it takes every buffer from the caching allocator: results, reorder workspace and scratchpad alike.
TEST(ConvAllocation, SteadyStateAsksTheSystemForNothing) {
  Generator gen(5);
  const TensorOptions leaf{DType::Float32, true};
  const Tensor x = randn({8, 1, 12, 12}, gen, leaf), w1 = randn({32, 1, 3, 3}, gen, leaf);
  const Tensor w2 = randn({32, 32, 3, 3}, gen, leaf), wd = randn({32, 1, 3, 3}, gen, leaf);
  const Tensor wt = randn({32, 4, 2, 2}, gen, leaf);
  auto step = [&] {
    const Tensor h = conv2d(conv2d(x, w1, Tensor(), {.padding = 1}), w2, Tensor(), {.padding = 1});
    const Tensor d = conv2d(h, wd, Tensor(), {.stride = 2, .padding = 1, .groups = 32});
    backward(sum(conv_transpose2d(d, wt, Tensor(), {.stride = 2})));
    for (const Tensor* t : {&x, &w1, &w2, &wd, &wt}) zero_grad(*t);
  };
  for (int i = 0; i < 3; ++i) step();
  const std::uint64_t storage_before = CachingAllocator::instance().stats().system_allocations;
  const std::uint64_t pool_before = pool_system_allocations();
  for (int i = 0; i < 5; ++i) step();
  EXPECT_EQ(CachingAllocator::instance().stats().system_allocations, storage_before);
  EXPECT_EQ(pool_system_allocations(), pool_before);
}

}  // namespace
}  // namespace vigil::testing
