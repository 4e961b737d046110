// Weight initialisers, in place, as torch.nn.init, plus "init well" helpers for the final layer's bias.
//
// Every initialiser overwrites the values of a floating tensor (float32 or float64, any layout: a strided view is
// filled through its strides) under NoGradGuard, so it can be applied to a parameter that requires a gradient
// without recording anything. Random ones draw every value from the Generator passed in, in row-major order of
// the tensor's shape: one seed reproduces them exactly. Each returns the tensor it filled.
//
// Fans (as torch's _calculate_fan_in_and_fan_out): for a weight of shape [out, in, k1, k2, ...],
//   receptive = k1 * k2 * ...  (1 for a 2-D weight),  fan_in = in * receptive,  fan_out = out * receptive.
// They are undefined below two dims: the fan-based initialisers (xavier_*, kaiming_*, lecun_normal) and
// orthogonal throw vigil::Error naming the function and the shape there.
//
// The formulas (U(-b, b) has variance b^2 / 3):
//   xavier_uniform   U(-b, b),   b   = gain * sqrt(6 / (fan_in + fan_out))
//   xavier_normal    N(0, s^2),  s   = gain * sqrt(2 / (fan_in + fan_out))
//   kaiming_uniform  U(-b, b),   b   = gain * sqrt(3 / fan),  gain = calculate_gain(nonlinearity, a)
//   kaiming_normal   N(0, s^2),  s   = gain / sqrt(fan),      fan = fan_in or fan_out (mode)
//   lecun_normal     N(0, s^2),  s   = 1 / sqrt(fan_in)     (untruncated; SELU's self-normalising init)
//   orthogonal       rows (or columns, whichever are fewer) orthonormal, times gain
//   normal           N(mean, stddev^2);   uniform   U(a, b);   constant / zeros / ones
//
// Which to use (vigil's recommended defaults; Linear itself keeps PyTorch's default, see linear.hpp):
//   weights feeding a ReLU-family nonlinearity   kaiming_normal / kaiming_uniform (He et al. 2015), fan_in;
//   weights feeding tanh, sigmoid, or nothing    xavier_uniform / xavier_normal (Glorot & Bengio 2010) with
//                                                calculate_gain of that nonlinearity;
//   SELU networks                                lecun_normal;
//   recurrent (hidden-to-hidden) weights         orthogonal;
//   biases                                       zeros, except the final layer's: init_classifier_bias /
//                                                init_regressor_bias ("init well": the untrained network already
//                                                predicts the base rate, so early steps do not spend themselves
//                                                learning it and the first loss is the baseline's).
#pragma once

#include <vigil/autograd/autograd.hpp>

#include <cstdint>
#include <optional>
#include <span>

namespace vigil::nn::init {

enum class Nonlinearity {
  Linear, Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d,  // gain 1
  Sigmoid,    // 1
  Tanh,       // 5/3
  ReLU,       // sqrt(2)
  LeakyReLU,  // sqrt(2 / (1 + slope^2)), slope = param (0.01 when not given)
  SELU,       // 3/4
};

enum class FanMode { FanIn, FanOut };

// The recommended gain for `nonlinearity`, as torch.nn.init.calculate_gain. `param` is LeakyReLU's negative
// slope; other nonlinearities ignore it.
double calculate_gain(Nonlinearity nonlinearity, std::optional<double> param = std::nullopt);

struct Fans {
  std::int64_t fan_in;
  std::int64_t fan_out;
};
// Throws Error naming `op` and the shape when t has fewer than 2 dims.
Fans calculate_fans(const Tensor& t, const char* op = "calculate_fans");

const Tensor& xavier_uniform(const Tensor& t, Generator& gen, double gain = 1.0);
const Tensor& xavier_normal(const Tensor& t, Generator& gen, double gain = 1.0);
// torch's defaults: a = 0 with LeakyReLU gives gain sqrt(2), He's ReLU init. `a` is LeakyReLU's slope.
const Tensor& kaiming_uniform(const Tensor& t, Generator& gen, double a = 0.0, FanMode mode = FanMode::FanIn,
                              Nonlinearity nonlinearity = Nonlinearity::LeakyReLU);
const Tensor& kaiming_normal(const Tensor& t, Generator& gen, double a = 0.0, FanMode mode = FanMode::FanIn,
                             Nonlinearity nonlinearity = Nonlinearity::LeakyReLU);
const Tensor& lecun_normal(const Tensor& t, Generator& gen);

// As torch: t viewed as a matrix [rows = size(0), cols = numel / rows]; a Gaussian matrix of that shape
// (transposed when rows < cols, so it is tall) is factored A = QR in float64 by modified Gram-Schmidt, applied
// twice for orthogonality to rounding; Q's columns are orthonormal and R's diagonal is positive, which is the
// sign correction torch applies (q *= sign(diag(r))) to make Q uniformly (Haar) distributed. Then
// W = gain * Q (or Q^T), so W W^T = gain^2 I when rows <= cols and W^T W = gain^2 I otherwise.
const Tensor& orthogonal(const Tensor& t, Generator& gen, double gain = 1.0);

// Requires stddev >= 0 and a <= b (Error otherwise).
const Tensor& normal(const Tensor& t, Generator& gen, double mean = 0.0, double stddev = 1.0);
const Tensor& uniform(const Tensor& t, Generator& gen, double a = 0.0, double b = 1.0);
const Tensor& constant(const Tensor& t, double value);
const Tensor& zeros(const Tensor& t);
const Tensor& ones(const Tensor& t);

// A softmax classifier's final bias b [C] set to b_c = log p_c with p_c = counts_c / sum(counts), so that at
// init (weights small) softmax(x W^T + b) ~ p: the predicted distribution is the class priors and the first loss
// is the priors' entropy rather than log C. `class_counts` may be counts or priors (it is normalised).
// Requires: bias 1-D with C = class_counts.size() elements, every count > 0 (ShapeError / Error otherwise).
const Tensor& init_classifier_bias(const Tensor& bias, std::span<const double> class_counts);
// A sigmoid (binary) classifier's single-output bias: b = log(p / (1 - p)), so sigmoid(b) = p, the fraction of
// positives. Requires 0 < p < 1.
const Tensor& init_binary_classifier_bias(const Tensor& bias, double positive_fraction);
// A regressor's final bias set to the target mean (every output), or per output to target_means (one each).
const Tensor& init_regressor_bias(const Tensor& bias, double target_mean);
const Tensor& init_regressor_bias(const Tensor& bias, std::span<const double> target_means);

}  // namespace vigil::nn::init
