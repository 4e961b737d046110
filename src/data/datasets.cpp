#include <vigil/data/datasets.hpp>
#include <vigil/data/sampler.hpp>

#include <algorithm>
#include <cmath>
#include <map>

namespace vigil::data {
namespace {

// Row i of x as its own contiguous tensor of shape x.shape()[1:].
Tensor row(const Tensor& x, std::int64_t i) { return raw::clone(raw::squeeze(raw::narrow(x, 0, i, 1), 0)); }

constexpr std::uint64_t kSplitStream = 0x5b17;

// Each class's example indices, each list shuffled by (seed, class); classes in ascending order.
std::map<std::int64_t, std::vector<std::int64_t>> shuffled_classes(std::span<const std::int64_t> labels,
                                                                   std::uint64_t seed, const char* op) {
  std::map<std::int64_t, std::vector<std::int64_t>> classes;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    VIGIL_CHECK(labels[i] >= 0, Error, "{}: label {} at index {} is negative", op, labels[i], i);
    classes[labels[i]].push_back(static_cast<std::int64_t>(i));
  }
  for (auto& [label, members] : classes) {
    Generator gen(derive_seed(seed, kSplitStream, static_cast<std::uint64_t>(label)));
    for (std::size_t i = members.size(); i > 1; --i) std::swap(members[i - 1], members[gen.below(i)]);
  }
  return classes;
}

}  // namespace

TensorDataset::TensorDataset(Tensor inputs, Tensor targets) : inputs_(std::move(inputs)), targets_(std::move(targets)) {
  VIGIL_CHECK(inputs_.defined() && targets_.defined(), Error, "TensorDataset: inputs and targets must be defined");
  VIGIL_CHECK(inputs_.dim() >= 1 && targets_.dim() >= 1 && inputs_.size(0) == targets_.size(0), ShapeError,
              "TensorDataset: inputs {} and targets {} must have the same first extent (the number of examples)",
              inputs_.shape().str(), targets_.shape().str());
}

Example TensorDataset::get(std::int64_t index) const {
  check_index(*this, index);
  return {row(inputs_, index), row(targets_, index)};
}

std::string TensorDataset::describe() const {
  return fmt::format("TensorDataset(inputs {}, targets {})", inputs_.shape().str(), targets_.shape().str());
}

Subset::Subset(DatasetPtr base, std::vector<std::int64_t> indices) : base_(std::move(base)), indices_(std::move(indices)) {
  VIGIL_CHECK(base_ != nullptr, Error, "Subset: the base dataset is null");
  const std::int64_t n = base_->size();
  for (std::size_t p = 0; p < indices_.size(); ++p)
    VIGIL_CHECK(indices_[p] >= 0 && indices_[p] < n, IndexError,
                "Subset of {}: index {} at position {} is out of range for size {}", base_->describe(), indices_[p],
                p, n);
}

Example Subset::get(std::int64_t index) const {
  check_index(*this, index);
  return base_->get(indices_[static_cast<std::size_t>(index)]);
}

std::string Subset::describe() const { return fmt::format("Subset({} of {})", indices_.size(), base_->describe()); }

ConcatDataset::ConcatDataset(std::vector<DatasetPtr> parts) : parts_(std::move(parts)) {
  offsets_.push_back(0);
  for (std::size_t k = 0; k < parts_.size(); ++k) {
    VIGIL_CHECK(parts_[k] != nullptr, Error, "ConcatDataset: part {} is null", k);
    offsets_.push_back(offsets_.back() + parts_[k]->size());
  }
}

Example ConcatDataset::get(std::int64_t index) const {
  check_index(*this, index);
  // The last offset <= index marks the part; upper_bound skips empty parts, whose offset equals the next one's.
  const auto k = static_cast<std::size_t>(std::upper_bound(offsets_.begin(), offsets_.end(), index) - offsets_.begin() - 1);
  return parts_[k]->get(index - offsets_[k]);
}

std::string ConcatDataset::describe() const {
  std::string out = "ConcatDataset(";
  for (std::size_t k = 0; k < parts_.size(); ++k) out += (k ? ", " : "") + parts_[k]->describe();
  return out + ")";
}

std::vector<std::int64_t> labels(const Dataset& dataset) {
  std::vector<std::int64_t> out(static_cast<std::size_t>(dataset.size()));
  for (std::int64_t i = 0; i < dataset.size(); ++i) {
    const Tensor target = dataset.get(i).target;
    VIGIL_CHECK(target.defined() && target.dtype() == DType::Int64 && target.dim() == 0, Error,
                "labels: {} index {} has a target that is not a 0-d int64 class label", dataset.describe(), i);
    const std::int64_t label = *target.data<std::int64_t>();
    VIGIL_CHECK(label >= 0, Error, "labels: {} index {} has the negative label {}", dataset.describe(), i, label);
    out[static_cast<std::size_t>(i)] = label;
  }
  return out;
}

Split stratified_split(std::span<const std::int64_t> labels, double validation_fraction, std::uint64_t seed) {
  VIGIL_CHECK(validation_fraction >= 0.0 && validation_fraction <= 1.0, Error,
              "stratified_split: validation_fraction {} must lie in [0, 1]", validation_fraction);
  Split split;
  for (const auto& [label, members] : shuffled_classes(labels, seed, "stratified_split")) {
    const auto n_validation =
        static_cast<std::size_t>(std::llround(validation_fraction * static_cast<double>(members.size())));
    split.validation.insert(split.validation.end(), members.begin(), members.begin() + static_cast<std::ptrdiff_t>(n_validation));
    split.train.insert(split.train.end(), members.begin() + static_cast<std::ptrdiff_t>(n_validation), members.end());
  }
  std::sort(split.train.begin(), split.train.end());
  std::sort(split.validation.begin(), split.validation.end());
  return split;
}

std::vector<Split> stratified_kfold(std::span<const std::int64_t> labels, std::int64_t k, std::uint64_t seed) {
  VIGIL_CHECK(k >= 2 && k <= static_cast<std::int64_t>(labels.size()), Error,
              "stratified_kfold: k = {} must lie in [2, {}] (the number of examples)", k, labels.size());
  std::vector<std::int64_t> fold_of(labels.size());
  std::size_t dealt = 0;
  for (const auto& [label, members] : shuffled_classes(labels, seed, "stratified_kfold"))
    for (const std::int64_t i : members) fold_of[static_cast<std::size_t>(i)] = static_cast<std::int64_t>(dealt++ % static_cast<std::size_t>(k));
  std::vector<Split> folds(static_cast<std::size_t>(k));
  for (std::size_t i = 0; i < labels.size(); ++i)
    for (std::int64_t f = 0; f < k; ++f)
      (f == fold_of[i] ? folds[static_cast<std::size_t>(f)].validation : folds[static_cast<std::size_t>(f)].train)
          .push_back(static_cast<std::int64_t>(i));
  return folds;
}

}  // namespace vigil::data
