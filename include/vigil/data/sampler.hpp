// Samplers: the order in which a DataLoader visits a dataset's indices, one epoch at a time.
//
// A sampler's order is a pure function of (its seed, the epoch): asking twice gives the same list, and nothing
// depends on worker threads or on what was drawn before. Random orders come from a Generator seeded with
// derive_seed(seed, stream, epoch), so two samplers with the same seed but different streams do not correlate.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace vigil::data {

// Mixes a base seed with up to three counters (a stream tag, the epoch, an index...) into a new seed through the
// splitmix64 finaliser, one round per value: nearby inputs give unrelated outputs. Used for every seed the data
// module derives, so any result can be reproduced from (seed, epoch, index) without replaying a stream.
std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t a, std::uint64_t b = 0, std::uint64_t c = 0);

class Sampler {
 public:
  virtual ~Sampler() = default;
  // The number of indices indices(epoch) returns (the same every epoch).
  virtual std::int64_t size() const = 0;
  // The dataset indices to visit in epoch `epoch`, in order.
  virtual std::vector<std::int64_t> indices(std::int64_t epoch) const = 0;
};

using SamplerPtr = std::shared_ptr<const Sampler>;

// 0, 1, ..., n - 1 every epoch.
class SequentialSampler : public Sampler {
 public:
  explicit SequentialSampler(std::int64_t n);
  std::int64_t size() const override { return n_; }
  std::vector<std::int64_t> indices(std::int64_t epoch) const override;

 private:
  std::int64_t n_;
};

// A permutation of 0..n-1 (Fisher-Yates), a different one each epoch, determined by (seed, epoch).
class RandomSampler : public Sampler {
 public:
  RandomSampler(std::int64_t n, std::uint64_t seed);
  std::int64_t size() const override { return n_; }
  std::vector<std::int64_t> indices(std::int64_t epoch) const override;

 private:
  std::int64_t n_;
  std::uint64_t seed_;
};

// num_samples indices drawn with replacement, index i with probability weights[i] / sum(weights). Weights must be
// finite, >= 0 and not all 0 (Error otherwise, naming the first bad weight). With class_balanced_weights() every
// class is drawn equally often on average, whatever the imbalance of the data set.
class WeightedRandomSampler : public Sampler {
 public:
  WeightedRandomSampler(std::vector<double> weights, std::int64_t num_samples, std::uint64_t seed);
  std::int64_t size() const override { return num_samples_; }
  std::vector<std::int64_t> indices(std::int64_t epoch) const override;

 private:
  std::vector<double> cumulative_;  // running sums of the weights; the last is the total
  std::int64_t last_positive_ = 0;  // the last index with a weight > 0
  std::int64_t num_samples_;
  std::uint64_t seed_;
};

// Per-example weights 1 / (number of examples of its class): labels[i] must be >= 0 (Error naming i otherwise).
std::vector<double> class_balanced_weights(std::span<const std::int64_t> labels);

}  // namespace vigil::data
