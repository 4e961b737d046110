// fit(), evaluate(), predict(): the training loop, so that a user goes from loaders to a trained model without
// writing one.
//
// One epoch of fit():
//   model.train(); callbacks.on_epoch_begin
//   for each batch of train.epoch(epoch):
//     callbacks.on_batch_begin                       (a per-step schedule sets the rate here)
//     at the group's first batch: optimizer.zero_grad()
//     loss = loss_fn(model(inputs), targets) / g       g = the batches in this accumulation group
//     backward(loss)                                   gradients add up over the group
//     after the group's last batch: callbacks.on_before_step (gradient clipping), optimizer.step(); ++step
//                                                     (the gradients stay for the callbacks)
//     callbacks.on_batch_end                          (batch_logs: "loss", running metrics)
//   validation (model.eval() under NoGradGuard, then model.train() again): "val_loss", "val_<metric>"
//   callbacks.on_epoch_end                           (epoch_logs: "loss", metrics, val_*, "lr", "seconds")
// Gradient accumulation: with accumulation_steps k, the optimizer steps after every k batches; each batch's loss
// is divided by the size of its group, so the step sees the mean gradient over the group, also for a shorter
// last group of the epoch (which a plain "divide by k" would under-weight).
// The epoch's "loss" is the sample-weighted mean of the batch losses (what evaluate() would report for a
// frozen model), and metrics accumulate over the epoch's batches as the weights change.
//
// Determinism: the loaders' batches are functions of (seed, epoch), the model's randomness lives in its layers'
// own generators, so a run is reproducible bit for bit, and a run resumed from a checkpoint (initial_epoch,
// restored model, optimizer and callback state) continues exactly as the uninterrupted run would have. A run
// stopped within an epoch resumes there with initial_batch: the loader reproduces the epoch's batches, and fit
// skips the ones already trained on (the resumed epoch's training "loss" and metrics cover the batches it ran).
#pragma once

#include <vigil/data/loader.hpp>
#include <vigil/nn/module.hpp>
#include <vigil/optim/optimizer.hpp>
#include <vigil/train/metrics.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace vigil::train {

// Named scalars: "loss", "accuracy", "val_loss", "lr", ...
using Logs = std::map<std::string, double>;
// loss(outputs, targets) -> a 0-d tensor to minimise.
using LossFunction = std::function<Tensor(const Tensor& outputs, const Tensor& targets)>;

struct History {
  std::vector<Logs> epochs;  // one entry per finished epoch, in order (absolute epoch in "epoch")
};

class Callback;

// What callbacks see, and how they steer: request_stop() ends training after the current epoch (or at once,
// from on_batch_end, after the current batch).
struct TrainContext {
  TrainContext(nn::Module& m, optim::Optimizer& o) : model(m), optimizer(o) {}

  nn::Module& model;
  optim::Optimizer& optimizer;
  std::int64_t epoch = 0;              // the current epoch, counted from 0 (from initial_epoch when resuming)
  std::int64_t epochs = 0;             // training stops before this epoch
  std::int64_t batch = 0;              // the current batch within the epoch
  std::int64_t batches_per_epoch = 0;
  std::int64_t step = 0;               // optimizer steps taken so far, over the whole run
  std::int64_t samples_in_epoch = 0;   // samples the current epoch has processed
  Logs batch_logs;                     // after each batch: "loss" of the batch, running "<metric>"
  Logs epoch_logs;                     // at epoch end: everything of the epoch
  History history;
  bool stop_requested = false;
  std::string stop_reason;

  void request_stop(std::string reason) {
    stop_requested = true;
    stop_reason = std::move(reason);
  }
};

// Hooks into fit(); every hook does nothing by default. Callbacks run in the order given.
class Callback {
 public:
  virtual ~Callback() = default;
  virtual void on_train_begin(TrainContext&) {}
  virtual void on_epoch_begin(TrainContext&) {}
  virtual void on_batch_begin(TrainContext&) {}
  virtual void on_batch_end(TrainContext&) {}
  // After the last backward of an accumulation group, right before optimizer.step(): the place to change the
  // gradients the step will use (clipping).
  virtual void on_before_step(TrainContext&) {}
  virtual void on_epoch_end(TrainContext&) {}
  virtual void on_train_end(TrainContext&) {}

  // State a resumed run needs (counters, best values), saved with checkpoints under this callback's name.
  virtual std::string name() const { return ""; }  // empty: stateless, nothing saved
  virtual std::map<std::string, double> state() const { return {}; }
  virtual void load_state(const std::map<std::string, double>&) {}
};
using CallbackPtr = std::shared_ptr<Callback>;

struct FitOptions {
  std::int64_t epochs = 1;
  std::int64_t initial_epoch = 0;   // resume: the first epoch to run (the loaders reproduce its batches)
  std::int64_t initial_step = 0;    // resume: optimizer steps already taken
  // resume within an epoch: batches of initial_epoch already trained on; they are drawn from the loader and
  // skipped. A multiple of accumulation_steps, below the loader's batches per epoch.
  std::int64_t initial_batch = 0;
  std::int64_t accumulation_steps = 1;
  std::vector<std::string> metrics;  // names for make_metric(), computed on train and validation data
  std::vector<CallbackPtr> callbacks;
};

// Trains `model` and returns the per-epoch logs. `validation` may be null. Throws Error for epochs < 0,
// accumulation_steps < 1, initial_epoch > epochs or an initial_batch out of range (see FitOptions); errors from the model, loss or loaders propagate (the model
// is left in training mode).
History fit(nn::Module& model, const LossFunction& loss, optim::Optimizer& optimizer, const data::DataLoader& train,
            const data::DataLoader* validation, const FitOptions& options);

// Loss and metrics over one pass of `loader` in eval mode under NoGradGuard (the model's mode is restored).
// Keys: "loss" and each metric's name. `epoch` picks the loader's epoch (it matters only for random transforms).
// `observe`, when given, sees each batch's outputs as they are computed (e.g. to fill a confusion matrix in the same
// pass instead of a second one through predict()).
using BatchObserver = std::function<void(const Tensor& outputs, const data::Batch& batch)>;
Logs evaluate(nn::Module& model, const LossFunction& loss, const data::DataLoader& loader,
              const std::vector<std::string>& metrics = {}, std::int64_t epoch = 0,
              const BatchObserver& observe = {});

// The model's outputs over one pass of `loader` in eval mode, concatenated along dim 0 ([samples, ...]).
Tensor predict(nn::Module& model, const data::DataLoader& loader, std::int64_t epoch = 0);

}  // namespace vigil::train
