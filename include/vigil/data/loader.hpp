// DataLoader: turns a Dataset into a stream of collated batches, one epoch at a time, optionally with worker
// threads that prefetch.
//
//   DataLoader loader(train, {.batch_size = 64, .shuffle = true, .seed = 7, .num_workers = 2});
//   for (std::int64_t e = 0; e < epochs; ++e)
//     for (const Batch& b : loader.epoch(e)) step(b.inputs, b.targets);
//
// Determinism: an epoch's batches depend only on (dataset, options, epoch), never on num_workers or on thread
// timing. The order comes from the sampler (default: RandomSampler(seed) when shuffle, else sequential), so it is
// a function of (seed, epoch). The example transform of the k-th visit of dataset index i in an epoch draws from
// Generator(derive_seed(seed, example stream, epoch, i) mixed with k): with samplers that visit each index once
// (sequential, random) that is a function of (seed, epoch, i) alone; a with-replacement sampler's repeats of one
// index get different draws. The batch transform of batch b draws from Generator(derive_seed(seed, batch stream,
// epoch, b)). Workers build whole batches and hand them over in order, so 0, 1 or 8 workers give bitwise the
// same batches.
//
// Errors: an exception thrown by get(), a transform or collation is rethrown by the iterator increment that
// reaches that batch (the one in the consumer's thread), with its original type; the epoch stops there. Dropping
// an epoch (or the loader) mid-way stops the workers and joins them after the batches they are building.
#pragma once

#include <vigil/data/dataset.hpp>
#include <vigil/data/sampler.hpp>

#include <cstdint>
#include <iterator>
#include <memory>
#include <span>
#include <vector>

namespace vigil::data {

struct LoaderOptions {
  std::int64_t batch_size = 1;
  // Ignored when a sampler is given.
  bool shuffle = false;
  // Seeds the default shuffle and every transform generator.
  std::uint64_t seed = 0;
  // Drop a last batch smaller than batch_size (keeps batch statistics comparable).
  bool drop_last = false;
  // 0: batches are built in the consumer's thread when it asks for them.
  std::int64_t num_workers = 0;
  // With workers: at most this many batches are being built or waiting to be consumed at once (bounds memory).
  // 0 means 2 per worker.
  std::int64_t prefetch = 0;
  // Visit order; its indices must lie in [0, dataset size). Null: from shuffle and seed.
  SamplerPtr sampler = nullptr;
  ExampleTransform example_transform = nullptr;
  BatchTransform batch_transform = nullptr;
};

// Stacks examples into a batch: inputs [N, ...input shape] and targets [N, ...target shape] (a 0-d int64 label
// stacks to [N]). All inputs must share one shape and dtype, and so must all targets: ShapeError / DTypeError
// otherwise, naming the dataset indices and shapes of the first example and the offending one. `indices` are the
// examples' dataset indices (same length as examples), kept in the batch.
Batch collate(std::span<const Example> examples, std::vector<std::int64_t> indices);

class DataLoader {
 public:
  // Requires a non-null dataset, batch_size >= 1, num_workers >= 0, prefetch >= 0 (Error otherwise).
  DataLoader(DatasetPtr dataset, LoaderOptions options);

  class Epoch;
  // One pass over the data. The returned range is single-pass; it owns its worker threads and may outlive the
  // loader.
  Epoch epoch(std::int64_t epoch) const;
  // Batches per epoch: ceil(n / batch_size), or floor with drop_last, where n is the sampler's size.
  std::int64_t size() const;
  const Dataset& dataset() const { return *dataset_; }
  const LoaderOptions& options() const { return options_; }

 private:
  DatasetPtr dataset_;
  LoaderOptions options_;
};

class DataLoader::Epoch {
 public:
  struct State;
  class Iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = Batch;
    using difference_type = std::ptrdiff_t;
    explicit Iterator(State* state) : state_(state) {}
    const Batch& operator*() const;
    const Batch* operator->() const { return &**this; }
    Iterator& operator++();
    bool operator==(std::default_sentinel_t) const;

   private:
    State* state_;
  };

  Epoch(DatasetPtr dataset, const LoaderOptions& options, std::int64_t epoch, std::int64_t num_batches);
  Epoch(Epoch&&) noexcept;
  Epoch& operator=(Epoch&&) noexcept;
  ~Epoch();

  // Fetches the first batch (rethrowing its error, if any). Call once.
  Iterator begin();
  std::default_sentinel_t end() const { return {}; }
  std::int64_t size() const;

 private:
  std::unique_ptr<State> state_;
};

}  // namespace vigil::data
