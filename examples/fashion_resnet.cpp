// Issue 5's accuracy proof for residual networks: a ResNet-18-style network (nn::ResNet18, small-input stem) trained
// with augmentation on all 60000 Fashion-MNIST training images, then evaluated on the 10000 test images.
//
//   fashion_resnet [--epochs E] [--width W] [--batch B] [--lr LR] [--train-limit N] [--workers K] [--seed S]
//     defaults: 15 epochs, width 16 (channels 16-32-64-128), batch 128, SGD peak lr 0.1, all images, 1 worker, seed 0
//
// Recipe (the standard one for ResNets on small images): random crop with 2 pixels of zero padding and horizontal
// flips, one mean/std standardisation fitted on the training images; SGD with Nesterov momentum 0.9 and weight
// decay 5e-4 under a per-step one-cycle schedule (rising to the peak for 30% of the steps, then cosine down);
// cross-entropy with label smoothing 0.1. No validation split and no early stopping: the number of epochs is fixed
// in advance and the test set is only reported (one line per epoch), never used to choose anything.
// Prints per epoch: train loss/accuracy, test loss/accuracy, and the wall time so far.
#include <vigil/data/augment.hpp>
#include <vigil/data/idx.hpp>
#include <vigil/data/loader.hpp>
#include <vigil/data/datasets.hpp>
#include <vigil/data/preprocess.hpp>
#include <vigil/nn/nn.hpp>
#include <vigil/optim/optim.hpp>
#include <vigil/train/callbacks.hpp>
#include <vigil/train/fit.hpp>

#include "openmp_spin.hpp"

#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <numeric>
#include <string>

using namespace vigil;

namespace {

struct Options {
  std::int64_t epochs = 15;
  std::int64_t width = 16;
  std::int64_t batch = 128;
  double lr = 0.1;
  std::int64_t train_limit = 0;  // 0: every training image
  std::int64_t workers = 1;
  std::uint64_t seed = 0;
  std::string data_dir = "/usr/share/datasets/fashion-mnist";
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    VIGIL_CHECK(i + 1 < argc, Error, "fashion_resnet: {} needs a value", arg);
    const std::string value = argv[++i];
    if (arg == "--epochs") o.epochs = std::stoll(value);
    else if (arg == "--width") o.width = std::stoll(value);
    else if (arg == "--batch") o.batch = std::stoll(value);
    else if (arg == "--lr") o.lr = std::stod(value);
    else if (arg == "--train-limit") o.train_limit = std::stoll(value);
    else if (arg == "--workers") o.workers = std::stoll(value);
    else if (arg == "--seed") o.seed = std::stoull(value);
    else if (arg == "--data-dir") o.data_dir = value;
    else throw Error("fashion_resnet: unknown option " + arg +
                     " (known: --epochs --width --batch --lr --train-limit --workers --seed --data-dir)");
  }
  return o;
}

data::DataLoader make_loader(data::DatasetPtr dataset, data::ExampleTransform transform, bool shuffle,
                             const Options& o) {
  data::LoaderOptions options;
  options.batch_size = o.batch;
  options.shuffle = shuffle;
  options.seed = o.seed;
  options.num_workers = o.workers;
  options.example_transform = std::move(transform);
  return data::DataLoader(std::move(dataset), options);
}

// One line per epoch, flushed, so that a long run can be followed (and its wall time read) from a log file.
class EpochLine : public train::Callback {
 public:
  void on_train_begin(train::TrainContext&) override { start_ = std::chrono::steady_clock::now(); }
  void on_epoch_end(train::TrainContext& context) override {
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const auto& logs = context.epoch_logs;
    std::printf("epoch %lld: train loss %.4f acc %.4f  test loss %.4f acc %.4f  (%.0f s)\n",
                static_cast<long long>(context.epoch + 1), logs.at("loss"), logs.at("accuracy"), logs.at("val_loss"),
                logs.at("val_accuracy"), seconds);
    std::fflush(stdout);
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

}  // namespace

int main(int argc, char** argv) try {
  examples::exec_with_short_openmp_spin(argv, "10000");  // see openmp_spin.hpp
  const Options o = parse(argc, argv);
  const auto t0 = std::chrono::steady_clock::now();

  data::DatasetPtr train = std::make_shared<data::FashionMnist>(o.data_dir, true);
  const auto test = std::make_shared<data::FashionMnist>(o.data_dir, false);
  if (o.train_limit > 0 && o.train_limit < train->size()) {
    std::vector<std::int64_t> first(static_cast<std::size_t>(o.train_limit));
    std::iota(first.begin(), first.end(), 0);
    train = std::make_shared<data::Subset>(train, first);
  }
  const data::Standardizer standardizer = data::Standardizer::fit(*train, data::StatAxis::PerChannel);
  const data::DataLoader train_loader = make_loader(
      train, data::compose({data::random_crop(2), data::random_horizontal_flip(), standardizer.transform()}), true, o);
  const data::DataLoader test_loader = make_loader(test, standardizer.transform(), false, o);

  Generator gen(o.seed);
  nn::ResNet18 model(1, 10, gen, {.width = o.width, .small_input_stem = true});
  std::printf("model: %s, %lld parameters; %lld training images, %lld epochs, batch %lld\n",
              model.extra_repr().c_str(), static_cast<long long>(nn::summarize(model, zeros(Shape{1, 1, 28, 28})).total_params),
              static_cast<long long>(train->size()), static_cast<long long>(o.epochs), static_cast<long long>(o.batch));

  optim::SGD optimizer(optim::named_parameters(model),
                       {.lr = o.lr, .momentum = 0.9, .nesterov = true, .weight_decay = 5e-4});
  const auto schedule = std::make_shared<optim::OneCycleLR>(o.lr, o.epochs * train_loader.size());
  train::FitOptions fit_options;
  fit_options.epochs = o.epochs;
  fit_options.metrics = {"accuracy"};
  fit_options.callbacks = {std::make_shared<train::ScheduleCallback>(schedule, train::ScheduleCallback::Every::Step),
                           std::make_shared<EpochLine>()};
  nn::CrossEntropyOptions smoothing;
  smoothing.label_smoothing = 0.1;
  const auto loss = [smoothing](const Tensor& logits, const Tensor& targets) {
    return nn::cross_entropy(logits, targets, smoothing);
  };
  train::fit(model, loss, optimizer, train_loader, &test_loader, fit_options);

  const train::Logs final_logs = train::evaluate(model, loss, test_loader, {"accuracy"});
  std::printf("final test accuracy %.4f after %lld epochs (%.0f s wall time)\n", final_logs.at("accuracy"),
              static_cast<long long>(o.epochs),
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  return 0;
} catch (const std::exception& e) {
  std::cerr << "error: " << e.what() << "\n";
  return 1;
}
