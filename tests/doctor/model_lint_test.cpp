#include "vigil/doctor/model_lint.hpp"

#include <gtest/gtest.h>

#include "preflight_rig.hpp"

namespace vigil::doctor {
namespace {

using testing::cyclic_labels;
using testing::find;
using testing::make_loader;
using testing::mlp;
using testing::Rig;
using Layers = std::vector<std::shared_ptr<nn::Module>>;

Report run(const Rig& rig) {
  const Setup setup = rig.setup();
  Report report;
  lint_model(setup, infer_task(setup), Options{}, report);
  return report;
}

std::shared_ptr<nn::Sequential> sequential(Layers layers) { return std::make_shared<nn::Sequential>(std::move(layers)); }

// A 3-class problem on 5 standardised features.
struct Classification {
  Generator gen{11};
  std::shared_ptr<data::DataLoader> loader = make_loader(randn({48, 5}, gen), cyclic_labels(48, 3));
  Rig rig(std::shared_ptr<nn::Module> model) { return Rig(std::move(model), loader); }
  std::shared_ptr<nn::Linear> linear(std::int64_t in, std::int64_t out) {
    return std::make_shared<nn::Linear>(in, out, gen);
  }
};

TEST(ModelLint, HealthyClassifierHasNoFinding) {
  Classification c;
  const Report report = run(c.rig(mlp(5, 8, 3, c.gen)));
  EXPECT_TRUE(report.findings().empty()) << report.text();
}

TEST(ModelLint, LinearLayersWithOnlyDropoutAndBatchNormBetweenLackANonlinearity) {
  Classification c;
  Generator drop{1};
  const auto model = sequential({c.linear(5, 8), std::make_shared<nn::Dropout>(0.2, drop),
                                 sequential({std::make_shared<nn::BatchNorm1d>(8), c.linear(8, 8)}),
                                 std::make_shared<nn::ReLU>(), c.linear(8, 3)});
  const Report report = run(c.rig(model));
  const Finding f = find(report, "model.missing_nonlinearity");
  EXPECT_EQ(f.where, "0 -> 2.1");
  EXPECT_NE(f.explanation.find("only Dropout, BatchNorm1d"), std::string::npos) << f.explanation;
  EXPECT_EQ(report.findings().size(), 1u) << report.text();  // 2.1 -> ReLU -> 4 is fine
}

TEST(ModelLint, SoftmaxBeforeCrossEntropyIsFlagged) {
  Classification c;
  const auto model = sequential({c.linear(5, 3), std::make_shared<nn::Softmax>(1)});
  const Finding f = find(run(c.rig(model)), "model.softmax_into_cross_entropy");
  EXPECT_EQ(f.where, "1");
  EXPECT_EQ(f.severity, Severity::warning);
}

TEST(ModelLint, LogSoftmaxWithCrossEntropyIsANoteAndWithNllLossIsFine) {
  Classification c;
  const auto model = sequential({c.linear(5, 3), std::make_shared<nn::LogSoftmax>(1)});
  Rig rig = c.rig(model);
  EXPECT_EQ(find(run(rig), "model.log_softmax_into_cross_entropy").severity, Severity::info);
  rig.loss = [](const Tensor& y, const Tensor& t) { return nn::nll_loss(y, t); };
  const Report with_nll = run(rig);
  EXPECT_TRUE(with_nll.findings().empty()) << with_nll.text();
}

TEST(ModelLint, NllLossOnLogitsIsFlagged) {
  Classification c;
  Rig rig = c.rig(mlp(5, 8, 3, c.gen));
  rig.loss = [](const Tensor& y, const Tensor& t) { return nn::nll_loss(y, t); };
  EXPECT_TRUE(run(rig).has("model.nll_without_log_softmax"));
}

TEST(ModelLint, ReluOrSigmoidOnLogitsIsFlagged) {
  Classification c;
  const Finding relu =
      find(run(c.rig(sequential({c.linear(5, 3), std::make_shared<nn::ReLU>()}))), "model.activation_on_logits");
  EXPECT_NE(relu.explanation.find("ReLU"), std::string::npos);
  EXPECT_TRUE(run(c.rig(sequential({c.linear(5, 3), std::make_shared<nn::Sigmoid>()}))).has("model.activation_on_logits"));
}

// Regression on 4 features with targets drawn by `target`.
Rig regression_rig(Generator& gen, std::shared_ptr<nn::Module> model, const Tensor& targets) {
  Rig rig(std::move(model), make_loader(randn({targets.size(0), 4}, gen), targets));
  rig.loss = [](const Tensor& y, const Tensor& t) { return nn::mse_loss(y, t); };
  return rig;
}

TEST(ModelLint, SigmoidOutputCannotReachTargetsAboveOne) {
  Generator gen{12};
  auto model = [&] {
    return sequential({std::make_shared<nn::Linear>(4, 1, gen), std::make_shared<nn::Sigmoid>()});
  };
  const Finding f = find(run(regression_rig(gen, model(), rand({64, 1}, gen) * 10.0)), "model.output_range");
  EXPECT_EQ(f.severity, Severity::error);  // ~90% of the targets lie above 1
  EXPECT_EQ(f.where, "1");
  const Report in_range = run(regression_rig(gen, model(), rand({64, 1}, gen)));
  EXPECT_TRUE(in_range.findings().empty()) << in_range.text();
}

TEST(ModelLint, MseOnClassIndicesIsFlagged) {
  Generator gen{13};
  const Tensor indices = raw::to_dtype(raw::reshape(cyclic_labels(80, 4), {80, 1}), DType::Float32);
  const Finding f =
      find(run(regression_rig(gen, mlp(4, 8, 1, gen), indices)), "model.regression_on_class_indices");
  EXPECT_EQ(*f.value, 4.0);
  EXPECT_NE(f.suggestion.find("4 outputs"), std::string::npos);
  const Report real_valued = run(regression_rig(gen, mlp(4, 8, 1, gen), randn({80, 1}, gen)));
  EXPECT_TRUE(real_valued.findings().empty()) << real_valued.text();
}

TEST(ModelLint, DropoutAboveOneHalfIsNamed) {
  Classification c;
  Generator drop{1};
  auto model = [&](double p) {
    return sequential({c.linear(5, 8), std::make_shared<nn::ReLU>(), std::make_shared<nn::Dropout>(p, drop),
                       c.linear(8, 3)});
  };
  const Finding f = find(run(c.rig(model(0.8))), "model.heavy_dropout");
  EXPECT_EQ(f.where, "2");
  EXPECT_EQ(*f.value, 0.8);
  EXPECT_FALSE(run(c.rig(model(0.3))).has("model.heavy_dropout"));
}

TEST(ModelLint, LeavesHooksModeAndGeneratorsAsFound) {
  Classification c;
  Generator drop{1};
  const auto model = sequential({c.linear(5, 8), std::make_shared<nn::Dropout>(0.3, drop), std::make_shared<nn::ReLU>(),
                                 c.linear(8, 3)});
  model->train();
  const Generator before = *model->named_generators()[0].second;
  int calls = 0;
  model->register_forward_hook([&calls](const nn::Module&, const Tensor&, const Tensor&) { ++calls; });
  run(c.rig(model));
  const int during = calls;
  Generator after = *model->named_generators()[0].second;
  EXPECT_TRUE(model->training());
  EXPECT_EQ(Generator(before).next_u64(), after.next_u64());
  NoGradGuard no_grad;
  (*model)(randn({2, 5}, c.gen));
  EXPECT_EQ(calls, during + 1);  // the lint's own hooks are gone; the user's still fires
}

}  // namespace
}  // namespace vigil::doctor
