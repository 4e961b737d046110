// Arithmetic, views, sum and matmul against PyTorch goldens, plus gradcheck of each.
#include "support/golden.hpp"

namespace vigil::testing {
namespace {

Tensor apply_arith(const std::vector<Tensor>& x, const nlohmann::json& p) {
  const std::string op = p.at("op");
  if (op == "add") return x[0] + x[1];
  if (op == "sub") return x[0] - x[1];
  if (op == "mul") return x[0] * x[1];
  if (op == "div") return x[0] / x[1];
  if (op == "neg") return -x[0];
  if (op == "pow") return pow(x[0], x[1]);
  if (op == "pow_scalar") return pow(x[0], p.at("exponent").get<double>());
  if (op == "scalar_ops") {
    // |x| + 1 as x*sign... uses only arith: (x + 2) * 3 - 1.5 / (x*x)^0.5 + 1) - (4 - x) / 2
    const Tensor abs_plus_one = pow(x[0] * x[0], 0.5) + 1.0;
    return (x[0] + 2.0) * 3.0 - 1.5 / abs_plus_one - (4.0 - x[0]) / 2.0;
  }
  if (op == "sum") {
    const auto dims = p.at("dims").get<std::vector<std::int64_t>>();
    return sum(x[0], dims, p.value("keepdim", false));
  }
  if (op == "reshape_permute") return reshape(t(reshape(x[0], Shape{4, 6})), Shape{2, 12}) * 1.0;
  if (op == "narrow_slice") return slice(narrow(x[0], 1, 1, 3), 1, 0, 3, 2) * 2.0;
  if (op == "expand_unsqueeze") return expand(unsqueeze(x[0], 0), Shape{3, 4, 5}) * 1.0;
  if (op == "matmul") return matmul(x[0], x[1]);
  throw Error("unknown golden op " + op);
}

TEST(ArithGolden, MatchesPyTorch) {
  const auto cases = load_golden("arith");
  ASSERT_GE(cases.size(), 30u);
  for (const auto& c : cases) check_golden_case(c, apply_arith, 1e-5, 1e-5);
}

TEST(ArithGradcheck, EveryOpPassesInFloat64) {
  Generator gen(1);
  auto input = [&](Shape s) { return randn(s, gen, TensorOptions{DType::Float32, true}); };
  auto positive = [&](Shape s) { return (pow(randn(s, gen), 2.0) + 0.5).detach().set_requires_grad(true); };
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return x[0] + x[1]; }, {input({3, 4}), input({4})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return x[0] - x[1]; }, {input({2, 1, 3}), input({4, 1})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return x[0] * x[1]; }, {input({3, 4}), input({3, 1})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return x[0] / x[1]; }, {input({3, 4}), positive({4})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return pow(x[0], x[1]); }, {positive({3, 4}), input({3, 4})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return pow(x[0], 3.0); }, {input({5})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return 2.0 / x[0] - 1.0; }, {positive({5})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return sum(x[0], {1}, true); }, {input({3, 4, 2})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return matmul(x[0], x[1]); }, {input({2, 3, 4}), input({4, 5})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return matmul(x[0], x[1]); }, {input({4}), input({4, 3})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return permute(x[0], {2, 0, 1}) * 1.0; }, {input({2, 3, 4})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return slice(x[0], 0, 1, 5, 2); }, {input({6, 2})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return expand(x[0], Shape{3, 2, 4}); }, {input({2, 1})}));
}

TEST(ArithErrors, ShapeMismatchNamesOpAndBothShapes) {
  const Tensor a = zeros({2, 3}), b = zeros({4, 3});
  try {
    (void)add(a, b);
    FAIL() << "expected ShapeError";
  } catch (const ShapeError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("add"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[2, 3]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[4, 3]"), std::string::npos) << msg;
  }
  EXPECT_THROW((void)matmul(zeros({2, 3}), zeros({4, 5})), ShapeError);
  EXPECT_THROW((void)add(zeros({2}), zeros({2}, TensorOptions{DType::Int64})), DTypeError);
}

}  // namespace
}  // namespace vigil::testing

namespace vigil::testing {
namespace {

// fused_linear against its composite definition matmul(x, t(W)) + b: values and every gradient.
TEST(FusedLinear, EqualsTheCompositeAndPassesGradcheck) {
  Generator gen(7);
  for (bool with_bias : {true, false}) {
    const Tensor x = randn({2, 5, 7}, gen), w = randn({3, 7}, gen), b = randn({3}, gen), g = randn({2, 5, 3}, gen);
    std::vector<Tensor> fused_in{x.detach().set_requires_grad(), w.detach().set_requires_grad(),
                                 with_bias ? b.detach().set_requires_grad() : Tensor()};
    std::vector<Tensor> plain_in{x.detach().set_requires_grad(), w.detach().set_requires_grad(),
                                 b.detach().set_requires_grad()};
    const Tensor fused = fused_linear(fused_in[0], fused_in[1], fused_in[2]);
    const Tensor product = matmul(plain_in[0], t(plain_in[1]));
    const Tensor plain = with_bias ? product + plain_in[2] : product;
    EXPECT_TRUE(tensors_close(fused, plain, 1e-5, 1e-5));
    backward(fused, g);
    backward(plain, g);
    for (int i = 0; i < (with_bias ? 3 : 2); ++i) EXPECT_TRUE(tensors_close(fused_in[i].grad(), plain_in[i].grad(), 1e-5, 1e-5)) << i;
    EXPECT_TRUE(fused_in[1].grad().is_contiguous());  // W's gradient arrives in W's own layout, no copy needed
  }
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return fused_linear(in[0], in[1], in[2]); },
                               {randn({4, 6}, gen, {DType::Float32, true}), randn({5, 6}, gen, {DType::Float32, true}),
                                randn({5}, gen, {DType::Float32, true})}));
  EXPECT_THROW((void)fused_linear(zeros({2, 4}), zeros({3, 5}), Tensor()), ShapeError);
  EXPECT_THROW((void)fused_linear(zeros({2, 5}), zeros({3, 5}), zeros({4})), ShapeError);
}

}  // namespace
}  // namespace vigil::testing
