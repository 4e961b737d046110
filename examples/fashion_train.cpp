// Issue 4's proof: from the Fashion-MNIST files to a trained, checkpointed, evaluated MLP without a hand-written
// training loop, with everything a run should leave behind written into one directory.
//
//   fashion_train [--epochs E] [--out DIR] [--data-dir DIR] [--workers W] [--seed S]
//     defaults: 3 epochs, runs/fashion_train, /usr/share/datasets/fashion-mnist, 1 worker, seed 0
//
// The pipeline:
//   - a stratified 90/10 train/validation split of the 60000 training images (every class keeps its share);
//   - a Standardizer fitted on the training split only (one mean and std for the single channel: with random crops
//     per-pixel statistics would describe positions the augmented pixels no longer sit at), applied to the
//     validation and test data too, and stored in every checkpoint as extra/standardizer/{mean,std};
//   - training batches augmented on the fly in the loader: random crop with 2 pixels of zero padding (the black
//     background), horizontal flip, then standardised; validation and test batches only standardised;
//   - an MLP 784-512-256-10 with ReLU and dropout, AdamW (decoupled weight decay) under a per-step cosine schedule;
//   - callbacks: early stopping on val_loss (restoring the best weights), checkpoints (best and last), CSV and JSONL
//     logs, TensorBoard (epoch scalars, batch loss, weight and gradient histograms, the first batch's images) and
//     a progress bar.
// Output in --out:
//   train_batch.png         the first training batch exactly as it enters the network, captioned with class names
//   checkpoints/{best,last}.safetensors, log.csv, log.jsonl, tensorboard/events.out.tfevents.*
// At the end the best checkpoint is loaded into a fresh model, with its standardizer, and evaluated on the test
// set: what a user of the saved model would get.
#include <vigil/data/augment.hpp>
#include <vigil/data/datasets.hpp>
#include <vigil/data/idx.hpp>
#include <vigil/data/image_grid.hpp>
#include <vigil/data/loader.hpp>
#include <vigil/data/preprocess.hpp>
#include <vigil/nn/nn.hpp>
#include <vigil/optim/optim.hpp>
#include <vigil/train/callbacks.hpp>
#include <vigil/train/checkpoint.hpp>
#include <vigil/train/fit.hpp>

#include "openmp_spin.hpp"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

using namespace vigil;

namespace {

const std::vector<std::string> kClassNames = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                              "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

struct Options {
  std::int64_t epochs = 3;
  std::string out = "runs/fashion_train";
  std::string data_dir = "/usr/share/datasets/fashion-mnist";
  std::int64_t workers = 1;
  std::uint64_t seed = 0;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    VIGIL_CHECK(i + 1 < argc, Error, "fashion_train: {} needs a value", arg);
    const std::string value = argv[++i];
    if (arg == "--epochs") o.epochs = std::stoll(value);
    else if (arg == "--out") o.out = value;
    else if (arg == "--data-dir") o.data_dir = value;
    else if (arg == "--workers") o.workers = std::stoll(value);
    else if (arg == "--seed") o.seed = std::stoull(value);
    else throw Error("fashion_train: unknown option " + arg + " (known: --epochs --out --data-dir --workers --seed)");
  }
  return o;
}

// Flatten -> 784-512 ReLU Dropout(0.2) -> 512-256 ReLU Dropout(0.2) -> 256-10.
std::shared_ptr<nn::Sequential> make_model(std::uint64_t seed) {
  Generator gen(seed);
  auto model = std::make_shared<nn::Sequential>();
  model->push_back(std::make_shared<nn::Flatten>());
  model->push_back(std::make_shared<nn::Linear>(784, 512, gen));
  model->push_back(std::make_shared<nn::ReLU>());
  model->push_back(std::make_shared<nn::Dropout>(0.2, gen));
  model->push_back(std::make_shared<nn::Linear>(512, 256, gen));
  model->push_back(std::make_shared<nn::ReLU>());
  model->push_back(std::make_shared<nn::Dropout>(0.2, gen));
  model->push_back(std::make_shared<nn::Linear>(256, 10, gen));
  return model;
}

data::DataLoader make_loader(data::DatasetPtr dataset, data::ExampleTransform transform, bool shuffle,
                             const Options& o) {
  data::LoaderOptions options;
  options.batch_size = 128;
  options.shuffle = shuffle;
  options.seed = o.seed;
  options.num_workers = o.workers;
  options.example_transform = std::move(transform);
  return data::DataLoader(std::move(dataset), options);
}

// The standardizer's statistics under "standardizer/<name>", as checkpoints store them (extra/standardizer/...).
io::NamedTensors prefixed(const data::NamedTensors& state, const std::string& prefix) {
  io::NamedTensors out;
  for (const auto& [name, tensor] : state) out.emplace_back(prefix + name, tensor);
  return out;
}

}  // namespace

int main(int argc, char** argv) try {
  examples::exec_with_short_openmp_spin(argv);
  const Options o = parse(argc, argv);
  const auto t0 = std::chrono::steady_clock::now();
  std::filesystem::create_directories(o.out);

  // ---- Data ----
  const auto full_train = std::make_shared<data::FashionMnist>(o.data_dir, true);
  const auto test = std::make_shared<data::FashionMnist>(o.data_dir, false);
  const std::vector<std::int64_t> train_labels = data::labels(*full_train);
  const data::Split split = data::stratified_split(train_labels, 0.1, o.seed);
  const auto train = std::make_shared<data::Subset>(full_train, split.train);
  const auto validation = std::make_shared<data::Subset>(full_train, split.validation);
  const data::Standardizer standardizer = data::Standardizer::fit(*train, data::StatAxis::PerChannel);
  std::printf("data: %lld train, %lld validation, %lld test; standardizer mean %.4f std %.4f (train split only)\n",
              static_cast<long long>(train->size()), static_cast<long long>(validation->size()),
              static_cast<long long>(test->size()), standardizer.mean().item(), standardizer.std().item());

  const data::ExampleTransform augment = data::compose(
      {data::random_crop(2), data::random_horizontal_flip(), standardizer.transform()});
  const data::DataLoader train_loader = make_loader(train, augment, true, o);
  const data::DataLoader validation_loader = make_loader(validation, standardizer.transform(), false, o);
  const data::DataLoader test_loader = make_loader(test, standardizer.transform(), false, o);

  // The first batch of epoch 0, as fit() will see it (batches are functions of seed and epoch).
  const data::Batch first = *train_loader.epoch(0).begin();
  data::write_batch_grid_png(o.out + "/train_batch.png", first, kClassNames, 16, 2);

  // ---- Model, optimiser, callbacks ----
  auto model = make_model(o.seed);
  std::cout << nn::summarize(*model, zeros(Shape{1, 1, 28, 28})).str();
  const double lr = 2e-3;
  optim::AdamW optimizer(optim::named_parameters(*model), {.lr = lr, .weight_decay = 1e-4});
  const auto schedule = std::make_shared<optim::CosineAnnealingLR>(lr, o.epochs * train_loader.size());

  const io::NamedTensors extra = prefixed(standardizer.state(), "standardizer/");
  auto early_stopping = std::make_shared<train::EarlyStopping>(
      train::EarlyStopping::Options{.monitor = "val_loss", .patience = 3, .restore_best_weights = true});
  auto board = std::make_shared<train::TensorBoardLogger>(
      train::TensorBoardLogger::Options{.dir = o.out + "/tensorboard", .scalar_every_steps = 20});
  board->log_batch_images("train/batch", first.inputs, 0);
  train::FitOptions fit_options;
  fit_options.epochs = o.epochs;
  fit_options.metrics = {"accuracy"};
  fit_options.callbacks = {
      std::make_shared<train::ScheduleCallback>(schedule, train::ScheduleCallback::Every::Step),
      early_stopping,
      std::make_shared<train::CsvLogger>(o.out + "/log.csv"),
      std::make_shared<train::JsonlLogger>(o.out + "/log.jsonl", 100),
      board,
      std::make_shared<train::ProgressBar>(),
  };
  // Saved last, so that the checkpoint holds the other callbacks' state of the same epoch.
  fit_options.callbacks.push_back(std::make_shared<train::ModelCheckpoint>(
      train::ModelCheckpoint::Options{.dir = o.out + "/checkpoints", .monitor = "val_loss", .extra = extra},
      fit_options.callbacks));

  // ---- Train, then evaluate ----
  const auto loss = [](const Tensor& logits, const Tensor& targets) { return nn::cross_entropy(logits, targets); };
  const train::History history = train::fit(*model, loss, optimizer, train_loader, &validation_loader, fit_options);
  std::printf("trained %zu epochs; the best by val_loss, epoch %lld, restored\n", history.epochs.size(),
              static_cast<long long>(early_stopping->best_epoch() + 1));
  const train::Logs test_logs = train::evaluate(*model, loss, test_loader, {"accuracy"});

  // A user of the saved model: a fresh network and standardizer, both from the best checkpoint alone.
  auto restored = make_model(o.seed + 1);
  const train::CheckpointState saved =
      train::load_checkpoint(o.out + "/checkpoints/best.safetensors", *restored, nullptr, {});
  data::NamedTensors stats;
  for (const auto& [name, tensor] : saved.extra)
    if (name.starts_with("standardizer/")) stats.emplace_back(name.substr(13), tensor);
  data::Standardizer restored_standardizer;
  restored_standardizer.load_state(stats);
  const train::Logs restored_logs = train::evaluate(
      *restored, loss, make_loader(test, restored_standardizer.transform(), false, o), {"accuracy"});

  std::printf("test: %s\n", train::format_logs(test_logs).c_str());
  std::printf("best checkpoint (saved after epoch %lld) reloaded with its standardizer: test accuracy %.4f\n",
              static_cast<long long>(saved.epoch),
              restored_logs.at("accuracy"));
  std::printf("final test accuracy %.4f  (%.1f s; output in %s)\n", test_logs.at("accuracy"),
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), o.out.c_str());
  return 0;
} catch (const std::exception& e) {
  std::cerr << "error: " << e.what() << "\n";
  return 1;
}
