// Optimisers and frozen parameters (nn::Module::freeze): a frozen parameter gets no gradient, so every optimiser
// skips it, weight decay included, while the rest of the model trains.
#include "support/golden.hpp"

#include <vigil/nn/nn.hpp>
#include <vigil/optim/optim.hpp>

#include <memory>
#include <string>
#include <vector>

namespace vigil::testing {
namespace {

// Sequential(Linear(4, 8), ReLU, Linear(8, 3)).
std::shared_ptr<nn::Sequential> mlp(Generator& gen) {
  return std::make_shared<nn::Sequential>(std::vector<std::shared_ptr<nn::Module>>{
      std::make_shared<nn::Linear>(4, 8, gen), std::make_shared<nn::ReLU>(), std::make_shared<nn::Linear>(8, 3, gen)});
}

// A copy of every parameter's values, by path.
std::vector<std::vector<float>> values(const nn::Module& model) {
  std::vector<std::vector<float>> out;
  for (const auto& [path, p] : model.named_parameters()) out.push_back(p.to_vector());
  return out;
}

void train(nn::Module& model, optim::Optimizer& opt, Generator& gen, int steps) {
  for (int i = 0; i < steps; ++i) {
    opt.zero_grad();
    backward(nn::mse_loss(model(randn({6, 4}, gen)), randn({6, 3}, gen)));
    opt.step();
  }
}

TEST(OptimFreeze, FrozenLayerStaysBitIdenticalWhileTheRestMoves) {
  // Coupled and decoupled weight decay, and momentum: each would move a parameter that it did not skip.
  const auto make = [](std::size_t which,
                       const std::vector<optim::NamedParameter>& params) -> std::unique_ptr<optim::Optimizer> {
    if (which == 0) return std::make_unique<optim::Adam>(params, optim::AdamOptions{.lr = 0.01, .weight_decay = 0.1});
    if (which == 1) return std::make_unique<optim::AdamW>(params, optim::AdamWOptions{.lr = 0.01, .weight_decay = 0.1});
    return std::make_unique<optim::SGD>(params, optim::SGDOptions{.lr = 0.1, .momentum = 0.9, .weight_decay = 0.1});
  };
  for (std::size_t which = 0; which < 3; ++which) {
    Generator gen(0);
    auto model = mlp(gen);
    ASSERT_EQ(model->freeze("0"), 2u);
    // The optimiser gets every parameter, frozen ones included (as when built before the freeze).
    const auto opt = make(which, optim::named_parameters(*model));
    SCOPED_TRACE(opt->name());
    const auto before = values(*model);
    train(*model, *opt, gen, 5);
    const auto after = values(*model);
    EXPECT_EQ(after[0], before[0]);  // 0.weight, bit for bit
    EXPECT_EQ(after[1], before[1]);  // 0.bias
    EXPECT_NE(after[2], before[2]);  // 2.weight
    EXPECT_NE(after[3], before[3]);  // 2.bias
    EXPECT_EQ(opt->state("0.weight").step, 0);
    EXPECT_EQ(opt->state("2.weight").step, 5);

    // Unfrozen, the layer trains from where it was; its step count counts its own updates.
    model->unfreeze("0");
    train(*model, *opt, gen, 2);
    EXPECT_NE(values(*model)[0], before[0]);
    EXPECT_EQ(opt->state("0.weight").step, 2);
    EXPECT_EQ(opt->state("2.weight").step, 7);
  }
}

TEST(OptimFreeze, AnOptimiserOverTheTrainableParametersOnly) {
  Generator gen(1);
  auto model = mlp(gen);
  model->freeze("*.weight");
  std::vector<optim::NamedParameter> trainable;
  for (const auto& [path, p] : model->named_trainable_parameters()) trainable.push_back({path, p});
  optim::Adam opt(trainable, optim::AdamOptions{.lr = 0.01});
  EXPECT_EQ(opt.parameters().size(), 2u);
  const auto before = values(*model);
  train(*model, opt, gen, 3);
  const auto after = values(*model);
  EXPECT_EQ(after[0], before[0]);
  EXPECT_NE(after[1], before[1]);
  EXPECT_EQ(after[2], before[2]);
  EXPECT_NE(after[3], before[3]);
  EXPECT_THROW((void)opt.state("0.weight"), Error);
}

}  // namespace
}  // namespace vigil::testing
