// fit(), evaluate(), predict(), the callbacks and checkpoints: behaviour on a small generated problem.
#include <vigil/data/datasets.hpp>
#include <vigil/data/loader.hpp>
#include <vigil/io/tfrecord.hpp>
#include <vigil/nn/nn.hpp>
#include <vigil/optim/optim.hpp>
#include <vigil/train/callbacks.hpp>
#include <vigil/train/checkpoint.hpp>
#include <vigil/train/fit.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <unistd.h>

namespace vigil::train {
namespace {

// Two Gaussian blobs per class in 4-D; 3 classes.
std::shared_ptr<data::TensorDataset> blobs(std::int64_t n, std::uint64_t seed) {
  Generator gen(seed);
  Tensor x = randn(Shape{n, 4}, gen);
  std::vector<std::int64_t> y(static_cast<std::size_t>(n));
  float* px = x.data<float>();
  for (std::int64_t i = 0; i < n; ++i) {
    y[i] = i % 3;
    px[i * 4 + y[i]] += 3.0f;
  }
  return std::make_shared<data::TensorDataset>(x, from_vector_i64(y, Shape{n}));
}

// Linear -> ReLU -> Dropout -> Linear: has a generator, so exact resume must restore it too.
std::shared_ptr<nn::Sequential> make_model(std::uint64_t seed) {
  Generator gen(seed);
  auto model = std::make_shared<nn::Sequential>();
  model->push_back(std::make_shared<nn::Linear>(4, 16, gen));
  model->push_back(std::make_shared<nn::ReLU>());
  model->push_back(std::make_shared<nn::Dropout>(0.2, gen));
  model->push_back(std::make_shared<nn::Linear>(16, 3, gen));
  return model;
}

LossFunction cross_entropy_loss() {
  return [](const Tensor& out, const Tensor& target) { return nn::cross_entropy(out, target); };
}

data::DataLoader loader(std::shared_ptr<data::TensorDataset> ds, bool shuffle, std::int64_t batch = 16) {
  data::LoaderOptions options;
  options.batch_size = batch;
  options.shuffle = shuffle;
  options.seed = 11;
  return data::DataLoader(ds, options);
}

std::vector<float> flat_weights(const nn::Module& m) {
  std::vector<float> out;
  for (const auto& [path, p] : m.named_parameters()) {
    const auto v = p.to_vector();
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

struct TempDir {
  TempDir() : path(std::filesystem::temp_directory_path() / ("vigil-train-" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
  std::filesystem::path path;
};

TEST(Fit, LearnsAndReportsTrainAndValidationLogs) {
  auto model = make_model(1);
  optim::Adam adam(optim::named_parameters(*model), {.lr = 1e-2});
  const auto train = loader(blobs(240, 5), true), val = loader(blobs(90, 6), false);
  FitOptions options;
  options.epochs = 5;
  options.metrics = {"accuracy", "macro_f1"};
  const History history = fit(*model, cross_entropy_loss(), adam, train, &val, options);
  ASSERT_EQ(history.epochs.size(), 5u);
  const Logs& last = history.epochs.back();
  for (const char* key : {"loss", "accuracy", "macro_f1", "val_loss", "val_accuracy", "val_macro_f1", "lr", "epoch"})
    EXPECT_TRUE(last.contains(key)) << key;
  EXPECT_LT(last.at("loss"), history.epochs.front().at("loss"));
  EXPECT_GT(last.at("val_accuracy"), 0.9);
  EXPECT_TRUE(model->training());  // fit leaves the model in training mode
  // evaluate() agrees with the last epoch's validation figures (same weights, eval mode, no randomness).
  const Logs eval = evaluate(*model, cross_entropy_loss(), val, {"accuracy"});
  EXPECT_DOUBLE_EQ(eval.at("accuracy"), last.at("val_accuracy"));
  EXPECT_NEAR(eval.at("loss"), last.at("val_loss"), 1e-12);
  EXPECT_EQ(predict(*model, val).shape(), (Shape{90, 3}));
}

TEST(Fit, GradientAccumulationMatchesOneLargeBatch) {
  // Without dropout and with an exact mean over equal groups, 4 batches of 8 accumulated give the same step as
  // one batch of 32 (up to float rounding in the sums).
  auto make = [] {
    Generator gen(3);
    auto m = std::make_shared<nn::Sequential>();
    m->push_back(std::make_shared<nn::Linear>(4, 3, gen));
    return m;
  };
  auto ds = blobs(32, 9);
  auto a = make(), b = make();
  optim::SGD sgd_a(optim::named_parameters(*a), {.lr = 0.1}), sgd_b(optim::named_parameters(*b), {.lr = 0.1});
  FitOptions accumulate;
  accumulate.accumulation_steps = 4;
  fit(*a, cross_entropy_loss(), sgd_a, loader(ds, false, 8), nullptr, accumulate);
  fit(*b, cross_entropy_loss(), sgd_b, loader(ds, false, 32), nullptr, FitOptions{});
  const auto wa = flat_weights(*a), wb = flat_weights(*b);
  ASSERT_EQ(wa.size(), wb.size());
  for (std::size_t i = 0; i < wa.size(); ++i) EXPECT_NEAR(wa[i], wb[i], 1e-6) << i;
  EXPECT_NE(wa, flat_weights(*make()));
}

TEST(Fit, SameSeedGivesBitIdenticalWeights) {
  auto run = [] {
    auto model = make_model(2);
    optim::Adam adam(optim::named_parameters(*model), {.lr = 1e-2});
    FitOptions options;
    options.epochs = 2;
    fit(*model, cross_entropy_loss(), adam, loader(blobs(96, 4), true), nullptr, options);
    return flat_weights(*model);
  };
  EXPECT_EQ(run(), run());
}

TEST(Checkpoint, ResumeIsBitExact) {
  TempDir dir;
  const auto ds = blobs(96, 4);
  const auto schedule = std::make_shared<optim::CosineAnnealingLR>(1e-2, 12);
  // Two epochs straight.
  auto straight = make_model(7);
  optim::Adam adam_straight(optim::named_parameters(*straight), {.lr = 1e-2});
  FitOptions two;
  two.epochs = 2;
  two.callbacks = {std::make_shared<ScheduleCallback>(schedule, ScheduleCallback::Every::Step)};
  fit(*straight, cross_entropy_loss(), adam_straight, loader(ds, true), nullptr, two);

  // One epoch, checkpoint, then a fresh process-like start: new model, optimiser and callbacks, restored.
  {
    auto first = make_model(7);
    optim::Adam adam(optim::named_parameters(*first), {.lr = 1e-2});
    FitOptions one = two;
    one.epochs = 1;
    one.callbacks.push_back(std::make_shared<ModelCheckpoint>(
        ModelCheckpoint::Options{.dir = dir.file("ckpt"), .monitor = "loss", .every_epochs = 1, .extra = {}}, std::vector<CallbackPtr>{}));
    fit(*first, cross_entropy_loss(), adam, loader(ds, true), nullptr, one);
  }
  auto resumed = make_model(99);  // different initial weights and dropout stream: all must come from the file
  optim::Adam adam(optim::named_parameters(*resumed), {.lr = 1e-2});
  const CheckpointState state = load_checkpoint(dir.file("ckpt/last.safetensors"), *resumed, &adam, {});
  EXPECT_EQ(state.epoch, 1);
  EXPECT_EQ(state.step, 6);
  FitOptions rest = two;
  rest.initial_epoch = state.epoch;
  rest.initial_step = state.step;
  fit(*resumed, cross_entropy_loss(), adam, loader(ds, true), nullptr, rest);
  EXPECT_EQ(flat_weights(*resumed), flat_weights(*straight));
  EXPECT_TRUE(std::filesystem::exists(dir.file("ckpt/epoch-1.safetensors")));
  EXPECT_TRUE(std::filesystem::exists(dir.file("ckpt/best.safetensors")));
}

// Stops after `batches` batches of the current epoch, as an interrupt would.
class StopAfterBatches : public Callback {
 public:
  explicit StopAfterBatches(std::int64_t batches) : batches_(batches) {}
  void on_batch_end(TrainContext& context) override {
    if (context.batch + 1 == batches_) context.request_stop("interrupted");
  }

 private:
  std::int64_t batches_;
};

TEST(Checkpoint, ResumeWithinAnEpochIsBitExact) {
  TempDir dir;
  const auto ds = blobs(96, 4);  // 6 batches per epoch
  const auto schedule = std::make_shared<optim::CosineAnnealingLR>(1e-2, 12);
  auto straight = make_model(7);
  optim::Adam adam_straight(optim::named_parameters(*straight), {.lr = 1e-2});
  FitOptions two;
  two.epochs = 2;
  two.callbacks = {std::make_shared<ScheduleCallback>(schedule, ScheduleCallback::Every::Step)};
  fit(*straight, cross_entropy_loss(), adam_straight, loader(ds, true), nullptr, two);

  {
    auto first = make_model(7);
    optim::Adam adam(optim::named_parameters(*first), {.lr = 1e-2});
    FitOptions partial = two;
    partial.epochs = 2;
    partial.initial_epoch = 0;
    partial.callbacks.push_back(std::make_shared<StopAfterBatches>(4));  // 4 of epoch 0's 6 batches
    fit(*first, cross_entropy_loss(), adam, loader(ds, true), nullptr, partial);
    save_checkpoint(dir.file("mid.safetensors"), *first, &adam, {}, CheckpointState{0, 4, {}, {}});
  }
  auto resumed = make_model(99);
  optim::Adam adam(optim::named_parameters(*resumed), {.lr = 1e-2});
  const CheckpointState state = load_checkpoint(dir.file("mid.safetensors"), *resumed, &adam, {});
  FitOptions rest = two;
  rest.initial_epoch = state.epoch;
  rest.initial_step = state.step;
  rest.initial_batch = 4;
  const History history = fit(*resumed, cross_entropy_loss(), adam, loader(ds, true), nullptr, rest);
  EXPECT_EQ(history.epochs.size(), 2u);
  EXPECT_EQ(flat_weights(*resumed), flat_weights(*straight));
}

// Counts on_before_step calls and clips there: with accumulation over 2 batches, one call per optimizer step.
class ClipBeforeStep : public Callback {
 public:
  void on_before_step(TrainContext& context) override {
    ++calls;
    optim::clip_grad_value(context.optimizer.parameters(), 0.0);  // zero gradients: the step changes nothing
  }
  int calls = 0;
};

TEST(Callbacks, OnBeforeStepSeesTheGradientsTheStepUses) {
  auto model = make_model(5);
  const std::vector<float> before = flat_weights(*model);
  optim::SGD sgd(optim::named_parameters(*model), {.lr = 0.1});
  auto clip = std::make_shared<ClipBeforeStep>();
  FitOptions options;
  options.accumulation_steps = 2;
  options.callbacks = {clip};
  fit(*model, cross_entropy_loss(), sgd, loader(blobs(96, 3), true), nullptr, options);
  EXPECT_EQ(clip->calls, 3);
  EXPECT_EQ(flat_weights(*model), before);
}

TEST(Checkpoint, ErrorsNameTheFileAndTheEntry) {
  TempDir dir;
  auto model = make_model(1);
  optim::Adam adam(optim::named_parameters(*model), {});
  save_checkpoint(dir.file("a.safetensors"), *model, &adam, {}, CheckpointState{3, 30, {}, {}});
  // A model without the dropout layer's generator and with another width: the file does not fit.
  Generator gen(1);
  nn::Sequential other;
  other.push_back(std::make_shared<nn::Linear>(4, 8, gen));
  try {
    load_checkpoint(dir.file("a.safetensors"), other, nullptr, {});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("a.safetensors"), std::string::npos) << message;
    EXPECT_NE(message.find("rng/2.generator"), std::string::npos) << message;
  }
  io::save_safetensors(dir.file("weights.safetensors"), model->named_parameters());
  EXPECT_THROW(load_checkpoint(dir.file("weights.safetensors"), *model, nullptr, {}), Error);
}

TEST(Callbacks, EarlyStoppingStopsAndRestoresTheBestWeights) {
  // A rate so large that the validation loss goes up after the first epochs.
  auto model = make_model(4);
  optim::SGD sgd(optim::named_parameters(*model), {.lr = 3.0});
  auto stopper = std::make_shared<EarlyStopping>(EarlyStopping::Options{.monitor = "val_loss", .patience = 1});
  const auto val = loader(blobs(60, 8), false);
  FitOptions options;
  options.epochs = 30;
  options.callbacks = {stopper};
  const History history = fit(*model, cross_entropy_loss(), sgd, loader(blobs(120, 3), true), &val, options);
  ASSERT_LT(history.epochs.size(), 30u);
  double best = INFINITY;
  for (const Logs& logs : history.epochs) best = std::min(best, logs.at("val_loss"));
  EXPECT_DOUBLE_EQ(history.epochs[stopper->best_epoch()].at("val_loss"), best);
  EXPECT_NEAR(evaluate(*model, cross_entropy_loss(), val).at("loss"), best, 1e-9);
}

TEST(Callbacks, MonitorMissingFromTheLogsIsAClearError) {
  auto model = make_model(4);
  optim::SGD sgd(optim::named_parameters(*model), {.lr = 0.1});
  FitOptions options;
  options.callbacks = {std::make_shared<EarlyStopping>(EarlyStopping::Options{.monitor = "val_accuracy"})};
  try {
    fit(*model, cross_entropy_loss(), sgd, loader(blobs(30, 3), true), nullptr, options);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("val_accuracy"), std::string::npos) << e.what();
  }
}

TEST(Callbacks, TerminateOnNaNStopsAtTheFirstBadBatch) {
  auto model = make_model(4);
  optim::SGD sgd(optim::named_parameters(*model), {.lr = 0.1});
  std::int64_t batches = 0;
  struct Counter : Callback {
    explicit Counter(std::int64_t& n) : n_(n) {}
    void on_batch_end(TrainContext&) override { ++n_; }
    std::int64_t& n_;
  };
  FitOptions options;
  options.epochs = 3;
  options.callbacks = {std::make_shared<TerminateOnNaN>(), std::make_shared<Counter>(batches)};
  const LossFunction nan_loss = [](const Tensor& out, const Tensor& t) { return nn::cross_entropy(out, t) * NAN; };
  const History history = fit(*model, nan_loss, sgd, loader(blobs(64, 3), true), nullptr, options);
  EXPECT_EQ(batches, 1);
  EXPECT_EQ(history.epochs.size(), 1u);
}

TEST(Callbacks, CsvAndJsonlLogsHoldOneLinePerEpoch) {
  TempDir dir;
  auto model = make_model(4);
  optim::SGD sgd(optim::named_parameters(*model), {.lr = 0.1});
  FitOptions options;
  options.epochs = 3;
  options.metrics = {"accuracy"};
  options.callbacks = {std::make_shared<CsvLogger>(dir.file("log.csv")),
                       std::make_shared<JsonlLogger>(dir.file("log.jsonl"), 2)};
  fit(*model, cross_entropy_loss(), sgd, loader(blobs(64, 3), true), nullptr, options);
  std::ifstream csv(dir.file("log.csv"));
  std::string header, line;
  std::getline(csv, header);
  EXPECT_EQ(header, "epoch,accuracy,loss,lr,seconds");
  int rows = 0;
  while (std::getline(csv, line)) ++rows;
  EXPECT_EQ(rows, 3);
  std::ifstream jsonl(dir.file("log.jsonl"));
  int epochs = 0, steps = 0;
  while (std::getline(jsonl, line)) {
    epochs += line.find("\"event\":\"epoch\"") != std::string::npos;
    steps += line.find("\"event\":\"step\"") != std::string::npos;
  }
  EXPECT_EQ(epochs, 3);
  EXPECT_EQ(steps, 6);  // 12 steps, every 2nd
}

TEST(Callbacks, ProgressBarWritesPlainLinesWhenNotATerminal) {
  TempDir dir;
  std::FILE* out = std::fopen(dir.file("progress.txt").c_str(), "w+");
  ASSERT_NE(out, nullptr);
  auto model = make_model(4);
  optim::SGD sgd(optim::named_parameters(*model), {.lr = 0.1});
  FitOptions options;
  options.epochs = 2;
  options.callbacks = {std::make_shared<ProgressBar>(out)};
  fit(*model, cross_entropy_loss(), sgd, loader(blobs(64, 3), true), nullptr, options);
  std::fclose(out);
  std::ifstream in(dir.file("progress.txt"));
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str().find('\x1b'), std::string::npos);
  EXPECT_EQ(text.str().find('\r'), std::string::npos);
  EXPECT_NE(text.str().find("epoch 2/2"), std::string::npos) << text.str();
}

TEST(Fit, BadOptionsAreRefused) {
  auto model = make_model(4);
  optim::SGD sgd(optim::named_parameters(*model), {.lr = 0.1});
  const auto train = loader(blobs(16, 3), true);
  FitOptions bad;
  bad.accumulation_steps = 0;
  EXPECT_THROW(fit(*model, cross_entropy_loss(), sgd, train, nullptr, bad), Error);
  FitOptions metric;
  metric.metrics = {"accuracy", "f7"};
  EXPECT_THROW(fit(*model, cross_entropy_loss(), sgd, train, nullptr, metric), Error);
  FitOptions past_the_epoch;
  past_the_epoch.initial_batch = train.size();
  EXPECT_THROW(fit(*model, cross_entropy_loss(), sgd, train, nullptr, past_the_epoch), Error);
  FitOptions inside_a_group;
  inside_a_group.accumulation_steps = 2;
  inside_a_group.initial_batch = 1;
  EXPECT_THROW(fit(*model, cross_entropy_loss(), sgd, train, nullptr, inside_a_group), Error);
}

TEST(Callbacks, TensorBoardLogWritesReadableEvents) {
  TempDir dir;
  auto model = make_model(4);
  optim::SGD sgd(optim::named_parameters(*model), {.lr = 0.1});
  auto board = std::make_shared<TensorBoardLogger>(TensorBoardLogger::Options{.dir = dir.file("tb"), .scalar_every_steps = 2});
  FitOptions options;
  options.epochs = 2;
  options.callbacks = {board};
  const auto train = loader(blobs(64, 3), true);
  fit(*model, cross_entropy_loss(), sgd, train, nullptr, options);
  board->log_batch_images("batch", reshape(blobs(16, 1)->inputs(), Shape{16, 1, 2, 2}), 0);
  // Every record's framing and both CRCs check out; the tags we logged are in there.
  const std::vector<std::string> records = io::read_tfrecord_file(board->path());
  std::string all;
  for (const auto& r : records) all += r;
  for (const char* tag : {"epoch/loss", "batch/loss", "weights/0.weight", "gradients/3.bias", "batch"})
    EXPECT_NE(all.find(tag), std::string::npos) << tag;
  EXPECT_GT(records.size(), 10u);
}

}  // namespace
}  // namespace vigil::train
