// Residual and Concat: values, child names and parameter paths, gradcheck through the container (with a branch
// whose parameter is a gradcheck input), hooks of the children, and the shape errors.
#include "support/golden.hpp"
#include "tensor/expect_error.hpp"

#include <vigil/nn/nn.hpp>

#include <memory>
#include <string>
#include <vector>

namespace vigil::testing {
namespace {

// y = tanh(x * w) with w set from outside, so that gradcheck can pass w as an input and check its gradient
// through the container.
class ScaledTanh : public nn::Module {
 public:
  Tensor forward(const Tensor& x) override { return tanh(x * w); }
  Tensor w;
};

std::vector<std::string> paths(const nn::Module& m) {
  std::vector<std::string> out;
  for (const auto& [path, parameter] : m.named_parameters()) out.push_back(path);
  return out;
}

TEST(Residual, AddsTheInputToTheBranch) {
  Generator gen(0);
  auto linear = std::make_shared<nn::Linear>(4, 4, gen);
  nn::Residual block(linear);
  EXPECT_EQ(paths(block), (std::vector<std::string>{"fn.weight", "fn.bias"}));
  EXPECT_EQ(&block.fn(), linear.get());
  const Tensor x = randn({3, 4}, gen);
  EXPECT_EQ(block(x).to_vector(), (x + nn::linear(x, linear->weight(), linear->bias())).to_vector());
  // The identity path: with fn's gradient zero, dx = dy.
  nn::Residual skip(std::make_shared<nn::Identity>());
  const Tensor leaf = x.detach().set_requires_grad(true);
  backward(sum(skip(leaf)));
  EXPECT_EQ(leaf.grad().to_vector(), std::vector<float>(12, 2.0f));
}

TEST(Residual, GradcheckThroughTheBlock) {
  Generator gen(1);
  auto branch = std::make_shared<ScaledTanh>();
  auto block = std::make_shared<nn::Residual>(branch);
  EXPECT_TRUE(passes_gradcheck(
      [branch, block](const auto& x) {
        branch->w = x[1];
        return (*block)(x[0]);
      },
      {randn({3, 5}, gen, TensorOptions{DType::Float32, true}), randn({5}, gen, TensorOptions{DType::Float32, true})}));
}

TEST(Residual, BranchChangingTheShapeShowsBothShapes) {
  Generator gen(2);
  nn::Residual block(std::make_shared<nn::Linear>(4, 3, gen));
  EXPECT_TRUE(throws_with<ShapeError>([&] { block(zeros({2, 4})); }, {"Residual", "[2, 3]", "[2, 4]"}));
  EXPECT_THROW(nn::Residual(nullptr), Error);
}

TEST(Concat, JoinsBranchOutputsAlongDim) {
  Generator gen(3);
  auto a = std::make_shared<nn::Linear>(4, 2, gen);
  auto b = std::make_shared<nn::Linear>(4, 3, gen);
  nn::Concat block({a, std::make_shared<nn::Identity>(), b});
  EXPECT_EQ(block.size(), 3u);
  EXPECT_EQ(block.dim(), 1);
  EXPECT_EQ(paths(block), (std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"}));
  EXPECT_EQ(block.named_children()[1].first, "1");
  const Tensor x = randn({5, 4}, gen);
  const Tensor y = block(x);
  EXPECT_EQ(y.shape(), (Shape{5, 9}));
  EXPECT_EQ(y.to_vector(), cat({(*a)(x), x, (*b)(x)}, 1).to_vector());
  // Along another dim: two [2, 3] outputs stacked into [4, 3].
  nn::Concat rows({std::make_shared<nn::Identity>(), std::make_shared<nn::Tanh>()}, 0);
  EXPECT_EQ(rows(zeros({2, 3})).shape(), (Shape{4, 3}));
}

TEST(Concat, ChildrenHooksFire) {
  Generator gen(4);
  auto branch = std::make_shared<nn::Tanh>();
  int calls = 0;
  branch->register_forward_hook([&](const nn::Module&, const Tensor&, const Tensor&) { ++calls; });
  nn::Concat block({branch, branch});
  block(randn({2, 2}, gen));
  EXPECT_EQ(calls, 2);
}

TEST(Concat, GradcheckThroughTheBranches) {
  Generator gen(5);
  auto first = std::make_shared<ScaledTanh>();
  auto block = std::make_shared<nn::Concat>(
      std::vector<std::shared_ptr<nn::Module>>{first, std::make_shared<nn::Identity>(), std::make_shared<nn::SiLU>()}, -1);
  EXPECT_TRUE(passes_gradcheck(
      [first, block](const auto& x) {
        first->w = x[1];
        return (*block)(x[0]);
      },
      {randn({2, 3, 4}, gen, TensorOptions{DType::Float32, true}), randn({4}, gen, TensorOptions{DType::Float32, true})}));
}

TEST(Concat, MismatchedBranchesShowBothShapes) {
  Generator gen(6);
  nn::Concat block({std::make_shared<nn::Linear>(4, 2, gen), std::make_shared<nn::Flatten>(0)});
  EXPECT_TRUE(throws_with<ShapeError>([&] { block(zeros({3, 4})); }, {"Concat", "branch 1", "[12]", "[3, 2]"}));
  nn::Concat rows({std::make_shared<nn::Linear>(4, 2, gen), std::make_shared<nn::Identity>()}, 0);
  EXPECT_TRUE(throws_with<ShapeError>([&] { rows(zeros({3, 4})); }, {"branch 1", "[3, 4]", "[3, 2]"}));
  EXPECT_THROW(nn::Concat(std::vector<std::shared_ptr<nn::Module>>{}), Error);
}

}  // namespace
}  // namespace vigil::testing
