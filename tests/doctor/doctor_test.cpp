#include "vigil/doctor/doctor.hpp"

#include <gtest/gtest.h>

#include <vigil/data/datasets.hpp>
#include <vigil/nn/nn.hpp>
#include <vigil/optim/optim.hpp>

namespace vigil::doctor {
namespace {

// Four well-separated Gaussian classes in 8 dims: a setup with nothing wrong.
struct Rig {
  explicit Rig(std::int64_t label_offset = 0) : gen(3) {
    const std::int64_t n = 256;
    Tensor x = randn(Shape{n, 8}, gen);
    std::vector<std::int64_t> y(n);
    float* p = x.data<float>();
    for (std::int64_t i = 0; i < n; ++i) {
      y[static_cast<std::size_t>(i)] = i % 4 + label_offset;
      p[i * 8 + i % 4] += 3.0f;
    }
    loader = std::make_unique<data::DataLoader>(std::make_shared<data::TensorDataset>(x, from_vector_i64(y, Shape{n})),
                                                data::LoaderOptions{.batch_size = 32, .shuffle = true});
    model.push_back(std::make_shared<nn::Linear>(8, 32, gen));
    model.push_back(std::make_shared<nn::ReLU>());
    model.push_back(std::make_shared<nn::Linear>(32, 4, gen));
    optimizer = std::make_unique<optim::Adam>(optim::named_parameters(model), optim::AdamOptions{.lr = 1e-2});
  }
  Setup setup() {
    return {model, [](const Tensor& out, const Tensor& y) { return nn::cross_entropy(out, y); }, *optimizer, *loader};
  }

  Generator gen;
  nn::Sequential model;
  std::unique_ptr<data::DataLoader> loader;
  std::unique_ptr<optim::Adam> optimizer;
};

TEST(Doctor, HealthySetupGetsNoAlarmAndIsLeftAsFound) {
  Rig rig;
  const Tensor before = raw::clone(rig.model.parameters()[0]);
  Doctor doctor;
  const doctor::Setup setup = rig.setup();
  const Report& report = doctor.preflight(setup);
  EXPECT_EQ(report.count(Severity::error) + report.count(Severity::warning), 0) << report.text();
  EXPECT_TRUE(allclose(before, rig.model.parameters()[0], 0, 0));
  EXPECT_TRUE(doctor.task().classification);
  EXPECT_EQ(doctor.task().num_classes, 4);
  EXPECT_GT(doctor.preflight_seconds(), 0.0);
}

TEST(Doctor, MonitorAndAnalysisAddToTheSameReport) {
  Rig rig;
  Doctor doctor;
  const doctor::Setup setup = rig.setup();
  doctor.preflight(setup);
  auto monitor = doctor.monitor(setup);
  const train::History history = train::fit(rig.model, setup.loss, *rig.optimizer, *rig.loader, nullptr,
                                            {.epochs = 2, .metrics = {}, .callbacks = {monitor}});
  ASSERT_EQ(history.epochs.size(), 2u);
  EXPECT_FALSE(monitor->losses().empty());
  doctor.analyze(history);
  EXPECT_EQ(doctor.report().count(Severity::error), 0) << doctor.report().text();
}

TEST(Doctor, LabelsOutOfRangeAreDiagnosedNotThrown) {
  Rig rig(1);  // labels 1..4 for 4 outputs
  Doctor doctor;
  const doctor::Setup setup = rig.setup();
  const Report& report = doctor.preflight(setup);
  ASSERT_FALSE(report.ranked().empty());
  EXPECT_EQ(report.ranked().front().check, "data.label_range") << report.text();
}

TEST(Doctor, SymptomsPointAtTheSpecificFinding) {
  Rig rig;
  optim::Adam partial(optim::named_parameters(rig.model[2]), optim::AdamOptions{.lr = 1e-2});
  Doctor doctor;
  const doctor::Setup setup{rig.model, rig.setup().loss, partial, *rig.loader};
  const Report& report = doctor.preflight(setup);
  ASSERT_FALSE(report.ranked().empty());
  EXPECT_EQ(report.ranked().front().check, "optim.missing_parameters") << report.text();
  for (const Finding& f : report.findings()) {
    if (f.check == "probe.overfit_one_batch" || f.check == "probe.input_independent") {
      EXPECT_EQ(f.severity, Severity::info) << f.explanation;
    }
  }
}

TEST(Doctor, SilencedChecksStaySilent) {
  Rig rig(1);
  Options options;
  options.silenced = {"data."};
  Doctor doctor(options);
  const doctor::Setup setup = rig.setup();
  for (const Finding& f : doctor.preflight(setup).findings()) EXPECT_FALSE(f.check.starts_with("data.")) << f.check;
}

}  // namespace
}  // namespace vigil::doctor
