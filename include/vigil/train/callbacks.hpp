// The callbacks fit() ships with. Each is a Callback (fit.hpp); combine them freely.
#pragma once

#include <vigil/io/event_writer.hpp>
#include <vigil/io/log_writers.hpp>
#include <vigil/optim/schedule.hpp>
#include <vigil/train/fit.hpp>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace vigil::train {

// Whether larger values of a monitored log are better. Auto: "accuracy", "f1", "precision", "recall", "r2" in the
// name mean Max, anything else (losses, errors) Min.
enum class MonitorMode { Auto, Min, Max };

// Tracks the best value of one monitored log entry; an improvement must beat the best by more than min_delta.
class BestTracker {
 public:
  BestTracker(std::string monitor, MonitorMode mode, double min_delta);
  // Returns true when `logs[monitor]` improves on the best so far (and records it). Throws Error naming the
  // monitor and the keys present when the entry is absent.
  bool update(const Logs& logs);
  const std::string& monitor() const { return monitor_; }
  bool maximize() const { return maximize_; }
  std::optional<double> best() const { return best_; }
  void set_best(std::optional<double> best) { best_ = best; }

 private:
  std::string monitor_;
  bool maximize_;
  double min_delta_;
  std::optional<double> best_;
};

// Stops training when `monitor` has not improved for `patience` epochs. With restore_best_weights, the model's
// parameters and buffers are set back to their values at the best epoch when training stops (by early stopping
// or by reaching the last epoch).
class EarlyStopping : public Callback {
 public:
  struct Options {
    std::string monitor = "val_loss";
    MonitorMode mode = MonitorMode::Auto;
    double min_delta = 0.0;
    std::int64_t patience = 5;
    bool restore_best_weights = true;
  };
  explicit EarlyStopping(Options options);
  void on_epoch_end(TrainContext& context) override;
  void on_train_end(TrainContext& context) override;
  std::string name() const override { return "early_stopping"; }
  std::map<std::string, double> state() const override;
  void load_state(const std::map<std::string, double>& state) override;

  std::int64_t best_epoch() const { return best_epoch_; }

 private:
  Options options_;
  BestTracker tracker_;
  std::int64_t wait_ = 0;
  std::int64_t best_epoch_ = -1;
  std::vector<Tensor> best_weights_;  // copies of parameters then buffers, named_* order
};

// Sets the optimizer's learning rate from a Schedule: rate(step) before every step (PerStep), or rate(epoch) at
// the start of every epoch (PerEpoch). Because schedules are functions of the step, a resumed run gets the same
// rates.
class ScheduleCallback : public Callback {
 public:
  enum class Every { Step, Epoch };
  ScheduleCallback(std::shared_ptr<const optim::Schedule> schedule, Every every);
  void on_epoch_begin(TrainContext& context) override;
  void on_batch_begin(TrainContext& context) override;

 private:
  std::shared_ptr<const optim::Schedule> schedule_;
  Every every_;
};

// Reduce-on-plateau: after each epoch feeds `monitor` to optim::ReduceOnPlateau and applies its rate.
class PlateauCallback : public Callback {
 public:
  PlateauCallback(std::string monitor, double base_lr, optim::PlateauOptions options);
  void on_epoch_end(TrainContext& context) override;
  std::string name() const override { return "reduce_on_plateau"; }
  std::map<std::string, double> state() const override;
  void load_state(const std::map<std::string, double>& state) override;

 private:
  std::string monitor_;
  optim::ReduceOnPlateau plateau_;
};

// Stops at once when a batch's loss is NaN or infinite, naming the epoch and batch.
class TerminateOnNaN : public Callback {
 public:
  void on_batch_end(TrainContext& context) override;
};

// One CSV row per epoch (io::CsvWriter): "epoch" first, then the first epoch's log keys in sorted order. Appends
// to an existing log with the same header (a resumed run), and refuses one with another header.
class CsvLogger : public Callback {
 public:
  explicit CsvLogger(std::string path);
  void on_epoch_end(TrainContext& context) override;

 private:
  std::string path_;
  std::vector<std::string> columns_;
  std::unique_ptr<io::CsvWriter> writer_;  // opened at the first epoch, when the columns are known
};

// JSON lines (io::JsonlWriter, appending): {"event": "epoch", "epoch": 0, "step": ..., "loss": ..., ...} per epoch,
// and with every_steps > 0 {"event": "step", ...} every that many optimizer steps. Each line is flushed.
class JsonlLogger : public Callback {
 public:
  explicit JsonlLogger(std::string path, std::int64_t every_steps = 0);
  void on_batch_end(TrainContext& context) override;
  void on_epoch_end(TrainContext& context) override;

 private:
  io::JsonlWriter writer_;
  std::int64_t every_steps_;
  std::int64_t last_step_ = 0;
};

// Progress per epoch. On a terminal: a bar redrawn in place with batches done, samples/s, ETA, running loss and
// metrics, then one summary line per epoch. Otherwise (a pipe, CI): only the summary lines, no control
// characters. `interactive` defaults to isatty(stream).
class ProgressBar : public Callback {
 public:
  explicit ProgressBar(std::FILE* stream = stdout, std::optional<bool> interactive = std::nullopt);
  void on_epoch_begin(TrainContext& context) override;
  void on_batch_end(TrainContext& context) override;
  void on_epoch_end(TrainContext& context) override;

 private:
  std::FILE* stream_;
  bool interactive_;
  double epoch_start_ = 0.0;
  double last_draw_ = 0.0;
};

// TensorBoard logging (io::EventWriter) into `dir`: every epoch log as a scalar "epoch/<key>" at the epoch,
// the batch loss as "batch/loss" every `scalar_every_steps` optimizer steps (0: never), and every
// `histogram_every_epochs` epochs (0: never) a histogram of each parameter ("weights/<path>") and of its last
// gradient ("gradients/<path>"). log_batch_images() adds a PNG grid of a batch as it enters the network.
class TensorBoardLogger : public Callback {
 public:
  struct Options {
    std::string dir;
    std::int64_t scalar_every_steps = 0;
    std::int64_t histogram_every_epochs = 1;
  };
  explicit TensorBoardLogger(Options options);
  void on_batch_end(TrainContext& context) override;
  void on_epoch_end(TrainContext& context) override;
  // An image summary `tag` of a batch's inputs ([N, C, H, W], C = 1 or 3; up to 64 images, 8 per row, each
  // min-max rescaled), at `step`.
  void log_batch_images(const std::string& tag, const Tensor& images, std::int64_t step);
  const std::string& path() const { return writer_.path(); }

 private:
  Options options_;
  io::EventWriter writer_;
  std::int64_t last_step_ = 0;
};

// "loss 0.4312  accuracy 0.8710  val_loss ..." with keys in a stable order (loss first, then sorted), for
// progress lines and reports.
std::string format_logs(const Logs& logs);

}  // namespace vigil::train
