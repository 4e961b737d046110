// Standardizer and MinMaxScaler (values against hand-computed statistics, per feature and per channel, state round
// trips, errors), one_hot, LabelMap; and the composite datasets and stratified splits.
#include <vigil/data/datasets.hpp>
#include <vigil/data/label_map.hpp>
#include <vigil/data/preprocess.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace vigil::data {
namespace {

// Three examples with features [2]: (1, 10), (2, 10), (3, 10).
std::shared_ptr<TensorDataset> tabular() {
  return std::make_shared<TensorDataset>(from_vector(std::vector<float>{1, 10, 2, 10, 3, 10}, {3, 2}),
                                         from_vector_i64(std::vector<std::int64_t>{0, 1, 0}, {3}));
}

// Two "images" [2, 1, 2]: channel 0 holds 0, 2, 4, 6 over the set; channel 1 holds 1, 1, 3, 3.
std::shared_ptr<TensorDataset> images() {
  return std::make_shared<TensorDataset>(from_vector(std::vector<float>{0, 2, 1, 1, 4, 6, 3, 3}, {2, 2, 1, 2}),
                                         from_vector_i64(std::vector<std::int64_t>{0, 1}, {2}));
}

void expect_near(const Tensor& t, const std::vector<float>& expected) {
  const auto v = t.to_vector();
  ASSERT_EQ(v.size(), expected.size());
  for (std::size_t i = 0; i < v.size(); ++i) EXPECT_NEAR(v[i], expected[i], 1e-5) << "element " << i;
}

TEST(Standardizer, PerFeatureMeanAndPopulationStd) {
  const Standardizer s = Standardizer::fit(*tabular());
  expect_near(s.mean(), {2, 10});
  expect_near(s.std(), {std::sqrt(2.0f / 3.0f), 1});  // the constant feature keeps std 1: centred only
  const float z = 1.0f / std::sqrt(2.0f / 3.0f);
  expect_near(s.apply(from_vector(std::vector<float>{3, 11}, {2})), {z, 1});
  // A batch [N, F] broadcasts too, and float64 stays float64.
  const Tensor batch = s.apply(raw::to_dtype(from_vector(std::vector<float>{1, 10, 2, 12}, {2, 2}), DType::Float64));
  EXPECT_EQ(batch.dtype(), DType::Float64);
  expect_near(batch, {-z, 0, 0, 2});
}

TEST(Standardizer, PerChannelForImages) {
  const Standardizer s = Standardizer::fit(*images(), StatAxis::PerChannel);
  EXPECT_EQ(s.mean().shape(), (Shape{2, 1, 1}));
  expect_near(s.mean(), {3, 2});
  expect_near(s.std(), {std::sqrt(5.0f), 1});
  Generator gen(0);
  const Example e = s.transform()(images()->get(0), gen);
  expect_near(e.input, {-3 / std::sqrt(5.0f), -1 / std::sqrt(5.0f), -1, -1});
}

TEST(Standardizer, StateRoundTripAndErrors) {
  const Standardizer s = Standardizer::fit(*tabular());
  Standardizer restored;
  EXPECT_THROW((void)restored.apply(zeros({2})), Error);
  restored.load_state(s.state());
  EXPECT_TRUE(allclose(restored.apply(full({2}, 5)), s.apply(full({2}, 5)), 0, 0));

  try {
    restored.load_state({{"mean", zeros({2})}});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'std'"), std::string::npos) << e.what();
  }
  try {
    (void)s.apply(zeros({3}));
    FAIL() << "no error";
  } catch (const ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("[3]"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("[2]"), std::string::npos) << e.what();
  }
  // Inputs of different shapes in the training set are named.
  std::vector<DatasetPtr> parts{tabular(), std::make_shared<TensorDataset>(zeros({1, 3}), zeros({1}))};
  try {
    (void)Standardizer::fit(ConcatDataset(parts));
    FAIL() << "no error";
  } catch (const ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("index 3"), std::string::npos) << e.what();
  }
  EXPECT_THROW((void)Standardizer::fit(TensorDataset(zeros({0, 2}), zeros({0}))), Error);
}

TEST(MinMaxScaler, MapsTheTrainingRangeOntoTheTarget) {
  const MinMaxScaler m = MinMaxScaler::fit(*tabular(), StatAxis::PerFeature, -1, 1);
  expect_near(m.min(), {1, 10});
  expect_near(m.max(), {3, 10});
  expect_near(m.apply(from_vector(std::vector<float>{1, 10, 3, 99, 5, 10}, {3, 2})), {-1, -1, 1, -1, 3, -1});
  MinMaxScaler restored;
  restored.load_state(m.state());
  EXPECT_TRUE(allclose(restored.apply(full({2}, 2)), m.apply(full({2}, 2)), 0, 0));
  const MinMaxScaler c = MinMaxScaler::fit(*images(), StatAxis::PerChannel);
  expect_near(c.apply(images()->get(1).input), {4.0f / 6, 1, 1, 1});
  EXPECT_THROW((void)MinMaxScaler::fit(*tabular(), StatAxis::PerFeature, 1, 1), Error);
}

TEST(OneHot, EncodesLabelsAndRejectsOutOfRange) {
  const Tensor y = one_hot(from_vector_i64(std::vector<std::int64_t>{2, 0}, {2}), 3);
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  EXPECT_EQ(y.to_vector(), (std::vector<float>{0, 0, 1, 1, 0, 0}));
  EXPECT_EQ(one_hot(scalar_tensor(1, {DType::Int64}), 2).to_vector(), (std::vector<float>{0, 1}));
  try {
    (void)one_hot(from_vector_i64(std::vector<std::int64_t>{0, 3}, {2}), 3);
    FAIL() << "no error";
  } catch (const IndexError& e) {
    EXPECT_NE(std::string(e.what()).find("label 3 at position 1"), std::string::npos) << e.what();
  }
  EXPECT_THROW((void)one_hot(zeros({2}), 3), DTypeError);
}

TEST(LabelMap, MapsNamesBothWays) {
  const std::vector<std::string> seen{"dog", "cat", "dog", "bird"};
  const LabelMap map = LabelMap::from_labels(seen);
  EXPECT_EQ(map.names(), (std::vector<std::string>{"bird", "cat", "dog"}));
  EXPECT_EQ(map.index("dog"), 2);
  EXPECT_EQ(map.name(1), "cat");
  EXPECT_FALSE(map.find("cow").has_value());
  EXPECT_THROW((void)map.index("cow"), Error);
  EXPECT_THROW((void)map.name(3), IndexError);
  EXPECT_THROW(LabelMap({"a", "a"}), Error);
}

TEST(Datasets, TensorSubsetAndConcat) {
  const auto base = tabular();
  const Example one = base->get(1);
  EXPECT_EQ(one.input.to_vector(), (std::vector<float>{2, 10}));
  EXPECT_EQ(one.target.dim(), 0);
  EXPECT_FALSE(one.input.shares_storage(base->inputs()));  // a transform may write into it
  EXPECT_THROW(TensorDataset(zeros({3, 2}), zeros({2})), ShapeError);
  EXPECT_THROW((void)base->get(-1), IndexError);

  const auto sub = std::make_shared<Subset>(base, std::vector<std::int64_t>{2, 2, 0});
  EXPECT_EQ(sub->size(), 3);
  EXPECT_EQ(sub->get(0).input.to_vector(), (std::vector<float>{3, 10}));
  EXPECT_THROW(Subset(base, {0, 3}), IndexError);

  const ConcatDataset cat({sub, std::make_shared<TensorDataset>(zeros({0, 2}), zeros({0})), base});
  EXPECT_EQ(cat.size(), 6);
  EXPECT_EQ(cat.get(3).input.to_vector(), (std::vector<float>{1, 10}));
  EXPECT_EQ(cat.get(2).input.to_vector(), (std::vector<float>{1, 10}));
  EXPECT_EQ(labels(cat), (std::vector<std::int64_t>{0, 0, 0, 0, 1, 0}));
  try {
    (void)cat.get(6);
    FAIL() << "no error";
  } catch (const IndexError& e) {
    EXPECT_NE(std::string(e.what()).find("index 6 is out of range for size 6"), std::string::npos) << e.what();
  }
  EXPECT_THROW((void)labels(TensorDataset(zeros({2, 1}), zeros({2}))), Error);
}

std::vector<std::int64_t> imbalanced_labels() {
  std::vector<std::int64_t> y;
  for (int i = 0; i < 100; ++i) y.push_back(i % 10 == 0 ? 1 : (i % 10 < 4 ? 2 : 0));  // 60 / 10 / 30
  return y;
}

std::map<std::int64_t, int> class_counts(const std::vector<std::int64_t>& idx, const std::vector<std::int64_t>& y) {
  std::map<std::int64_t, int> counts;
  for (const auto i : idx) ++counts[y[static_cast<std::size_t>(i)]];
  return counts;
}

TEST(Split, StratifiedSplitKeepsEachClassShare) {
  const auto y = imbalanced_labels();
  const Split s = stratified_split(y, 0.2, 11);
  EXPECT_EQ(class_counts(s.validation, y), (std::map<std::int64_t, int>{{0, 12}, {1, 2}, {2, 6}}));
  EXPECT_EQ(class_counts(s.train, y), (std::map<std::int64_t, int>{{0, 48}, {1, 8}, {2, 24}}));
  std::vector<std::int64_t> all = s.train;
  all.insert(all.end(), s.validation.begin(), s.validation.end());
  std::sort(all.begin(), all.end());
  EXPECT_EQ(std::set<std::int64_t>(all.begin(), all.end()).size(), 100u);  // disjoint and covering
  EXPECT_EQ(stratified_split(y, 0.2, 11).validation, s.validation);
  EXPECT_NE(stratified_split(y, 0.2, 12).validation, s.validation);
  EXPECT_THROW((void)stratified_split(y, 1.5, 0), Error);
}

TEST(Split, StratifiedKFoldCoversEveryExampleOnce) {
  const auto y = imbalanced_labels();
  const auto folds = stratified_kfold(y, 5, 3);
  ASSERT_EQ(folds.size(), 5u);
  std::vector<int> times_validated(100);
  for (const Split& f : folds) {
    EXPECT_EQ(f.validation.size(), 20u);
    EXPECT_EQ(f.train.size(), 80u);
    EXPECT_EQ(class_counts(f.validation, y), (std::map<std::int64_t, int>{{0, 12}, {1, 2}, {2, 6}}));
    for (const auto i : f.validation) ++times_validated[static_cast<std::size_t>(i)];
  }
  EXPECT_TRUE(std::all_of(times_validated.begin(), times_validated.end(), [](int n) { return n == 1; }));
  EXPECT_THROW((void)stratified_kfold(y, 1, 0), Error);
  EXPECT_THROW((void)stratified_kfold(std::vector<std::int64_t>{0, -1}, 2, 0), Error);
}

}  // namespace
}  // namespace vigil::data
