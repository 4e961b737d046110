// The stock callbacks (see callbacks.hpp).
#include <vigil/train/callbacks.hpp>

#include <vigil/autograd/autograd.hpp>
#include <vigil/data/image_grid.hpp>
#include <vigil/data/image_io.hpp>
#include <vigil/tensor/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <unistd.h>

namespace vigil::train {
namespace {

bool name_suggests_maximum(const std::string& monitor) {
  for (const char* word : {"accuracy", "f1", "precision", "recall", "r2"})
    if (monitor.find(word) != std::string::npos) return true;
  return false;
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::vector<Tensor> model_state(const nn::Module& model) {
  std::vector<Tensor> tensors;
  for (const auto& [path, p] : model.named_parameters()) tensors.push_back(p);
  for (const auto& [path, b] : model.named_buffers()) tensors.push_back(b);
  return tensors;
}

}  // namespace

std::string format_logs(const Logs& logs) {
  std::string out;
  auto append = [&](const std::string& key, double value) {
    if (!out.empty()) out += "  ";
    out += fmt::format("{} {:.4g}", key, value);
  };
  if (auto it = logs.find("loss"); it != logs.end()) append(it->first, it->second);
  for (const auto& [key, value] : logs)
    if (key != "loss" && key != "epoch" && key != "seconds") append(key, value);
  return out;
}

// ---- BestTracker ----

BestTracker::BestTracker(std::string monitor, MonitorMode mode, double min_delta)
    : monitor_(std::move(monitor)),
      maximize_(mode == MonitorMode::Max || (mode == MonitorMode::Auto && name_suggests_maximum(monitor_))),
      min_delta_(min_delta) {
  VIGIL_CHECK(min_delta >= 0.0, Error, "monitor {}: min_delta must be >= 0, got {}", monitor_, min_delta);
}

bool BestTracker::update(const Logs& logs) {
  const auto it = logs.find(monitor_);
  if (it == logs.end()) {
    std::string keys;
    for (const auto& [key, value] : logs) {
      if (!keys.empty()) keys += ", ";
      keys += key;
    }
    throw Error(fmt::format("monitored value \"{}\" is not in the logs (present: {}); a val_* entry needs "
                            "validation data",
                            monitor_, keys));
  }
  const double value = it->second;
  if (std::isnan(value)) return false;
  const bool improved = !best_ || (maximize_ ? value > *best_ + min_delta_ : value < *best_ - min_delta_);
  if (improved) best_ = value;
  return improved;
}

// ---- EarlyStopping ----

EarlyStopping::EarlyStopping(Options options)
    : options_(std::move(options)), tracker_(options_.monitor, options_.mode, options_.min_delta) {
  VIGIL_CHECK(options_.patience >= 0, Error, "EarlyStopping: patience must be >= 0, got {}", options_.patience);
}

void EarlyStopping::on_epoch_end(TrainContext& context) {
  if (tracker_.update(context.epoch_logs)) {
    wait_ = 0;
    best_epoch_ = context.epoch;
    if (options_.restore_best_weights) {
      best_weights_.clear();
      for (const Tensor& t : model_state(context.model)) best_weights_.push_back(raw::clone(t));
    }
    return;
  }
  if (++wait_ > options_.patience)
    context.request_stop(fmt::format("early stopping: {} has not improved for {} epochs (best {:.6g} at epoch {})",
                                     options_.monitor, wait_, tracker_.best().value_or(NAN), best_epoch_));
}

void EarlyStopping::on_train_end(TrainContext& context) {
  if (!options_.restore_best_weights || best_weights_.empty()) return;
  const std::vector<Tensor> current = model_state(context.model);
  VIGIL_CHECK(current.size() == best_weights_.size(), Error,
              "EarlyStopping: the model's tensors changed during training ({} then {})", best_weights_.size(),
              current.size());
  NoGradGuard no_grad;
  for (std::size_t i = 0; i < current.size(); ++i) raw::copy_(current[i], best_weights_[i]);
}

std::map<std::string, double> EarlyStopping::state() const {
  std::map<std::string, double> s{{"wait", static_cast<double>(wait_)}, {"best_epoch", static_cast<double>(best_epoch_)}};
  if (tracker_.best()) s["best"] = *tracker_.best();
  return s;
}

void EarlyStopping::load_state(const std::map<std::string, double>& state) {
  wait_ = static_cast<std::int64_t>(state.at("wait"));
  best_epoch_ = static_cast<std::int64_t>(state.at("best_epoch"));
  const auto best = state.find("best");
  tracker_.set_best(best == state.end() ? std::nullopt : std::optional<double>(best->second));
}

// ---- Schedules ----

ScheduleCallback::ScheduleCallback(std::shared_ptr<const optim::Schedule> schedule, Every every)
    : schedule_(std::move(schedule)), every_(every) {
  VIGIL_CHECK(schedule_ != nullptr, Error, "ScheduleCallback: the schedule is null");
}

void ScheduleCallback::on_epoch_begin(TrainContext& context) {
  if (every_ == Every::Epoch) context.optimizer.set_lr(schedule_->rate(context.epoch));
}

void ScheduleCallback::on_batch_begin(TrainContext& context) {
  if (every_ == Every::Step) context.optimizer.set_lr(schedule_->rate(context.step));
}

PlateauCallback::PlateauCallback(std::string monitor, double base_lr, optim::PlateauOptions options)
    : monitor_(std::move(monitor)), plateau_(base_lr, options) {}

void PlateauCallback::on_epoch_end(TrainContext& context) {
  const auto it = context.epoch_logs.find(monitor_);
  VIGIL_CHECK(it != context.epoch_logs.end(), Error, "reduce on plateau: monitored value \"{}\" is not in the logs",
              monitor_);
  context.optimizer.set_lr(plateau_.step(it->second));
}

std::map<std::string, double> PlateauCallback::state() const {
  const auto& s = plateau_.state();
  return {{"rate", s.rate},
          {"best", s.best},
          {"num_bad_epochs", static_cast<double>(s.num_bad_epochs)},
          {"cooldown_counter", static_cast<double>(s.cooldown_counter)},
          {"steps", static_cast<double>(s.steps)}};
}

void PlateauCallback::load_state(const std::map<std::string, double>& state) {
  optim::ReduceOnPlateau::State s;
  s.rate = state.at("rate");
  s.best = state.at("best");
  s.num_bad_epochs = static_cast<std::int64_t>(state.at("num_bad_epochs"));
  s.cooldown_counter = static_cast<std::int64_t>(state.at("cooldown_counter"));
  s.steps = static_cast<std::int64_t>(state.at("steps"));
  plateau_.set_state(s);
}

// ---- TerminateOnNaN ----

void TerminateOnNaN::on_batch_end(TrainContext& context) {
  const double loss = context.batch_logs.at("loss");
  if (!std::isfinite(loss))
    context.request_stop(fmt::format("terminate on NaN: the loss of epoch {} batch {} (step {}) is {}", context.epoch,
                                     context.batch, context.step, loss));
}

// ---- Loggers ----

CsvLogger::CsvLogger(std::string path) : path_(std::move(path)) {}

void CsvLogger::on_epoch_end(TrainContext& context) {
  const Logs& logs = context.epoch_logs;
  // The columns are the first epoch's keys; appending to an existing log checks its header against them.
  if (!writer_) {
    columns_ = {"epoch"};
    for (const auto& [key, value] : logs)
      if (key != "epoch") columns_.push_back(key);
    writer_ = std::make_unique<io::CsvWriter>(path_, columns_);
  }
  std::vector<io::LogValue> row{context.epoch};
  for (std::size_t i = 1; i < columns_.size(); ++i) {
    const auto it = logs.find(columns_[i]);
    row.emplace_back(it == logs.end() ? std::nan("") : it->second);
  }
  writer_->write(row);
}

JsonlLogger::JsonlLogger(std::string path, std::int64_t every_steps) : writer_(path), every_steps_(every_steps) {
  VIGIL_CHECK(every_steps >= 0, Error, "JsonlLogger: every_steps must be >= 0, got {}", every_steps);
}

void JsonlLogger::on_batch_end(TrainContext& context) {
  // With gradient accumulation several batches end at one step: log the step once.
  if (every_steps_ == 0 || context.step % every_steps_ != 0 || context.step == last_step_) return;
  last_step_ = context.step;
  writer_.write({{"event", std::string("step")},
                 {"epoch", context.epoch},
                 {"step", context.step},
                 {"loss", context.batch_logs.at("loss")},
                 {"lr", context.optimizer.lr()}});
}

void JsonlLogger::on_epoch_end(TrainContext& context) {
  io::LogRow row{{"event", std::string("epoch")}, {"epoch", context.epoch}, {"step", context.step}};
  for (const auto& [key, value] : context.epoch_logs)
    if (key != "epoch") row.emplace_back(key, value);
  writer_.write(row);
}

// ---- TensorBoard ----

TensorBoardLogger::TensorBoardLogger(Options options) : options_(std::move(options)), writer_(options_.dir) {
  VIGIL_CHECK(options_.scalar_every_steps >= 0 && options_.histogram_every_epochs >= 0, Error,
              "TensorBoardLogger: scalar_every_steps ({}) and histogram_every_epochs ({}) must be >= 0",
              options_.scalar_every_steps, options_.histogram_every_epochs);
}

void TensorBoardLogger::on_batch_end(TrainContext& context) {
  const std::int64_t every = options_.scalar_every_steps;
  if (every == 0 || context.step % every != 0 || context.step == last_step_) return;
  last_step_ = context.step;
  writer_.add_scalar("batch/loss", context.batch_logs.at("loss"), context.step);
  writer_.add_scalar("batch/lr", context.optimizer.lr(), context.step);
}

void TensorBoardLogger::on_epoch_end(TrainContext& context) {
  for (const auto& [key, value] : context.epoch_logs)
    if (key != "epoch") writer_.add_scalar("epoch/" + key, value, context.epoch);
  const std::int64_t every = options_.histogram_every_epochs;
  if (every > 0 && (context.epoch + 1) % every == 0) {
    // A diverged run's all-NaN tensors have no histogram (nothing to count); the scalars above record the NaN.
    const auto has_number = [](const Tensor& t) {
      const std::vector<float> v = t.to_vector();
      return std::any_of(v.begin(), v.end(), [](float x) { return !std::isnan(x); });
    };
    for (const auto& [path, p] : context.model.named_parameters()) {
      if (has_number(p)) writer_.add_histogram("weights/" + path, p, context.epoch);
      if (const Tensor g = p.grad(); g.defined() && has_number(g))
        writer_.add_histogram("gradients/" + path, g, context.epoch);
    }
  }
  writer_.flush();
}

void TensorBoardLogger::log_batch_images(const std::string& tag, const Tensor& images, std::int64_t step) {
  VIGIL_CHECK(images.dim() == 4, ShapeError, "TensorBoardLogger::log_batch_images: expected [N, C, H, W], got {}",
              images.shape().str());
  const Tensor shown = raw::narrow(images, 0, 0, std::min<std::int64_t>(images.size(0), 64));
  const Tensor grid = data::image_grid(shown, {}, 8);
  const std::vector<unsigned char> png = data::encode_png(grid);
  writer_.add_image_png(tag, std::string_view(reinterpret_cast<const char*>(png.data()), png.size()),
                        static_cast<int>(grid.size(1)), static_cast<int>(grid.size(2)), static_cast<int>(grid.size(0)),
                        step);
  writer_.flush();
}

// ---- ProgressBar ----

ProgressBar::ProgressBar(std::FILE* stream, std::optional<bool> interactive)
    : stream_(stream), interactive_(interactive.value_or(isatty(fileno(stream)) == 1)) {}

void ProgressBar::on_epoch_begin(TrainContext&) {
  epoch_start_ = now_seconds();
  last_draw_ = 0.0;
}

void ProgressBar::on_batch_end(TrainContext& context) {
  if (!interactive_) return;
  const double now = now_seconds();
  const bool last = context.batch + 1 == context.batches_per_epoch;
  if (!last && now - last_draw_ < 0.1) return;  // redraw at most 10 times a second
  last_draw_ = now;
  const double elapsed = now - epoch_start_;
  const double done = static_cast<double>(context.batch + 1) / static_cast<double>(context.batches_per_epoch);
  const double rate = elapsed > 0 ? static_cast<double>(context.samples_in_epoch) / elapsed : 0.0;
  const int width = 30;
  const int filled = static_cast<int>(done * width);
  Logs running{{"loss", context.batch_logs.at("running_loss")}};
  for (const auto& [key, value] : context.batch_logs)
    if (key != "loss" && key != "running_loss") running[key] = value;
  std::fprintf(stream_, "\r\x1b[2Kepoch %lld/%lld [%s%s] %lld/%lld  %.0f samples/s  ETA %.0fs  %s",
               static_cast<long long>(context.epoch + 1), static_cast<long long>(context.epochs),
               std::string(static_cast<std::size_t>(filled), '=').c_str(),
               std::string(static_cast<std::size_t>(width - filled), ' ').c_str(),
               static_cast<long long>(context.batch + 1), static_cast<long long>(context.batches_per_epoch), rate,
               done > 0 ? elapsed * (1.0 - done) / done : 0.0, format_logs(running).c_str());
  std::fflush(stream_);
}

void ProgressBar::on_epoch_end(TrainContext& context) {
  const double elapsed = now_seconds() - epoch_start_;
  const double rate = elapsed > 0 ? static_cast<double>(context.samples_in_epoch) / elapsed : 0.0;
  std::fprintf(stream_, "%sepoch %lld/%lld  %.1fs  %.0f samples/s  %s\n", interactive_ ? "\r\x1b[2K" : "",
               static_cast<long long>(context.epoch + 1), static_cast<long long>(context.epochs), elapsed, rate,
               format_logs(context.epoch_logs).c_str());
  std::fflush(stream_);
}

}  // namespace vigil::train
