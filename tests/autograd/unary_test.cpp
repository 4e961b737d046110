// Pointwise math (exp .. sign, clamp, minimum/maximum, where, comparisons) against PyTorch goldens, gradcheck of
// each differentiable op, the edge cases PyTorch defines (kinks, ties, NaN), and the error cases.
#include "support/golden.hpp"

#include <cmath>
#include <limits>

namespace vigil::testing {
namespace {

std::optional<double> optional_bound(const nlohmann::json& p, const char* key) {
  if (!p.contains(key) || p.at(key).is_null()) return std::nullopt;
  return p.at(key).get<double>();
}

Tensor apply_unary(const std::vector<Tensor>& x, const nlohmann::json& p) {
  const std::string op = p.at("op");
  if (op == "exp") return exp(x[0]);
  if (op == "log") return log(x[0]);
  if (op == "log1p") return log1p(x[0]);
  if (op == "sqrt") return sqrt(x[0]);
  if (op == "rsqrt") return rsqrt(x[0]);
  if (op == "abs") return abs(x[0]);
  if (op == "sign") return sign(x[0]);
  if (op == "clamp") return clamp(x[0], optional_bound(p, "min"), optional_bound(p, "max"));
  if (op == "minimum") return minimum(x[0], x[1]);
  if (op == "maximum") return maximum(x[0], x[1]);
  if (op == "where") return where(x[0], x[1], x[2]);
  const bool scalar = p.contains("value");
  const double v = p.value("value", 0.0);
  if (op == "eq") return scalar ? eq(x[0], v) : eq(x[0], x[1]);
  if (op == "ne") return scalar ? ne(x[0], v) : ne(x[0], x[1]);
  if (op == "lt") return scalar ? lt(x[0], v) : lt(x[0], x[1]);
  if (op == "le") return scalar ? le(x[0], v) : le(x[0], x[1]);
  if (op == "gt") return scalar ? gt(x[0], v) : gt(x[0], x[1]);
  if (op == "ge") return scalar ? ge(x[0], v) : ge(x[0], x[1]);
  throw Error("unknown golden op " + op);
}

TEST(UnaryGolden, MatchesPyTorch) {
  const auto cases = load_golden("unary");
  ASSERT_GE(cases.size(), 70u);
  for (const auto& c : cases) check_golden_case(c, apply_unary, 1e-5, 1e-6);
}

TEST(UnaryGolden, ComparisonsReturnBoolAndRecordNothing) {
  for (const auto& c : load_golden("unary")) {
    if (c.output.dtype() != DType::Bool) continue;
    SCOPED_TRACE(c.name);
    std::vector<Tensor> inputs;
    for (const Tensor& x : c.inputs) inputs.push_back(x.detach().set_requires_grad(true));
    const Tensor out = apply_unary(inputs, c.params);
    EXPECT_EQ(out.dtype(), DType::Bool);
    EXPECT_FALSE(out.requires_grad());
    EXPECT_EQ(out.grad_fn(), nullptr);
  }
}

// Inputs for gradcheck, kept away from each op's kinks and domain edges so finite differences are meaningful.
class UnaryGradcheck : public ::testing::Test {
 protected:
  Generator gen{7};
  Tensor input(Shape s) { return randn(s, gen, TensorOptions{DType::Float32, true}); }
  // |x| >= 0.2 (each value pushed 0.2 further from 0): away from the kinks of abs, sign and clamp at 0.
  Tensor away_from_zero(Shape s) {
    const Tensor x = randn(s, gen);
    return (x + sign(x) * 0.2).detach().set_requires_grad(true);
  }
  Tensor positive(Shape s) { return (abs(randn(s, gen)) + 0.3).detach().set_requires_grad(true); }
};

TEST_F(UnaryGradcheck, ElementaryFunctions) {
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return exp(x[0]); }, {input({3, 4})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return log(x[0]); }, {positive({3, 4})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return log1p(x[0]); }, {positive({7})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return sqrt(x[0]); }, {positive({2, 5})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return rsqrt(x[0]); }, {positive({2, 5})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return abs(x[0]); }, {away_from_zero({4, 3})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return sign(x[0]); }, {away_from_zero({6})}));
}

TEST_F(UnaryGradcheck, ClampMinimumMaximumWhere) {
  // Every |x| >= 0.2, so bounds at 0 and +-0.1 stay at least 0.1 from every value.
  const Tensor x = away_from_zero({5, 4});
  EXPECT_TRUE(passes_gradcheck([](const auto& v) { return clamp(v[0], -0.1, 0.1); }, {x}));
  EXPECT_TRUE(passes_gradcheck([](const auto& v) { return clamp(v[0], 0.0); }, {x}));
  EXPECT_TRUE(passes_gradcheck([](const auto& v) { return clamp(v[0], std::nullopt, 0.0); }, {x}));
  // a and b = a + offset with |offset| >= 0.2 never tie.
  const Tensor a = input({3, 4});
  const Tensor b = (a.detach() + away_from_zero({3, 4}).detach()).set_requires_grad(true);
  EXPECT_TRUE(passes_gradcheck([](const auto& v) { return minimum(v[0], v[1]); }, {a, b}));
  EXPECT_TRUE(passes_gradcheck([](const auto& v) { return maximum(v[0], v[1]); }, {a, b}));
  EXPECT_TRUE(passes_gradcheck([](const auto& v) { return maximum(v[0], v[1]); }, {input({4, 1, 3}), input({2, 1})}));
  const Tensor cond = gt(randn({3, 1}, gen), 0.0);
  EXPECT_TRUE(passes_gradcheck([cond](const auto& v) { return where(cond, v[0], v[1]); }, {input({4}), input({2, 3, 4})}));
}

TEST(UnaryEdges, AbsAndSignAtZeroAndNaN) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Tensor x = from_vector(std::vector<float>{-2.0f, 0.0f, -0.0f, 3.0f, nan}, {5}).set_requires_grad(true);
  backward(sum(abs(x)));
  const auto dx = x.grad().to_vector();
  EXPECT_EQ(dx[0], -1.0f);
  EXPECT_EQ(dx[1], 0.0f);
  EXPECT_EQ(dx[2], 0.0f);
  EXPECT_EQ(dx[3], 1.0f);
  const auto s = sign(x).to_vector();
  EXPECT_EQ(s[1], 0.0f);
  EXPECT_EQ(s[4], 0.0f) << "PyTorch 1.13's sign(NaN) is 0";
}

TEST(UnaryEdges, SignHasZeroGradient) {
  const Tensor x = from_vector(std::vector<float>{-2.0f, 0.5f}, {2}).set_requires_grad(true);
  const Tensor y = sign(x);
  EXPECT_TRUE(y.requires_grad());
  backward(sum(y));
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{0.0f, 0.0f}));
}

TEST(UnaryEdges, ClampKeepsNaNAndPassesGradientOnBounds) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Tensor x = from_vector(std::vector<float>{nan, -1.0f, 1.0f, 5.0f}, {4}).set_requires_grad(true);
  const Tensor y = clamp(x, -1.0, 1.0);
  const auto v = y.to_vector();
  EXPECT_TRUE(std::isnan(v[0]));
  EXPECT_EQ(v[3], 1.0f);
  backward(y, ones({4}));
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{0.0f, 1.0f, 1.0f, 0.0f}));
}

TEST(UnaryEdges, MinimumMaximumPropagateNaNAndSplitTies) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Tensor a = from_vector(std::vector<float>{nan, 1.0f, 2.0f}, {3}).set_requires_grad(true);
  const Tensor b = from_vector(std::vector<float>{1.0f, nan, 2.0f}, {3}).set_requires_grad(true);
  const auto hi = maximum(a, b), lo = minimum(a, b);
  EXPECT_TRUE(std::isnan(hi.to_vector()[0]) && std::isnan(hi.to_vector()[1]));
  EXPECT_TRUE(std::isnan(lo.to_vector()[0]) && std::isnan(lo.to_vector()[1]));
  backward(sum(hi));
  EXPECT_EQ(a.grad().to_vector()[2], 0.5f);
  EXPECT_EQ(b.grad().to_vector()[2], 0.5f);
}

TEST(UnaryEdges, WhereSelectsGradientsWithoutLeakingInfinities) {
  // An infinite upstream gradient at a position must reach only the selected side: the other side gets exactly
  // 0 there, not inf * 0 = NaN.
  const float inf = std::numeric_limits<float>::infinity();
  const Tensor a = from_vector(std::vector<float>{1.0f, 2.0f}, {2}).set_requires_grad(true);
  const Tensor b = from_vector(std::vector<float>{3.0f, 4.0f}, {2}).set_requires_grad(true);
  const Tensor cond = gt(from_vector(std::vector<float>{1.0f, -1.0f}, {2}), 0.0);
  const Tensor y = where(cond, a, b);
  EXPECT_EQ(y.to_vector(), (std::vector<float>{1.0f, 4.0f}));
  backward(y, from_vector(std::vector<float>{1.0f, inf}, {2}));
  EXPECT_EQ(a.grad().to_vector(), (std::vector<float>{1.0f, 0.0f}));
  EXPECT_EQ(b.grad().to_vector(), (std::vector<float>{0.0f, inf}));
}

TEST(UnaryEdges, ComparisonsWithNaN) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Tensor x = from_vector(std::vector<float>{nan}, {1});
  EXPECT_EQ(eq(x, x).to_vector()[0], 0.0f);
  EXPECT_EQ(ne(x, x).to_vector()[0], 1.0f);
  EXPECT_EQ(lt(x, 0.0).to_vector()[0], 0.0f);
  EXPECT_EQ(ge(x, 0.0).to_vector()[0], 0.0f);
}

TEST(UnaryEdges, Float64KeepsDtype) {
  const Tensor x = raw::to_dtype(from_vector(std::vector<float>{0.5f, 2.0f}, {2}), DType::Float64);
  EXPECT_EQ(exp(x).dtype(), DType::Float64);
  EXPECT_EQ(clamp(x, 0.0, 1.0).dtype(), DType::Float64);
  EXPECT_EQ(maximum(x, x).dtype(), DType::Float64);
  EXPECT_EQ(lt(x, x).dtype(), DType::Bool);
}

template <class Fn>
void expect_error_mentions(Fn&& fn, const std::vector<std::string>& parts) {
  try {
    fn();
    ADD_FAILURE() << "expected an exception mentioning " << parts.front();
  } catch (const Error& e) {
    const std::string msg = e.what();
    for (const auto& part : parts) EXPECT_NE(msg.find(part), std::string::npos) << msg;
  }
}

TEST(UnaryErrors, BroadcastMismatchNamesOpAndShapes) {
  const Tensor a = zeros({2, 3}), b = zeros({4, 3});
  EXPECT_THROW((void)minimum(a, b), ShapeError);
  EXPECT_THROW((void)maximum(a, b), ShapeError);
  expect_error_mentions([&] { (void)where(gt(zeros({5}), 0.0), a, a); }, {"where", "[5]", "[2, 3]"});
  expect_error_mentions([&] { (void)maximum(a, b); }, {"maximum", "[2, 3]", "[4, 3]"});
  expect_error_mentions([&] { (void)lt(a, b); }, {"lt", "[2, 3]", "[4, 3]"});
}

TEST(UnaryErrors, DTypes) {
  const Tensor f32 = zeros({3}), f64 = zeros({3}, TensorOptions{DType::Float64});
  const Tensor i64 = zeros({3}, TensorOptions{DType::Int64});
  EXPECT_THROW((void)exp(i64), DTypeError);
  EXPECT_THROW((void)maximum(f32, f64), DTypeError);
  EXPECT_THROW((void)eq(f32, i64), DTypeError);
  // where: the condition must be Bool, the values floating and of one dtype.
  expect_error_mentions([&] { (void)where(f32, f32, f32); }, {"where", "bool", "[3]"});
  EXPECT_THROW((void)where(gt(f32, 0.0), f32, f64), DTypeError);
  EXPECT_THROW((void)where(gt(f32, 0.0), i64, i64), DTypeError);
}

TEST(UnaryErrors, ClampNeedsABound) {
  expect_error_mentions([] { (void)clamp(zeros({2, 2}), std::nullopt, std::nullopt); }, {"clamp", "[2, 2]"});
}

}  // namespace
}  // namespace vigil::testing
