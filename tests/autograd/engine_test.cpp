// The tape: accumulation, retain_graph, freed graphs, no-grad, detach, hooks, non-scalar backward.
#include "support/golden.hpp"

#include <vigil/autograd/function.hpp>

namespace vigil::testing {
namespace {

TEST(Engine, GradientsAccumulateAcrossBackwardCalls) {
  Tensor x = from_vector(std::vector<float>{1, 2, 3}, {3}, TensorOptions{DType::Float32, true});
  backward(sum(x * x));
  backward(sum(x * 3.0));
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{2 + 3, 4 + 3, 6 + 3}));
  zero_grad(x);
  EXPECT_FALSE(x.grad().defined());
}

TEST(Engine, SharedSubexpressionGetsSummedGradient) {
  Tensor x = from_vector(std::vector<float>{2}, {1}, TensorOptions{DType::Float32, true});
  Tensor y = x * x;             // y = x^2
  backward(sum(y * y + y));     // d/dx (x^4 + x^2) = 4x^3 + 2x = 36
  EXPECT_FLOAT_EQ(x.grad().item(), 36.0f);
}

TEST(Engine, WalkingAFreedGraphTwiceIsAClearError) {
  Tensor x = ones({2}, TensorOptions{DType::Float32, true});
  Tensor loss = sum(x * x);
  backward(loss);
  try {
    backward(loss);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("retain_graph"), std::string::npos) << e.what();
  }
}

TEST(Engine, RetainGraphAllowsASecondPass) {
  Tensor x = ones({2}, TensorOptions{DType::Float32, true});
  Tensor loss = sum(x * x);
  backward(loss, Tensor(), /*retain_graph=*/true);
  backward(loss);
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{4, 4}));
}

TEST(Engine, NonScalarNeedsExplicitGradient) {
  Tensor x = ones({2, 2}, TensorOptions{DType::Float32, true});
  Tensor y = x * 2.0;
  EXPECT_THROW(backward(y), ShapeError);
  backward(y, full({2, 2}, 0.5f));
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{1, 1, 1, 1}));
}

TEST(Engine, NoGradGuardRecordsNothing) {
  Tensor x = ones({2}, TensorOptions{DType::Float32, true});
  Tensor y;
  {
    NoGradGuard guard;
    y = x * 2.0;
  }
  EXPECT_FALSE(y.requires_grad());
  EXPECT_EQ(y.grad_fn(), nullptr);
  EXPECT_THROW(backward(sum(y)), Error);
}

TEST(Engine, DetachCutsTheGraph) {
  Tensor x = ones({2}, TensorOptions{DType::Float32, true});
  Tensor y = (x * 2.0).detach();
  EXPECT_FALSE(y.requires_grad());
  EXPECT_TRUE(y.shares_storage(x * 1.0) == false);
}

TEST(Engine, HooksSeeAndReplaceGradients) {
  Tensor x = from_vector(std::vector<float>{1, 2}, {2}, TensorOptions{DType::Float32, true});
  Tensor h = x * 3.0;
  std::vector<float> seen;
  register_hook(h, [&](const Tensor& g) {
    seen = g.to_vector();
    return g * 10.0;  // replace: doubles as a test that hooks run with grad mode off
  });
  retain_grad(h);
  backward(sum(h * h));
  EXPECT_EQ(seen, (std::vector<float>{6, 12}));           // d(h^2)/dh = 2h
  EXPECT_EQ(h.grad().to_vector(), (std::vector<float>{60, 120}));  // retain_grad runs after the replacing hook
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{180, 360}));
}

TEST(Engine, LeafHookSeesTheAccumulatedGradient) {
  Tensor w = ones({3}, TensorOptions{DType::Float32, true});
  int calls = 0;
  register_hook(w, [&](const Tensor& g) {
    ++calls;
    EXPECT_EQ(g.to_vector(), (std::vector<float>{2, 2, 2}));
    return Tensor();
  });
  backward(sum(w + w));
  EXPECT_EQ(calls, 1);
}

TEST(Engine, GradcheckCatchesAWrongBackward) {
  // A deliberately wrong op: forward x^2, backward claiming x (should be 2x). gradcheck must name input 0.
  auto wrong_square = [](const std::vector<Tensor>& in) {
    const Tensor& x = in[0];
    Tensor out = raw::clone(x);
    {
      NoGradGuard g;
      out = x * x;
    }
    out = out.detach();
    record<1>("wrong_square", out, {&x}, [x = saved(x)](const Tensor& g, GradInputs& dx) {
      NoGradGuard guard;
      dx[0] = g * x;
    });
    return out;
  };
  Generator gen(3);
  const GradcheckResult r = gradcheck(wrong_square, {randn({4}, gen, TensorOptions{DType::Float32, true})});
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.worst_input, 0);
  EXPECT_NE(r.report.find("input 0"), std::string::npos) << r.report;
}

}  // namespace
}  // namespace vigil::testing
