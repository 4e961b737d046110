// Issue 3's proof on real data: an MLP 784-512-256-10 (ReLU, Adam 1e-3, batch 128) trained on Fashion-MNIST, the
// same recipe, data normalisation and measurement as ../shared/bench/torch_reference.py's "mlp" (but He init for
// the hidden layers, see below; the work per step is the same), printing the same line per epoch so that
// bench/mlp_vs_pytorch.sh can compare the two:
//   mlp epoch 1: train N samples/s  infer N samples/s  test acc A  loss L
//
//   fashion_mlp [--epochs E] [--data DIR] [--seed S]      (data from Debian's dataset-fashion-mnist)
#include "fashion_idx.hpp"
#include "openmp_spin.hpp"

#include <vigil/autograd/autograd.hpp>
#include <vigil/data/idx.hpp>
#include <vigil/nn/nn.hpp>
#include <vigil/optim/optim.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <numeric>
#include <string>

#include <unistd.h>

using namespace vigil;

int main(int argc, char** argv) try {
  examples::exec_with_short_openmp_spin(argv);
  int epochs = 1;
  std::string dir = "/usr/share/datasets/fashion-mnist";
  std::uint64_t seed = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    VIGIL_CHECK(i + 1 < argc, Error, "fashion_mlp: {} needs a value", arg);
    if (arg == "--epochs") epochs = std::stoi(argv[++i]);
    else if (arg == "--data") dir = argv[++i];
    else if (arg == "--seed") seed = std::stoull(argv[++i]);
    else throw Error("fashion_mlp: unknown option " + arg + " (known: --epochs --data --seed)");
  }
  examples::FashionSplit train = examples::load_fashion_split(dir, "train");
  examples::FashionSplit test = examples::load_fashion_split(dir, "t10k");
  examples::standardise_with_training_statistics(train, test);
  for (Tensor* images : {&train.images, &test.images}) *images = raw::reshape(*images, Shape{images->size(0), -1});

  Generator gen(seed);
  nn::Sequential model;
  const auto fc1 = std::make_shared<nn::Linear>(784, 512, true, gen);
  const auto fc2 = std::make_shared<nn::Linear>(512, 256, true, gen);
  const auto fc3 = std::make_shared<nn::Linear>(256, 10, true, gen);
  // The layers that feed a ReLU get He (Kaiming) init, N(0, 2 / fan_in), which keeps the activations' variance
  // through the ReLU, and zero biases; the output layer keeps Linear's default.
  for (const auto& hidden : {fc1, fc2}) {
    nn::init::kaiming_normal(hidden->weight(), gen, 0.0, nn::init::FanMode::FanIn, nn::init::Nonlinearity::ReLU);
    nn::init::zeros(hidden->bias());
  }
  model.push_back(fc1);
  model.push_back(std::make_shared<nn::ReLU>());
  model.push_back(fc2);
  model.push_back(std::make_shared<nn::ReLU>());
  model.push_back(fc3);
  optim::Adam adam(optim::named_parameters(model), {.lr = 1e-3});

  const std::int64_t n = train.images.size(0), batch = 128, steps = n / batch;
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    std::iota(order.begin(), order.end(), 0);
    for (std::int64_t i = n - 1; i > 0; --i) {  // Fisher-Yates with the seeded generator
      std::swap(order[static_cast<std::size_t>(i)], order[gen.below(static_cast<std::uint64_t>(i + 1))]);
    }
    const Tensor permutation = from_vector_i64(order, Shape{n});
    model.train();
    float last_loss = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (std::int64_t s = 0; s < steps; ++s) {
      const Tensor idx = raw::narrow(permutation, 0, s * batch, batch);
      const Tensor x = index_select(train.images, 0, idx);
      Tensor y = empty(Shape{batch}, TensorOptions{DType::Int64});
      for (std::int64_t j = 0; j < batch; ++j) {
        y.data<std::int64_t>()[j] = train.labels.data<std::int64_t>()[idx.data<std::int64_t>()[j]];
      }
      const Tensor loss = nn::cross_entropy(model(x), y);
      adam.zero_grad();
      backward(loss);
      adam.step();
      if (s + 1 == steps) last_loss = loss.item();
    }
    const double train_s = examples::seconds_since(t0);

    model.eval();
    NoGradGuard no_grad;
    const auto t1 = std::chrono::steady_clock::now();
    std::int64_t correct = 0;
    for (std::int64_t i = 0; i < test.images.size(0); i += 1000) {
      const std::int64_t len = std::min<std::int64_t>(1000, test.images.size(0) - i);
      const Tensor predicted = argmax(model(raw::narrow(test.images, 0, i, len)), 1);
      const Tensor truth = raw::narrow(test.labels, 0, i, len);
      for (std::int64_t j = 0; j < len; ++j) correct += predicted.data<std::int64_t>()[j] == truth.data<std::int64_t>()[j];
    }
    const double infer_s = examples::seconds_since(t1);
    std::printf("mlp epoch %d: train %8.0f samples/s  infer %8.0f samples/s  test acc %.4f  loss %.4f\n", epoch,
                static_cast<double>(steps * batch) / train_s, static_cast<double>(test.images.size(0)) / infer_s,
                static_cast<double>(correct) / static_cast<double>(test.images.size(0)), last_loss);
    std::fflush(stdout);
  }
  return 0;
} catch (const std::exception& e) {
  std::cerr << "error: " << e.what() << "\n";
  return 1;
}
