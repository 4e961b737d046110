// Activation layers: each wraps the function of the same name in vigil/autograd/ops/activation.hpp (softmax and
// log_softmax: vigil/autograd/ops/reduce.hpp), so that an activation is a named child in a module tree (visible
// to summaries, hooks and the doctor). Defaults are PyTorch 1.13's (torch.nn.<Name>); the math and the gradient
// at kinks are documented with the functions. Only PReLU has a parameter; the others hold their constants.
//
// Shapes: every layer maps x to x's shape, except Maxout (dim shrinks by `pieces`). Constructors check their
// constants (Error naming the layer) so that a bad configuration fails when the model is built, not at the first
// batch.
#pragma once

#include <vigil/autograd/ops/activation.hpp>
#include <vigil/autograd/ops/reduce.hpp>
#include <vigil/nn/module.hpp>

#include <cstdint>

namespace vigil::nn {

class ReLU : public Module {
 public:
  Tensor forward(const Tensor& x) override { return relu(x); }
};

// x for x > 0, negative_slope * x otherwise. Default slope 0.01.
class LeakyReLU : public Module {
 public:
  explicit LeakyReLU(double negative_slope = 0.01) : negative_slope_(negative_slope) {}
  Tensor forward(const Tensor& x) override { return leaky_relu(x, negative_slope_); }
  double negative_slope() const { return negative_slope_; }

 private:
  double negative_slope_;
};

// Leaky ReLU with a learned slope: parameter "weight" of shape [num_parameters], initialised to `init` (torch:
// 0.25). num_parameters is 1 (one slope shared by every channel) or C, one slope per channel along dim 1 of the
// input (x [N, C, ...]; a 0- or 1-dim x has one channel). Requires num_parameters >= 1 (Error otherwise); a
// per-channel weight that does not match x.size(1) throws ShapeError naming both shapes.
class PReLU : public Module {
 public:
  explicit PReLU(std::int64_t num_parameters = 1, double init = 0.25);
  Tensor forward(const Tensor& x) override { return prelu(x, weight_); }
  const Tensor& weight() const { return weight_; }

 private:
  Tensor weight_;
};

// x for x > 0, alpha (e^x - 1) otherwise. Default alpha 1.
class ELU : public Module {
 public:
  explicit ELU(double alpha = 1.0) : alpha_(alpha) {}
  Tensor forward(const Tensor& x) override { return elu(x, alpha_); }
  double alpha() const { return alpha_; }

 private:
  double alpha_;
};

// scale * elu(x, alpha) with the self-normalising constants; pair with init::lecun_normal and AlphaDropout.
class SELU : public Module {
 public:
  Tensor forward(const Tensor& x) override { return selu(x); }
};

// max(0, x) + min(0, alpha (e^(x/alpha) - 1)). Default alpha 1; alpha != 0 (Error otherwise).
class CELU : public Module {
 public:
  explicit CELU(double alpha = 1.0);
  Tensor forward(const Tensor& x) override { return celu(x, alpha_); }
  double alpha() const { return alpha_; }

 private:
  double alpha_;
};

// x Phi(x): exact (erf) by default, or the tanh approximation (GPT-2's, torch's approximate="tanh").
class GELU : public Module {
 public:
  explicit GELU(GeluApproximation approximate = GeluApproximation::None) : approximate_(approximate) {}
  Tensor forward(const Tensor& x) override { return gelu(x, approximate_); }
  GeluApproximation approximate() const { return approximate_; }

 private:
  GeluApproximation approximate_;
};

// x sigmoid(x) (swish).
class SiLU : public Module {
 public:
  Tensor forward(const Tensor& x) override { return silu(x); }
};

// x tanh(softplus(x)).
class Mish : public Module {
 public:
  Tensor forward(const Tensor& x) override { return mish(x); }
};

class Sigmoid : public Module {
 public:
  Tensor forward(const Tensor& x) override { return sigmoid(x); }
};

class Tanh : public Module {
 public:
  Tensor forward(const Tensor& x) override { return tanh(x); }
};

// clamp(x, min_val, max_val). Defaults -1, 1; requires min_val <= max_val (Error otherwise).
class Hardtanh : public Module {
 public:
  explicit Hardtanh(double min_val = -1.0, double max_val = 1.0);
  Tensor forward(const Tensor& x) override { return hardtanh(x, min_val_, max_val_); }
  double min_val() const { return min_val_; }
  double max_val() const { return max_val_; }

 private:
  double min_val_, max_val_;
};

// log(1 + e^(beta x)) / beta, linear above beta x > threshold. Defaults beta 1, threshold 20; beta != 0.
class Softplus : public Module {
 public:
  explicit Softplus(double beta = 1.0, double threshold = 20.0);
  Tensor forward(const Tensor& x) override { return softplus(x, beta_, threshold_); }
  double beta() const { return beta_; }
  double threshold() const { return threshold_; }

 private:
  double beta_, threshold_;
};

// x / (1 + |x|).
class Softsign : public Module {
 public:
  Tensor forward(const Tensor& x) override { return softsign(x); }
};

// softmax along `dim`. torch's Softmax() without a dim guesses one from the rank (and warns); here dim is
// required, default 1 (the class dim of [N, C, ...]).
class Softmax : public Module {
 public:
  explicit Softmax(std::int64_t dim = 1) : dim_(dim) {}
  Tensor forward(const Tensor& x) override { return softmax(x, dim_); }
  std::int64_t dim() const { return dim_; }

 private:
  std::int64_t dim_;
};

// log_softmax along `dim` (default 1, as Softmax); pair with nll_loss.
class LogSoftmax : public Module {
 public:
  explicit LogSoftmax(std::int64_t dim = 1) : dim_(dim) {}
  Tensor forward(const Tensor& x) override { return log_softmax(x, dim_); }
  std::int64_t dim() const { return dim_; }

 private:
  std::int64_t dim_;
};

// The maximum of each group of `pieces` consecutive entries along `dim` (default 1): [N, K] -> [N, K / pieces].
// Typically follows a Linear with pieces times the wanted width. Requires pieces >= 1 (Error otherwise).
class Maxout : public Module {
 public:
  explicit Maxout(std::int64_t pieces, std::int64_t dim = 1);
  Tensor forward(const Tensor& x) override { return maxout(x, pieces_, dim_); }
  std::int64_t pieces() const { return pieces_; }
  std::int64_t dim() const { return dim_; }

 private:
  std::int64_t pieces_, dim_;
};

}  // namespace vigil::nn
