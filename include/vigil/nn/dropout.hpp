// Dropout family: regularisers that perturb activations (or weights) with random noise in training and do nothing
// in evaluation.
//
// Randomness is explicit. Each layer is built from a Generator& and owns its own Generator, split from it
// (gen.split()), so one seed reproduces every mask and layers never share a hidden stream; generator() exposes it
// so a checkpoint can save and restore its state. The functions below always apply the noise (they are the
// training-mode computation) and draw from the Generator passed in, one draw per element in row-major order.
//
// Mode: a layer applies its function when training() and returns x itself in eval (bitwise identity, no draws).
// p is the drop probability and must lie in [0, 1) (Error naming the layer or function and p otherwise);
// p = 0 returns x without drawing.
//
// The noise multiplies x through the differentiable mul, so dx = g * noise: a dropped unit gets no gradient.
#pragma once

#include <vigil/nn/linear.hpp>
#include <vigil/nn/module.hpp>

#include <memory>

namespace vigil::nn {

// Inverted dropout (Srivastava et al., 2014): y = x * m / (1 - p), m ~ Bernoulli(1 - p) per element, so
// E[y] = x and evaluation needs no rescaling.
Tensor dropout(const Tensor& x, double p, Generator& gen);

// Multiplicative Gaussian noise: y = x * n, n ~ N(1, p / (1 - p)) per element: the same mean and variance as
// inverted dropout's factor m / (1 - p), without exact zeros (Srivastava et al., 2014, section 10).
Tensor gaussian_dropout(const Tensor& x, double p, Generator& gen);

// Dropout for self-normalising (SELU) networks (Klambauer et al., 2017), torch's formula. A dropped unit is set
// to SELU's negative saturation alpha' = -scale * alpha = -1.7580993408473766, then everything goes through the
// affine map that restores zero mean and unit variance for inputs with that mean and variance:
//   a = 1 / sqrt((1 - p) (1 + p alpha'^2)),  b = -a alpha' p
//   y = a x + b  (kept),   y = a alpha' + b = -a |alpha'| (1 - p)  (dropped).
// So E[y] = a (1 - p) x (not x: the mean and variance of a standardised input are what is kept).
Tensor alpha_dropout(const Tensor& x, double p, Generator& gen);

// DropConnect (Wan et al., 2013): linear(x, W * M / (1 - p), b) with M ~ Bernoulli(1 - p) per weight, drawn once
// per call (shared by the batch); the bias is not dropped. Shapes as linear(). dW = (dy^T x) * M / (1 - p).
Tensor drop_connect_linear(const Tensor& x, const Tensor& weight, const Tensor& bias, double p, Generator& gen);

// torch.nn.Dropout(p); torch's default p is 0.5.
class Dropout : public Module {
 public:
  Dropout(double p, Generator& gen);
  Tensor forward(const Tensor& x) override;
  double p() const { return p_; }
  Generator& generator() { return gen_; }
  std::vector<std::pair<std::string, Generator*>> own_generators() override { return {{"generator", &gen_}}; }

 private:
  double p_;
  Generator gen_;
};

// GaussianDropout(p): keras' layer of that name, parametrised by the drop rate p as in Srivastava et al.
class GaussianDropout : public Module {
 public:
  GaussianDropout(double p, Generator& gen);
  Tensor forward(const Tensor& x) override;
  double p() const { return p_; }
  Generator& generator() { return gen_; }
  std::vector<std::pair<std::string, Generator*>> own_generators() override { return {{"generator", &gen_}}; }

 private:
  double p_;
  Generator gen_;
};

// torch.nn.AlphaDropout(p); use after SELU.
class AlphaDropout : public Module {
 public:
  AlphaDropout(double p, Generator& gen);
  Tensor forward(const Tensor& x) override;
  double p() const { return p_; }
  Generator& generator() { return gen_; }
  std::vector<std::pair<std::string, Generator*>> own_generators() override { return {{"generator", &gen_}}; }

 private:
  double p_;
  Generator gen_;
};

// A Linear whose weights are dropped in training (drop_connect_linear); plain linear in eval. The wrapped layer
// is the child "linear", so the parameter paths are "linear.weight" and "linear.bias". In eval the child runs
// through its operator() (its hooks fire); in training its parameters are used directly.
class DropConnect : public Module {
 public:
  DropConnect(std::shared_ptr<Linear> linear, double p, Generator& gen);
  Tensor forward(const Tensor& x) override;
  double p() const { return p_; }
  Generator& generator() { return gen_; }
  std::vector<std::pair<std::string, Generator*>> own_generators() override { return {{"generator", &gen_}}; }
  Linear& linear() const { return *linear_; }

 private:
  std::shared_ptr<Linear> linear_;
  double p_;
  Generator gen_;
};

}  // namespace vigil::nn
