// Reductions and softmax against PyTorch goldens, gradcheck of each differentiable op, and error cases.
#include "support/golden.hpp"

#include <cmath>

namespace vigil::testing {
namespace {

std::vector<std::int64_t> dims_of(const nlohmann::json& p) { return p.at("dims").get<std::vector<std::int64_t>>(); }

Tensor apply_reduce(const std::vector<Tensor>& x, const nlohmann::json& p) {
  const std::string op = p.at("op");
  const bool keepdim = p.value("keepdim", false);
  const std::int64_t correction = p.value("correction", 1);
  if (op == "mean") return mean(x[0], dims_of(p), keepdim);
  if (op == "max") return max(x[0], p.at("dim"), keepdim).values;
  if (op == "min") return min(x[0], p.at("dim"), keepdim).values;
  if (op == "max_indices") return max(x[0], p.at("dim"), keepdim).indices;
  if (op == "min_indices") return min(x[0], p.at("dim"), keepdim).indices;
  if (op == "max_all") return max(x[0]);
  if (op == "min_all") return min(x[0]);
  if (op == "argmax") return argmax(x[0], p.at("dim"), keepdim);
  if (op == "argmin") return argmin(x[0], p.at("dim"), keepdim);
  if (op == "argmax_all") return argmax(x[0]);
  if (op == "argmin_all") return argmin(x[0]);
  if (op == "var") return var(x[0], dims_of(p), correction, keepdim);
  if (op == "std") return vigil::std(x[0], dims_of(p), correction, keepdim);
  if (op == "logsumexp") return logsumexp(x[0], dims_of(p), keepdim);
  if (op == "softmax") return softmax(x[0], p.at("dim"));
  if (op == "log_softmax") return log_softmax(x[0], p.at("dim"));
  throw Error("unknown golden op " + op);
}

TEST(ReduceGolden, MatchesPyTorch) {
  const auto cases = load_golden("reduce");
  ASSERT_GE(cases.size(), 80u);
  for (const auto& c : cases) check_golden_case(c, apply_reduce, 1e-5, 1e-5);
}

TEST(ReduceGolden, IndicesAreInt64) {
  const Tensor x = from_vector(std::vector<float>{1, 5, 5, 2, 0, 0}, Shape{2, 3});
  const auto [values, indices] = max(x, 1);
  EXPECT_EQ(indices.dtype(), DType::Int64);
  EXPECT_EQ(indices.data<std::int64_t>()[0], 1);  // first of the tied 5s
  EXPECT_EQ(min(x, 1).indices.data<std::int64_t>()[1], 1);  // first of the tied 0s
  EXPECT_EQ(argmin(x).dtype(), DType::Int64);
  EXPECT_EQ(argmin(x).dim(), 0);
  EXPECT_EQ(argmin(x).data<std::int64_t>()[0], 4);
  EXPECT_FALSE(argmax(x.detach().set_requires_grad(true), 0).requires_grad());
}

TEST(ReduceGolden, SoftmaxOfHugeLogitsIsFinite) {
  const Tensor x = from_vector(std::vector<float>{1e4f, -1e4f, 1e4f, -1e4f, -1e4f, -1e4f}, Shape{2, 3});
  for (int dim : {0, 1}) {
    for (const Tensor& y : {softmax(x, dim), log_softmax(x, dim), logsumexp(x, {dim})}) {
      for (float v : y.to_vector()) EXPECT_TRUE(std::isfinite(v)) << v;
    }
  }
  const auto y = softmax(x, 1).to_vector();
  EXPECT_FLOAT_EQ(y[0], 0.5f);
  EXPECT_FLOAT_EQ(y[3], 1.0f / 3.0f);
}

TEST(ReduceGolden, LogsumexpOfAllMinusInfinityIsMinusInfinity) {
  const Tensor x = full({2, 3}, -INFINITY);
  for (float v : logsumexp(x, {1}).to_vector()) EXPECT_EQ(v, -INFINITY);
}

TEST(ReduceGradcheck, EveryOpPassesInFloat64) {
  Generator gen(2);
  auto input = [&](Shape s) { return randn(s, gen, TensorOptions{DType::Float32, true}); };
  auto transposed = [&](Shape s) { return raw::transpose(randn(s, gen), 0, 1).set_requires_grad(true); };
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return mean(x[0]); }, {input({3, 4})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return mean(x[0], {0, 2}, true); }, {input({3, 4, 5})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return max(x[0], 1).values; }, {input({4, 5})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return min(x[0], -1, true).values; }, {input({2, 3, 5})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return max(x[0], 0).values; }, {transposed({5, 3})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return max(x[0]); }, {input({3, 4})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return min(x[0]); }, {input({7})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return var(x[0]); }, {input({3, 4})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return var(x[0], {1}, 0, true); }, {input({3, 5})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return var(x[0], {0, 2}, 2); }, {transposed({4, 3, 2})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return vigil::std(x[0], {-1}); }, {input({3, 6})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return vigil::std(x[0]); }, {transposed({4, 3})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return logsumexp(x[0], {1}); }, {input({3, 5})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return logsumexp(x[0], {0, 2}, true); }, {input({2, 3, 4})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return softmax(x[0], -1); }, {input({3, 5})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return softmax(x[0], 1); }, {input({2, 4, 3})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return softmax(x[0], 0); }, {transposed({4, 3})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return log_softmax(x[0], -1); }, {input({3, 5})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return log_softmax(x[0], 0); }, {transposed({3, 4})}));
}

TEST(ReduceGradcheck, MaxOverAllSharesTheGradientAmongTies) {
  const Tensor x = from_vector(std::vector<float>{1, 3, 3, 2}, Shape{4}).set_requires_grad(true);
  backward(max(x));
  EXPECT_TRUE(tensors_close(x.grad(), from_vector(std::vector<float>{0, 0.5f, 0.5f, 0}, Shape{4})));
  const Tensor y = from_vector(std::vector<float>{1, 3, 3, 2}, Shape{1, 4}).set_requires_grad(true);
  backward(sum(max(y, 1).values));
  EXPECT_TRUE(tensors_close(y.grad(), from_vector(std::vector<float>{0, 1, 0, 0}, Shape{1, 4})));
}

TEST(ReduceGradcheck, StdOfAConstantLaneHasZeroGradient) {
  const Tensor x = full({1, 4}, 2.0f, TensorOptions{DType::Float32, true});
  backward(sum(vigil::std(x, {1})));
  for (float v : x.grad().to_vector()) EXPECT_EQ(v, 0.0f);
}

template <class F>
void expect_error_naming(F&& f, const std::string& op, const std::string& detail) {
  try {
    f();
    FAIL() << "expected an error from " << op;
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(op), std::string::npos) << msg;
    EXPECT_NE(msg.find(detail), std::string::npos) << msg;
  }
}

TEST(ReduceErrors, BadDimsAndEmptyReductions) {
  const Tensor x = zeros({2, 3});
  EXPECT_THROW((void)mean(x, {2}), IndexError);
  EXPECT_THROW((void)var(x, {0, 0}), ShapeError);
  EXPECT_THROW((void)softmax(x, -3), IndexError);
  EXPECT_THROW((void)max(zeros({0})), IndexError);
  EXPECT_THROW((void)max(zeros({2, 0}), 1), IndexError);
  EXPECT_THROW((void)argmin(zeros({3, 0}), 1), IndexError);
  EXPECT_THROW((void)logsumexp(zeros({2}, TensorOptions{DType::Int64}), {0}), DTypeError);
  expect_error_naming([&] { (void)max(zeros({2, 0}), 1); }, "max", "[2, 0]");
  expect_error_naming([&] { (void)log_softmax(x, 5); }, "log_softmax", "5");
}

}  // namespace
}  // namespace vigil::testing
