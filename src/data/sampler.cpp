#include <vigil/data/sampler.hpp>
#include <vigil/tensor/error.hpp>
#include <vigil/tensor/generator.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace vigil::data {
namespace {

// The splitmix64 output function: a bijection on 64-bit words with full avalanche.
std::uint64_t mix64(std::uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Stream tags keep the samplers' generators apart from the loader's transform generators.
constexpr std::uint64_t kRandomSamplerStream = 0x5a3d;
constexpr std::uint64_t kWeightedSamplerStream = 0x77e1;

}  // namespace

std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t a, std::uint64_t b, std::uint64_t c) {
  std::uint64_t h = mix64(seed);
  h = mix64(h ^ a);
  h = mix64(h ^ b);
  return mix64(h ^ c);
}

SequentialSampler::SequentialSampler(std::int64_t n) : n_(n) {
  VIGIL_CHECK(n >= 0, Error, "SequentialSampler: size {} is negative", n);
}

std::vector<std::int64_t> SequentialSampler::indices(std::int64_t) const {
  std::vector<std::int64_t> out(static_cast<std::size_t>(n_));
  std::iota(out.begin(), out.end(), std::int64_t{0});
  return out;
}

RandomSampler::RandomSampler(std::int64_t n, std::uint64_t seed) : n_(n), seed_(seed) {
  VIGIL_CHECK(n >= 0, Error, "RandomSampler: size {} is negative", n);
}

std::vector<std::int64_t> RandomSampler::indices(std::int64_t epoch) const {
  std::vector<std::int64_t> out(static_cast<std::size_t>(n_));
  std::iota(out.begin(), out.end(), std::int64_t{0});
  Generator gen(derive_seed(seed_, kRandomSamplerStream, static_cast<std::uint64_t>(epoch)));
  // Fisher-Yates with our own unbiased below(): std::shuffle's algorithm differs between standard libraries.
  for (std::size_t i = out.size(); i > 1; --i) std::swap(out[i - 1], out[gen.below(i)]);
  return out;
}

WeightedRandomSampler::WeightedRandomSampler(std::vector<double> weights, std::int64_t num_samples,
                                             std::uint64_t seed)
    : num_samples_(num_samples), seed_(seed) {
  VIGIL_CHECK(num_samples >= 0, Error, "WeightedRandomSampler: num_samples {} is negative", num_samples);
  cumulative_.reserve(weights.size());
  double total = 0.0;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    VIGIL_CHECK(std::isfinite(weights[i]) && weights[i] >= 0.0, Error,
                "WeightedRandomSampler: weight {} of index {} must be finite and >= 0", weights[i], i);
    total += weights[i];
    cumulative_.push_back(total);
    if (weights[i] > 0.0) last_positive_ = static_cast<std::int64_t>(i);
  }
  VIGIL_CHECK(total > 0.0 || num_samples == 0, Error,
              "WeightedRandomSampler: the {} weights sum to 0; nothing can be drawn", weights.size());
}

std::vector<std::int64_t> WeightedRandomSampler::indices(std::int64_t epoch) const {
  if (num_samples_ == 0) return {};
  Generator gen(derive_seed(seed_, kWeightedSamplerStream, static_cast<std::uint64_t>(epoch)));
  const double total = cumulative_.back();
  std::vector<std::int64_t> out(static_cast<std::size_t>(num_samples_));
  for (auto& index : out) {
    // Inverse CDF: the first index whose running sum exceeds u. upper_bound skips zero-weight indices, whose
    // running sum equals their predecessor's.
    const double u = gen.uniform_double() * total;
    // u * total can round up to total itself; last_positive_ then stands in for end().
    const auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), u);
    index = std::min<std::int64_t>(it - cumulative_.begin(), last_positive_);
  }
  return out;
}

std::vector<double> class_balanced_weights(std::span<const std::int64_t> labels) {
  std::vector<std::int64_t> counts;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    VIGIL_CHECK(labels[i] >= 0, Error, "class_balanced_weights: label {} at index {} is negative", labels[i], i);
    if (static_cast<std::size_t>(labels[i]) >= counts.size()) counts.resize(static_cast<std::size_t>(labels[i]) + 1);
    ++counts[static_cast<std::size_t>(labels[i])];
  }
  std::vector<double> weights(labels.size());
  for (std::size_t i = 0; i < labels.size(); ++i) weights[i] = 1.0 / static_cast<double>(counts[static_cast<std::size_t>(labels[i])]);
  return weights;
}

}  // namespace vigil::data
