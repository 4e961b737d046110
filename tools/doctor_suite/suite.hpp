// The doctor's proof (issue 6): deliberately broken training setups, each a fair and realistic instance of one
// silent failure, and healthy setups, some of which naive rules misjudge. The suite runs the doctor on every one
// (pre-flight, a short monitored fit, curve analysis) and measures how often the expected finding ranks first or
// second, and how often a healthy setup draws a warning.
//
// A Case names its fault and the check ids that diagnose it (any one of them counts); its builder returns a fresh
// setup (model, loss, optimiser, loaders) from a seed, so the same setup can be built twice: once for the
// monitored run and once for the plain run that the monitor's overhead is measured against.
#pragma once

#include <vigil/data/loader.hpp>
#include <vigil/nn/nn.hpp>
#include <vigil/optim/optim.hpp>
#include <vigil/train/fit.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace vigil::doctor_suite {

enum class Category { data, model, loss, optimisation, implementation, healthy };
std::string to_string(Category category);

// What a hand-written training loop reports to the doctor's monitor: after each backward pass, and after each
// optimiser step with the batch loss.
struct LoopHooks {
  std::function<void(std::int64_t step)> after_backward;
  std::function<void(std::int64_t step, double loss)> after_step;
};

struct Built;
// A training loop of the user's own, for faults that fit() cannot make (it always zeroes gradients and sets the
// training mode). Returns one History entry per epoch with at least "loss".
using CustomLoop = std::function<train::History(Built& built, const LoopHooks& hooks)>;

struct Built {
  std::shared_ptr<nn::Module> model;
  train::LossFunction loss;
  std::unique_ptr<optim::Optimizer> optimizer;
  std::shared_ptr<data::DataLoader> train;
  std::shared_ptr<data::DataLoader> validation;  // null when the setup has none
  std::function<Tensor()> regularizer;           // the penalty the loss adds, when it adds one (for the doctor)
  std::int64_t epochs = 3;
  std::vector<std::string> metrics;
  std::vector<train::CallbackPtr> callbacks;  // the user's own (early stopping, schedules)
  CustomLoop loop;                            // empty: trained by train::fit
};

struct Case {
  std::string name;
  Category category = Category::healthy;
  std::string description;            // the fault, or why a healthy setup is a hard case
  std::vector<std::string> expected;  // check ids that diagnose the fault (any counts); empty when healthy
  bool fast = false;                  // in the --fast subset that CI runs
  std::function<Built(std::uint64_t seed)> build;
  bool broken() const { return category != Category::healthy; }
};

std::vector<Case> data_cases();
std::vector<Case> model_cases();
std::vector<Case> training_cases();        // loss and optimisation faults
std::vector<Case> implementation_cases();
std::vector<Case> healthy_cases();
std::vector<Case> all_cases();

// ---- Shared ingredients of the setups (common.cpp) ----

struct Arrays {
  Tensor x;  // float32 [N, ...]
  Tensor y;  // int64 [N] labels, or float32 targets
};

// Fashion-MNIST test-set images [n, 1, 28, 28] with pixels in [0, 1] and their labels, from `offset`
// (the 10k-image file, loaded once). The directory is /usr/share/datasets/fashion-mnist unless
// VIGIL_FASHION_DIR says otherwise.
Arrays fashion(std::int64_t offset, std::int64_t n);
// Pixels standardised with Fashion-MNIST's mean and std (0.2860, 0.3530): what a correct pipeline feeds.
Tensor standardise_pixels(const Tensor& x);

// Gaussian classes in `features` dims: class c's centre is N(0, separation^2) per feature (drawn from
// `task_seed`: one task, many samples), samples add N(0, 1) (from `sample_seed`). Labels cycle through the
// classes unless `counts` gives each class's size (then n is ignored: the size is their sum).
Arrays blobs(std::int64_t n, std::int64_t features, std::int64_t classes, double separation, std::uint64_t task_seed,
             std::uint64_t sample_seed, const std::vector<std::int64_t>& counts = {});

// The rows of `a` at `indices`, in that order.
Arrays take(const Arrays& a, const std::vector<std::int64_t>& indices);

std::shared_ptr<data::DataLoader> make_loader(const Arrays& a, std::int64_t batch_size, bool shuffle,
                                              std::uint64_t seed);

// Linear layers of the given widths with ReLU between them (none after the last); a Flatten first when `flatten`.
std::shared_ptr<nn::Sequential> mlp(const std::vector<std::int64_t>& widths, Generator& gen, bool flatten);

train::LossFunction cross_entropy(nn::CrossEntropyOptions options = {});
train::LossFunction mse();

// The usual classification setup: `model` trained with cross-entropy and Adam(lr) on `train` (batch 64,
// shuffled), validated on `validation` when it has samples, accuracy as the metric.
Built classifier(std::shared_ptr<nn::Module> model, const Arrays& train_set, const Arrays& validation_set, double lr,
                 std::uint64_t seed);

// Fashion-MNIST: `n` standardised training samples and 512 validation samples from the rest of the file.
Arrays fashion_train(std::int64_t n);
Arrays fashion_validation();

}  // namespace vigil::doctor_suite
