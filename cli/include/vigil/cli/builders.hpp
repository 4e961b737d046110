// From a checked Config to the objects a run needs: data sets and loaders, preprocessing, the model, the loss,
// the optimiser, the schedule and the regularisation callback. The same config and seed always build the same
// objects, which is what lets `vigil resume` and `vigil eval` rebuild a run from its config.toml.
//
// Errors a config can still cause here (a missing data file, a label outside the classes, a model that does not
// fit the input, a checkpoint of another model) are UsageError naming the key and where it was set.
#pragma once

#include <vigil/cli/config.hpp>
#include <vigil/data/loader.hpp>
#include <vigil/io/safetensors.hpp>
#include <vigil/nn/module.hpp>
#include <vigil/optim/optimizer.hpp>
#include <vigil/optim/schedule.hpp>
#include <vigil/train/fit.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace vigil::cli {

// The data sets of a config, read but not preprocessed.
struct LoadedData {
  data::DatasetPtr train;       // the training split (after data.limit and the validation split)
  data::DatasetPtr validation;  // null when data.validation_fraction is 0
  data::DatasetPtr test;        // null when the config has no test set
  std::vector<std::string> class_names;  // num_classes of them (regression: {"value"})
  Shape sample_shape;                    // one input, e.g. [1, 28, 28] or [F]
  std::int64_t num_classes = 0;          // model outputs: classes, or 1 for regression
  bool regression = false;
};

// Reads the data sets. `test_path_override` (vigil eval --data) replaces the test set's location: data.path's
// directory for fashion-mnist and cifar10, data.test_path otherwise.
LoadedData load_data(const Config& config, const std::string& test_path_override = "");

// Preprocessing fitted on the training split (or restored from a checkpoint), the transforms and the loaders.
struct Pipeline {
  std::unique_ptr<data::DataLoader> train, validation, test;  // validation / test null when absent
  io::NamedTensors state;  // the fitted statistics as "preprocess/<name>", stored in every checkpoint
  data::ExampleTransform eval_transform;
};

// `saved`: a checkpoint's extra tensors; when it holds "preprocess/..." entries they are used instead of fitting.
Pipeline make_pipeline(const Config& config, const LoadedData& data, const io::NamedTensors* saved = nullptr);

// The model of [model] for inputs of `data.sample_shape` and `data.num_classes` outputs, its weights drawn from
// run.seed; init_from and freeze applied. Runs one forward pass on a zero example to check that the model fits
// the input.
std::shared_ptr<nn::Module> build_model(const Config& config, const LoadedData& data);

// The loss of [loss], plus the [regularize] penalties while the model is training.
train::LossFunction build_loss(const Config& config, const LoadedData& data, nn::Module& model);

std::unique_ptr<optim::Optimizer> build_optimizer(const Config& config, nn::Module& model);

// The callbacks of [schedule] (ScheduleCallback or PlateauCallback) and [regularize] (clipping before each step,
// max-norm after it), in that order; empty when there is nothing to do.
std::vector<train::CallbackPtr> build_training_callbacks(const Config& config, std::int64_t batches_per_epoch);

}  // namespace vigil::cli
