// Training checkpoints: everything a run needs to continue exactly, in one safetensors file written atomically.
//
// Tensors (a numpy user reads the weights by their plain names, as PyTorch's state_dict names them):
//   <param path>, <buffer path>            the model's parameters and persistent buffers ("0.weight")
//   optimizer/<param path>/<buffer>        the optimiser's per-parameter buffers ("optimizer/0.weight/exp_avg")
//   optimizer/<param path>/step            its per-parameter step count (int64, 0-d)
//   rng/<generator path>                   each model generator's state (int64 [6]: four state words, whether a
//                                          spare normal is held, its bits)
//   extra/<name>                           the caller's tensors: preprocessing statistics and the like
// Metadata: "format" = "vigil-checkpoint", "format_version" = "1", "epoch" (epochs completed: the epoch a
// resumed run starts at), "step" (optimizer steps taken), "optimizer" (its name), "lr" and "weight_decay" (per
// group, comma-separated), and "callback/<name>/<key>" for every stateful callback, plus the caller's entries.
// Schedules need no entry: they are functions of the step.
#pragma once

#include <vigil/io/safetensors.hpp>
#include <vigil/nn/module.hpp>
#include <vigil/optim/optimizer.hpp>
#include <vigil/train/callbacks.hpp>
#include <vigil/train/fit.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace vigil::train {

struct CheckpointState {
  std::int64_t epoch = 0;  // epochs completed
  std::int64_t step = 0;   // optimizer steps taken
  io::NamedTensors extra;  // saved under "extra/<name>"
  io::Metadata metadata;   // the caller's own entries (names must not collide with vigil's)
};

// Writes the model, the optimiser (may be null), the model's generators, the callbacks' state and `state`.
void save_checkpoint(const std::string& path, nn::Module& model, const optim::Optimizer* optimizer,
                     const std::vector<CallbackPtr>& callbacks, const CheckpointState& state);

// Restores what save_checkpoint wrote into `model` (strictly: every parameter, buffer and generator must be in
// the file with its shape and dtype), `optimizer` (if not null; via load_state_dict, so a mismatch names the
// parameter and buffer) and every stateful callback present in the file; returns epoch, step, extra tensors and
// the caller's metadata. Throws Error naming the file and the entry for anything missing or malformed; nothing
// is changed then in the model (the optimiser and callbacks are restored after the model).
CheckpointState load_checkpoint(const std::string& path, nn::Module& model, optim::Optimizer* optimizer,
                                const std::vector<CallbackPtr>& callbacks);

// Saves a checkpoint at the end of epochs: "<dir>/last.safetensors" after every epoch (save_last), "<dir>/best.
// safetensors" when `monitor` improves (save_best), and "<dir>/epoch-<n>.safetensors" every `every_epochs`
// epochs (0: never). `extra` is stored with each (the preprocessing statistics, say).
class ModelCheckpoint : public Callback {
 public:
  struct Options {
    std::string dir;
    std::string monitor = "val_loss";
    MonitorMode mode = MonitorMode::Auto;
    bool save_best = true;
    bool save_last = true;
    std::int64_t every_epochs = 0;
    io::NamedTensors extra;
  };
  ModelCheckpoint(Options options, std::vector<CallbackPtr> callbacks_to_save);
  void on_epoch_end(TrainContext& context) override;
  std::string name() const override { return "model_checkpoint"; }
  std::map<std::string, double> state() const override;
  void load_state(const std::map<std::string, double>& state) override;

 private:
  Options options_;
  std::vector<CallbackPtr> callbacks_;
  BestTracker tracker_;
};

}  // namespace vigil::train
