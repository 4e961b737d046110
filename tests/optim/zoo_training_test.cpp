// Every model of the zoo (include/vigil/nn/zoo.hpp) learns: a few Adam steps on one tiny random batch lower its
// loss, class cross-entropy for the classifiers and per-pixel cross-entropy for the U-Net. The batch norms run in
// training mode throughout (batch statistics), so the loss before and after is measured the same way; the steps
// touch every parameter.
#include "support/golden.hpp"

#include <vigil/nn/nn.hpp>
#include <vigil/optim/optim.hpp>

#include <memory>
#include <string>
#include <vector>

namespace vigil::testing {
namespace {

// The loss before the first step and after `steps` Adam steps on (x, targets).
std::pair<double, double> train_on_batch(nn::Module& model, const Tensor& x, const Tensor& targets, int steps,
                                         double lr) {
  optim::Adam adam(optim::named_parameters(model), {.lr = lr});
  model.train();
  double first = 0;
  for (int step = 0; step < steps; ++step) {
    adam.zero_grad();
    const Tensor loss = nn::cross_entropy(model(x), targets);
    if (step == 0) first = loss.item();
    backward(loss);
    adam.step();
  }
  const double last = nn::cross_entropy(model(x), targets).item();
  return {first, last};
}

struct Case {
  std::string name;
  std::shared_ptr<nn::Module> model;
  Shape input;
  Shape targets;
  std::int64_t classes;
};

TEST(ZooTraining, AdamStepsLowerTheLoss) {
  Generator gen(0);
  const std::vector<Case> cases{
      {"LeNet5 1ch 28", std::make_shared<nn::LeNet5>(1, 10, gen, 28), {8, 1, 28, 28}, {8}, 10},
      {"LeNet5 3ch 32", std::make_shared<nn::LeNet5>(3, 10, gen, 32), {8, 3, 32, 32}, {8}, 10},
      {"SmallVGG 3ch 32", std::make_shared<nn::SmallVGG>(3, 10, gen, nn::SmallVGGOptions{.width = 4}),
       {8, 3, 32, 32}, {8}, 10},
      {"ResNet18 1ch 28", std::make_shared<nn::ResNet18>(1, 10, gen, nn::ResNetOptions{.width = 4}),
       {8, 1, 28, 28}, {8}, 10},
      {"MobileNet 3ch 32",
       std::make_shared<nn::MobileNet>(3, 10, gen, nn::MobileNetOptions{.width_multiplier = 0.125}),
       {8, 3, 32, 32}, {8}, 10},
      {"UNet 1ch 28", std::make_shared<nn::UNet>(1, 3, gen, nn::UNetOptions{.width = 4}), {2, 1, 28, 28},
       {2, 28, 28}, 3},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const Tensor x = randn(c.input, gen);
    const Tensor targets = randint(0, c.classes, c.targets, gen);
    const auto [first, last] = train_on_batch(*c.model, x, targets, 20, 1e-2);
    EXPECT_LT(last, 0.9 * first) << "loss " << first << " -> " << last;
  }
}

}  // namespace
}  // namespace vigil::testing
