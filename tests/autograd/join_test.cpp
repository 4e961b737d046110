// cat, stack, split, chunk and pad against PyTorch goldens, gradcheck, and error cases.
#include "support/golden.hpp"

namespace vigil::testing {
namespace {

// Part k weighted by k + 1, then concatenated: the shape the golden generator gives split and chunk results.
Tensor weighted_cat(const std::vector<Tensor>& parts, std::int64_t dim) {
  std::vector<Tensor> weighted;
  for (std::size_t k = 0; k < parts.size(); ++k) weighted.push_back(parts[k] * static_cast<double>(k + 1));
  return cat(weighted, dim);
}

PadMode pad_mode(const std::string& name) {
  if (name == "reflect") return PadMode::Reflect;
  if (name == "replicate") return PadMode::Replicate;
  return PadMode::Constant;
}

Tensor apply_join(const std::vector<Tensor>& x, const nlohmann::json& p) {
  const std::string op = p.at("op");
  const std::int64_t dim = p.value("dim", 0);
  if (op == "cat") return cat(x, dim);
  if (op == "stack") return stack(x, dim);
  if (op == "split") return weighted_cat(split(x[0], p.at("split_size").get<std::int64_t>(), dim), dim);
  if (op == "split_sizes") {
    const auto sizes = p.at("sizes").get<std::vector<std::int64_t>>();
    return weighted_cat(split(x[0], std::span<const std::int64_t>(sizes), dim), dim);
  }
  if (op == "chunk") return weighted_cat(chunk(x[0], p.at("chunks"), dim), dim);
  if (op == "pad") {
    const auto pads = p.at("pads").get<std::vector<std::int64_t>>();
    return pad(x[0], std::span<const std::int64_t>(pads), pad_mode(p.at("mode")), p.value("value", 0.0));
  }
  throw Error("unknown golden op " + op);
}

TEST(JoinGolden, MatchesPyTorch) {
  const auto cases = load_golden("join");
  ASSERT_GE(cases.size(), 23u);
  for (const auto& c : cases) check_golden_case(c, apply_join, 1e-5, 1e-5);
}

TEST(JoinGolden, SplitAndChunkShapesMatchTorch) {
  const Tensor x = zeros({7, 2});
  auto extents = [](const std::vector<Tensor>& parts) {
    std::vector<std::int64_t> e;
    for (const Tensor& t : parts) e.push_back(t.shape()[0]);
    return e;
  };
  EXPECT_EQ(extents(split(x, 3)), (std::vector<std::int64_t>{3, 3, 1}));
  EXPECT_EQ(extents(split(x, {2, 0, 5})), (std::vector<std::int64_t>{2, 0, 5}));
  EXPECT_EQ(extents(chunk(x, 3)), (std::vector<std::int64_t>{3, 3, 1}));
  EXPECT_EQ(extents(chunk(zeros({6}), 4)), (std::vector<std::int64_t>{2, 2, 2}));  // fewer parts, as torch
  EXPECT_EQ(extents(split(x, 10)), (std::vector<std::int64_t>{7}));
  // Each part is a view with its own node.
  Generator gen(5);
  const Tensor y = randn({4, 3}, gen).set_requires_grad(true);
  const auto parts = split(y, 2);
  EXPECT_TRUE(parts[0].shares_storage(y));
  EXPECT_NE(parts[0].grad_fn(), parts[1].grad_fn());
  backward(sum(parts[1]));
  EXPECT_TRUE(tensors_close(y.grad(), from_vector(std::vector<float>{0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1}, Shape{4, 3})));
}

TEST(JoinGradcheck, EveryOpPassesInFloat64) {
  Generator gen(4);
  auto input = [&](Shape s) { return randn(s, gen, TensorOptions{DType::Float32, true}); };
  auto transposed = [&](Shape s) { return raw::transpose(randn(s, gen), -1, -2).set_requires_grad(true); };
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return cat(x, 1); }, {input({2, 3}), input({2, 1}), transposed({4, 2})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return cat(x, -3); }, {input({1, 2, 3}), input({2, 2, 3})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return stack(x, 1); }, {input({2, 3}), transposed({3, 2})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return stack(x, -1); }, {input({4}), input({4}), input({4})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return weighted_cat(split(x[0], 2, 1), 1); }, {input({3, 5})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return weighted_cat(chunk(x[0], 3, 0), 0); }, {transposed({4, 7})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return pad(x[0], {1, 2, -1, 1}, PadMode::Constant, 2.0); },
                               {input({3, 4})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return pad(x[0], {2, 1, 1, 2}, PadMode::Reflect); }, {input({2, 3, 4})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return pad(x[0], {3, 1, 0, 2}, PadMode::Replicate); },
                               {transposed({2, 3, 4})}));
}

TEST(JoinErrors, MismatchesNameOpAndShapes) {
  try {
    (void)cat({zeros({2, 3}), zeros({2, 4})}, 0);
    FAIL() << "expected ShapeError";
  } catch (const ShapeError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("cat"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[2, 3]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[2, 4]"), std::string::npos) << msg;
  }
  EXPECT_THROW((void)cat({}, 0), ShapeError);
  EXPECT_THROW((void)cat({zeros({2, 3}), zeros({2, 3, 1})}, 0), ShapeError);
  EXPECT_THROW((void)cat({zeros({2}), zeros({2}, TensorOptions{DType::Float64})}, 0), DTypeError);
  EXPECT_THROW((void)cat({zeros({2})}, 1), IndexError);
  EXPECT_THROW((void)stack({zeros({2, 3}), zeros({3, 2})}, 0), ShapeError);
  EXPECT_THROW((void)stack({zeros({2, 3})}, 3), IndexError);
  EXPECT_THROW((void)split(zeros({5}), 0), ShapeError);
  EXPECT_THROW((void)split(zeros({5}), {2, 2}), ShapeError);
  EXPECT_THROW((void)chunk(zeros({5}), 0), ShapeError);
  EXPECT_THROW((void)pad(zeros({2, 3}), {1}), ShapeError);
  EXPECT_THROW((void)pad(zeros({2, 3}), {1, 1, 1, 1, 1, 1}), ShapeError);
  EXPECT_THROW((void)pad(zeros({2, 3}), {3, 0}, PadMode::Reflect), ShapeError);
  EXPECT_THROW((void)pad(zeros({2, 3}), {-1, 0}, PadMode::Replicate), ShapeError);
  EXPECT_THROW((void)pad(zeros({2, 0}), {1, 0}, PadMode::Replicate), ShapeError);
  EXPECT_THROW((void)pad(zeros({2, 3}), {-2, -2}), ShapeError);
}

}  // namespace
}  // namespace vigil::testing
