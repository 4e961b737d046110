// DataLoader: collation, batch counts, determinism across worker counts, error propagation and clean shutdown;
// the samplers it draws its order from.
#include <vigil/data/datasets.hpp>
#include <vigil/data/loader.hpp>
#include <vigil/data/sampler.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <atomic>
#include <chrono>
#include <numeric>
#include <optional>
#include <set>
#include <stdexcept>
#include <thread>

namespace vigil::data {
namespace {

// n examples: input [3] = (i, i + 0.5, -i), label i % 3.
std::shared_ptr<TensorDataset> toy(std::int64_t n) {
  std::vector<float> x;
  std::vector<std::int64_t> y;
  for (std::int64_t i = 0; i < n; ++i) {
    x.insert(x.end(), {static_cast<float>(i), static_cast<float>(i) + 0.5f, -static_cast<float>(i)});
    y.push_back(i % 3);
  }
  return std::make_shared<TensorDataset>(from_vector(x, {n, 3}), from_vector_i64(y, {n}));
}

// Throws std::runtime_error from get(bad), and sleeps a little per example so workers overlap.
class Faulty : public Dataset {
 public:
  Faulty(std::int64_t n, std::int64_t bad) : base_(toy(n)), bad_(bad) {}
  std::int64_t size() const override { return base_->size(); }
  Example get(std::int64_t index) const override {
    std::this_thread::sleep_for(std::chrono::microseconds(200));
    if (index == bad_) throw std::runtime_error("broken example " + std::to_string(index));
    return base_->get(index);
  }
  std::string describe() const override { return "Faulty"; }

 private:
  std::shared_ptr<TensorDataset> base_;
  std::int64_t bad_;
};

std::vector<std::int64_t> all_indices(const DataLoader& loader, std::int64_t epoch) {
  std::vector<std::int64_t> out;
  for (const Batch& b : loader.epoch(epoch)) out.insert(out.end(), b.indices.begin(), b.indices.end());
  return out;
}

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         std::memcmp(a.raw_data(), b.raw_data(), static_cast<std::size_t>(a.numel()) * dtype_size(a.dtype())) == 0;
}

TEST(Collate, StacksInputsAndLabels) {
  const auto ds = toy(4);
  std::vector<Example> examples{ds->get(2), ds->get(0)};
  const Batch b = collate(examples, {2, 0});
  EXPECT_EQ(b.inputs.shape(), (Shape{2, 3}));
  EXPECT_EQ(b.inputs.to_vector(), (std::vector<float>{2, 2.5f, -2, 0, 0.5f, 0}));
  EXPECT_EQ(b.targets.shape(), (Shape{2}));
  EXPECT_EQ(b.targets.dtype(), DType::Int64);
  EXPECT_EQ(b.targets.data<std::int64_t>()[0], 2);
  EXPECT_EQ(b.size(), 2);

  std::vector<Example> soft{{zeros({2}), full({4}, 0.25f)}, {ones({2}), full({4}, 0.5f)}};
  const Batch s = collate(soft, {0, 1});
  EXPECT_EQ(s.targets.shape(), (Shape{2, 4}));
  EXPECT_EQ(s.targets.to_vector()[4], 0.5f);
}

TEST(Collate, MismatchedShapesNameBothIndicesAndShapes) {
  std::vector<Example> examples{{zeros({3, 4}), scalar_tensor(0, {DType::Int64})},
                                {zeros({3, 5}), scalar_tensor(1, {DType::Int64})}};
  try {
    (void)collate(examples, {7, 11});
    FAIL() << "no error";
  } catch (const ShapeError& e) {
    const std::string msg = e.what();
    for (const char* part : {"index 11", "[3, 5]", "index 7", "[3, 4]"})
      EXPECT_NE(msg.find(part), std::string::npos) << msg;
  }
  std::vector<Example> dtypes{{zeros({2}), scalar_tensor(0, {DType::Int64})}, {zeros({2}), scalar_tensor(1)}};
  EXPECT_THROW((void)collate(dtypes, {0, 1}), DTypeError);
}

TEST(DataLoader, BatchCountsAndDropLast) {
  const auto ds = toy(10);
  DataLoader keep(ds, {.batch_size = 4});
  EXPECT_EQ(keep.size(), 3);
  std::vector<std::int64_t> sizes;
  for (const Batch& b : keep.epoch(0)) sizes.push_back(b.size());
  EXPECT_EQ(sizes, (std::vector<std::int64_t>{4, 4, 2}));
  EXPECT_EQ(all_indices(keep, 0), (std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));

  DataLoader drop(ds, {.batch_size = 4, .drop_last = true});
  EXPECT_EQ(drop.size(), 2);
  EXPECT_EQ(all_indices(drop, 0).size(), 8u);

  DataLoader empty_loader(toy(0), {.batch_size = 4, .num_workers = 2});
  EXPECT_EQ(empty_loader.size(), 0);
  EXPECT_TRUE(all_indices(empty_loader, 0).empty());
}

TEST(DataLoader, ShuffleIsAPermutationFixedBySeedAndEpoch) {
  const auto ds = toy(50);
  DataLoader a(ds, {.batch_size = 8, .shuffle = true, .seed = 3});
  DataLoader b(ds, {.batch_size = 8, .shuffle = true, .seed = 3});
  DataLoader c(ds, {.batch_size = 8, .shuffle = true, .seed = 4});
  const auto e0 = all_indices(a, 0);
  EXPECT_EQ(e0, all_indices(b, 0));
  EXPECT_EQ(e0, all_indices(a, 0));
  EXPECT_NE(e0, all_indices(a, 1));
  EXPECT_NE(e0, all_indices(c, 0));
  auto sorted = e0;
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::int64_t> expected(50);
  std::iota(expected.begin(), expected.end(), 0);
  EXPECT_EQ(sorted, expected);
}

TEST(DataLoader, SameBatchesBitwiseForAnyNumberOfWorkers) {
  const auto ds = toy(37);
  auto run = [&](std::int64_t workers) {
    LoaderOptions options{.batch_size = 5, .shuffle = true, .seed = 42, .num_workers = workers, .prefetch = 2};
    options.example_transform = [](Example ex, Generator& gen) {
      ex.input = raw::clone(ex.input);
      for (std::int64_t i = 0; i < ex.input.numel(); ++i) ex.input.data<float>()[i] += gen.normal();
      return ex;
    };
    options.batch_transform = [](Batch b, Generator& gen) {
      const float scale = gen.uniform();
      for (std::int64_t i = 0; i < b.inputs.numel(); ++i) b.inputs.data<float>()[i] *= scale;
      return b;
    };
    DataLoader loader(ds, options);
    std::vector<Batch> out;
    for (std::int64_t e = 0; e < 2; ++e)
      for (const Batch& b : loader.epoch(e)) out.push_back(b);
    return out;
  };
  const auto serial = run(0);
  ASSERT_EQ(serial.size(), 16u);
  for (const std::int64_t workers : {1, 3}) {
    const auto parallel = run(workers);
    ASSERT_EQ(parallel.size(), serial.size());
    for (std::size_t i = 0; i < serial.size(); ++i) {
      EXPECT_EQ(parallel[i].indices, serial[i].indices) << workers << " workers, batch " << i;
      EXPECT_TRUE(same_bits(parallel[i].inputs, serial[i].inputs)) << workers << " workers, batch " << i;
      EXPECT_TRUE(same_bits(parallel[i].targets, serial[i].targets)) << workers << " workers, batch " << i;
    }
  }
  // The transform really drew noise: inputs differ from the raw data, and between epochs.
  EXPECT_FALSE(same_bits(serial[0].inputs, serial[8].inputs));
}

TEST(DataLoader, ExampleGeneratorDependsOnSeedEpochAndIndexOnly) {
  // Record each example's first draw under two batch sizes and orders: it must follow the dataset index.
  auto draws = [](std::int64_t batch_size, bool shuffle, std::int64_t epoch) {
    LoaderOptions options{.batch_size = batch_size, .shuffle = shuffle, .seed = 9};
    options.example_transform = [](Example ex, Generator& gen) {
      ex.input = full({1}, gen.uniform());
      return ex;
    };
    DataLoader loader(toy(12), options);
    std::vector<float> by_index(12);
    for (const Batch& b : loader.epoch(epoch))
      for (std::int64_t r = 0; r < b.size(); ++r) by_index[static_cast<std::size_t>(b.indices[static_cast<std::size_t>(r)])] = b.inputs.to_vector()[static_cast<std::size_t>(r)];
    return by_index;
  };
  EXPECT_EQ(draws(3, false, 0), draws(5, true, 0));
  EXPECT_NE(draws(3, false, 0), draws(3, false, 1));
}

TEST(DataLoader, ErrorsFromGetAreRethrownInTheConsumer) {
  for (const std::int64_t workers : {0, 1, 3}) {
    DataLoader loader(std::make_shared<Faulty>(40, 23), {.batch_size = 4, .num_workers = workers, .prefetch = 3});
    std::int64_t seen = 0;
    try {
      for (const Batch& b : loader.epoch(0)) seen += b.size();
      FAIL() << "no error with " << workers << " workers";
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "broken example 23");
    }
    EXPECT_EQ(seen, 20) << workers << " workers: the batches before the broken one arrive";
  }
  // Going on after the error does not hang: asking for the next batch is an Error.
  DataLoader loader(std::make_shared<Faulty>(12, 5), {.batch_size = 4, .num_workers = 2});
  auto epoch = loader.epoch(0);
  auto it = epoch.begin();
  EXPECT_THROW(++it, std::runtime_error);
  EXPECT_THROW(++it, Error);
}

TEST(DataLoader, ErrorsFromTransformsAreRethrown) {
  for (const std::int64_t workers : {0, 2}) {
    LoaderOptions options{.batch_size = 2, .num_workers = workers};
    options.batch_transform = [](Batch b, Generator&) -> Batch {
      if (b.indices[0] == 4) throw ShapeError("bad batch");
      return b;
    };
    DataLoader loader(toy(10), options);
    EXPECT_THROW(
        {
          for (const Batch& b : loader.epoch(0)) (void)b;
        },
        ShapeError);
  }
  // A collation error in a worker: one example of a different shape.
  LoaderOptions options{.batch_size = 3, .num_workers = 2};
  options.example_transform = [](Example ex, Generator&) {
    if (*ex.target.data<std::int64_t>() == 2 && ex.input.to_vector()[0] == 5) ex.input = zeros({4});
    return ex;
  };
  DataLoader loader(toy(9), options);
  try {
    for (const Batch& b : loader.epoch(0)) (void)b;
    FAIL() << "no error";
  } catch (const ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("dataset index 5"), std::string::npos) << e.what();
  }
}

TEST(DataLoader, LeavingAnEpochEarlyJoinsTheWorkers) {
  std::atomic<int> built{0};
  LoaderOptions options{.batch_size = 2, .num_workers = 3, .prefetch = 2};
  options.example_transform = [&built](Example ex, Generator&) {
    ++built;
    std::this_thread::sleep_for(std::chrono::microseconds(100));
    return ex;
  };
  {
    DataLoader loader(toy(1000), options);
    for (const Batch& b : loader.epoch(0)) {
      EXPECT_EQ(b.size(), 2);
      break;
    }
  }
  // The bound held: one batch consumed, at most `prefetch` more claimed (2 examples each).
  EXPECT_LE(built.load(), 2 * (1 + 2));

  // An epoch may outlive its loader, and may be dropped before it is iterated.
  std::optional<DataLoader::Epoch> epoch;
  {
    DataLoader loader(toy(20), {.batch_size = 3, .num_workers = 2});
    epoch.emplace(loader.epoch(0));
    (void)loader.epoch(1);
  }
  std::int64_t n = 0;
  for (const Batch& b : *epoch) n += b.size();
  EXPECT_EQ(n, 20);
}

TEST(DataLoader, RejectsBadOptionsAndSamplerIndices) {
  EXPECT_THROW(DataLoader(toy(3), {.batch_size = 0}), Error);
  EXPECT_THROW(DataLoader(nullptr, {}), Error);
  EXPECT_THROW(DataLoader(toy(3), {.num_workers = -1}), Error);
  LoaderOptions options{.batch_size = 2};
  options.sampler = std::make_shared<SequentialSampler>(5);
  DataLoader loader(toy(3), options);
  EXPECT_THROW((void)loader.epoch(0), IndexError);
}

TEST(DataLoader, ClassBalancedSamplingEvensOutClasses) {
  // 90 examples of class 0, 10 of class 1.
  std::vector<std::int64_t> y(100, 0);
  std::fill(y.begin() + 90, y.end(), 1);
  auto ds = std::make_shared<TensorDataset>(zeros({100, 1}), from_vector_i64(y, {100}));
  LoaderOptions options{.batch_size = 50, .num_workers = 2};
  options.sampler = std::make_shared<WeightedRandomSampler>(class_balanced_weights(labels(*ds)), 4000, 5);
  DataLoader loader(ds, options);
  EXPECT_EQ(loader.size(), 80);
  std::int64_t ones = 0, total = 0;
  for (const Batch& b : loader.epoch(0)) {
    for (std::int64_t r = 0; r < b.size(); ++r) ones += b.targets.data<std::int64_t>()[r];
    total += b.size();
  }
  EXPECT_EQ(total, 4000);
  EXPECT_NEAR(static_cast<double>(ones) / static_cast<double>(total), 0.5, 0.03);
}

TEST(Sampler, RandomSamplerIsASeededPermutation) {
  RandomSampler s(20, 1);
  const auto a = s.indices(0);
  EXPECT_EQ(a, s.indices(0));
  EXPECT_NE(a, s.indices(1));
  EXPECT_EQ(std::set<std::int64_t>(a.begin(), a.end()).size(), 20u);
  EXPECT_EQ(SequentialSampler(4).indices(3), (std::vector<std::int64_t>{0, 1, 2, 3}));
}

TEST(Sampler, WeightedSamplerFollowsTheWeights) {
  WeightedRandomSampler s({0.0, 1.0, 3.0, 0.0}, 20000, 2);
  std::vector<int> counts(4);
  for (const auto i : s.indices(0)) ++counts[static_cast<std::size_t>(i)];
  EXPECT_EQ(counts[0], 0);
  EXPECT_EQ(counts[3], 0);
  EXPECT_NEAR(counts[2] / 20000.0, 0.75, 0.015);
  EXPECT_EQ(s.indices(4), s.indices(4));
  EXPECT_THROW(WeightedRandomSampler({1.0, -1.0}, 3, 0), Error);
  EXPECT_THROW(WeightedRandomSampler({0.0, 0.0}, 3, 0), Error);
  EXPECT_EQ(class_balanced_weights(std::vector<std::int64_t>{0, 0, 1, 0}),
            (std::vector<double>{1.0 / 3, 1.0 / 3, 1.0, 1.0 / 3}));
}

TEST(Sampler, DeriveSeedSeparatesEveryArgument) {
  std::set<std::uint64_t> seeds;
  for (std::uint64_t a = 0; a < 4; ++a)
    for (std::uint64_t b = 0; b < 4; ++b)
      for (std::uint64_t c = 0; c < 4; ++c) seeds.insert(derive_seed(7, a, b, c));
  EXPECT_EQ(seeds.size(), 64u);
  EXPECT_NE(derive_seed(1, 2, 3), derive_seed(1, 3, 2));
}

}  // namespace
}  // namespace vigil::data
