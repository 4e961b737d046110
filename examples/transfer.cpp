// Transfer learning on Fashion-MNIST, issue 4's recipe: pretrain on classes 0-4, then learn classes 5-9 from a
// small labelled budget, and compare with training from scratch on the same budget.
//
//   transfer [--out DIR] [--data-dir DIR] [--seed S] [--per-class K] [--head-lr R] [--scratch-lr R]
//     defaults: runs/transfer, /usr/share/datasets/fashion-mnist, seed 0, K = 200 (1000 labelled samples),
//     head rate 1e-2 (a linear probe on fixed features takes a larger step than a whole network), scratch 1e-3
//     (the better of 1e-3 and 3e-3 there); all with Adam, batches of 50
//
// The model is body + head: Sequential{ "0": body = Flatten, 784-256, ReLU, 256-128, ReLU;  "1": head = 128-5 },
// so every body parameter's path starts with "0." and the head's with "1.".
//   1. Pretrain on every training image of classes 0-4 (30000; 2 epochs, Adam) and save a checkpoint holding the
//      weights, the optimiser state and the standardizer fitted on that data (extra/standardizer/{mean,std}).
//   2. For classes 5-9 (relabelled 0-4) build a NEW model: a freshly initialised body and head. Load only the
//      body from the checkpoint by path (io::load_module with only = "0": strict within the body, while the
//      checkpoint's head, optimiser, RNG and extra entries are left out), which amounts to replacing the
//      pretrained model's head by a new one. Standardise with the checkpoint's statistics, as the body was trained.
//   3. Freeze the body (freeze("0")), train only the head for E epochs on the K-per-class budget.
//   4. Unfreeze everything and fine-tune E more epochs with two parameter groups: the body at 0.1x the head's rate.
//   5. From scratch: the same architecture, freshly initialised, trained 2E epochs (the same number of steps) on
//      the same budget with statistics fitted on that budget.
// All test accuracies are on the 5000 test images of classes 5-9.
#include <vigil/data/datasets.hpp>
#include <vigil/data/idx.hpp>
#include <vigil/data/loader.hpp>
#include <vigil/data/preprocess.hpp>
#include <vigil/io/checkpoint.hpp>
#include <vigil/nn/nn.hpp>
#include <vigil/optim/optim.hpp>
#include <vigil/train/checkpoint.hpp>
#include <vigil/train/fit.hpp>

#include "openmp_spin.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

using namespace vigil;

namespace {

struct Options {
  std::string out = "runs/transfer";
  std::string data_dir = "/usr/share/datasets/fashion-mnist";
  std::uint64_t seed = 0;
  std::int64_t per_class = 200;
  double head_lr = 1e-2;     // the head's rate in both transfer phases; the body fine-tunes at 0.1x
  double scratch_lr = 1e-3;  // the rate of the from-scratch run
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    VIGIL_CHECK(i + 1 < argc, Error, "transfer: {} needs a value", arg);
    const std::string value = argv[++i];
    if (arg == "--out") o.out = value;
    else if (arg == "--data-dir") o.data_dir = value;
    else if (arg == "--seed") o.seed = std::stoull(value);
    else if (arg == "--per-class") o.per_class = std::stoll(value);
    else if (arg == "--head-lr") o.head_lr = std::stod(value);
    else if (arg == "--scratch-lr") o.scratch_lr = std::stod(value);
    else throw Error("transfer: unknown option " + arg +
                     " (known: --out --data-dir --seed --per-class --head-lr --scratch-lr)");
  }
  return o;
}

// The examples of classes [first, first + 5), relabelled 0-4: all of them (per_class < 0), or per_class of each
// class chosen by a seeded shuffle. Inputs [n, 1, 28, 28] in [0, 1].
std::shared_ptr<data::TensorDataset> classes(const data::IdxDataset& source, std::int64_t first,
                                             std::int64_t per_class, std::uint64_t seed) {
  const std::int64_t* label = source.labels().data<std::int64_t>();
  Generator gen(seed);
  std::vector<std::int64_t> chosen, relabelled;
  for (std::int64_t c = first; c < first + 5; ++c) {
    std::vector<std::int64_t> members;
    for (std::int64_t i = 0; i < source.size(); ++i)
      if (label[i] == c) members.push_back(i);
    for (std::size_t i = members.size(); i > 1; --i)  // Fisher-Yates
      std::swap(members[i - 1], members[gen.below(i)]);
    if (per_class >= 0) members.resize(std::min<std::size_t>(members.size(), static_cast<std::size_t>(per_class)));
    chosen.insert(chosen.end(), members.begin(), members.end());
  }
  std::sort(chosen.begin(), chosen.end());
  for (const std::int64_t i : chosen) relabelled.push_back(label[i] - first);
  const auto n = static_cast<std::int64_t>(chosen.size());
  return std::make_shared<data::TensorDataset>(index_select(source.images(), 0, from_vector_i64(chosen, Shape{n})),
                                               from_vector_i64(relabelled, Shape{n}));
}

std::shared_ptr<nn::Sequential> make_model(std::uint64_t seed) {
  Generator gen(seed);
  auto body = std::make_shared<nn::Sequential>();
  body->push_back(std::make_shared<nn::Flatten>());
  body->push_back(std::make_shared<nn::Linear>(784, 256, gen));
  body->push_back(std::make_shared<nn::ReLU>());
  body->push_back(std::make_shared<nn::Linear>(256, 128, gen));
  body->push_back(std::make_shared<nn::ReLU>());
  auto model = std::make_shared<nn::Sequential>();
  model->push_back(body);
  model->push_back(std::make_shared<nn::Linear>(128, 5, gen));
  return model;
}

data::DataLoader make_loader(data::DatasetPtr dataset, const data::Standardizer& standardizer, bool shuffle,
                             std::int64_t batch, std::uint64_t seed) {
  data::LoaderOptions options;
  options.batch_size = batch;
  options.shuffle = shuffle;
  options.seed = seed;
  options.example_transform = standardizer.transform();
  return data::DataLoader(std::move(dataset), options);
}

const train::LossFunction kLoss = [](const Tensor& logits, const Tensor& targets) {
  return nn::cross_entropy(logits, targets);
};

double train_for(nn::Module& model, optim::Optimizer& optimizer, const data::DataLoader& train,
                 std::int64_t epochs) {
  train::FitOptions options;
  options.epochs = epochs;
  return train::fit(model, kLoss, optimizer, train, nullptr, options).epochs.back().at("loss");
}

double accuracy(nn::Module& model, const data::DataLoader& test) {
  return train::evaluate(model, kLoss, test, {"accuracy"}).at("accuracy");
}

}  // namespace

int main(int argc, char** argv) try {
  examples::exec_with_short_openmp_spin(argv);
  const Options o = parse(argc, argv);
  const auto t0 = std::chrono::steady_clock::now();
  std::filesystem::create_directories(o.out);
  const data::FashionMnist train_files(o.data_dir, true), test_files(o.data_dir, false);
  constexpr std::int64_t kBatch = 50, kEpochs = 10;  // per phase: 10 epochs of the budget

  // ---- 1. Pretrain on classes 0-4 ----
  const std::string checkpoint = o.out + "/pretrained_0-4.safetensors";
  {
    const auto source = classes(train_files, 0, -1, o.seed);
    const data::Standardizer standardizer = data::Standardizer::fit(*source, data::StatAxis::PerChannel);
    auto model = make_model(o.seed);
    optim::Adam adam(optim::named_parameters(*model), {.lr = 1e-3});
    const double loss = train_for(*model, adam, make_loader(source, standardizer, true, 128, o.seed), 2);
    const double acc = accuracy(*model, make_loader(classes(test_files, 0, -1, o.seed), standardizer, false, 1000, 0));
    io::NamedTensors extra;
    for (const auto& [name, tensor] : standardizer.state()) extra.emplace_back("standardizer/" + name, tensor);
    train::save_checkpoint(checkpoint, *model, &adam, {}, {.epoch = 2, .step = 0, .extra = extra, .metadata = {}});
    std::printf("pretrain on classes 0-4: %lld samples, 2 epochs, loss %.4f, test accuracy (0-4) %.4f -> %s\n",
                static_cast<long long>(source->size()), loss, acc, checkpoint.c_str());
  }

  // ---- The small budget of classes 5-9 ----
  const auto budget = classes(train_files, 5, o.per_class, o.seed + 1);
  const auto target_test = classes(test_files, 5, -1, 0);
  std::printf("budget: %lld labelled samples of classes 5-9; test: %lld samples; %lld steps per phase\n",
              static_cast<long long>(budget->size()), static_cast<long long>(target_test->size()),
              static_cast<long long>(kEpochs * ((budget->size() + kBatch - 1) / kBatch)));

  // ---- 2-4. Transfer ----
  double head_only = 0, fine_tuned = 0;
  {
    auto model = make_model(o.seed + 2);  // new body and head; the body is overwritten next
    const io::LoadReport report = io::load_module(checkpoint, *model, /*strict=*/true, /*only=*/"0");
    const io::SafetensorsFile file = io::load_safetensors(checkpoint);
    data::NamedTensors stats;
    for (const auto& [name, tensor] : file.tensors)
      if (name.starts_with("extra/standardizer/")) stats.emplace_back(name.substr(19), tensor);
    data::Standardizer standardizer;
    standardizer.load_state(stats);
    std::printf("loaded the body (paths \"0.*\") from the checkpoint: %zu missing, %zu unexpected\n",
                report.missing.size(), report.unexpected.size());
    const data::DataLoader train = make_loader(budget, standardizer, true, kBatch, o.seed);
    const data::DataLoader test = make_loader(target_test, standardizer, false, 1000, 0);

    const std::size_t frozen = model->freeze("0");
    optim::Adam head_adam(optim::named_parameters(*model), {.lr = o.head_lr});
    const double loss = train_for(*model, head_adam, train, kEpochs);
    head_only = accuracy(*model, test);
    std::printf("transfer, head only (%zu body tensors frozen, %zu trainable): loss %.4f, test accuracy %.4f\n",
                frozen, model->named_trainable_parameters().size(), loss, head_only);

    model->unfreeze("*");
    optim::ParamGroup body{.params = {}, .lr = 0.1 * o.head_lr, .weight_decay = std::nullopt};
    optim::ParamGroup head{.params = {}, .lr = o.head_lr, .weight_decay = std::nullopt};
    for (const auto& p : optim::named_parameters(*model)) (nn::path_matches("0", p.path) ? body : head).params.push_back(p);
    optim::Adam fine_adam({body, head}, {.lr = o.head_lr});
    const double fine_loss = train_for(*model, fine_adam, train, kEpochs);
    fine_tuned = accuracy(*model, test);
    std::printf("transfer, then all layers (body lr %g, head lr %g): loss %.4f, test accuracy %.4f\n",
                0.1 * o.head_lr, o.head_lr, fine_loss, fine_tuned);
  }

  // ---- 5. From scratch on the same budget and number of steps ----
  double scratch = 0;
  {
    const data::Standardizer standardizer = data::Standardizer::fit(*budget, data::StatAxis::PerChannel);
    auto model = make_model(o.seed + 2);
    optim::Adam adam(optim::named_parameters(*model), {.lr = o.scratch_lr});
    const double loss = train_for(*model, adam, make_loader(budget, standardizer, true, kBatch, o.seed), 2 * kEpochs);
    scratch = accuracy(*model, make_loader(target_test, standardizer, false, 1000, 0));
    std::printf("from scratch (%lld epochs, lr %g): loss %.4f, test accuracy %.4f\n",
                static_cast<long long>(2 * kEpochs), o.scratch_lr, loss, scratch);
  }

  std::printf("classes 5-9 test accuracy with %lld labels: transfer %.4f (head only %.4f) vs scratch %.4f  "
              "(%.1f s)\n",
              static_cast<long long>(budget->size()), fine_tuned, head_only, scratch,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  return 0;
} catch (const std::exception& e) {
  std::cerr << "error: " << e.what() << "\n";
  return 1;
}
