// ensemble_predict and mc_dropout_predict: agreement with a single model, spread with and without dropout, the
// summary formulas on hand-made draws, mode restoration, errors.
#include <vigil/data/datasets.hpp>
#include <vigil/data/loader.hpp>
#include <vigil/nn/nn.hpp>
#include <vigil/train/ensemble.hpp>
#include <vigil/train/fit.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <memory>

namespace vigil::train {
namespace {

std::shared_ptr<data::TensorDataset> features(std::int64_t n, std::uint64_t seed) {
  Generator gen(seed);
  std::vector<std::int64_t> y(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) y[static_cast<std::size_t>(i)] = i % 3;
  return std::make_shared<data::TensorDataset>(randn(Shape{n, 4}, gen), from_vector_i64(y, Shape{n}));
}

data::DataLoader loader(std::int64_t n = 10, std::int64_t batch = 4) {
  data::LoaderOptions options;
  options.batch_size = batch;
  return data::DataLoader(features(n, 5), options);
}

// Linear(4, 16) -> ReLU -> [Dropout(p)] -> Linear(16, 3); without dropout when p == 0.
std::shared_ptr<nn::Sequential> mlp(std::uint64_t seed, double p) {
  Generator gen(seed);
  auto model = std::make_shared<nn::Sequential>();
  model->push_back(std::make_shared<nn::Linear>(4, 16, gen));
  model->push_back(std::make_shared<nn::ReLU>());
  if (p > 0) model->push_back(std::make_shared<nn::Dropout>(p, gen));
  model->push_back(std::make_shared<nn::Linear>(16, 3, gen));
  return model;
}

// Returns its input with a fixed logit row per call (cycling through `rows`), to feed known draws.
class ScriptedLogits : public nn::Module {
 public:
  explicit ScriptedLogits(std::vector<std::vector<float>> rows) : rows_(std::move(rows)) {}
  Tensor forward(const Tensor& x) override {
    const auto& row = rows_[calls_++ % rows_.size()];
    const auto c = static_cast<std::int64_t>(row.size());
    std::vector<float> values;
    for (std::int64_t i = 0; i < x.size(0); ++i) values.insert(values.end(), row.begin(), row.end());
    return from_vector(values, Shape{x.size(0), c});
  }

 private:
  std::vector<std::vector<float>> rows_;
  std::size_t calls_ = 0;
};

TEST(Ensemble, IdenticalModelsEqualOneModel) {
  auto a = mlp(1, 0.0), b = mlp(1, 0.0), c = mlp(1, 0.0);
  const auto data = loader();
  const UncertainPrediction ensemble = ensemble_predict({a.get(), b.get(), c.get()}, data);
  const Tensor single = softmax(predict(*a, data), 1);
  ASSERT_EQ(ensemble.mean.shape(), (Shape{10, 3}));
  EXPECT_TRUE(allclose(ensemble.mean, single, 1e-6, 1e-7));
  for (float s : ensemble.std.to_vector()) EXPECT_EQ(s, 0.0f);
  for (float mi : ensemble.mutual_information.to_vector()) EXPECT_NEAR(mi, 0.0f, 1e-6);
  // The entropy of the mean is that of the single model's probabilities.
  const auto p = single.to_vector(), h = ensemble.entropy.to_vector();
  for (std::int64_t n = 0; n < 10; ++n) {
    double expected = 0;
    for (std::int64_t k = 0; k < 3; ++k) expected -= p[n * 3 + k] * std::log(p[n * 3 + k]);
    EXPECT_NEAR(h[n], expected, 1e-5) << n;
  }
}

TEST(Ensemble, AveragesProbabilitiesNotLogits) {
  // Two members with known logits: probabilities softmax([0, log 3]) = (1/4, 3/4) and softmax([0, 0]) = (1/2, 1/2).
  ScriptedLogits sure({{0.0f, static_cast<float>(std::log(3.0))}}), unsure({{0.0f, 0.0f}});
  const UncertainPrediction r = ensemble_predict({&sure, &unsure}, loader(3, 2));
  ASSERT_EQ(r.mean.shape(), (Shape{3, 2}));
  const auto mean = r.mean.to_vector(), spread = r.std.to_vector();
  const auto entropy = r.entropy.to_vector(), mi = r.mutual_information.to_vector();
  for (std::int64_t n = 0; n < 3; ++n) {
    EXPECT_NEAR(mean[n * 2], 0.375, 1e-6);
    EXPECT_NEAR(mean[n * 2 + 1], 0.625, 1e-6);
    EXPECT_NEAR(spread[n * 2], 0.125, 1e-6);  // |1/4 - 3/8| = |1/2 - 3/8|
    const double h = -(0.375 * std::log(0.375) + 0.625 * std::log(0.625));
    const double h_members = (-(0.25 * std::log(0.25) + 0.75 * std::log(0.75)) + std::log(2.0)) / 2;
    EXPECT_NEAR(entropy[n], h, 1e-6);
    EXPECT_NEAR(mi[n], h - h_members, 1e-6);
    EXPECT_GT(mi[n], 0.0f);
  }
}

TEST(Ensemble, DifferentModelsDisagreeAndModesAreRestored) {
  auto a = mlp(1, 0.0), b = mlp(2, 0.0);
  b->eval();
  const UncertainPrediction r = ensemble_predict({a.get(), b.get()}, loader());
  double total = 0;
  for (float s : r.std.to_vector()) total += s;
  EXPECT_GT(total, 0.0);
  for (std::int64_t n = 0; n < 10; ++n) {
    double row = 0;
    for (std::int64_t k = 0; k < 3; ++k) row += r.mean.to_vector()[n * 3 + k];
    EXPECT_NEAR(row, 1.0, 1e-6);
  }
  EXPECT_TRUE(a->training());
  EXPECT_FALSE(b->training());
}

TEST(Ensemble, Errors) {
  auto a = mlp(1, 0.0);
  EXPECT_THROW(ensemble_predict({}, loader()), Error);
  auto wide = std::make_shared<nn::Sequential>();
  Generator gen(3);
  wide->push_back(std::make_shared<nn::Linear>(4, 5, gen));
  try {
    ensemble_predict({a.get(), wide.get()}, loader());
    FAIL() << "expected ShapeError";
  } catch (const ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("model 1"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("[10, 5]"), std::string::npos) << e.what();
  }
  auto flat = std::make_shared<nn::Sequential>();
  flat->push_back(std::make_shared<nn::Flatten>(0, -1));
  EXPECT_THROW(ensemble_predict({flat.get()}, loader()), ShapeError);
}

TEST(McDropout, NoSpreadWithoutDropout) {
  auto model = mlp(1, 0.0);
  const auto data = loader();
  EXPECT_TRUE(dropout_modules(*model).empty());
  const UncertainPrediction r = mc_dropout_predict(*model, data, 8);
  EXPECT_TRUE(allclose(r.mean, softmax(predict(*model, data), 1), 1e-6, 1e-7));
  for (float s : r.std.to_vector()) EXPECT_EQ(s, 0.0f);
}

TEST(McDropout, DropoutGivesSpreadAndEvalModeIsTheMean) {
  auto model = mlp(1, 0.5);
  const auto data = loader();
  ASSERT_EQ(dropout_modules(*model).size(), 1u);
  const UncertainPrediction r = mc_dropout_predict(*model, data, 16);
  ASSERT_EQ(r.std.shape(), (Shape{10, 3}));
  ASSERT_EQ(r.entropy.shape(), (Shape{10}));
  double spread = 0, information = 0;
  for (float s : r.std.to_vector()) spread += s;
  for (float mi : r.mutual_information.to_vector()) information += mi;
  EXPECT_GT(spread, 0.0);
  EXPECT_GT(information, 0.0);
  // A second call draws new masks (the layer's generator moved on) ...
  const UncertainPrediction again = mc_dropout_predict(*model, data, 16);
  EXPECT_FALSE(allclose(r.mean, again.mean, 0.0, 0.0));
  // ... and with the generator rewound it repeats the first exactly.
  auto replay = mlp(1, 0.5);
  EXPECT_TRUE(allclose(mc_dropout_predict(*replay, data, 16).mean, r.mean, 0.0, 0.0));
}

TEST(McDropout, RestoresEveryModulesMode) {
  // A mixed tree: the root in training mode, an inner block in eval, and every dropout kind.
  Generator gen(4);
  auto inner = std::make_shared<nn::Sequential>();
  inner->push_back(std::make_shared<nn::Linear>(4, 8, gen));
  inner->push_back(std::make_shared<nn::GaussianDropout>(0.2, gen));
  inner->push_back(std::make_shared<nn::AlphaDropout>(0.2, gen));
  auto model = std::make_shared<nn::Sequential>();
  model->push_back(inner);
  model->push_back(std::make_shared<nn::Dropout>(0.3, gen));
  model->push_back(std::make_shared<nn::DropConnect>(std::make_shared<nn::Linear>(8, 3, gen), 0.2, gen));
  model->train();
  inner->eval();
  std::vector<std::pair<std::string, bool>> before;
  for (const auto& [path, m] : model->named_modules()) before.emplace_back(path, m->training());
  EXPECT_EQ(dropout_modules(*model).size(), 4u);

  // During the passes: dropout layers train, everything else evaluates.
  std::vector<std::pair<std::string, bool>> during;
  auto hook = model->register_forward_hook([&](const nn::Module& root, const Tensor&, const Tensor&) {
    if (!during.empty()) return;
    for (const auto& [path, m] : root.named_modules()) during.emplace_back(path, m->training());
  });
  mc_dropout_predict(*model, loader(), 3);
  hook.remove();
  std::vector<std::pair<std::string, bool>> expected_during = {
      {"", false}, {"0", false}, {"0.0", false}, {"0.1", true}, {"0.2", true},
      {"1", true}, {"2", true},  {"2.linear", true}};
  EXPECT_EQ(during, expected_during);

  std::vector<std::pair<std::string, bool>> after;
  for (const auto& [path, m] : model->named_modules()) after.emplace_back(path, m->training());
  EXPECT_EQ(after, before);
}

TEST(McDropout, RestoresModesWhenTheModelThrows) {
  auto model = mlp(1, 0.5);
  model->eval();
  data::LoaderOptions options;
  options.batch_size = 4;
  const data::DataLoader wrong(std::make_shared<data::TensorDataset>(zeros(Shape{6, 5}), zeros(Shape{6})), options);
  EXPECT_THROW(mc_dropout_predict(*model, wrong, 2), ShapeError);
  for (const auto& [path, m] : model->named_modules()) EXPECT_FALSE(m->training()) << path;
}

TEST(McDropout, Errors) {
  auto model = mlp(1, 0.5);
  try {
    mc_dropout_predict(*model, loader(), 0);
    FAIL() << "expected Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("passes"), std::string::npos) << e.what();
  }
  data::LoaderOptions options;
  options.batch_size = 4;
  options.drop_last = true;
  const data::DataLoader empty_loader(features(3, 1), options);
  EXPECT_THROW(mc_dropout_predict(*model, empty_loader, 2), Error);
}

}  // namespace
}  // namespace vigil::train
