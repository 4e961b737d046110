// Initialisers: values computed in float64 in row-major order, then copied into the tensor through its strides.
#include <vigil/nn/init.hpp>
#include <vigil/tensor/generator.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <vector>

namespace vigil::nn::init {

namespace {

void check_floating(const Tensor& t, const char* op) {
  VIGIL_CHECK(t.defined(), Error, "init.{}: the tensor is undefined", op);
  VIGIL_CHECK(t.dtype() == DType::Float32 || t.dtype() == DType::Float64, DTypeError,
              "init.{}: needs a float32 or float64 tensor, got {} of shape {}", op, dtype_name(t.dtype()),
              t.shape().str());
}

// Overwrites t (any layout) with `values`, given in row-major order of t's shape.
const Tensor& assign(const Tensor& t, const std::vector<double>& values) {
  NoGradGuard no_grad;
  Tensor src = empty(t.shape(), TensorOptions{DType::Float64});
  std::copy(values.begin(), values.end(), src.data<double>());
  raw::copy_(t, t.dtype() == DType::Float64 ? src : raw::to_dtype(src, t.dtype()));
  return t;
}

const Tensor& fill_with(const Tensor& t, const std::function<double()>& draw) {
  std::vector<double> values(static_cast<std::size_t>(t.numel()));
  for (double& v : values) v = draw();
  return assign(t, values);
}

const Tensor& fill_uniform(const Tensor& t, Generator& gen, double a, double b) {
  return fill_with(t, [&] { return a + (b - a) * gen.uniform_double(); });
}

const Tensor& fill_normal(const Tensor& t, Generator& gen, double mean, double stddev) {
  return fill_with(t, [&] { return mean + stddev * static_cast<double>(gen.normal()); });
}

double fan_of(const Tensor& t, FanMode mode, const char* op) {
  const Fans fans = calculate_fans(t, op);
  return static_cast<double>(mode == FanMode::FanIn ? fans.fan_in : fans.fan_out);
}

}  // namespace

double calculate_gain(Nonlinearity nonlinearity, std::optional<double> param) {
  switch (nonlinearity) {
    case Nonlinearity::Linear:
    case Nonlinearity::Conv1d:
    case Nonlinearity::Conv2d:
    case Nonlinearity::Conv3d:
    case Nonlinearity::ConvTranspose1d:
    case Nonlinearity::ConvTranspose2d:
    case Nonlinearity::ConvTranspose3d:
    case Nonlinearity::Sigmoid:
      return 1.0;
    case Nonlinearity::Tanh:
      return 5.0 / 3.0;
    case Nonlinearity::ReLU:
      return std::sqrt(2.0);
    case Nonlinearity::LeakyReLU: {
      const double slope = param.value_or(0.01);
      return std::sqrt(2.0 / (1.0 + slope * slope));
    }
    case Nonlinearity::SELU:
      return 3.0 / 4.0;
  }
  throw Error("calculate_gain: unknown nonlinearity");
}

Fans calculate_fans(const Tensor& t, const char* op) {
  VIGIL_CHECK(t.dim() >= 2, Error,
              "init.{}: fan in and fan out cannot be computed for a tensor with fewer than 2 dims, got shape {}", op,
              t.shape().str());
  std::int64_t receptive = 1;
  for (int d = 2; d < t.dim(); ++d) receptive *= t.size(d);
  return Fans{t.size(1) * receptive, t.size(0) * receptive};
}

const Tensor& xavier_uniform(const Tensor& t, Generator& gen, double gain) {
  check_floating(t, "xavier_uniform");
  const Fans fans = calculate_fans(t, "xavier_uniform");
  const double bound = gain * std::sqrt(6.0 / static_cast<double>(fans.fan_in + fans.fan_out));
  return fill_uniform(t, gen, -bound, bound);
}

const Tensor& xavier_normal(const Tensor& t, Generator& gen, double gain) {
  check_floating(t, "xavier_normal");
  const Fans fans = calculate_fans(t, "xavier_normal");
  return fill_normal(t, gen, 0.0, gain * std::sqrt(2.0 / static_cast<double>(fans.fan_in + fans.fan_out)));
}

const Tensor& kaiming_uniform(const Tensor& t, Generator& gen, double a, FanMode mode, Nonlinearity nonlinearity) {
  check_floating(t, "kaiming_uniform");
  const double fan = fan_of(t, mode, "kaiming_uniform");
  const double bound = calculate_gain(nonlinearity, a) * std::sqrt(3.0 / fan);
  return fill_uniform(t, gen, -bound, bound);
}

const Tensor& kaiming_normal(const Tensor& t, Generator& gen, double a, FanMode mode, Nonlinearity nonlinearity) {
  check_floating(t, "kaiming_normal");
  const double fan = fan_of(t, mode, "kaiming_normal");
  return fill_normal(t, gen, 0.0, calculate_gain(nonlinearity, a) / std::sqrt(fan));
}

const Tensor& lecun_normal(const Tensor& t, Generator& gen) {
  check_floating(t, "lecun_normal");
  const double fan_in = fan_of(t, FanMode::FanIn, "lecun_normal");
  return fill_normal(t, gen, 0.0, 1.0 / std::sqrt(fan_in));
}

const Tensor& orthogonal(const Tensor& t, Generator& gen, double gain) {
  check_floating(t, "orthogonal");
  VIGIL_CHECK(t.dim() >= 2, Error, "init.orthogonal: needs a tensor with at least 2 dims, got shape {}",
              t.shape().str());
  if (t.numel() == 0) return t;
  const std::int64_t rows = t.size(0);
  const std::int64_t cols = t.numel() / rows;
  // A [m, n] with m >= n, stored column by column: columns are what Gram-Schmidt orthonormalises.
  const bool transposed = rows < cols;
  const std::int64_t m = transposed ? cols : rows;
  const std::int64_t n = transposed ? rows : cols;
  std::vector<double> gaussian(static_cast<std::size_t>(rows * cols));
  for (double& v : gaussian) v = static_cast<double>(gen.normal());
  // gaussian is row-major [rows, cols]; column j of A is row j of it when transposed, else column j.
  std::vector<std::vector<double>> q(static_cast<std::size_t>(n), std::vector<double>(static_cast<std::size_t>(m)));
  for (std::int64_t j = 0; j < n; ++j)
    for (std::int64_t i = 0; i < m; ++i)
      q[j][i] = transposed ? gaussian[static_cast<std::size_t>(j * cols + i)]
                           : gaussian[static_cast<std::size_t>(i * cols + j)];
  // Modified Gram-Schmidt: subtract from column j its projections on the finished columns, then normalise;
  // r_jj = |v| > 0, so Q is the QR factor with positive diag(R). The second pass removes what rounding left.
  for (std::int64_t j = 0; j < n; ++j) {
    std::vector<double>& v = q[j];
    for (int pass = 0; pass < 2; ++pass) {
      for (std::int64_t k = 0; k < j; ++k) {
        const double r = std::inner_product(q[k].begin(), q[k].end(), v.begin(), 0.0);
        for (std::int64_t i = 0; i < m; ++i) v[i] -= r * q[k][i];
      }
    }
    const double norm = std::sqrt(std::inner_product(v.begin(), v.end(), v.begin(), 0.0));
    VIGIL_CHECK(norm > 0.0, Error, "init.orthogonal: the Gaussian matrix for shape {} is rank-deficient",
                t.shape().str());
    for (double& x : v) x /= norm;
  }
  // W [rows, cols] = gain * Q (m = rows) or gain * Q^T (m = cols).
  std::vector<double> values(static_cast<std::size_t>(rows * cols));
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t c = 0; c < cols; ++c)
      values[static_cast<std::size_t>(r * cols + c)] = gain * (transposed ? q[r][c] : q[c][r]);
  return assign(t, values);
}

const Tensor& normal(const Tensor& t, Generator& gen, double mean, double stddev) {
  check_floating(t, "normal");
  VIGIL_CHECK(stddev >= 0.0, Error, "init.normal: stddev must be >= 0, got {}", stddev);
  return fill_normal(t, gen, mean, stddev);
}

const Tensor& uniform(const Tensor& t, Generator& gen, double a, double b) {
  check_floating(t, "uniform");
  VIGIL_CHECK(a <= b, Error, "init.uniform: needs a <= b, got a = {}, b = {}", a, b);
  return fill_uniform(t, gen, a, b);
}

const Tensor& constant(const Tensor& t, double value) {
  check_floating(t, "constant");
  return assign(t, std::vector<double>(static_cast<std::size_t>(t.numel()), value));
}

const Tensor& zeros(const Tensor& t) { return constant(t, 0.0); }
const Tensor& ones(const Tensor& t) { return constant(t, 1.0); }

const Tensor& init_classifier_bias(const Tensor& bias, std::span<const double> class_counts) {
  check_floating(bias, "init_classifier_bias");
  VIGIL_CHECK(bias.dim() == 1 && bias.size(0) == static_cast<std::int64_t>(class_counts.size()), ShapeError,
              "init.init_classifier_bias: bias of shape {} does not match {} classes (expected [{}])",
              bias.shape().str(), class_counts.size(), class_counts.size());
  double total = 0.0;
  for (double c : class_counts) {
    VIGIL_CHECK(c > 0.0, Error, "init.init_classifier_bias: every class count must be > 0 (log 0 is -inf), got {}", c);
    total += c;
  }
  std::vector<double> values;
  values.reserve(class_counts.size());
  for (double c : class_counts) values.push_back(std::log(c / total));
  return assign(bias, values);
}

const Tensor& init_binary_classifier_bias(const Tensor& bias, double positive_fraction) {
  check_floating(bias, "init_binary_classifier_bias");
  VIGIL_CHECK(positive_fraction > 0.0 && positive_fraction < 1.0, Error,
              "init.init_binary_classifier_bias: positive_fraction must be in (0, 1), got {}", positive_fraction);
  return constant(bias, std::log(positive_fraction / (1.0 - positive_fraction)));
}

const Tensor& init_regressor_bias(const Tensor& bias, double target_mean) {
  check_floating(bias, "init_regressor_bias");
  return constant(bias, target_mean);
}

const Tensor& init_regressor_bias(const Tensor& bias, std::span<const double> target_means) {
  check_floating(bias, "init_regressor_bias");
  VIGIL_CHECK(bias.dim() == 1 && bias.size(0) == static_cast<std::int64_t>(target_means.size()), ShapeError,
              "init.init_regressor_bias: bias of shape {} does not match {} target means (expected [{}])",
              bias.shape().str(), target_means.size(), target_means.size());
  return assign(bias, std::vector<double>(target_means.begin(), target_means.end()));
}

}  // namespace vigil::nn::init
