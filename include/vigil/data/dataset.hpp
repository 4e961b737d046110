// Dataset: the contract every data source meets, and the types that flow from it into a training loop.
//
// A Dataset is random access: size() examples, get(i) for 0 <= i < size(). get() must be safe to call from several
// threads at once (DataLoader workers do), so a dataset either holds its data in memory or opens its own file
// handles per call. An example's input is a tensor of the sample's shape (an image [C, H, W], a feature vector [F]);
// its target is either a 0-d int64 class label or a floating tensor (regression values, or class probabilities:
// soft labels from mixup/cutmix or label smoothing).
//
// Randomness is explicit: a transform receives the Generator to draw from. DataLoader derives that generator from
// (seed, epoch, sample index) alone (plus, under a sampler that draws one index twice in an epoch, which draw it
// is), so an epoch's batches are identical whatever the number of worker threads.
#pragma once

#include <vigil/tensor/generator.hpp>
#include <vigil/tensor/tensor.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace vigil::data {

struct Example {
  Tensor input;
  Tensor target;
};

// A batch: inputs [N, ...sample shape], targets [N] (int64 labels) or [N, ...target shape] (floating), and the
// dataset indices the rows came from (for error messages, leakage checks and per-sample reports).
struct Batch {
  Tensor inputs;
  Tensor targets;
  std::vector<std::int64_t> indices;
  std::int64_t size() const { return static_cast<std::int64_t>(indices.size()); }
};

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual std::int64_t size() const = 0;
  // Requires 0 <= index < size(); implementations throw IndexError naming the dataset, the index and the size.
  virtual Example get(std::int64_t index) const = 0;
  // A short description for error messages and summaries ("IDX /usr/share/.../train-images-idx3-ubyte.gz").
  virtual std::string describe() const = 0;
};

using DatasetPtr = std::shared_ptr<const Dataset>;

// Throws IndexError naming the dataset (describe()), the index and the size unless 0 <= index < dataset.size().
// Every get() in vigil starts with it.
void check_index(const Dataset& dataset, std::int64_t index);

// Applied to one example in a loader worker (augmentation, normalisation); draws only from `gen`.
using ExampleTransform = std::function<Example(Example example, Generator& gen)>;
// Applied to a whole collated batch (mixup, cutmix); draws only from `gen`.
using BatchTransform = std::function<Batch(Batch batch, Generator& gen)>;

}  // namespace vigil::data
