// The training monitors: for each check, a tiny broken training that raises it, and healthy runs that raise
// nothing.
#include "vigil/doctor/monitor.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "vigil/autograd/autograd.hpp"
#include "vigil/data/datasets.hpp"
#include "vigil/nn/nn.hpp"
#include "vigil/optim/adam.hpp"
#include "vigil/optim/sgd.hpp"

namespace vigil::doctor {
namespace {

class LogLayer : public nn::Module {  // log of a value that can be negative: NaN in the forward pass
 public:
  Tensor forward(const Tensor& x) override { return log(x); }
};

// y = sqrt(w * x) with a learned gain w: at an input of exactly 0, sqrt is finite but its derivative is not, so
// the backward pass makes Inf (and Inf * 0 = NaN for dw) while the forward pass stays finite.
class RootGain : public nn::Module {
 public:
  explicit RootGain(std::int64_t n) : w_(register_parameter("weight", ones({n}))) {}
  Tensor forward(const Tensor& x) override { return sqrt(x * w_); }

 private:
  Tensor w_;
};

class Detach : public nn::Module {  // cuts the graph: the layers before it get no gradient
 public:
  Tensor forward(const Tensor& x) override { return x.detach(); }
};

// Calls a function at each batch's start or end (the "bug" a test injects).
class Inject : public train::Callback {
 public:
  std::function<void(train::TrainContext&)> begin, end;
  void on_batch_begin(train::TrainContext& c) override {
    if (begin) begin(c);
  }
  void on_batch_end(train::TrainContext& c) override {
    if (end) end(c);
  }
};

Tensor ce(const Tensor& y, const Tensor& t) { return nn::cross_entropy(y, t); }

MonitorOptions every_step() {
  MonitorOptions o;
  o.every = 1;
  o.frozen_min_steps = 10;
  return o;
}

// A tiny training: `n` examples in batches of 16, three learnable classes (the label is the argmax of the first
// three features) or a regression.
struct Trial {
  Generator gen{7};
  std::shared_ptr<nn::Sequential> model;
  std::unique_ptr<optim::Optimizer> optimizer;
  std::unique_ptr<data::DataLoader> loader;
  train::LossFunction loss = ce;
  std::function<Tensor()> regularizer;
  Report report;
  std::vector<LayerSample> samples;
  std::vector<double> losses;
  train::History history;
  std::vector<train::CallbackPtr> callbacks;

  explicit Trial(std::vector<std::shared_ptr<nn::Module>> layers) {
    model = std::make_shared<nn::Sequential>(std::move(layers));
  }
  // nonnegative: inputs relu(randn), half of them exactly 0.
  void classification(std::int64_t n = 64, std::int64_t features = 8, bool nonnegative = false) {
    Tensor x = randn({n, features}, gen);
    if (nonnegative) x = relu(x);
    const Tensor c = raw::contiguous(x);
    std::vector<std::int64_t> labels(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) {
      const float* row = c.data<float>() + i * features;
      labels[i] = std::max_element(row, row + 3) - row;
    }
    data_set(x, from_vector_i64(labels, {n}));
  }
  void data_set(const Tensor& x, const Tensor& y, std::int64_t batch = 16) {
    loader = std::make_unique<data::DataLoader>(std::make_shared<data::TensorDataset>(x, y),
                                                data::LoaderOptions{.batch_size = batch, .shuffle = true, .seed = 3});
  }
  void adam(double lr) { optimizer = std::make_unique<optim::Adam>(optim::named_parameters(*model), optim::AdamOptions{.lr = lr}); }
  void sgd(double lr) { optimizer = std::make_unique<optim::SGD>(optim::named_parameters(*model), optim::SGDOptions{.lr = lr}); }
  Setup setup() {
    Setup s{*model, loss, *optimizer, *loader};
    s.regularizer = regularizer;
    return s;
  }
  void fit(std::int64_t epochs, MonitorOptions options = every_step()) {
    const Setup s = setup();
    auto monitor = std::make_shared<Monitor>(s, infer_task(s), options, report);
    std::vector<train::CallbackPtr> all = callbacks;
    all.push_back(monitor);
    train::FitOptions fit_options;
    fit_options.epochs = epochs;
    fit_options.callbacks = all;
    history = train::fit(*model, loss, *optimizer, *loader, nullptr, fit_options);
    samples = monitor->layer_history();
    losses = monitor->losses();
  }
  std::string checks() const {
    std::string out;
    for (const Finding& f : report.findings()) out += f.check + " at '" + f.where + "': " + f.explanation + "\n";
    return out;
  }
  const Finding& finding(const std::string& check) const {
    for (const Finding& f : report.findings())
      if (f.check == check) return f;
    throw Error("no finding " + check);
  }
};

std::shared_ptr<nn::Linear> linear(std::int64_t in, std::int64_t out, Generator& gen) {
  return std::make_shared<nn::Linear>(in, out, gen);
}

Trial healthy_mlp() {
  Generator g{11};
  Trial run({linear(8, 16, g), std::make_shared<nn::ReLU>(), linear(16, 3, g)});
  run.classification();
  run.adam(3e-3);
  return run;
}

TEST(Monitor, HealthyRunRaisesNothingAndRecordsTheLayerSeries) {
  Trial run = healthy_mlp();
  run.fit(30);
  EXPECT_TRUE(run.report.findings().empty()) << run.checks();
  EXPECT_EQ(run.losses.size(), 120u);
  EXPECT_LT(run.losses.back(), run.losses.front());
  // Every step sampled: 4 parameter rows and 3 activation rows per step.
  EXPECT_EQ(run.samples.size(), 120u * 7);
  bool saw_relu = false;
  for (const LayerSample& s : run.samples) {
    if (s.layer == "0.weight") {
      EXPECT_GT(s.update_ratio, 0.0);
    }
    if (s.layer == "1") {
      saw_relu = true;
      EXPECT_GE(s.dead_fraction, 0.0);
      EXPECT_GT(s.activation_std, 0.0);
    }
  }
  EXPECT_TRUE(saw_relu);
}

TEST(Monitor, SamplesDetailedStatisticsEveryNSteps) {
  Trial run = healthy_mlp();
  MonitorOptions o;
  o.every = 10;
  run.fit(10, o);  // 40 steps: samples at 0, 10, 20, 30
  std::set<std::int64_t> steps;
  for (const LayerSample& s : run.samples) steps.insert(s.step);
  EXPECT_EQ(steps, (std::set<std::int64_t>{0, 10, 20, 30}));
  EXPECT_EQ(run.losses.size(), 40u);  // the loss every step
}

TEST(Monitor, TracesAForwardNanToTheOpAndTheInnermostLayer) {
  Generator g{5};
  auto inner = std::make_shared<nn::Sequential>(
      std::vector<std::shared_ptr<nn::Module>>{std::make_shared<nn::Tanh>(), std::make_shared<LogLayer>()});
  Trial run({linear(8, 4, g), inner, linear(4, 3, g)});
  run.classification();
  run.adam(1e-3);
  run.fit(5);
  ASSERT_TRUE(run.report.has("train.non_finite_loss")) << run.checks();
  const Finding& f = run.finding("train.non_finite_loss");
  EXPECT_EQ(f.where, "1.1");
  EXPECT_NE(f.explanation.find("op 'log'"), std::string::npos) << f.explanation;
  EXPECT_NE(f.explanation.find("forward"), std::string::npos) << f.explanation;
  EXPECT_EQ(f.severity, Severity::error);
  EXPECT_EQ(run.losses.size(), 1u);  // training stopped at the first non-finite step
  EXPECT_EQ(run.report.findings().size(), 1u) << run.checks();
}

TEST(Monitor, TracesADivisionByZeroInTheLossFunction) {
  Trial run = healthy_mlp();
  run.loss = [](const Tensor& y, const Tensor& t) { return nn::cross_entropy(y, t) / (sum(y) * 0.0); };
  run.fit(2);
  ASSERT_TRUE(run.report.has("train.non_finite_loss")) << run.checks();
  const Finding& f = run.finding("train.non_finite_loss");
  EXPECT_EQ(f.where, "loss");
  EXPECT_NE(f.explanation.find("op 'div'"), std::string::npos) << f.explanation;
  EXPECT_NE(f.explanation.find("the loss function"), std::string::npos) << f.explanation;
}

TEST(Monitor, TracesABackwardNanToTheOpAndLayer) {
  Generator g{5};
  Trial run({std::make_shared<RootGain>(8), linear(8, 3, g)});
  run.classification(64, 8, true);
  run.adam(1e-3);
  run.fit(5);
  ASSERT_TRUE(run.report.has("train.non_finite_gradient")) << run.checks();
  const Finding& f = run.finding("train.non_finite_gradient");
  EXPECT_EQ(f.where, "0");
  EXPECT_NE(f.explanation.find("backward of op 'sqrt'"), std::string::npos) << f.explanation;
  EXPECT_FALSE(run.report.has("train.non_finite_loss"));
}

TEST(Monitor, TheReRunLeavesTheTrainingAsItWouldHaveBeen) {
  // With stop_on_non_finite off, a monitored run (which re-ran its first non-finite step) must end bit-identical to
  // an unmonitored one.
  auto make = [] {
    Generator g{5};
    Trial run({std::make_shared<RootGain>(8), linear(8, 6, g), std::make_shared<nn::Dropout>(0.2, g),
               linear(6, 3, g)});
    run.classification(64, 8, true);
    run.adam(1e-3);
    return run;
  };
  Trial monitored = make();
  MonitorOptions o = every_step();
  o.stop_on_non_finite = false;
  monitored.fit(2, o);
  ASSERT_TRUE(monitored.report.has("train.non_finite_gradient"));
  EXPECT_EQ(monitored.losses.size(), 8u);  // not stopped
  Trial plain = make();
  train::FitOptions fit_options;
  fit_options.epochs = 2;
  train::fit(*plain.model, plain.loss, *plain.optimizer, *plain.loader, nullptr, fit_options);
  const auto a = monitored.model->named_parameters(), b = plain.model->named_parameters();
  for (std::size_t i = 0; i < a.size(); ++i)
    EXPECT_TRUE(allclose(a[i].second, b[i].second, 0.0, 0.0, true)) << a[i].first;
  EXPECT_TRUE(monitored.model->training());
}

TEST(Monitor, UpdateRatioHighWithAHugeLearningRate) {
  Trial run = healthy_mlp();
  run.adam(1.0);
  run.fit(3);  // Adam moves each weight by about lr = 1 a step against weights of ~0.2
  EXPECT_TRUE(run.report.has("train.update_ratio_high")) << run.checks();
  EXPECT_FALSE(run.report.has("train.update_ratio_low"));
}

TEST(Monitor, UpdateRatioLowWithATinyLearningRate) {
  Trial run = healthy_mlp();
  run.sgd(1e-7);
  run.fit(10);
  EXPECT_TRUE(run.report.has("train.update_ratio_low")) << run.checks();
  EXPECT_EQ(run.finding("train.update_ratio_low").cause, Cause::optimisation);
}

TEST(Monitor, VanishingGradientsAcrossADeepSigmoidStack) {
  Generator g{3};
  std::vector<std::shared_ptr<nn::Module>> layers;
  for (int i = 0; i < 12; ++i) {
    layers.push_back(linear(16, 16, g));
    layers.push_back(std::make_shared<nn::Sigmoid>());
  }
  layers.push_back(linear(16, 3, g));
  Trial run(layers);
  run.classification(64, 16);
  run.sgd(0.1);
  run.fit(3);
  ASSERT_TRUE(run.report.has("train.vanishing_gradients")) << run.checks();
  EXPECT_EQ(run.finding("train.vanishing_gradients").where, "0.weight");
}

TEST(Monitor, ExplodingGradientsRelativeToTheWeights) {
  Generator g{3};
  Trial run({linear(8, 16, g), std::make_shared<nn::ReLU>(), linear(16, 1, g)});
  const Tensor x = randn({64, 8}, g);
  run.data_set(x, randn({64, 1}, g) * 1000.0);  // targets 1000x the scale the outputs start at
  run.loss = [](const Tensor& y, const Tensor& t) { return nn::mse_loss(y, t); };
  run.sgd(1e-9);
  run.fit(3);
  EXPECT_TRUE(run.report.has("train.exploding_gradients")) << run.checks();
}

TEST(Monitor, FrozenParameterTheOptimiserDoesNotHold) {
  Generator g{11};
  Trial run({linear(8, 16, g), std::make_shared<nn::ReLU>(), linear(16, 3, g)});
  run.classification();
  // The optimiser is built from the last layer only, a common slip when fine-tuning code is copied.
  run.optimizer = std::make_unique<optim::Adam>(optim::named_parameters(*run.model->named_children()[2].second),
                                                optim::AdamOptions{.lr = 3e-3});
  run.fit(5);
  ASSERT_TRUE(run.report.has("train.frozen_parameter")) << run.checks();
  const Finding& f = run.finding("train.frozen_parameter");
  EXPECT_EQ(f.where, "0.weight");
  EXPECT_NE(f.explanation.find("optimiser does not hold it"), std::string::npos) << f.explanation;
}

TEST(Monitor, FrozenParameterBehindADetach) {
  Generator g{11};
  Trial run({linear(8, 16, g), std::make_shared<Detach>(), std::make_shared<nn::ReLU>(), linear(16, 3, g)});
  run.classification();
  run.adam(3e-3);
  run.fit(5);
  ASSERT_TRUE(run.report.has("train.frozen_parameter")) << run.checks();
  EXPECT_NE(run.finding("train.frozen_parameter").explanation.find("no gradient ever reached it"), std::string::npos);
}

TEST(Monitor, FrozenLayerStillAtItsRandomInitialisation) {
  Trial run = healthy_mlp();
  run.model->freeze("0");
  run.adam(3e-3);
  run.fit(5);
  ASSERT_TRUE(run.report.has("train.frozen_parameter")) << run.checks();
  const Finding& f = run.finding("train.frozen_parameter");
  EXPECT_EQ(f.where, "0.weight");
  EXPECT_EQ(f.cause, Cause::model);
  EXPECT_NE(f.explanation.find("freshly initialised"), std::string::npos) << f.explanation;
}

TEST(Monitor, FrozenPretrainedLayerIsQuiet) {
  Trial run = healthy_mlp();
  run.fit(20);  // "pretraining": the first layer's weights leave their initial distribution
  run.report = Report();
  run.model->freeze("0");
  run.adam(3e-3);
  run.fit(5);
  EXPECT_FALSE(run.report.has("train.frozen_parameter")) << run.checks();
}

TEST(Monitor, DeadUnitsAppearingDuringTraining) {
  Trial run = healthy_mlp();
  auto bug = std::make_shared<Inject>();  // a huge bad update at step 40 pushes every pre-activation negative
  bug->begin = [&](train::TrainContext& c) {
    if (c.step != 40) return;
    NoGradGuard no_grad;
    raw::copy_(run.model->named_parameters()[1].second, full({16}, -100.0f));
  };
  run.callbacks.push_back(bug);
  run.fit(30);
  ASSERT_TRUE(run.report.has("train.dead_units")) << run.checks();
  EXPECT_EQ(run.finding("train.dead_units").where, "1");
  EXPECT_DOUBLE_EQ(*run.finding("train.dead_units").value, 1.0);
}

TEST(Monitor, SaturatedUnitsAppearingDuringTraining) {
  Generator g{11};
  Trial run({linear(8, 16, g), std::make_shared<nn::Tanh>(), linear(16, 3, g)});
  run.classification();
  run.adam(3e-3);
  auto bug = std::make_shared<Inject>();
  bug->begin = [&](train::TrainContext& c) {
    if (c.step != 40) return;
    NoGradGuard no_grad;
    const Tensor w = run.model->named_parameters()[0].second;
    raw::copy_(w, w * 200.0);
  };
  run.callbacks.push_back(bug);
  run.fit(30);
  ASSERT_TRUE(run.report.has("train.saturated_units")) << run.checks();
  EXPECT_EQ(run.finding("train.saturated_units").where, "1");
}

TEST(Monitor, WeightAndActivationGrowth) {
  Trial run = healthy_mlp();
  auto bug = std::make_shared<Inject>();  // weights inflating by 10% a step
  bug->end = [&](train::TrainContext&) {
    NoGradGuard no_grad;
    const Tensor w = run.model->named_parameters()[0].second;
    raw::copy_(w, w * 1.1);
  };
  run.callbacks.push_back(bug);
  run.fit(15);  // 60 steps: 1.1^60 = 304x
  EXPECT_TRUE(run.report.has("train.weight_growth")) << run.checks();
  EXPECT_TRUE(run.report.has("train.activation_growth")) << run.checks();
  EXPECT_EQ(run.finding("train.weight_growth").where, "0.weight");
}

TEST(Monitor, LossSpike) {
  Trial run = healthy_mlp();
  int calls = 0;
  run.loss = [&calls](const Tensor& y, const Tensor& t) {
    const Tensor l = nn::cross_entropy(y, t);
    return ++calls == 60 ? l * 50.0 : l;  // one bad batch
  };
  run.fit(20);
  ASSERT_TRUE(run.report.has("train.loss_spike")) << run.checks();
  EXPECT_NE(run.finding("train.loss_spike").explanation.find("step 59"), std::string::npos);
}

TEST(Monitor, DivergenceUnderAGrowingLearningRate) {
  Trial run = healthy_mlp();
  run.sgd(1e-2);
  auto schedule = std::make_shared<Inject>();  // a learning rate that keeps growing, 10% a step
  schedule->begin = [&](train::TrainContext& c) { c.optimizer.set_lr(1e-2 * std::pow(1.1, c.step)); };
  run.callbacks.push_back(schedule);
  run.fit(25);
  EXPECT_TRUE(run.report.has("train.divergence") || run.report.has("train.non_finite_loss")) << run.checks();
  EXPECT_TRUE(run.report.has("train.divergence")) << run.checks();
}

TEST(Monitor, PlateauWhenNothingCanBeLearned) {
  Generator g{11};
  Trial run({linear(8, 16, g), std::make_shared<nn::ReLU>(), linear(16, 3, g)});
  std::vector<std::int64_t> labels(64);
  for (int i = 0; i < 64; ++i) labels[i] = i % 3;
  run.data_set(zeros({64, 8}), from_vector_i64(labels, {64}));  // inputs carry no information
  run.adam(3e-3);
  MonitorOptions o = every_step();
  o.plateau_steps = 40;
  run.fit(30, o);
  ASSERT_TRUE(run.report.has("train.plateau")) << run.checks();
}

TEST(Monitor, OscillationWithTooHighAStepOnAnAsymmetricLoss) {
  Generator g{1};
  auto layer = std::make_shared<nn::Linear>(1, 1, false, g);
  {
    NoGradGuard no_grad;
    raw::copy_(layer->weight(), full({1, 1}, 0.5f));
  }
  Trial run({layer});
  run.data_set(ones({32, 1}), zeros({32, 1}), 32);
  // exp(d) - d - 1 has its minimum at d = 0 but is steeper on the right: gradient descent with too high a step
  // settles into a 2-cycle between a steep and a shallow side, so the loss alternates high/low.
  run.loss = [](const Tensor& y, const Tensor& t) { return mean(exp(y - t) - (y - t) - 1.0); };
  run.sgd(2.5);
  run.fit(130);
  ASSERT_TRUE(run.report.has("train.oscillation")) << run.checks();
}

TEST(Monitor, ModuleInEvalModeDuringTraining) {
  Generator g{11};
  auto bn = std::make_shared<nn::BatchNorm1d>(16);
  Trial run({linear(8, 16, g), bn, std::make_shared<nn::ReLU>(), linear(16, 3, g)});
  run.classification();
  run.adam(3e-3);
  auto bug = std::make_shared<Inject>();
  bug->begin = [&](train::TrainContext& c) {
    if (c.batch == 0) bn->eval();  // e.g. "freeze the batch norm statistics"
  };
  run.callbacks.push_back(bug);
  run.fit(3);
  ASSERT_TRUE(run.report.has("train.wrong_mode")) << run.checks();
  EXPECT_EQ(run.finding("train.wrong_mode").where, "1");
  EXPECT_EQ(run.finding("train.wrong_mode").severity, Severity::error);
}

TEST(Monitor, RegularizerDominatingTheDataLoss) {
  Trial run = healthy_mlp();
  const auto weights = nn::weights_only(run.model->named_parameters());
  run.regularizer = [weights] { return nn::l2_penalty(weights, 1.0); };
  const auto reg = run.regularizer;
  run.loss = [reg](const Tensor& y, const Tensor& t) { return nn::cross_entropy(y, t) + reg(); };
  run.fit(3);
  ASSERT_TRUE(run.report.has("train.regularizer_dominates")) << run.checks();
}

TEST(Monitor, ASmallRegularizerIsFine) {
  Trial run = healthy_mlp();
  const auto weights = nn::weights_only(run.model->named_parameters());
  run.regularizer = [weights] { return nn::l2_penalty(weights, 1e-5); };
  const auto reg = run.regularizer;
  run.loss = [reg](const Tensor& y, const Tensor& t) { return nn::cross_entropy(y, t) + reg(); };
  run.fit(5);
  EXPECT_FALSE(run.report.has("train.regularizer_dominates")) << run.checks();
}

// An own training loop, optionally without zero_grad().
Report own_loop(bool zero_grad, std::vector<double>* losses = nullptr) {
  Trial run = healthy_mlp();
  run.sgd(1e-4);
  Report report;
  const Setup setup = run.setup();
  Monitor monitor(setup, infer_task(setup), every_step(), report);
  std::int64_t step = 0;
  run.model->train();
  for (std::int64_t epoch = 0; epoch < 15; ++epoch) {
    for (const data::Batch& b : run.loader->epoch(epoch)) {
      if (zero_grad) run.optimizer->zero_grad();
      const Tensor loss = ce((*run.model)(b.inputs), b.targets);
      backward(loss);
      monitor.after_backward(step);
      run.optimizer->step();
      monitor.after_step(step++, loss.item());
    }
  }
  monitor.finish();
  if (losses) *losses = monitor.losses();
  return report;
}

TEST(Monitor, OwnLoopWithoutZeroGrad) {
  const Report bad = own_loop(false);
  EXPECT_TRUE(bad.has("train.gradients_not_zeroed")) << bad.text();
  std::vector<double> losses;
  const Report good = own_loop(true, &losses);
  EXPECT_FALSE(good.has("train.gradients_not_zeroed")) << good.text();
  EXPECT_EQ(losses.size(), 60u);
}

TEST(Monitor, OwnLoopNonFiniteLossPointsToAnomalyGuard) {
  Trial run = healthy_mlp();
  const doctor::Setup setup = run.setup();
  Monitor monitor(setup, infer_task(setup), every_step(), run.report);
  monitor.after_backward(0);
  monitor.after_step(0, std::nan(""));
  monitor.finish();
  ASSERT_TRUE(run.report.has("train.non_finite_loss"));
  EXPECT_NE(run.finding("train.non_finite_loss").explanation.find("AnomalyGuard"), std::string::npos);
}

TEST(Monitor, SilencedChecksAreDropped) {
  Trial run = healthy_mlp();
  run.adam(1.0);
  run.report.silence("train.");
  run.fit(5);
  EXPECT_TRUE(run.report.findings().empty());
}

}  // namespace
}  // namespace vigil::doctor
