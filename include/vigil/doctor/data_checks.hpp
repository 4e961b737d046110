#pragma once
// Pre-flight data checks: what the training (and validation) batches say before a single step is taken.
//
// Check ids (silence them through Options::silenced):
//   data.non_finite_inputs      error    NaN/Inf in the inputs (train or validation); names batch, sample, feature
//   data.non_finite_targets     error    NaN/Inf in the targets; names batch, sample, component
//   data.raw_pixels             warning  image-like inputs that are unscaled integers in [0, 255]
//   data.input_scale            warning  inputs as a whole far from unit scale (std or magnitude)
//   data.feature_scale          warning  tabular [N, F] inputs: features whose std or magnitude is far from unit
//   data.constant_samples       warning  a share of samples whose input is one constant value (blank, all zero)
//   data.label_range            error    class labels outside [0, C) for a head of C outputs
//   data.unused_outputs         info     the head has outputs above every label seen (more classes than data)
//   data.class_imbalance        warning  max/min class frequency large while the loss is plain (unweighted) CE
//   data.unshuffled             warning  the first batches each hold a single label: the loader does not shuffle
//   data.train_val_duplicates   warning  validation samples whose input bytes also occur in training
//   data.validation_preprocessing warning validation inputs' mean/std far from the training inputs'
//   data.feature_leak           warning  one tabular feature alone predicts the label almost perfectly
//
// Cost: reads Options::max_batches batches of setup.train (and as many of setup.validation), one eval-mode
// forward pass of at most 256 samples, and per-feature sorts only for tabular inputs of at most
// max_tabular_features features. Leaves the setup as it found it (eval-mode forward under NoGradGuard).
#include <cstdint>

#include "vigil/doctor/finding.hpp"
#include "vigil/doctor/setup.hpp"

namespace vigil::doctor {

struct DataThresholds {
  // Raw pixels: all values integers in [0, 255] with a maximum above this. Scaled images top out near 1 (or a
  // few units after standardising); a maximum of 20+ on integer values is the undivided byte range.
  double raw_pixel_max = 20.0;
  // Image-like: samples with >= 2 dims (C, H, W) or at least this many features (a flattened image).
  std::int64_t image_min_features = 64;
  // Inputs of shape [N, F] with F at most this are tabular: their features are checked one by one (scale, leak).
  // Wider ones are flattened images, whose border pixels are legitimately constant.
  std::int64_t max_tabular_features = 256;
  // Unit scale: a std outside [min_std, max_std] or a magnitude above max_abs makes the first layer's
  // pre-activations tiny or huge, which default initialisations (scaled for unit inputs) do not expect.
  double min_std = 1e-2;
  double max_std = 1e2;
  double max_abs = 1e4;
  // Share of samples whose input is constant; a few blank images are data, many are a loading bug.
  double constant_sample_fraction = 0.01;
  // Class imbalance: max/min count of the classes seen. Beyond 10:1 an unweighted loss mostly learns the majority.
  double imbalance_ratio = 10.0;
  // Unshuffled: this many first batches (at least 2 read), each with a single label and >= 2 samples.
  std::int64_t unshuffled_batches = 4;
  // Share of validation samples also in training (exact byte duplicates), scaled up by the share of training
  // data read; a couple of duplicates in a large set is noise, more inflates validation scores.
  double duplicate_fraction = 0.01;
  std::int64_t min_duplicates = 2;
  // Validation preprocessing: std ratio outside [1/std_ratio, std_ratio], or means that differ by more than
  // mean_shift training stds. Sampling noise over thousands of values is orders of magnitude smaller.
  double std_ratio = 2.0;
  double mean_shift = 0.5;
  // Leak: a single feature predicting the label with leave-one-out accuracy >= leak_accuracy while the majority
  // class is at most leak_majority of the samples; only with at least leak_min_samples samples.
  double leak_accuracy = 0.99;
  double leak_majority = 0.9;
  std::int64_t leak_min_samples = 50;
  // Discrete features (at most this many distinct values) are scored by per-value purity, others by a 1-D
  // nearest-neighbour vote along the sorted feature.
  std::int64_t leak_max_distinct = 20;
};

// Runs every data check above and adds its findings to `report`. `task` comes from infer_task(setup).
void check_data(const Setup& setup, const Task& task, const Options& options, Report& report,
                const DataThresholds& thresholds = {});

}  // namespace vigil::doctor
