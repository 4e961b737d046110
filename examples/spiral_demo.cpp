// vigil's demonstration job (./run.sh): a 2-layer MLP learns the classic three-arm spiral (CS231n's toy problem,
// which no linear model can separate) with autograd and SGD with momentum, printing the loss as it falls and the final
// accuracy. Everything random comes from one seeded Generator, so two runs print the same numbers.
//
//   vigil_demo [--steps N] [--hidden H] [--lr LR] [--seed S]
#include <vigil/autograd/autograd.hpp>
#include <vigil/nn/nn.hpp>
#include <vigil/optim/optim.hpp>

#include <cmath>
#include <cstdlib>
#include <iostream>
#include <numbers>
#include <string>

namespace {

struct Options {
  int steps = 2000;
  int hidden = 64;
  double lr = 0.1;
  std::uint64_t seed = 0;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw vigil::Error("vigil_demo: " + arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--steps") o.steps = std::stoi(value());
    else if (arg == "--hidden") o.hidden = std::stoi(value());
    else if (arg == "--lr") o.lr = std::stod(value());
    else if (arg == "--seed") o.seed = std::stoull(value());
    else throw vigil::Error("vigil_demo: unknown option " + arg + " (known: --steps --hidden --lr --seed)");
  }
  return o;
}

// K arms of N points each: radius grows along an arm, the angle turns with it, plus Gaussian jitter.
struct Spiral {
  vigil::Tensor points;  // [K*N, 2]
  vigil::Tensor labels;  // [K*N] int64
};

Spiral make_spiral(std::int64_t per_class, std::int64_t classes, vigil::Generator& gen) {
  std::vector<float> xy;
  std::vector<std::int64_t> y;
  for (std::int64_t k = 0; k < classes; ++k) {
    for (std::int64_t i = 0; i < per_class; ++i) {
      const double r = static_cast<double>(i) / static_cast<double>(per_class - 1);
      const double theta = 4.0 * (static_cast<double>(k) + r) + 0.2 * gen.normal();
      xy.push_back(static_cast<float>(r * std::sin(theta)));
      xy.push_back(static_cast<float>(r * std::cos(theta)));
      y.push_back(k);
    }
  }
  const std::int64_t n = per_class * classes;
  return {vigil::from_vector(xy, {n, 2}), vigil::from_vector_i64(y, {n})};
}

// Mean cross-entropy of logits [N, C] against int64 labels [N]: -mean_i log softmax(logits_i)[y_i].
vigil::Tensor cross_entropy(const vigil::Tensor& logits, const vigil::Tensor& labels) {
  const vigil::Tensor picked = vigil::gather(vigil::log_softmax(logits, 1), 1, vigil::unsqueeze(labels, 1));
  return -vigil::mean(picked);
}

}  // namespace

int main(int argc, char** argv) try {
  const Options opt = parse(argc, argv);
  vigil::Generator gen(opt.seed);
  const Spiral data = make_spiral(100, 3, gen);

  vigil::nn::Sequential model;
  model.push_back(std::make_shared<vigil::nn::Linear>(2, opt.hidden, true, gen));
  model.push_back(std::make_shared<vigil::nn::ReLU>());
  model.push_back(std::make_shared<vigil::nn::Linear>(opt.hidden, 3, true, gen));

  vigil::optim::SGD optimiser(vigil::optim::named_parameters(model), {.lr = opt.lr, .momentum = 0.9});
  std::cout << "vigil demo: " << opt.hidden << "-unit MLP on a 3-arm spiral (" << data.points.size(0)
            << " points), SGD (momentum 0.9) lr " << opt.lr << ", seed " << opt.seed << "\n";
  for (int step = 0; step <= opt.steps; ++step) {
    const vigil::Tensor loss = cross_entropy(model(data.points), data.labels);
    optimiser.zero_grad();
    vigil::backward(loss);
    optimiser.step();
    if (step % (opt.steps / 10) == 0) std::cout << "step " << step << "  loss " << loss.item() << "\n";
  }
  vigil::NoGradGuard no_grad;
  const vigil::Tensor predicted = vigil::argmax(model(data.points), 1);
  const std::vector<float> p = predicted.to_vector(), y = data.labels.to_vector();
  int correct = 0;
  for (std::size_t i = 0; i < p.size(); ++i) correct += p[i] == y[i];
  std::cout << "final training accuracy " << 100.0 * correct / static_cast<double>(p.size()) << "% (a linear model reaches about 50%)\n";
  return 0;
} catch (const std::exception& e) {
  std::cerr << "error: " << e.what() << "\n";
  return 1;
}
