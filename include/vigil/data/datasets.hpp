// In-memory and composite datasets, class labels, and the stratified splits built on them.
#pragma once

#include <vigil/data/dataset.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace vigil::data {

// Rows of two tensors: example i is (inputs[i], targets[i]), each copied out (a transform may write into it).
// inputs [N, ...], targets [N, ...] with the same N (ShapeError otherwise); an int64 targets [N] gives 0-d labels.
class TensorDataset : public Dataset {
 public:
  TensorDataset(Tensor inputs, Tensor targets);
  std::int64_t size() const override { return inputs_.size(0); }
  Example get(std::int64_t index) const override;
  std::string describe() const override;
  const Tensor& inputs() const { return inputs_; }
  const Tensor& targets() const { return targets_; }

 private:
  Tensor inputs_, targets_;
};

// The examples of `base` at `indices`, in that order (repeats allowed). Every index must lie in
// [0, base->size()) (IndexError naming its position otherwise).
class Subset : public Dataset {
 public:
  Subset(DatasetPtr base, std::vector<std::int64_t> indices);
  std::int64_t size() const override { return static_cast<std::int64_t>(indices_.size()); }
  Example get(std::int64_t index) const override;
  std::string describe() const override;
  const std::vector<std::int64_t>& indices() const { return indices_; }

 private:
  DatasetPtr base_;
  std::vector<std::int64_t> indices_;
};

// The datasets one after another: index i falls in the first part whose cumulative size exceeds it.
class ConcatDataset : public Dataset {
 public:
  explicit ConcatDataset(std::vector<DatasetPtr> parts);
  std::int64_t size() const override { return offsets_.back(); }
  Example get(std::int64_t index) const override;
  std::string describe() const override;

 private:
  std::vector<DatasetPtr> parts_;
  std::vector<std::int64_t> offsets_;  // offsets_[k]: the first index of part k; offsets_.back() is the size
};

// The class label of every example, read through get(): O(size) calls, so a file-backed dataset that decodes on
// get() (images from disk) is read in full; in-memory datasets (TensorDataset, the IDX/CSV/NumPy/CIFAR readers)
// only copy one example each. Each target must be a 0-d int64 >= 0 (Error naming the index otherwise).
std::vector<std::int64_t> labels(const Dataset& dataset);

// Index sets for training and validation; both sorted ascending, disjoint, covering 0..n-1.
struct Split {
  std::vector<std::int64_t> train;
  std::vector<std::int64_t> validation;
};

// Puts round(validation_fraction * count) of each class's examples (chosen by a seeded shuffle) into validation, so
// each class keeps its share in both parts. Requires 0 <= validation_fraction <= 1 and labels >= 0.
Split stratified_split(std::span<const std::int64_t> labels, double validation_fraction, std::uint64_t seed);

// k folds for cross-validation: fold f's validation set is every k-th example of each class's seeded shuffle
// (dealt round-robin, continuing across classes so fold sizes differ by at most 1); its train set is the rest.
// Every example is in exactly one validation set. Requires 2 <= k <= labels.size().
std::vector<Split> stratified_kfold(std::span<const std::int64_t> labels, std::int64_t k, std::uint64_t seed);

}  // namespace vigil::data
