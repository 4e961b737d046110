// vigil_demo: a tour of what vigil does so far. It makes and views tensors, differentiates a small expression,
// then fits a Linear layer to noisy points on the line y = 3x - 2 by plain gradient descent, printing the loss.
//
// Usage: vigil_demo [--steps N] [--seed S] [--lr RATE]
#include <vigil/nn/nn.hpp>

#include <fmt/format.h>

#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

namespace {

struct Options {
  int steps = 200;
  std::uint64_t seed = 0;
  double lr = 0.1;
};

[[noreturn]] void usage(int status) {
  (status == 0 ? std::cout : std::cerr) << "usage: vigil_demo [--steps N] [--seed S] [--lr RATE]\n";
  std::exit(status);
}

Options parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") usage(0);
    if (i + 1 >= argc) usage(2);
    const std::string value = argv[++i];
    try {
      if (arg == "--steps") options.steps = std::stoi(value);
      else if (arg == "--seed") options.seed = std::stoull(value);
      else if (arg == "--lr") options.lr = std::stod(value);
      else usage(2);
    } catch (const std::logic_error&) {
      std::cerr << "vigil_demo: " << arg << " needs a number, got \"" << value << "\"\n";
      usage(2);
    }
  }
  return options;
}

void tensors() {
  using namespace vigil;
  std::cout << "== Tensors\n";
  const Tensor a = raw::reshape(arange(0, 6), Shape{2, 3});
  std::cout << "a = " << a << "\n";
  const Tensor at = transpose(a, 0, 1);
  std::cout << "a transposed (a view: shares storage = " << std::boolalpha << at.shares_storage(a) << ") = " << at
            << "\n";
  std::cout << "a + [10, 20, 30] (broadcast) = " << a + from_vector(std::vector<float>{10, 20, 30}, {3}) << "\n";
  std::cout << "a @ a^T = " << matmul(a, at) << "\n\n";
}

void autograd() {
  using namespace vigil;
  std::cout << "== Autograd\n";
  const Tensor x = from_vector(std::vector<float>{1, 2, 3}, {3}, TensorOptions{DType::Float32, true});
  const Tensor y = sum(x * x + 2.0 * x);
  backward(y);
  std::cout << "x = " << x << "\ny = sum(x^2 + 2x) = " << y.item() << "\ndy/dx = 2x + 2 = " << x.grad() << "\n\n";
}

void fit_a_line(const Options& options) {
  using namespace vigil;
  std::cout << "== Fitting y = 3x - 2 with nn::Linear(1, 1), " << options.steps << " steps of gradient descent\n";
  Generator gen(options.seed);
  const std::int64_t n = 64;
  const Tensor x = (rand({n, 1}, gen) * 2.0 - 1.0).detach();
  const Tensor y = (x * 3.0 - 2.0 + randn({n, 1}, gen) * 0.1).detach();
  nn::Linear model(1, 1, gen);
  for (int step = 0; step <= options.steps; ++step) {
    const Tensor error = model(x) - y;
    const Tensor loss = sum(error * error) / static_cast<double>(n);
    if (step % 50 == 0 || step == options.steps) std::cout << fmt::format("step {:4d}  loss {:.6f}\n", step, loss.item());
    if (step == options.steps) break;
    model.zero_grad();
    backward(loss);
    NoGradGuard no_grad;  // the update is not part of any graph
    for (const Tensor& p : model.parameters()) raw::copy_(p, p - options.lr * p.grad());
  }
  std::cout << fmt::format("learned w = {:.4f}, b = {:.4f} (true 3, -2)\n", model.weight().item(), model.bias().item());
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse(argc, argv);
  try {
    tensors();
    autograd();
    fit_a_line(options);
  } catch (const vigil::Error& e) {
    std::cerr << "vigil_demo: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
