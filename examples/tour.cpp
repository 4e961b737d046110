// The README's quick tour as a program that is built with every build, so the tour cannot drift from the API.
#include <vigil/autograd/autograd.hpp>
#include <vigil/nn/nn.hpp>
#include <vigil/optim/optim.hpp>

#include <iostream>

using namespace vigil;

int main() {
  Generator gen(42);
  Tensor x = randn({128, 784}, gen);
  Tensor y = randint(0, 10, {128}, gen);

  nn::Sequential model;
  model.push_back(std::make_shared<nn::Linear>(784, 256, true, gen));
  model.push_back(std::make_shared<nn::ReLU>());
  model.push_back(std::make_shared<nn::Linear>(256, 10, true, gen));
  optim::Adam adam(optim::named_parameters(model), {.lr = 1e-3});

  Tensor logits = model(x);
  Tensor loss = -mean(gather(log_softmax(logits, 1), 1, unsqueeze(y, 1)));
  adam.zero_grad();
  backward(loss);
  adam.step();
  std::cout << "loss at initialisation " << loss.item() << " (-log(1/10) = 2.3026)\n";

  GradcheckResult r = gradcheck([](const std::vector<Tensor>& in) { return tanh(matmul(in[0], in[1])); },
                                {randn({3, 4}, gen).set_requires_grad(), randn({4, 2}, gen).set_requires_grad()});
  std::cout << r.report << "\n";
  return r.passed ? 0 : 1;
}
