// Healthy setups: nothing is wrong, and the doctor should say so. Several are chosen because simple rules
// misjudge them: unstandardised [0, 1] inputs, a deep residual network, label smoothing (a loss floor above 0),
// a loss that plateaus before it drops, an imbalanced set with a weighted loss, early stopping on a small set, a
// frozen pretrained layer.
#include "suite.hpp"

#include <vigil/train/callbacks.hpp>

namespace vigil::doctor_suite {

namespace {

Case unit_range_inputs() {
  return {"healthy_unit_range_inputs", Category::healthy,
          "Fashion-MNIST pixels divided by 255 but not standardised (in [0, 1], mean 0.29): a common, fine choice",
          {}, true, [](std::uint64_t seed) {
            Generator gen(seed);
            return classifier(mlp({784, 128, 10}, gen, true), fashion(0, 1024), fashion(9488, 512), 1e-3, seed);
          }};
}

Case standard_mlp() {
  return {"healthy_mlp", Category::healthy, "a standard MLP (784-256-128-10, Adam 1e-3) on standardised Fashion-MNIST",
          {}, true, [](std::uint64_t seed) {
            Generator gen(seed);
            return classifier(mlp({784, 256, 128, 10}, gen, true), fashion_train(2048), fashion_validation(), 1e-3,
                              seed);
          }};
}

Case standard_cnn() {
  return {"healthy_cnn", Category::healthy,
          "a small CNN (two conv-BN-ReLU-pool stages, 8 and 16 channels) on standardised Fashion-MNIST", {}, true,
          [](std::uint64_t seed) {
            Generator gen(seed);
            const Conv2dOptions same{.padding = 1};
            auto model = std::make_shared<nn::Sequential>();
            model->push_back(std::make_shared<nn::Conv2d>(1, 8, Size2{3, 3}, gen, same, false));
            model->push_back(std::make_shared<nn::BatchNorm2d>(8));
            model->push_back(std::make_shared<nn::ReLU>());
            model->push_back(std::make_shared<nn::MaxPool2d>(Size2{2, 2}));
            model->push_back(std::make_shared<nn::Conv2d>(8, 16, Size2{3, 3}, gen, same, false));
            model->push_back(std::make_shared<nn::BatchNorm2d>(16));
            model->push_back(std::make_shared<nn::ReLU>());
            model->push_back(std::make_shared<nn::MaxPool2d>(Size2{2, 2}));
            model->push_back(std::make_shared<nn::Flatten>());
            model->push_back(std::make_shared<nn::Linear>(16 * 7 * 7, 10, gen));
            return classifier(model, fashion_train(1024), fashion_validation(), 1e-3, seed);
          }};
}

// Fashion-MNIST at 14x14 (2x2 average pooling): keeps an 18-layer network cheap.
Arrays half_size(Arrays a) {
  NoGradGuard no_grad;
  a.x = raw::contiguous(avg_pool2d(a.x, Size2{2, 2}));
  return a;
}

Case residual_network() {
  return {"healthy_resnet_bn", Category::healthy,
          "ResNet-18 at width 4 (batch norm, residual connections, 18 layers) on 14x14 Fashion-MNIST: deep, "
          "with activation statistics that per-layer rules for plain networks misread",
          {}, false, [](std::uint64_t seed) {
            Generator gen(seed);
            auto model = std::make_shared<nn::ResNet18>(1, 10, gen, nn::ResNetOptions{.width = 4});
            Built b = classifier(model, half_size(fashion_train(512)), half_size(fashion_validation()), 3e-3, seed);
            b.epochs = 2;
            return b;
          }};
}

Case label_smoothing() {
  return {"healthy_label_smoothing", Category::healthy,
          "cross-entropy with label smoothing 0.1: the loss cannot fall below ~0.5 even for a perfect model", {},
          false, [](std::uint64_t seed) {
            Generator gen(seed);
            Built b = classifier(mlp({784, 128, 10}, gen, true), fashion_train(1024), fashion_validation(), 1e-3, seed);
            nn::CrossEntropyOptions smoothed;
            smoothed.label_smoothing = 0.1;
            b.loss = cross_entropy(smoothed);
            return b;
          }};
}

// XOR of the signs of two features among eight: no single feature carries information, so a small network
// first sits at the chance loss ln 2 while its hidden units break symmetry, then drops.
Arrays xor_task(std::int64_t n, std::uint64_t seed) {
  Generator gen(seed);
  Tensor x = empty(Shape{n, 8});
  std::vector<std::int64_t> y(static_cast<std::size_t>(n));
  float* p = x.data<float>();
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t j = 0; j < 8; ++j) p[i * 8 + j] = gen.normal();
    y[static_cast<std::size_t>(i)] = (p[i * 8] > 0) != (p[i * 8 + 1] > 0) ? 1 : 0;
  }
  return {x, from_vector_i64(y, Shape{n})};
}

Case plateau_then_drop() {
  return {"healthy_plateau_then_drop", Category::healthy,
          "XOR of two of eight features learnt by a small tanh network with SGD: the loss sits at ln 2 for a few "
          "epochs, then drops",
          {}, false, [](std::uint64_t seed) {
            Generator gen(seed);
            auto model = std::make_shared<nn::Sequential>();
            model->push_back(std::make_shared<nn::Linear>(8, 16, gen));
            model->push_back(std::make_shared<nn::Tanh>());
            model->push_back(std::make_shared<nn::Linear>(16, 2, gen));
            Built b = classifier(model, xor_task(1024, seed), xor_task(512, seed + 1), 1e-3, seed);
            b.optimizer = std::make_unique<optim::SGD>(optim::named_parameters(*model), optim::SGDOptions{.lr = 0.3});
            b.train = make_loader(xor_task(1024, seed), 32, true, seed);
            b.epochs = 30;
            return b;
          }};
}

Case class_weighted_imbalance() {
  return {"healthy_weighted_imbalance", Category::healthy,
          "a 97:3 binary task with cross-entropy weighted by inverse class frequency: imbalanced, and handled", {},
          false, [](std::uint64_t seed) {
            Arrays train = blobs(0, 20, 2, 0.3, 17, seed, {1000, 30});
            Arrays validation = blobs(0, 20, 2, 0.3, 17, seed + 1, {300, 10});
            Generator gen(seed);
            Built b = classifier(mlp({20, 64, 2}, gen, true), train, validation, 1e-3, seed);
            const std::vector<float> weights{1030.0f / 2000.0f, 1030.0f / 60.0f};
            nn::CrossEntropyOptions weighted;
            weighted.weight = from_vector(weights, Shape{2});
            b.loss = cross_entropy(weighted);
            return b;
          }};
}

Case early_stopping_small_set() {
  return {"healthy_early_stopping", Category::healthy,
          "256 training samples, a wide MLP that overfits after a few epochs, and EarlyStopping (patience 2, best "
          "weights restored) that handles it",
          {}, false, [](std::uint64_t seed) {
            Generator gen(seed);
            Built b = classifier(mlp({784, 512, 10}, gen, true), fashion_train(256), fashion_validation(), 1e-3, seed);
            b.epochs = 15;
            b.callbacks.push_back(std::make_shared<train::EarlyStopping>(
                train::EarlyStopping::Options{.monitor = "val_loss", .patience = 2, .restore_best_weights = true}));
            return b;
          }};
}

Case regression() {
  return {"healthy_regression", Category::healthy,
          "a regression MLP with MSE on standardised synthetic targets (a smooth function of 8 features)", {}, false,
          [](std::uint64_t seed) {
            auto make = [](std::int64_t n, std::uint64_t s) {
              Generator gen(s);
              Tensor x = empty(Shape{n, 8}), y = empty(Shape{n, 1});
              float* px = x.data<float>();
              float* py = y.data<float>();
              for (std::int64_t i = 0; i < n; ++i) {
                for (std::int64_t j = 0; j < 8; ++j) px[i * 8 + j] = gen.normal();
                py[i] = std::sin(px[i * 8]) + 0.5f * px[i * 8 + 1] * px[i * 8 + 2] + 0.1f * gen.normal();
              }
              return Arrays{x, y};
            };
            Generator gen(seed);
            auto model = mlp({8, 64, 64, 1}, gen, false);
            Built b;
            b.model = model;
            b.loss = mse();
            b.optimizer = std::make_unique<optim::Adam>(optim::named_parameters(*model), optim::AdamOptions{.lr = 3e-3});
            b.train = make_loader(make(1024, seed), 64, true, seed);
            b.validation = make_loader(make(256, seed + 1), 256, false, seed);
            b.epochs = 5;
            return b;
          }};
}

Case multilabel() {
  return {"healthy_multilabel_bce", Category::healthy,
          "multi-label tagging with binary cross-entropy on logits: float 0/1 targets of the output's shape", {},
          false, [](std::uint64_t seed) {
            // Tags of Fashion-MNIST classes: footwear (5, 7, 9), upper body (0, 2, 3, 4, 6), has sleeves (0, 2, 4, 6).
            auto tags = [](Arrays a) {
              const std::int64_t n = a.y.size(0);
              Tensor t = zeros(Shape{n, 3});
              float* p = t.data<float>();
              const std::int64_t* y = a.y.data<std::int64_t>();
              for (std::int64_t i = 0; i < n; ++i) {
                const std::int64_t c = y[i];
                p[i * 3] = c == 5 || c == 7 || c == 9;
                p[i * 3 + 1] = c == 0 || c == 2 || c == 3 || c == 4 || c == 6;
                p[i * 3 + 2] = c == 0 || c == 2 || c == 4 || c == 6;
              }
              a.y = t;
              return a;
            };
            Generator gen(seed);
            auto model = mlp({784, 128, 3}, gen, true);
            Built b;
            b.model = model;
            b.loss = [](const Tensor& out, const Tensor& y) { return nn::binary_cross_entropy_with_logits(out, y); };
            b.optimizer = std::make_unique<optim::Adam>(optim::named_parameters(*model), optim::AdamOptions{.lr = 1e-3});
            b.train = make_loader(tags(fashion_train(1024)), 64, true, seed);
            b.validation = make_loader(tags(fashion_validation()), 256, false, seed);
            return b;
          }};
}

Case sgd_momentum_bn_dropout() {
  return {"healthy_sgd_bn_dropout", Category::healthy,
          "an MLP with batch norm and dropout 0.3 trained by SGD (lr 0.05, momentum 0.9, weight decay 5e-4) on a "
          "cosine schedule",
          {}, false, [](std::uint64_t seed) {
            Generator gen(seed);
            auto model = std::make_shared<nn::Sequential>();
            model->push_back(std::make_shared<nn::Flatten>());
            model->push_back(std::make_shared<nn::Linear>(784, 256, gen));
            model->push_back(std::make_shared<nn::BatchNorm1d>(256));
            model->push_back(std::make_shared<nn::ReLU>());
            model->push_back(std::make_shared<nn::Dropout>(0.3, gen));
            model->push_back(std::make_shared<nn::Linear>(256, 10, gen));
            Built b = classifier(model, fashion_train(1024), fashion_validation(), 1e-3, seed);
            b.optimizer = std::make_unique<optim::SGD>(
                optim::named_parameters(*model), optim::SGDOptions{.lr = 0.05, .momentum = 0.9, .weight_decay = 5e-4});
            const std::int64_t steps = b.epochs * b.train->size();
            b.callbacks.push_back(std::make_shared<train::ScheduleCallback>(
                std::make_shared<optim::CosineAnnealingLR>(0.05, steps), train::ScheduleCallback::Every::Step));
            return b;
          }};
}

Case frozen_pretrained_backbone() {
  return {"healthy_frozen_backbone", Category::healthy,
          "transfer learning: a hidden layer pretrained on other Fashion-MNIST images, frozen, under a new head "
          "(a frozen layer that is not random: train.frozen_parameter must stay quiet)",
          {}, false, [](std::uint64_t seed) {
            Generator gen(seed);
            auto pretrained = mlp({784, 128, 10}, gen, true);
            Arrays other = fashion(2048, 4096);
            other.x = standardise_pixels(other.x);
            Built pre = classifier(pretrained, other, {}, 1e-3, seed + 1);
            train::FitOptions two_epochs;
            two_epochs.epochs = 2;
            train::fit(*pre.model, pre.loss, *pre.optimizer, *pre.train, nullptr, two_epochs);
            auto model = std::make_shared<nn::Sequential>();
            model->push_back(std::make_shared<nn::Flatten>());
            model->push_back(pretrained->named_children()[1].second);
            model->push_back(std::make_shared<nn::ReLU>());
            model->push_back(std::make_shared<nn::Linear>(128, 10, gen));
            model->freeze("1");
            return classifier(model, fashion_train(1024), fashion_validation(), 1e-3, seed);
          }};
}

}  // namespace

std::vector<Case> healthy_cases() {
  return {unit_range_inputs(), standard_mlp(),      standard_cnn(),         residual_network(),
          label_smoothing(),   plateau_then_drop(), class_weighted_imbalance(), early_stopping_small_set(),
          regression(),        multilabel(),        sgd_momentum_bn_dropout(),  frozen_pretrained_backbone()};
}

}  // namespace vigil::doctor_suite
