// The pre-flight probes: for each, a broken tiny setup that raises the finding and a healthy one that does not;
// and every probe leaves the setup as it found it.
#include "vigil/doctor/probes.hpp"

#include <gtest/gtest.h>

#include <vigil/autograd/function.hpp>

#include "probe_rig.hpp"

namespace vigil::doctor {
namespace {

using testing::make_rig;
using testing::mlp;
using testing::rewrite;

std::string text(const Report& report) { return report.text(); }

// ---- Loss at initialisation ----

TEST(ProbeLossAtInit, HealthyInitIsQuiet) {
  auto rig = make_rig(mlp(), 1e-2);
  Report report;
  probe_loss_at_init(rig.setup(), rig.task(), {}, report);
  EXPECT_TRUE(report.findings().empty()) << text(report);
}

TEST(ProbeLossAtInit, OverconfidentLastLayerRaisesTheLoss) {
  auto model = mlp();
  rewrite(model->named_parameters()[2].second, [](const Tensor& w) { return mul(w, 100.0); });
  auto rig = make_rig(model, 1e-2);
  Report report;
  probe_loss_at_init(rig.setup(), rig.task(), {}, report);
  ASSERT_TRUE(report.has("probe.loss_at_init")) << text(report);
  const Finding& f = report.findings().front();
  EXPECT_EQ(f.cause, Cause::initialisation);
  EXPECT_GT(*f.value, *f.threshold);
  EXPECT_NEAR(*f.threshold, 1.5 * std::log(3.0), 1e-9);
}

TEST(ProbeLossAtInit, ADominantBiasCollapsesThePredictions) {
  auto model = mlp();
  rewrite(model->named_parameters()[3].second,
          [](const Tensor& b) { return from_vector(std::vector<float>{0, 30, 0}, b.shape()); });
  auto rig = make_rig(model, 1e-2);
  Report report;
  probe_loss_at_init(rig.setup(), rig.task(), {}, report);
  EXPECT_TRUE(report.has("probe.collapsed_predictions")) << text(report);
}

TEST(ProbeLossAtInit, RegressionComparesWithTheTargetVariance) {
  auto healthy = make_rig(mlp(1, 1), 1e-2, true);
  Report quiet;
  probe_loss_at_init(healthy.setup(), healthy.task(), {}, quiet);
  EXPECT_FALSE(quiet.has("probe.loss_at_init")) << text(quiet);

  auto model = mlp(1, 1);
  rewrite(model->named_parameters()[3].second, [](const Tensor& b) { return full(b.shape(), 20.0f); });
  auto rig = make_rig(model, 1e-2, true);
  Report report;
  probe_loss_at_init(rig.setup(), rig.task(), {}, report);
  EXPECT_TRUE(report.has("probe.loss_at_init")) << text(report);
}

// ---- Activations ----

TEST(ProbeLossAtInit, ASummedLossIsJudgedPerSample) {
  auto rig = make_rig(mlp(), 1e-2);
  nn::CrossEntropyOptions summed;
  summed.reduction = nn::Reduction::Sum;
  rig.loss = [summed](const Tensor& y, const Tensor& t) { return nn::cross_entropy(y, t, summed); };
  Report report;
  probe_loss_at_init(rig.setup(), rig.task(), {}, report);
  EXPECT_FALSE(report.has("probe.loss_at_init")) << text(report);  // 32x ln 3 in all, ln 3 per sample
}

TEST(ProbeLossAtInit, ARegularisersPenaltyIsLeftOut) {
  auto model = mlp();
  auto rig = make_rig(model, 1e-2);
  const auto penalty = [model] { return nn::l2_penalty(nn::weights_only(*model), 100.0); };
  rig.loss = [penalty](const Tensor& y, const Tensor& t) { return add(nn::cross_entropy(y, t), penalty()); };
  doctor::Setup setup = rig.setup();
  Report with_penalty;
  probe_loss_at_init(setup, rig.task(), {}, with_penalty);
  ASSERT_TRUE(with_penalty.has("probe.loss_at_init")) << text(with_penalty);  // the doctor cannot tell it apart
  setup.regularizer = penalty;
  Report told;
  probe_loss_at_init(setup, rig.task(), {}, told);
  EXPECT_FALSE(told.has("probe.loss_at_init")) << text(told);
}

// y = log(x) on pre-activations, half of them negative.
class LogLayer : public nn::Module {
 public:
  Tensor forward(const Tensor& x) override { return log(x); }
  std::string type_name() const override { return "LogLayer"; }
};

TEST(ProbeLossAtInit, ANonFiniteLossNamesTheLayerThatMadeIt) {
  Generator gen(1);
  auto model = std::make_shared<nn::Sequential>(std::vector<std::shared_ptr<nn::Module>>{
      std::make_shared<nn::Linear>(8, 32, gen), std::make_shared<LogLayer>(), std::make_shared<nn::Linear>(32, 3, gen)});
  auto rig = make_rig(model, 1e-2);
  Report report;
  probe_loss_at_init(rig.setup(), rig.task(), {}, report);
  ASSERT_TRUE(report.has("probe.loss_at_init")) << text(report);
  const Finding& f = report.ranked().front();
  EXPECT_EQ(f.where, "1");
  EXPECT_EQ(f.severity, Severity::error);
  EXPECT_EQ(f.cause, Cause::model);
  // Its forward is NaN at the probe's inputs: finite differences have nothing to say about its backward.
  Report gradients;
  probe_gradients(rig.setup(), rig.task(), {}, gradients);
  EXPECT_FALSE(gradients.has("probe.gradcheck")) << text(gradients);
}

TEST(ProbeActivations, HealthyMlpIsQuiet) {
  auto rig = make_rig(mlp(), 1e-2);
  Report report;
  probe_activations(rig.setup(), rig.task(), {}, report);
  EXPECT_TRUE(report.findings().empty()) << text(report);
}

TEST(ProbeActivations, ConstantWeightsGiveIdenticalUnits) {
  auto model = mlp();
  rewrite(model->named_parameters()[0].second, [](const Tensor& w) { return full(w.shape(), 0.1f); });
  rewrite(model->named_parameters()[1].second, [](const Tensor& b) { return zeros(b.shape()); });
  auto rig = make_rig(model, 1e-2);
  Report report;
  probe_activations(rig.setup(), rig.task(), {}, report);
  EXPECT_TRUE(report.has("probe.symmetric_init")) << text(report);
  EXPECT_EQ(report.ranked().front().where, "0");
  EXPECT_EQ(report.ranked().front().severity, Severity::error);
}

TEST(ProbeActivations, TinyInitVanishesWithDepth) {
  Generator gen(2);
  std::vector<std::shared_ptr<nn::Module>> layers;
  for (int k = 0; k < 4; ++k) {
    layers.push_back(std::make_shared<nn::Linear>(k == 0 ? 8 : 32, 32, gen));
    layers.push_back(std::make_shared<nn::Tanh>());
  }
  layers.push_back(std::make_shared<nn::Linear>(32, 3, gen));
  auto model = std::make_shared<nn::Sequential>(layers);
  for (auto& [path, p] : model->named_parameters()) {  // small weights, zero biases: each layer shrinks the signal
    rewrite(p, [](const Tensor& w) { return mul(w, w.dim() == 2 ? 0.3 : 0.0); });
  }
  auto rig = make_rig(model, 1e-2);
  Report report;
  probe_activations(rig.setup(), rig.task(), {}, report);
  EXPECT_TRUE(report.has("probe.activation_trend")) << text(report);
  EXPECT_TRUE(report.has("probe.activation_scale")) << text(report);
  for (const Finding& f : report.findings()) {
    if (f.check == "probe.activation_trend") {
      EXPECT_LT(*f.value, 0.1);
    }
  }
}

TEST(ProbeActivations, NegativeBiasKillsReluUnits) {
  auto model = mlp();
  rewrite(model->named_parameters()[1].second, [](const Tensor& b) { return full(b.shape(), -10.0f); });
  auto rig = make_rig(model, 1e-2);
  Report report;
  probe_activations(rig.setup(), rig.task(), {}, report);
  ASSERT_TRUE(report.has("probe.dead_relu")) << text(report);
  EXPECT_EQ(report.findings().front().where, "1");
  EXPECT_DOUBLE_EQ(*report.findings().front().value, 1.0);
}

TEST(ProbeActivations, LargeWeightsSaturateTanh) {
  Generator gen(3);
  auto model = std::make_shared<nn::Sequential>(std::vector<std::shared_ptr<nn::Module>>{
      std::make_shared<nn::Linear>(8, 32, gen), std::make_shared<nn::Tanh>(), std::make_shared<nn::Linear>(32, 3, gen)});
  rewrite(model->named_parameters()[0].second, [](const Tensor& w) { return mul(w, 30.0); });
  auto rig = make_rig(model, 1e-2);
  Report report;
  probe_activations(rig.setup(), rig.task(), {}, report);
  ASSERT_TRUE(report.has("probe.saturation")) << text(report);
}

// ---- Gradient check ----

// y = x * w with a backward whose input gradient has the wrong sign (the weight's is right).
Tensor wrong_scale(const Tensor& x, const Tensor& w) {
  Tensor out;
  {
    NoGradGuard no_grad;
    out = mul(x, w);
  }
  record<2>("wrong_scale", out, {&x, &w}, [x = saved(x), w = saved(w)](const Tensor& g, GradInputs& dx) {
    if (dx.needs(0)) dx[0] = neg(mul(g, w));
    if (dx.needs(1)) dx[1] = sum(mul(g, x), {0});
  });
  return out;
}

// The same op with the weight gradient missing a factor 2.
Tensor half_weight_grad(const Tensor& x, const Tensor& w) {
  Tensor out;
  {
    NoGradGuard no_grad;
    out = mul(x, w);
  }
  record<2>("half_weight_grad", out, {&x, &w}, [x = saved(x), w = saved(w)](const Tensor& g, GradInputs& dx) {
    if (dx.needs(0)) dx[0] = mul(g, w);
    if (dx.needs(1)) dx[1] = mul(sum(mul(g, x), {0}), 0.5);
  });
  return out;
}

class CustomScale : public nn::Module {
 public:
  CustomScale(std::int64_t n, bool wrong_input) : wrong_input_(wrong_input) {
    weight_ = register_parameter("weight", ones({n}));
  }
  Tensor forward(const Tensor& x) override { return wrong_input_ ? wrong_scale(x, weight_) : half_weight_grad(x, weight_); }

 private:
  bool wrong_input_;
  Tensor weight_;
};

std::shared_ptr<nn::Sequential> with_custom(std::shared_ptr<nn::Module> custom) {
  Generator gen(4);
  return std::make_shared<nn::Sequential>(std::vector<std::shared_ptr<nn::Module>>{
      std::make_shared<nn::Linear>(8, 16, gen), custom, std::make_shared<nn::ReLU>(), std::make_shared<nn::Linear>(16, 3, gen)});
}

TEST(ProbeGradients, HealthyLayersPass) {
  Generator gen(5);
  auto model = std::make_shared<nn::Sequential>(std::vector<std::shared_ptr<nn::Module>>{
      std::make_shared<nn::Linear>(8, 16, gen), std::make_shared<nn::BatchNorm1d>(16), std::make_shared<nn::Tanh>(),
      std::make_shared<nn::Dropout>(0.5, gen), std::make_shared<nn::Linear>(16, 3, gen)});
  auto rig = make_rig(model, 1e-2);
  Report report;
  probe_gradients(rig.setup(), rig.task(), {}, report);
  EXPECT_TRUE(report.findings().empty()) << text(report);
}

TEST(ProbeGradients, CustomModuleWithWrongInputGradientIsNamed) {
  auto rig = make_rig(with_custom(std::make_shared<CustomScale>(16, true)), 1e-2);
  Report report;
  probe_gradients(rig.setup(), rig.task(), {}, report);
  ASSERT_EQ(report.findings().size(), 1u) << text(report);  // the custom layer, not the Sequential above it
  const Finding& f = report.findings().front();
  EXPECT_EQ(f.check, "probe.gradcheck");
  EXPECT_EQ(f.where, "1");
  EXPECT_EQ(f.cause, Cause::model);
  EXPECT_NE(f.explanation.find("its input"), std::string::npos) << f.explanation;
}

TEST(ProbeGradients, CustomModuleWithWrongWeightGradientIsNamed) {
  auto rig = make_rig(with_custom(std::make_shared<CustomScale>(16, false)), 1e-2);
  Report report;
  probe_gradients(rig.setup(), rig.task(), {}, report);
  ASSERT_EQ(report.findings().size(), 1u) << text(report);
  EXPECT_EQ(report.findings().front().where, "1");
  EXPECT_NE(report.findings().front().explanation.find("parameter 'weight'"), std::string::npos);
}

// ---- Batch independence ----

class MeanOverBatch : public nn::Module {  // out = x + mean over the batch: mixes samples
 public:
  Tensor forward(const Tensor& x) override { return add(x, mean(x, {0}, true)); }
};

class SwapReshape : public nn::Module {  // [N, F] -> viewed as [F, N] and transposed back: scrambles samples
 public:
  Tensor forward(const Tensor& x) override { return contiguous(t(reshape(x, {x.size(1), x.size(0)}))); }
};

TEST(ProbeBatchIndependence, HealthyModelIsQuiet) {
  Generator gen(6);
  auto model = std::make_shared<nn::Sequential>(std::vector<std::shared_ptr<nn::Module>>{
      std::make_shared<nn::Linear>(8, 16, gen), std::make_shared<nn::BatchNorm1d>(16), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::Linear>(16, 3, gen)});
  auto rig = make_rig(model, 1e-2);
  Report report;
  probe_batch_independence(rig.setup(), rig.task(), {}, report);
  EXPECT_TRUE(report.findings().empty()) << text(report);
}

TEST(ProbeBatchIndependence, MeanOverTheBatchIsCaughtAndLocated) {
  auto rig = make_rig(with_custom(std::make_shared<MeanOverBatch>()), 1e-2);
  Report report;
  probe_batch_independence(rig.setup(), rig.task(), {}, report);
  ASSERT_TRUE(report.has("probe.batch_independence")) << text(report);
  EXPECT_EQ(report.findings().front().where, "1");
  EXPECT_EQ(report.findings().front().severity, Severity::error);
}

TEST(ProbeBatchIndependence, ATransposedReshapeIsCaught) {
  auto rig = make_rig(with_custom(std::make_shared<SwapReshape>()), 1e-2);
  Report report;
  probe_batch_independence(rig.setup(), rig.task(), {}, report);
  ASSERT_TRUE(report.has("probe.batch_independence")) << text(report);
  EXPECT_EQ(report.findings().front().where, "1");
}

// ---- Overfit one batch ----

TEST(ProbeOverfit, HealthySetupMemorisesTheBatch) {
  auto rig = make_rig(mlp(), 1e-2);
  Report report;
  probe_overfit_one_batch(rig.setup(), rig.task(), {}, report);
  EXPECT_TRUE(report.findings().empty()) << text(report);
}

TEST(ProbeOverfit, TinyLearningRateCannotFit) {
  auto rig = make_rig(mlp(), 1e-9);
  Report report;
  probe_overfit_one_batch(rig.setup(), rig.task(), {}, report);
  ASSERT_TRUE(report.has("probe.overfit_one_batch")) << text(report);
  EXPECT_LT(*report.findings().front().value, 1.0);
}

TEST(ProbeOverfit, RegressionMustReachALowLoss) {
  auto healthy = make_rig(mlp(1, 1), 1e-2, true);
  Report quiet;
  probe_overfit_one_batch(healthy.setup(), healthy.task(), {}, quiet);
  EXPECT_TRUE(quiet.findings().empty()) << text(quiet);

  auto broken = make_rig(mlp(1, 1), 1e-9, true);
  Report report;
  probe_overfit_one_batch(broken.setup(), broken.task(), {}, report);
  EXPECT_TRUE(report.has("probe.overfit_one_batch")) << text(report);
}

// ---- Input-independent baseline ----

class ZeroInput : public nn::Module {  // the first layer multiplies its input by zero
 public:
  Tensor forward(const Tensor& x) override { return mul(x, 0.0); }
};

TEST(ProbeBaseline, ModelUsingItsInputIsQuiet) {
  auto rig = make_rig(mlp(), 1e-2);
  Report report;
  probe_input_independent_baseline(rig.setup(), rig.task(), {}, report);
  EXPECT_TRUE(report.findings().empty()) << text(report);
}

TEST(ProbeBaseline, ModelIgnoringItsInputIsFlagged) {
  Generator gen(7);
  auto model = std::make_shared<nn::Sequential>(std::vector<std::shared_ptr<nn::Module>>{
      std::make_shared<ZeroInput>(), std::make_shared<nn::Linear>(8, 32, gen), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::Linear>(32, 3, gen)});
  auto rig = make_rig(model, 1e-2);
  Report report;
  probe_input_independent_baseline(rig.setup(), rig.task(), {}, report);
  ASSERT_TRUE(report.has("probe.input_independent")) << text(report);
  EXPECT_GT(*report.findings().front().value, 0.8);
}

// ---- Learning rate ----

TEST(ProbeLearningRate, SaneRateIsQuiet) {
  auto rig = make_rig(mlp(), 1e-2);
  Report report;
  probe_learning_rate(rig.setup(), rig.task(), {}, report);
  EXPECT_TRUE(report.findings().empty()) << text(report);
}

TEST(ProbeLearningRate, FarTooHighIsAWarningFarTooLowAnInfo) {
  auto high = make_rig(mlp(1, 1), 10.0, true, true);  // SGD on a regression diverges far below lr 10
  Report r1;
  probe_learning_rate(high.setup(), high.task(), {}, r1);
  ASSERT_TRUE(r1.has("probe.learning_rate")) << text(r1);
  EXPECT_EQ(r1.findings().front().severity, Severity::warning);
  EXPECT_EQ(r1.findings().front().cause, Cause::optimisation);

  auto low = make_rig(mlp(), 1e-7);
  Report r2;
  probe_learning_rate(low.setup(), low.task(), {}, r2);
  ASSERT_TRUE(r2.has("probe.learning_rate")) << text(r2);
  EXPECT_EQ(r2.findings().front().severity, Severity::info);
}

// ---- All probes ----

TEST(RunProbes, HealthySetupHasNoFindingAndIsLeftExactlyAsFound) {
  Generator gen(8);
  auto model = std::make_shared<nn::Sequential>(std::vector<std::shared_ptr<nn::Module>>{
      std::make_shared<nn::Linear>(8, 32, gen), std::make_shared<nn::BatchNorm1d>(32), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::Dropout>(0.2, gen), std::make_shared<nn::Linear>(32, 3, gen)});
  auto rig = make_rig(model, 1e-2);
  // Some optimiser state and gradients first, so that restoring them is tested too.
  rig.optimizer->zero_grad();
  const auto [x, t] = testing::toy_data(false);
  backward(rig.loss((*model)(x), t));
  rig.optimizer->step();
  model->eval();

  std::vector<Tensor> before;
  for (auto& [path, p] : model->named_parameters()) before.push_back(clone(p));
  for (auto& [path, b] : model->named_buffers()) before.push_back(clone(b));
  std::vector<Tensor> grads_before;
  for (auto& [path, p] : model->named_parameters()) grads_before.push_back(clone(p.grad()));
  const optim::StateDict state_before = rig.optimizer->state_dict();
  Generator stream_before = *model->named_generators()[0].second;

  Report report;
  run_probes(rig.setup(), rig.task(), {}, report);
  EXPECT_TRUE(report.findings().empty()) << text(report);

  std::size_t k = 0;
  for (auto& [path, p] : model->named_parameters()) {
    EXPECT_EQ(p.dtype(), DType::Float32) << path;
    EXPECT_TRUE(p.requires_grad()) << path;
    EXPECT_TRUE(p.is_leaf()) << path;
    EXPECT_TRUE(allclose(p, before[k++], 0.0, 0.0)) << path;
  }
  for (auto& [path, b] : model->named_buffers()) EXPECT_TRUE(allclose(b, before[k++], 0.0, 0.0)) << path;
  k = 0;
  for (auto& [path, p] : model->named_parameters()) EXPECT_TRUE(allclose(p.grad(), grads_before[k++], 0.0, 0.0)) << path;
  const optim::StateDict state_after = rig.optimizer->state_dict();
  EXPECT_EQ(state_after.lr, state_before.lr);
  for (auto& [path, s] : state_before.params) {
    EXPECT_EQ(state_after.params.at(path).step, s.step) << path;
    for (auto& [name, buffer] : s.buffers) EXPECT_TRUE(allclose(state_after.params.at(path).buffers.at(name), buffer, 0.0, 0.0));
  }
  EXPECT_FALSE(model->training());
  EXPECT_EQ(model->named_generators()[0].second->next_u64(), stream_before.next_u64());
  // Training still works on the restored parameters (the graph reaches them as leaves).
  rig.optimizer->zero_grad();
  backward(rig.loss((*model)(x), t));
  for (auto& [path, p] : model->named_parameters()) EXPECT_TRUE(p.grad().defined()) << path;
}

TEST(RunProbes, SilencedProbesDoNotRunAndAFailingProbeBecomesAWarning) {
  auto rig = make_rig(with_custom(std::make_shared<CustomScale>(16, true)), 1e-2);
  Report report({"probe.gradcheck"});
  ProbeThresholds th;
  th.overfit_steps = 10;
  run_probes(rig.setup(), rig.task(), {}, report, th);
  EXPECT_FALSE(report.has("probe.gradcheck"));

  class Throws : public nn::Module {
   public:
    Throws() { register_parameter("weight", ones({1})); }
    Tensor forward(const Tensor&) override { throw Error("no forward today"); }
  };
  auto broken = make_rig(std::make_shared<Throws>(), 1e-2);
  // infer_task itself needs a forward pass, so the task is written by hand.
  Task task{.classification = true, .num_classes = 3, .input_shape = {32, 8}, .output_shape = {32, 3}};
  Report failed;
  run_probes(broken.setup(), task, {}, failed, th);
  EXPECT_TRUE(failed.has("probe.loss_at_init"));
  EXPECT_TRUE(failed.has("probe.overfit_one_batch"));
  EXPECT_EQ(failed.count(Severity::error), 0);
  EXPECT_NE(failed.text().find("no forward today"), std::string::npos);
}

}  // namespace
}  // namespace vigil::doctor
