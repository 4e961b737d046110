// The training loop (see fit.hpp for the order of events and the accumulation rule).
#include <vigil/train/fit.hpp>

#include <vigil/autograd/autograd.hpp>
#include <vigil/tensor/error.hpp>

#include <chrono>
#include <cmath>

namespace vigil::train {
namespace {

std::vector<MetricPtr> make_metrics(const std::vector<std::string>& names) {
  std::vector<MetricPtr> metrics;
  for (const auto& name : names) metrics.push_back(make_metric(name));
  return metrics;
}

// Restores a module's mode when the scope ends, also when an exception leaves it.
class ModeGuard {
 public:
  ModeGuard(nn::Module& model, bool training) : model_(model), previous_(model.training()) { model.train(training); }
  ~ModeGuard() { model_.train(previous_); }
  ModeGuard(const ModeGuard&) = delete;
  ModeGuard& operator=(const ModeGuard&) = delete;

 private:
  nn::Module& model_;
  bool previous_;
};

// Sample-weighted loss and metrics over batches.
struct Meter {
  explicit Meter(const std::vector<std::string>& names) : metrics(make_metrics(names)) {}

  void update(const Tensor& outputs, const Tensor& targets, double batch_loss, std::int64_t batch_size) {
    loss_sum += batch_loss * static_cast<double>(batch_size);
    samples += batch_size;
    for (auto& m : metrics) m->update(outputs, targets);
  }
  Logs logs(const std::string& prefix = "") const {
    Logs out;
    out[prefix + "loss"] = samples == 0 ? 0.0 : loss_sum / static_cast<double>(samples);
    for (const auto& m : metrics) out[prefix + m->name()] = m->value();
    return out;
  }

  std::vector<MetricPtr> metrics;
  double loss_sum = 0.0;
  std::int64_t samples = 0;
};

void check_scalar_loss(const Tensor& loss) {
  VIGIL_CHECK(loss.numel() == 1, ShapeError, "fit: the loss function must return a scalar, got shape {}",
              loss.shape().str());
}

void for_each_callback(TrainContext& context, const std::vector<CallbackPtr>& callbacks,
                       void (Callback::*hook)(TrainContext&)) {
  for (const auto& callback : callbacks) (callback.get()->*hook)(context);
}

// One epoch of training; fills context.epoch_logs with the training figures.
void train_epoch(TrainContext& context, const LossFunction& loss_fn, const data::DataLoader& train,
                 const FitOptions& options) {
  Meter meter(options.metrics);
  const std::int64_t batches = train.size();
  const std::int64_t k = options.accumulation_steps;
  context.samples_in_epoch = 0;
  context.batch = 0;
  const std::int64_t skip = context.epoch == options.initial_epoch ? options.initial_batch : 0;
  for (const data::Batch& batch : train.epoch(context.epoch)) {
    if (context.batch < skip) {  // trained on before the run was stopped; drawn only to keep the loader's order
      ++context.batch;
      continue;
    }
    for_each_callback(context, options.callbacks, &Callback::on_batch_begin);
    const std::int64_t group_start = context.batch - context.batch % k;
    const std::int64_t group_size = std::min(k, batches - group_start);
    // Gradients are cleared when a group starts, not after its step, so callbacks (gradient histograms, the
    // doctor's monitors) still see the gradients of the step just taken.
    if (context.batch == group_start) context.optimizer.zero_grad();
    const Tensor outputs = context.model(batch.inputs);
    const Tensor loss = loss_fn(outputs, batch.targets);
    check_scalar_loss(loss);
    backward(group_size == 1 ? loss : loss / static_cast<double>(group_size));
    if (context.batch - group_start == group_size - 1) {
      for_each_callback(context, options.callbacks, &Callback::on_before_step);
      context.optimizer.step();
      ++context.step;
    }
    const double batch_loss = loss.item();
    {
      NoGradGuard no_grad;
      meter.update(outputs.detach(), batch.targets, batch_loss, batch.size());
    }
    context.samples_in_epoch += batch.size();
    context.batch_logs = meter.logs();  // the epoch's running mean loss and metrics so far
    context.batch_logs["running_loss"] = context.batch_logs["loss"];
    context.batch_logs["loss"] = batch_loss;
    for_each_callback(context, options.callbacks, &Callback::on_batch_end);
    ++context.batch;
    if (context.stop_requested) break;
  }
  context.epoch_logs = meter.logs();
}

}  // namespace

History fit(nn::Module& model, const LossFunction& loss, optim::Optimizer& optimizer, const data::DataLoader& train,
            const data::DataLoader* validation, const FitOptions& options) {
  VIGIL_CHECK(options.epochs >= 0, Error, "fit: epochs must be >= 0, got {}", options.epochs);
  VIGIL_CHECK(options.accumulation_steps >= 1, Error, "fit: accumulation_steps must be >= 1, got {}",
              options.accumulation_steps);
  VIGIL_CHECK(options.initial_epoch >= 0 && options.initial_epoch <= options.epochs, Error,
              "fit: initial_epoch must lie in [0, epochs = {}], got {}", options.epochs, options.initial_epoch);
  VIGIL_CHECK(options.initial_batch == 0 ||
                  (options.initial_batch > 0 && options.initial_batch < train.size() &&
                   options.initial_batch % options.accumulation_steps == 0),
              Error,
              "fit: initial_batch must be 0 or lie in (0, {} batches per epoch) and be a multiple of "
              "accumulation_steps = {}, got {}",
              train.size(), options.accumulation_steps, options.initial_batch);
  make_metrics(options.metrics);  // unknown metric names fail before any work

  TrainContext context{model, optimizer};
  context.epochs = options.epochs;
  context.batches_per_epoch = train.size();
  context.step = options.initial_step;
  model.train();
  for_each_callback(context, options.callbacks, &Callback::on_train_begin);
  for (context.epoch = options.initial_epoch; context.epoch < options.epochs && !context.stop_requested;
       ++context.epoch) {
    const auto start = std::chrono::steady_clock::now();
    model.train();
    for_each_callback(context, options.callbacks, &Callback::on_epoch_begin);
    train_epoch(context, loss, train, options);
    if (validation != nullptr)
      for (const auto& [key, value] : evaluate(model, loss, *validation, options.metrics))
        context.epoch_logs["val_" + key] = value;
    context.epoch_logs["epoch"] = static_cast<double>(context.epoch);
    context.epoch_logs["lr"] = optimizer.lr();
    context.epoch_logs["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    for_each_callback(context, options.callbacks, &Callback::on_epoch_end);
    context.history.epochs.push_back(context.epoch_logs);
  }
  for_each_callback(context, options.callbacks, &Callback::on_train_end);
  return context.history;
}

Logs evaluate(nn::Module& model, const LossFunction& loss_fn, const data::DataLoader& loader,
              const std::vector<std::string>& metrics, std::int64_t epoch, const BatchObserver& observe) {
  ModeGuard eval_mode(model, false);
  NoGradGuard no_grad;
  Meter meter(metrics);
  for (const data::Batch& batch : loader.epoch(epoch)) {
    const Tensor outputs = model(batch.inputs);
    if (observe) observe(outputs, batch);
    const Tensor loss = loss_fn(outputs, batch.targets);
    check_scalar_loss(loss);
    meter.update(outputs, batch.targets, loss.item(), batch.size());
  }
  return meter.logs();
}

Tensor predict(nn::Module& model, const data::DataLoader& loader, std::int64_t epoch) {
  ModeGuard eval_mode(model, false);
  NoGradGuard no_grad;
  std::vector<Tensor> outputs;
  for (const data::Batch& batch : loader.epoch(epoch)) outputs.push_back(model(batch.inputs));
  VIGIL_CHECK(!outputs.empty(), Error, "predict: the loader over {} yields no batches", loader.dataset().describe());
  return cat(outputs, 0);
}

}  // namespace vigil::train
