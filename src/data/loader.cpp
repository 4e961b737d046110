#include <vigil/data/loader.hpp>

#include <condition_variable>
#include <cstring>
#include <exception>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

namespace vigil::data {
namespace {

// Stream tags for derive_seed: example transforms and batch transforms draw from unrelated generators.
constexpr std::uint64_t kExampleStream = 0xe8a1;
constexpr std::uint64_t kBatchStream = 0xba7c;

// Copies `x` (any layout) into row `row` of the contiguous `out`, whose rows hold x.numel() elements each.
void copy_row(const Tensor& out, std::int64_t row, const Tensor& x) {
  const Tensor src = raw::contiguous(x);
  const std::size_t row_bytes = static_cast<std::size_t>(x.numel()) * dtype_size(x.dtype());
  std::memcpy(static_cast<char*>(out.raw_data()) + static_cast<std::size_t>(row) * row_bytes, src.raw_data(), row_bytes);
}

// Stacks the `field` (input or target) of every example; `what` names it in errors.
Tensor stack(std::span<const Example> examples, std::span<const std::int64_t> indices, Tensor Example::*field,
             const char* what) {
  const Tensor& first = examples[0].*field;
  VIGIL_CHECK(first.defined(), Error, "collate: the example at dataset index {} has no {}", indices[0], what);
  Shape shape = first.shape();
  shape.insert(0, static_cast<std::int64_t>(examples.size()));
  Tensor out = empty(shape, TensorOptions{first.dtype()});
  for (std::size_t i = 0; i < examples.size(); ++i) {
    const Tensor& x = examples[i].*field;
    VIGIL_CHECK(x.defined(), Error, "collate: the example at dataset index {} has no {}", indices[i], what);
    VIGIL_CHECK(x.shape() == first.shape(), ShapeError,
                "collate: {} of the example at dataset index {} has shape {}, but the batch's first example "
                "(dataset index {}) has {}",
                what, indices[i], x.shape().str(), indices[0], first.shape().str());
    VIGIL_CHECK(x.dtype() == first.dtype(), DTypeError,
                "collate: {} of the example at dataset index {} is {}, but the batch's first example (dataset index "
                "{}) is {}",
                what, indices[i], dtype_name(x.dtype()), indices[0], dtype_name(first.dtype()));
    copy_row(out, static_cast<std::int64_t>(i), x);
  }
  return out;
}

}  // namespace

Batch collate(std::span<const Example> examples, std::vector<std::int64_t> indices) {
  VIGIL_CHECK(!examples.empty(), Error, "collate: no examples");
  VIGIL_CHECK(indices.size() == examples.size(), Error, "collate: {} examples but {} indices", examples.size(),
              indices.size());
  Batch batch;
  batch.inputs = stack(examples, indices, &Example::input, "input");
  batch.targets = stack(examples, indices, &Example::target, "target");
  batch.indices = std::move(indices);
  return batch;
}

DataLoader::DataLoader(DatasetPtr dataset, LoaderOptions options)
    : dataset_(std::move(dataset)), options_(std::move(options)) {
  VIGIL_CHECK(dataset_ != nullptr, Error, "DataLoader: the dataset is null");
  VIGIL_CHECK(options_.batch_size >= 1, Error, "DataLoader: batch_size {} must be >= 1", options_.batch_size);
  VIGIL_CHECK(options_.num_workers >= 0, Error, "DataLoader: num_workers {} must be >= 0", options_.num_workers);
  VIGIL_CHECK(options_.prefetch >= 0, Error, "DataLoader: prefetch {} must be >= 0", options_.prefetch);
  if (options_.sampler == nullptr) {
    if (options_.shuffle) options_.sampler = std::make_shared<RandomSampler>(dataset_->size(), options_.seed);
    else options_.sampler = std::make_shared<SequentialSampler>(dataset_->size());
  }
}

std::int64_t DataLoader::size() const {
  const std::int64_t n = options_.sampler->size();
  return options_.drop_last ? n / options_.batch_size : (n + options_.batch_size - 1) / options_.batch_size;
}

DataLoader::Epoch DataLoader::epoch(std::int64_t epoch) const { return Epoch(dataset_, options_, epoch, size()); }

// One epoch's plan (the visit order) and, with workers, the hand-over between them and the consumer: workers
// claim batch numbers in order, at most `capacity` ahead of the consumer, and file each finished batch (or its
// exception) under its number; the consumer takes them out in order.
struct DataLoader::Epoch::State {
  struct Slot {
    Batch batch;
    std::exception_ptr error;
  };

  DatasetPtr dataset;
  LoaderOptions options;
  std::int64_t epoch = 0;
  std::int64_t num_batches = 0;
  std::vector<std::int64_t> order;
  std::vector<std::int64_t> visit;  // visit[p]: how often order[p] occurs in order[0..p)

  std::int64_t position = -1;  // the batch the consumer holds
  Batch current;

  std::mutex mutex;
  std::condition_variable work_cv, ready_cv;
  std::int64_t next_claim = 0, consumed = 0, capacity = 0;
  std::map<std::int64_t, Slot> ready;
  bool stop = false;
  bool failed = false;  // a batch's error reached the consumer (read and written by the consumer only)
  std::vector<std::thread> workers;

  // Pure: depends on (dataset, options, epoch, b) only, so any thread may build any batch.
  Batch build(std::int64_t b) const {
    const auto start = static_cast<std::size_t>(b * options.batch_size);
    const std::size_t stop_at = std::min(order.size(), start + static_cast<std::size_t>(options.batch_size));
    std::vector<Example> examples;
    std::vector<std::int64_t> indices;
    examples.reserve(stop_at - start);
    indices.reserve(stop_at - start);
    const std::uint64_t example_seed = derive_seed(options.seed, kExampleStream, static_cast<std::uint64_t>(epoch));
    for (std::size_t p = start; p < stop_at; ++p) {
      const std::int64_t index = order[p];
      Example example = dataset->get(index);
      if (options.example_transform) {
        Generator gen(derive_seed(example_seed, static_cast<std::uint64_t>(index), static_cast<std::uint64_t>(visit[p])));
        example = options.example_transform(std::move(example), gen);
      }
      examples.push_back(std::move(example));
      indices.push_back(index);
    }
    Batch batch = collate(examples, std::move(indices));
    if (options.batch_transform) {
      Generator gen(derive_seed(options.seed, kBatchStream, static_cast<std::uint64_t>(epoch), static_cast<std::uint64_t>(b)));
      batch = options.batch_transform(std::move(batch), gen);
    }
    return batch;
  }

  void work() {
    std::unique_lock lock(mutex);
    for (;;) {
      work_cv.wait(lock, [&] { return stop || next_claim >= num_batches || next_claim < consumed + capacity; });
      if (stop || next_claim >= num_batches) return;
      const std::int64_t b = next_claim++;
      lock.unlock();
      Slot slot;
      try {
        slot.batch = build(b);
      } catch (...) {
        slot.error = std::current_exception();
      }
      lock.lock();
      ready.emplace(b, std::move(slot));
      ready_cv.notify_all();
    }
  }

  Batch take(std::int64_t b) {
    // The epoch ends at its first failure: asking past it (a consumer that caught the error and went on) is an
    // error, also when a worker had already finished a later batch before the failure was seen.
    VIGIL_CHECK(!failed, Error, "DataLoader epoch {}: batch {} was asked for after the epoch stopped at an error",
                epoch, b);
    if (workers.empty()) {
      try {
        return build(b);
      } catch (...) {
        failed = true;
        throw;
      }
    }
    std::unique_lock lock(mutex);
    // After a failure no worker claims more batches, so this wait ends.
    ready_cv.wait(lock, [&] { return ready.count(b) != 0 || stop; });
    VIGIL_CHECK(ready.count(b) != 0, Error, "DataLoader epoch {}: batch {} was asked for after the epoch stopped at an error",
                epoch, b);
    Slot slot = std::move(ready.at(b));
    ready.erase(b);
    ++consumed;
    if (slot.error) stop = failed = true;  // idle workers exit
    work_cv.notify_all();
    lock.unlock();
    if (slot.error) std::rethrow_exception(slot.error);
    return std::move(slot.batch);
  }

  void shutdown() {
    {
      std::lock_guard lock(mutex);
      stop = true;
    }
    work_cv.notify_all();
    for (auto& worker : workers) worker.join();
    workers.clear();
  }
};

DataLoader::Epoch::Epoch(DatasetPtr dataset, const LoaderOptions& options, std::int64_t epoch,
                         std::int64_t num_batches)
    : state_(std::make_unique<State>()) {
  State& s = *state_;
  s.dataset = std::move(dataset);
  s.options = options;
  s.epoch = epoch;
  s.num_batches = num_batches;
  s.order = options.sampler->indices(epoch);
  const std::int64_t n = s.dataset->size();
  std::vector<std::int64_t> seen(static_cast<std::size_t>(n), 0);
  s.visit.resize(s.order.size());
  for (std::size_t p = 0; p < s.order.size(); ++p) {
    const std::int64_t index = s.order[p];
    VIGIL_CHECK(index >= 0 && index < n, IndexError,
                "DataLoader: the sampler's index {} at position {} of epoch {} is out of range for {} (size {})",
                index, p, epoch, s.dataset->describe(), n);
    s.visit[p] = seen[static_cast<std::size_t>(index)]++;
  }
  s.capacity = options.prefetch > 0 ? options.prefetch : 2 * options.num_workers;
  const std::int64_t threads = std::min(options.num_workers, num_batches);
  for (std::int64_t t = 0; t < threads; ++t) s.workers.emplace_back([&s] { s.work(); });
}

DataLoader::Epoch::Epoch(Epoch&&) noexcept = default;
DataLoader::Epoch& DataLoader::Epoch::operator=(Epoch&& other) noexcept {
  if (state_) state_->shutdown();
  state_ = std::move(other.state_);
  return *this;
}

DataLoader::Epoch::~Epoch() {
  if (state_) state_->shutdown();
}

std::int64_t DataLoader::Epoch::size() const { return state_->num_batches; }

DataLoader::Epoch::Iterator DataLoader::Epoch::begin() {
  VIGIL_CHECK(state_->position == -1, Error, "DataLoader epoch {}: begin() called twice (an epoch is single-pass)",
              state_->epoch);
  state_->position = 0;
  if (state_->num_batches > 0) state_->current = state_->take(0);
  return Iterator(state_.get());
}

const Batch& DataLoader::Epoch::Iterator::operator*() const { return state_->current; }

DataLoader::Epoch::Iterator& DataLoader::Epoch::Iterator::operator++() {
  ++state_->position;
  if (state_->position < state_->num_batches) state_->current = state_->take(state_->position);
  return *this;
}

bool DataLoader::Epoch::Iterator::operator==(std::default_sentinel_t) const {
  return state_->position >= state_->num_batches;
}

}  // namespace vigil::data
