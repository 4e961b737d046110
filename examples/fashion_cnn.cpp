// Issue 5's reference CNN on real data, the recipe, data normalisation and measurement of
// ../shared/bench/torch_reference.py's "cnn" (PyTorch's default initialisation, Adam 1e-3, batch 128):
//   conv 1 -> 32 3x3 pad 1 (no bias), BatchNorm2d, ReLU, max pool 2
//   conv 32 -> 64 3x3 pad 1 (no bias), BatchNorm2d, ReLU, max pool 2
//   flatten, Linear 3136 -> 128, ReLU, Dropout 0.25, Linear 128 -> 10
// printing the same line per epoch so that bench/cnn_vs_pytorch.sh can compare the two:
//   cnn epoch 1: train N samples/s  infer N samples/s  test acc A  loss L
// and the process's peak resident set size at the end.
//
// Inference (batches of 1000, as the reference) runs a fused evaluation path: each batch norm is folded into the
// convolution before it (nn::fold_batch_norm: one convolution with a bias instead of a convolution and a pass over
// its output), then ReLU and pooling. Every epoch checks it against the model's own eval-mode forward on the first
// test batch and stops with an error when the logits differ by more than float rounding.
//
//   fashion_cnn [--epochs E] [--data DIR] [--seed S]      (data from Debian's dataset-fashion-mnist)
#include <vigil/autograd/autograd.hpp>
#include <vigil/data/idx.hpp>
#include <vigil/nn/nn.hpp>
#include <vigil/optim/optim.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <numeric>
#include <string>

#include <sys/resource.h>
#include <unistd.h>

using namespace vigil;

namespace {

struct Split {
  Tensor images;  // [N, 1, 28, 28], standardised
  Tensor labels;  // [N] int64
};

// Standardises with the training set's single mean and standard deviation (as the reference does).
void standardise(Tensor& x, double mean, double stddev) {
  float* p = x.data<float>();
  for (std::int64_t i = 0; i < x.numel(); ++i) p[i] = static_cast<float>((p[i] / 255.0 - mean) / stddev);
}

Split load(const std::string& dir, const std::string& prefix) {
  Tensor images = data::read_idx(dir + "/" + prefix + "-images-idx3-ubyte.gz", true);
  Tensor labels = data::read_idx(dir + "/" + prefix + "-labels-idx1-ubyte.gz", false);
  VIGIL_CHECK(images.size(0) == labels.size(0), Error, "{}: {} images but {} labels", dir + "/" + prefix,
              images.size(0), labels.size(0));
  return {raw::reshape(images, Shape{images.size(0), 1, images.size(1), images.size(2)}), labels};
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The reference CNN, with handles on the layers the fused inference path reads.
struct Cnn {
  std::shared_ptr<nn::Conv2d> conv1, conv2;
  std::shared_ptr<nn::BatchNorm2d> bn1, bn2;
  std::shared_ptr<nn::Linear> fc1, fc2;
  nn::Sequential model;

  explicit Cnn(Generator& gen) {
    const Conv2dOptions same3x3{.padding = 1};
    conv1 = model.push_back(std::make_shared<nn::Conv2d>(1, 32, Size2{3, 3}, gen, same3x3, false));
    bn1 = model.push_back(std::make_shared<nn::BatchNorm2d>(32));
    model.push_back(std::make_shared<nn::ReLU>());
    model.push_back(std::make_shared<nn::MaxPool2d>(Size2{2, 2}));
    conv2 = model.push_back(std::make_shared<nn::Conv2d>(32, 64, Size2{3, 3}, gen, same3x3, false));
    bn2 = model.push_back(std::make_shared<nn::BatchNorm2d>(64));
    model.push_back(std::make_shared<nn::ReLU>());
    model.push_back(std::make_shared<nn::MaxPool2d>(Size2{2, 2}));
    model.push_back(std::make_shared<nn::Flatten>());
    fc1 = model.push_back(std::make_shared<nn::Linear>(64 * 7 * 7, 128, true, gen));
    model.push_back(std::make_shared<nn::ReLU>());
    model.push_back(std::make_shared<nn::Dropout>(0.25, gen));
    fc2 = model.push_back(std::make_shared<nn::Linear>(128, 10, true, gen));
  }
};

// The evaluation-mode network with each batch norm folded into its convolution (dropout is the identity in eval).
// Built from the trained model after each epoch; call under NoGradGuard.
class FusedCnn {
 public:
  explicit FusedCnn(const Cnn& net)
      : conv1_(nn::fold_batch_norm(net.conv1->weight(), net.conv1->bias(), *net.bn1)),
        conv2_(nn::fold_batch_norm(net.conv2->weight(), net.conv2->bias(), *net.bn2)),
        conv1_options_(net.conv1->options()),
        conv2_options_(net.conv2->options()),
        fc1_(net.fc1),
        fc2_(net.fc2) {}

  Tensor operator()(const Tensor& x) const {
    Tensor h = max_pool2d(relu(conv2d(x, conv1_.weight, conv1_.bias, conv1_options_)), Size2{2, 2});
    h = max_pool2d(relu(conv2d(h, conv2_.weight, conv2_.bias, conv2_options_)), Size2{2, 2});
    return (*fc2_)(relu((*fc1_)(flatten(h, 1))));
  }

 private:
  nn::FoldedParameters conv1_, conv2_;
  Conv2dOptions conv1_options_, conv2_options_;
  std::shared_ptr<nn::Linear> fc1_, fc2_;
};

// Folding reorders float rounding only: the fused logits must match the model's eval forward to a few ulps of
// their magnitude. Throws when they do not.
void check_fused(Cnn& net, const FusedCnn& fused, const Tensor& x) {
  const std::vector<float> plain = net.model(x).to_vector(), folded = fused(x).to_vector();
  float worst = 0, scale = 1;
  for (std::size_t i = 0; i < plain.size(); ++i) {
    worst = std::max(worst, std::abs(plain[i] - folded[i]));
    scale = std::max(scale, std::abs(plain[i]));
  }
  VIGIL_CHECK(worst <= 1e-4f * scale, Error,
              "fashion_cnn: the fused inference path differs from the model by {} (largest logit {})", worst, scale);
}

// libgomp's idle threads spin GOMP_SPINCOUNT pause loops (300000 by default: milliseconds) before they sleep;
// when another process holds a core, every barrier then waits out a whole spin (see examples/fashion_mlp.cpp).
// 1000 spins still bridge the gaps between a step's parallel regions. libgomp reads the variable once, when it is
// loaded, so the program sets it and runs itself again; a user's own OMP_WAIT_POLICY or GOMP_SPINCOUNT is kept.
void exec_with_short_openmp_spin(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr || std::getenv("GOMP_SPINCOUNT") != nullptr) return;
  if (setenv("GOMP_SPINCOUNT", "1000", 0) != 0) return;
  execv("/proc/self/exe", argv);  // returns only on failure: then run on with the default spin
}

}  // namespace

int main(int argc, char** argv) try {
  exec_with_short_openmp_spin(argv);
  int epochs = 1;
  std::string dir = "/usr/share/datasets/fashion-mnist";
  std::uint64_t seed = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    VIGIL_CHECK(i + 1 < argc, Error, "fashion_cnn: {} needs a value", arg);
    if (arg == "--epochs") epochs = std::stoi(argv[++i]);
    else if (arg == "--data") dir = argv[++i];
    else if (arg == "--seed") seed = std::stoull(argv[++i]);
    else throw Error("fashion_cnn: unknown option " + arg + " (known: --epochs --data --seed)");
  }
  Split train = load(dir, "train"), test = load(dir, "t10k");
  {
    const float* p = train.images.data<float>();
    double s = 0, s2 = 0;
    for (std::int64_t i = 0; i < train.images.numel(); ++i) s += p[i] / 255.0, s2 += (p[i] / 255.0) * (p[i] / 255.0);
    const double count = static_cast<double>(train.images.numel());
    const double mean_v = s / count, std_v = std::sqrt(s2 / count - mean_v * mean_v);
    standardise(train.images, mean_v, std_v);
    standardise(test.images, mean_v, std_v);
  }

  Generator gen(seed);
  Cnn net(gen);
  optim::Adam adam(optim::named_parameters(net.model), {.lr = 1e-3});

  const std::int64_t n = train.images.size(0), batch = 128, steps = n / batch, test_batch = 1000;
  const std::int64_t n_test = test.images.size(0);
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  const auto start = std::chrono::steady_clock::now();
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    std::iota(order.begin(), order.end(), 0);
    for (std::int64_t i = n - 1; i > 0; --i) {  // Fisher-Yates with the seeded generator
      std::swap(order[static_cast<std::size_t>(i)], order[gen.below(static_cast<std::uint64_t>(i + 1))]);
    }
    const Tensor permutation = from_vector_i64(order, Shape{n});
    net.model.train();
    float last_loss = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (std::int64_t s = 0; s < steps; ++s) {
      const Tensor idx = raw::narrow(permutation, 0, s * batch, batch);
      const Tensor x = index_select(train.images, 0, idx);
      Tensor y = empty(Shape{batch}, TensorOptions{DType::Int64});
      for (std::int64_t j = 0; j < batch; ++j) {
        y.data<std::int64_t>()[j] = train.labels.data<std::int64_t>()[idx.data<std::int64_t>()[j]];
      }
      const Tensor loss = nn::cross_entropy(net.model(x), y);
      adam.zero_grad();
      backward(loss);
      adam.step();
      if (s + 1 == steps) last_loss = loss.item();
    }
    const double train_s = seconds_since(t0);

    net.model.eval();
    NoGradGuard no_grad;
    const FusedCnn fused(net);
    check_fused(net, fused, raw::narrow(test.images, 0, 0, std::min(test_batch, n_test)));
    const auto t1 = std::chrono::steady_clock::now();
    std::int64_t correct = 0;
    for (std::int64_t i = 0; i < n_test; i += test_batch) {
      const std::int64_t len = std::min(test_batch, n_test - i);
      const Tensor predicted = argmax(fused(raw::narrow(test.images, 0, i, len)), 1);
      const Tensor truth = raw::narrow(test.labels, 0, i, len);
      for (std::int64_t j = 0; j < len; ++j) correct += predicted.data<std::int64_t>()[j] == truth.data<std::int64_t>()[j];
    }
    const double infer_s = seconds_since(t1);
    std::printf("cnn epoch %d: train %8.0f samples/s  infer %8.0f samples/s  test acc %.4f  loss %.4f\n", epoch,
                static_cast<double>(steps * batch) / train_s, static_cast<double>(n_test) / infer_s,
                static_cast<double>(correct) / static_cast<double>(n_test), last_loss);
    std::fflush(stdout);
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::printf("cnn: %d epoch(s) in %.1f s, peak RSS %.1f MiB\n", epochs, seconds_since(start),
              static_cast<double>(usage.ru_maxrss) / 1024.0);
  return 0;
} catch (const std::exception& e) {
  std::cerr << "error: " << e.what() << "\n";
  return 1;
}
