#pragma once
// Private helpers of the pre-flight checks (data_checks, model_lint, optimizer_checks): a few batches of a loader
// read into flat float64 tables, and side-effect-free forward passes and loss evaluations.
#include <cstdint>
#include <string>
#include <vector>

#include "vigil/data/loader.hpp"
#include "vigil/nn/module.hpp"
#include "vigil/train/fit.hpp"

namespace vigil::doctor::detail {

// The first `max_batches` batches of one epoch (epoch 0: loaders are deterministic, so every check reads the same
// batches). Row r of the tables is sample r in batch order.
struct DataSample {
  std::vector<data::Batch> batches;
  std::int64_t rows = 0;
  std::int64_t features = 0;       // values per sample input (the product of the sample shape)
  std::int64_t target_width = 0;   // values per sample target (1 for class labels)
  bool integer_targets = false;    // int64/int32 targets: class labels
  std::vector<double> inputs;      // [rows, features]
  std::vector<double> targets;     // [rows, target_width]
  std::vector<std::int64_t> batch_of_row;
  std::vector<std::int64_t> row_in_batch;
  std::vector<std::int64_t> dataset_index;
  std::vector<std::uint64_t> input_hash;  // FNV-1a of each sample's input bytes (in its own dtype)

  double input(std::int64_t row, std::int64_t feature) const { return inputs[row * features + feature]; }
  // "train batch 3, sample 17 (dataset index 1234)"
  std::string describe_row(const std::string& split, std::int64_t row) const;
};

DataSample read_sample(const data::DataLoader& loader, std::int64_t max_batches);

// Rows `rows` of the sample's inputs and targets, gathered from its batches into one batch, in that order.
data::Batch gather_rows(const DataSample& sample, const std::vector<std::int64_t>& rows);

// A probe batch of at most `max_rows` rows: for integer targets, up to max_rows / classes rows of each class
// seen (so that class-dependent losses, e.g. weighted ones, show their weights), else the first rows.
data::Batch probe_batch(const DataSample& sample, std::int64_t max_rows = 256);

// model(inputs) in eval mode under NoGradGuard, the mode put back: no buffer, generator or gradient changes.
Tensor eval_forward(nn::Module& model, const Tensor& inputs);

// loss(outputs, targets) as a double under NoGradGuard; NaN when it throws (a loss built for another task).
double loss_value(const train::LossFunction& loss, const Tensor& outputs, const Tensor& targets);

// a and b equal up to float32 rounding of a loss (relative 1e-5); false when either is NaN.
bool same_value(double a, double b);

// True when every value is finite.
bool all_finite(const Tensor& t);

// Flattened float64 copy of a tensor.
std::vector<double> values(const Tensor& t);

}  // namespace vigil::doctor::detail
