// Preprocessing fitted on training data: Standardizer ((x - mean) / std) and MinMaxScaler (to a fixed range),
// plus one_hot for targets.
//
// Fit on the training set only and apply the same statistics to validation and test data; otherwise the scores
// are optimistic (statistics leak from the held-out data). Statistics are per feature (every element of the sample
// shape: tabular columns, or every pixel) or per channel (dim 0 of the sample: images [C, H, W]). They are stored
// in a shape that broadcasts against one sample and against a batch: per feature, the sample shape itself; per
// channel, [C, 1, ..., 1] with the sample's rank. So apply() takes an example's input or a whole batch [N, ...].
//
// Both scalers save and restore their statistics as a flat list of named float32 tensors, so that a checkpoint
// can hold them beside the model's parameters.
#pragma once

#include <vigil/data/dataset.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace vigil::data {

enum class StatAxis { PerFeature, PerChannel };

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

class Standardizer {
 public:
  Standardizer() = default;
  // Means and population standard deviations (divide by n) of every example's input, accumulated in float64
  // (Welford's update, stable for large counts). A feature with std below 1e-12 (constant) gets std 1: it is only
  // centred. Requires a non-empty dataset with floating inputs of one shape (ShapeError naming the index otherwise;
  // PerChannel also needs rank >= 1).
  static Standardizer fit(const Dataset& train, StatAxis axis = StatAxis::PerFeature);

  // (x - mean) / std for x float32 or float64 of a shape the statistics broadcast to without growing (one sample
  // or a batch of them); same shape and dtype out. ShapeError naming both shapes otherwise; Error if not fitted.
  Tensor apply(const Tensor& x) const;
  // Applies to example.input; the generator is not used.
  ExampleTransform transform() const;

  const Tensor& mean() const { return mean_; }
  const Tensor& std() const { return std_; }
  // {"mean", mean}, {"std", std}.
  NamedTensors state() const;
  // Restores from state(): both names must be present with one float32 shape (Error naming what is missing or
  // mismatched). Other entries are ignored, so one list can hold several objects' states under distinct names.
  void load_state(const NamedTensors& state);

 private:
  Tensor mean_, std_;
};

class MinMaxScaler {
 public:
  MinMaxScaler() = default;
  // Per-feature or per-channel minimum and maximum of every example's input. Requires low < high and the same of
  // the dataset as Standardizer::fit.
  static MinMaxScaler fit(const Dataset& train, StatAxis axis = StatAxis::PerFeature, float low = 0.0f,
                          float high = 1.0f);

  // low + (x - min) * (high - low) / (max - min); a constant feature (max == min) maps to low. Values outside the
  // training range map outside [low, high] (no clipping). Shapes and errors as Standardizer::apply.
  Tensor apply(const Tensor& x) const;
  ExampleTransform transform() const;

  const Tensor& min() const { return min_; }
  const Tensor& max() const { return max_; }
  // {"min", min}, {"max", max}, {"range", [low, high]}.
  NamedTensors state() const;
  void load_state(const NamedTensors& state);

 private:
  Tensor min_, max_;
  float low_ = 0.0f, high_ = 1.0f;
};

// labels: int64 of any shape with values in [0, num_classes) (Error naming the flat position and value otherwise).
// Returns float32 [...labels shape, num_classes] with a 1 at each label.
Tensor one_hot(const Tensor& labels, std::int64_t num_classes);
// Replaces example.target (a class label) by its one-hot vector [num_classes]: for soft-label losses, mixup.
ExampleTransform one_hot_transform(std::int64_t num_classes);

}  // namespace vigil::data
