#include "vigil/doctor/data_checks.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>

#include "preflight_rig.hpp"
#include "vigil/doctor/model_lint.hpp"
#include "vigil/doctor/optimizer_checks.hpp"

namespace vigil::doctor {
namespace {

using testing::cyclic_labels;
using testing::find;
using testing::labels_tensor;
using testing::make_loader;
using testing::mlp;
using testing::Rig;

Report run(const Rig& rig, const DataThresholds& thresholds = {}) {
  const Setup setup = rig.setup();
  const Task task = infer_task(setup);
  Report report;
  check_data(setup, task, Options{}, report, thresholds);
  return report;
}

Tensor set_value(const Tensor& t, std::int64_t flat_index, float value) {
  std::vector<float> v = t.to_vector();
  v[flat_index] = value;
  return from_vector(v, t.shape());
}

// A healthy tabular classification: standardised features, balanced shuffled labels decided by several features.
struct Tabular {
  Generator gen{7};
  Tensor inputs;
  Tensor labels;
  explicit Tabular(std::int64_t n = 192, std::int64_t features = 6) {
    inputs = randn({n, features}, gen);
    const std::vector<float> x = inputs.to_vector();
    std::vector<float> noise = randn({n}, gen).to_vector();
    std::vector<std::int64_t> y(n);
    for (std::int64_t i = 0; i < n; ++i) {
      const double score = x[i * features] + x[i * features + 1] - x[i * features + 2] + 0.8 * noise[i];
      y[i] = score < -0.6 ? 0 : (score < 0.6 ? 1 : 2);
    }
    labels = labels_tensor(y);
  }
  Rig rig(const Tensor& x, const Tensor& y, bool shuffle = true) {
    return Rig(mlp(x.size(1), 8, 3, gen), make_loader(x, y, 16, shuffle));
  }
};

TEST(DataChecks, HealthyTabularSetupHasNoFinding) {
  Tabular t;
  Rig rig = t.rig(t.inputs, t.labels);
  rig.validation = make_loader(randn({64, 6}, t.gen), cyclic_labels(64, 3));
  const Report report = run(rig);
  EXPECT_TRUE(report.findings().empty()) << report.text();
}

TEST(DataChecks, NonFiniteInputIsAnErrorNamingBatchSampleAndFeature) {
  Tabular t;
  Rig rig = Rig(mlp(6, 8, 3, t.gen), make_loader(set_value(t.inputs, 10 * 6 + 2, NAN), t.labels, 16, false));
  const Report report = run(rig);
  const Finding f = find(report, "data.non_finite_inputs");
  EXPECT_EQ(f.severity, Severity::error);
  EXPECT_EQ(f.cause, Cause::non_finite_data);
  EXPECT_EQ(f.where, "train batch 0, sample 10 (dataset index 10), feature 2");
  EXPECT_FALSE(report.has("data.non_finite_targets"));
}

TEST(DataChecks, NonFiniteRegressionTargetIsAnError) {
  Generator gen{1};
  const Tensor x = randn({40, 3}, gen);
  const Tensor y = set_value(randn({40, 1}, gen), 21, INFINITY);
  Rig rig(mlp(3, 4, 1, gen), make_loader(x, y, 8, false));
  rig.loss = [](const Tensor& out, const Tensor& target) { return nn::mse_loss(out, target); };
  const Finding f = find(run(rig), "data.non_finite_targets");
  EXPECT_EQ(f.where, "train batch 2, sample 5 (dataset index 21), component 0");
  Rig healthy(mlp(3, 4, 1, gen), make_loader(x, randn({40, 1}, gen), 8, false));
  healthy.loss = rig.loss;
  EXPECT_FALSE(run(healthy).has("data.non_finite_targets"));
}

// Images [N, 1, 8, 8] with labels; `scale` maps the raw bytes.
Rig image_rig(Generator& gen, double divide_by, double subtract = 0.0) {
  const Tensor bytes = raw::to_dtype(randint(0, 256, {64, 1, 8, 8}, gen), DType::Float32);
  const Tensor x = (bytes - subtract) / divide_by;
  return Rig(mlp(64, 8, 4, gen), make_loader(x, cyclic_labels(64, 4)));
}

TEST(DataChecks, RawPixelsAreFlaggedAndScaledOnesAreNot) {
  Generator gen{2};
  const Finding f = find(run(image_rig(gen, 1.0)), "data.raw_pixels");
  EXPECT_GT(*f.value, 200.0);
  EXPECT_EQ(f.cause, Cause::data);
  const Report in_unit_range = run(image_rig(gen, 255.0));
  EXPECT_TRUE(in_unit_range.findings().empty()) << in_unit_range.text();
  const Report standardised = run(image_rig(gen, 74.0, 128.0));
  EXPECT_TRUE(standardised.findings().empty()) << standardised.text();
}

TEST(DataChecks, TinyImageScaleIsFlagged) {
  Generator gen{2};
  const Finding f = find(run(image_rig(gen, 1e6)), "data.input_scale");
  EXPECT_LT(*f.value, 1e-2);
}

TEST(DataChecks, BadlyScaledTabularFeatureIsNamed) {
  Tabular t;
  std::vector<float> x = t.inputs.to_vector();
  for (std::size_t i = 3; i < x.size(); i += 6) x[i] = x[i] * 1e6f + 3e6f;
  const Finding f = find(run(t.rig(from_vector(x, t.inputs.shape()), t.labels)), "data.feature_scale");
  EXPECT_EQ(f.where, "inputs feature 3");
  EXPECT_FALSE(run(t.rig(t.inputs, t.labels)).has("data.feature_scale"));
}

TEST(DataChecks, ConstantSamplesAreCounted) {
  Tabular t;
  std::vector<float> x = t.inputs.to_vector();
  for (std::int64_t r = 0; r < 192; r += 8)
    for (std::int64_t k = 0; k < 6; ++k) x[r * 6 + k] = 0.0f;  // 1 in 8 samples blank
  const Finding f = find(run(t.rig(from_vector(x, t.inputs.shape()), t.labels)), "data.constant_samples");
  EXPECT_NEAR(*f.value, 0.125, 1e-9);
  EXPECT_FALSE(run(t.rig(t.inputs, t.labels)).has("data.constant_samples"));
}

TEST(DataChecks, LabelsOutsideTheHeadAreAnError) {
  Generator gen{4};
  const Tensor x = randn({48, 5}, gen);
  Rig rig(mlp(5, 8, 3, gen), make_loader(x, cyclic_labels(48, 5)));
  const Finding f = find(run(rig), "data.label_range");
  EXPECT_EQ(f.severity, Severity::error);
  EXPECT_EQ(*f.threshold, 3.0);
  EXPECT_NE(f.suggestion.find("5 outputs"), std::string::npos) << f.suggestion;
  Rig healthy(mlp(5, 8, 5, gen), make_loader(x, cyclic_labels(48, 5)));
  EXPECT_TRUE(run(healthy).findings().empty()) << run(healthy).text();
}

TEST(DataChecks, AHeadWiderThanTheLabelsIsANote) {
  Generator gen{4};
  Rig rig(mlp(5, 8, 10, gen), make_loader(randn({48, 5}, gen), cyclic_labels(48, 3)));
  const Finding f = find(run(rig), "data.unused_outputs");
  EXPECT_EQ(f.severity, Severity::info);
  EXPECT_FALSE(run(rig).has("data.label_range"));
}

Tensor imbalanced_labels(std::int64_t n, std::int64_t minority_every) {
  std::vector<std::int64_t> y(n);
  for (std::int64_t i = 0; i < n; ++i) y[i] = i % minority_every == 0 ? 1 : 0;
  return labels_tensor(y);
}

TEST(DataChecks, ImbalanceWithAPlainLossIsFlaggedButNotWithAWeightedOne) {
  Generator gen{5};
  const Tensor x = randn({200, 4}, gen);
  Rig rig(mlp(4, 8, 2, gen), make_loader(x, imbalanced_labels(200, 20)));
  const Finding f = find(run(rig), "data.class_imbalance");
  EXPECT_NEAR(*f.value, 19.0, 1e-9);
  const Tensor weight = from_vector(std::vector<float>{1.0f, 19.0f}, {2});
  rig.loss = [weight](const Tensor& y, const Tensor& t) { return nn::cross_entropy(y, t, {.weight = weight}); };
  EXPECT_FALSE(run(rig).has("data.class_imbalance")) << run(rig).text();
  Rig balanced(mlp(4, 8, 2, gen), make_loader(x, cyclic_labels(200, 2)));
  EXPECT_FALSE(run(balanced).has("data.class_imbalance"));
}

TEST(DataChecks, SingleLabelBatchesMeanTheLoaderDoesNotShuffle) {
  Generator gen{6};
  std::vector<std::int64_t> sorted(96);
  for (std::int64_t i = 0; i < 96; ++i) sorted[i] = i / 32;
  const Tensor x = randn({96, 4}, gen);
  Rig rig(mlp(4, 8, 3, gen), make_loader(x, labels_tensor(sorted), 8, false));
  const Finding f = find(run(rig), "data.unshuffled");
  EXPECT_NE(f.explanation.find("shuffle = false"), std::string::npos);
  Rig shuffled(mlp(4, 8, 3, gen), make_loader(x, labels_tensor(sorted), 8, true));
  EXPECT_FALSE(run(shuffled).has("data.unshuffled"));
}

TEST(DataChecks, ValidationSamplesCopiedFromTrainingAreCounted) {
  Tabular t;
  Rig rig = t.rig(t.inputs, t.labels);
  rig.validation = make_loader(raw::narrow(t.inputs, 0, 0, 40), raw::narrow(t.labels, 0, 0, 40));
  const Finding f = find(run(rig), "data.train_val_duplicates");
  EXPECT_NEAR(*f.value, 1.0, 1e-9);
  rig.validation = make_loader(randn({40, 6}, t.gen), cyclic_labels(40, 3));
  EXPECT_FALSE(run(rig).has("data.train_val_duplicates"));
}

TEST(DataChecks, ValidationPreprocessedDifferentlyIsFlagged) {
  Generator gen{8};
  Rig rig = image_rig(gen, 74.0, 128.0);  // standardised training images
  const Tensor raw_val = raw::to_dtype(randint(0, 256, {32, 1, 8, 8}, gen), DType::Float32);
  rig.validation = make_loader(raw_val, cyclic_labels(32, 4));
  const Finding f = find(run(rig), "data.validation_preprocessing");
  EXPECT_GT(*f.value, 10.0);
  rig.validation = make_loader((raw_val - 128.0) / 74.0, cyclic_labels(32, 4));
  EXPECT_FALSE(run(rig).has("data.validation_preprocessing"));
}

TEST(DataChecks, AFeatureThatEncodesTheLabelIsALeak) {
  Tabular t;
  const std::vector<float> y = raw::to_dtype(t.labels, DType::Float32).to_vector();
  const std::vector<float> noise = randn({192}, t.gen).to_vector();
  std::vector<float> continuous = t.inputs.to_vector(), discrete = continuous;
  for (std::size_t i = 0; i < 192; ++i) {
    continuous[i * 6 + 4] = 3.0f * y[i] + 0.1f * noise[i];
    discrete[i * 6 + 5] = y[i];
  }
  const Finding f = find(run(t.rig(from_vector(continuous, t.inputs.shape()), t.labels)), "data.feature_leak");
  EXPECT_EQ(f.where, "inputs feature 4");
  EXPECT_GE(*f.value, 0.99);
  EXPECT_EQ(find(run(t.rig(from_vector(discrete, t.inputs.shape()), t.labels)), "data.feature_leak").where,
            "inputs feature 5");
  // The healthy set's label depends on three features with noise: none predicts it alone.
  EXPECT_FALSE(run(t.rig(t.inputs, t.labels)).has("data.feature_leak"));
}

TEST(DataChecks, SilencedChecksAreDropped) {
  Generator gen{2};
  const Rig rig = image_rig(gen, 1.0);
  const doctor::Setup setup = rig.setup();
  Report report({"data."});
  check_data(setup, infer_task(setup), Options{}, report);
  EXPECT_TRUE(report.findings().empty());
}

// Fashion-MNIST-sized loaders: 16 batches of 128 images 1x28x28 (raw pixels), an MLP 784-128-10.
TEST(PreflightCost, AllStaticChecksOnFashionSizedDataTakeWellUnderASecond) {
  Generator gen{9};
  const Tensor pixels = raw::to_dtype(randint(0, 256, {2048, 1, 28, 28}, gen), DType::Float32);
  Rig rig(mlp(784, 128, 10, gen), make_loader(pixels, cyclic_labels(2048, 10), 128));
  rig.validation = make_loader(raw::narrow(pixels, 0, 0, 512), cyclic_labels(512, 10), 128);
  const doctor::Setup setup = rig.setup();
  using Clock = std::chrono::steady_clock;
  auto seconds_since = [](Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); };
  const auto start = Clock::now();
  const Task task = infer_task(setup);
  const double infer = seconds_since(start);
  Report report;
  auto t = Clock::now();
  check_data(setup, task, Options{}, report);
  const double data = seconds_since(t);
  t = Clock::now();
  lint_model(setup, task, Options{}, report);
  const double model = seconds_since(t);
  t = Clock::now();
  check_optimizer(setup, task, Options{}, report);
  const double optim = seconds_since(t);
  const double seconds = seconds_since(start);
  std::printf("pre-flight checks on 16 x 128 x 1x28x28: %.3f s (infer_task %.3f, data %.3f, model %.3f, optim %.3f)\n",
              seconds, infer, data, model, optim);
  EXPECT_TRUE(report.has("data.raw_pixels"));
  EXPECT_TRUE(report.has("data.train_val_duplicates"));
  EXPECT_LT(seconds, 2.0);  // ~0.2 s on an idle core; generous for a shared, loaded machine
}

}  // namespace
}  // namespace vigil::doctor
