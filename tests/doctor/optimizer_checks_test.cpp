#include "vigil/doctor/optimizer_checks.hpp"

#include <gtest/gtest.h>

#include "preflight_rig.hpp"
#include "vigil/optim/rmsprop.hpp"
#include "vigil/optim/sgd.hpp"

namespace vigil::doctor {
namespace {

using testing::cyclic_labels;
using testing::find;
using testing::make_loader;
using testing::mlp;
using testing::Rig;

Report run(const Rig& rig) {
  const Setup setup = rig.setup();
  Report report;
  check_optimizer(setup, infer_task(setup), Options{}, report);
  return report;
}

struct Fixture {
  Generator gen{21};
  Rig rig{mlp(5, 8, 3, gen), make_loader(randn({64, 5}, gen), cyclic_labels(64, 3), 32)};
  std::vector<optim::NamedParameter> params() const { return optim::named_parameters(*rig.model); }
};

TEST(OptimizerChecks, DefaultAdamOnEveryParameterHasNoFinding) {
  Fixture f;
  const Report report = run(f.rig);
  EXPECT_TRUE(report.findings().empty()) << report.text();
}

TEST(OptimizerChecks, ParametersLeftOutOfTheOptimiserAreAnErrorNamingThem) {
  Fixture f;
  std::vector<optim::NamedParameter> first_layer;
  for (const auto& p : f.params())
    if (p.path.starts_with("1.")) first_layer.push_back(p);
  f.rig.optimizer = std::make_shared<optim::Adam>(first_layer);
  const Finding finding = find(run(f.rig), "optim.missing_parameters");
  EXPECT_EQ(finding.severity, Severity::error);
  EXPECT_EQ(finding.where, "3.weight");
  EXPECT_EQ(*finding.value, 2.0);
  EXPECT_NE(finding.explanation.find("3.weight, 3.bias"), std::string::npos);
  f.rig.model->freeze("3");  // frozen parameters are meant to stay out
  EXPECT_FALSE(run(f.rig).has("optim.missing_parameters"));
}

TEST(OptimizerChecks, AnOptimiserBuiltForAnotherModelIsCaught) {
  Fixture f;
  const auto other = mlp(5, 8, 3, f.gen);
  f.rig.optimizer = std::make_shared<optim::Adam>(optim::named_parameters(*other));
  const Report report = run(f.rig);
  EXPECT_NE(find(report, "optim.missing_parameters").explanation.find("another model instance"), std::string::npos);
  EXPECT_TRUE(report.has("optim.unknown_parameters"));
}

TEST(OptimizerChecks, AFullyFrozenModelHasNothingToTrain) {
  Fixture f;
  f.rig.model->freeze("*");
  EXPECT_EQ(find(run(f.rig), "optim.nothing_to_train").severity, Severity::error);
}

TEST(OptimizerChecks, LearningRatesOutsideTheOptimisersRange) {
  Fixture f;
  f.rig.optimizer = std::make_shared<optim::Adam>(f.params(), optim::AdamOptions{.lr = 0.1});
  const Finding high = find(run(f.rig), "optim.learning_rate");
  EXPECT_EQ(high.severity, Severity::warning);
  EXPECT_EQ(*high.threshold, 1e-2);
  f.rig.optimizer = std::make_shared<optim::SGD>(f.params(), optim::SGDOptions{.lr = 1e-7});
  EXPECT_EQ(*find(run(f.rig), "optim.learning_rate").threshold, 1e-5);
  f.rig.optimizer = std::make_shared<optim::SGD>(f.params(), optim::SGDOptions{.lr = 0.0});
  EXPECT_EQ(find(run(f.rig), "optim.learning_rate").severity, Severity::error);
  f.rig.optimizer = std::make_shared<optim::SGD>(f.params(), optim::SGDOptions{.lr = 0.1, .momentum = 0.9});
  const Report healthy = run(f.rig);
  EXPECT_TRUE(healthy.findings().empty()) << healthy.text();
}

TEST(OptimizerChecks, MomentumBetasAndEps) {
  Fixture f;
  f.rig.optimizer = std::make_shared<optim::SGD>(f.params(), optim::SGDOptions{.lr = 0.01, .momentum = 1.0});
  EXPECT_EQ(find(run(f.rig), "optim.momentum").severity, Severity::error);
  f.rig.optimizer = std::make_shared<optim::RMSprop>(f.params(), optim::RMSpropOptions{.lr = 1e-3, .momentum = 0.9995});
  EXPECT_EQ(find(run(f.rig), "optim.momentum").severity, Severity::warning);
  f.rig.optimizer = std::make_shared<optim::Adam>(f.params(), optim::AdamOptions{.beta2 = 0.5});
  EXPECT_TRUE(run(f.rig).has("optim.betas"));
  f.rig.optimizer = std::make_shared<optim::Adam>(f.params(), optim::AdamOptions{.eps = 0.1});
  EXPECT_TRUE(run(f.rig).has("optim.eps"));
  f.rig.optimizer = std::make_shared<optim::AdamW>(f.params(), optim::AdamWOptions{.beta2 = 0.98, .eps = 1e-6});
  const Report healthy = run(f.rig);
  EXPECT_TRUE(healthy.findings().empty()) << healthy.text();
}

TEST(OptimizerChecks, WeightDecay) {
  Fixture f;
  f.rig.optimizer = std::make_shared<optim::SGD>(f.params(), optim::SGDOptions{.lr = 0.01, .weight_decay = 0.5});
  EXPECT_EQ(find(run(f.rig), "optim.weight_decay").severity, Severity::warning);
  f.rig.optimizer = std::make_shared<optim::AdamW>(f.params(), optim::AdamWOptions{.lr = 1e-2, .weight_decay = 200.0});
  EXPECT_EQ(find(run(f.rig), "optim.weight_decay").severity, Severity::error);  // 1 - lr * wd = -1
  f.rig.optimizer = std::make_shared<optim::AdamW>(f.params(), optim::AdamWOptions{.weight_decay = 0.05});
  EXPECT_FALSE(run(f.rig).has("optim.weight_decay"));
}

TEST(OptimizerChecks, SummedLossWithAMeanLossLearningRate) {
  Fixture f;
  f.rig.optimizer = std::make_shared<optim::SGD>(f.params(), optim::SGDOptions{.lr = 0.1});
  nn::CrossEntropyOptions sum;
  sum.reduction = nn::Reduction::Sum;
  f.rig.loss = [sum](const Tensor& y, const Tensor& t) { return nn::cross_entropy(y, t, sum); };
  const Finding finding = find(run(f.rig), "optim.summed_loss");
  EXPECT_NEAR(*finding.value, 3.2, 1e-9);  // lr 0.1 x batch 32
  // The same sum with the learning rate scaled down by the batch size, a mean loss, or Adam: no finding.
  f.rig.optimizer = std::make_shared<optim::SGD>(f.params(), optim::SGDOptions{.lr = 0.1 / 32});
  EXPECT_FALSE(run(f.rig).has("optim.summed_loss"));
  f.rig.optimizer = std::make_shared<optim::Adam>(f.params());
  EXPECT_FALSE(run(f.rig).has("optim.summed_loss"));
  f.rig.optimizer = std::make_shared<optim::SGD>(f.params(), optim::SGDOptions{.lr = 0.1});
  f.rig.loss = testing::cross_entropy_loss();
  EXPECT_FALSE(run(f.rig).has("optim.summed_loss"));
}

}  // namespace
}  // namespace vigil::doctor
