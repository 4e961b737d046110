// Dropout family: the noise is drawn into a tensor of x's shape and dtype (one draw per element, row-major) and
// applied with the differentiable mul/add, so each backward is mul's: the gradient is scaled by the noise.
#include <vigil/kernels/dispatch.hpp>
#include <vigil/nn/dropout.hpp>

#include <cmath>
#include <utility>

namespace vigil::nn {

namespace {

void check_p(double p, const char* who) {
  VIGIL_CHECK(p >= 0.0 && p < 1.0, Error, "{}: drop probability p must be in [0, 1), got {}", who, p);
}

// A tensor of `shape` and `dtype` whose elements are draw() in row-major order.
template <class Draw>
Tensor noise(const Shape& shape, DType dtype, const char* op, Draw&& draw) {
  Tensor out = empty(shape, TensorOptions{dtype});
  kernels::dispatch_floating(dtype, op, [&](auto zero) {
    using T = decltype(zero);
    T* p = out.data<T>();
    for (std::int64_t i = 0; i < out.numel(); ++i) p[i] = static_cast<T>(draw());
  });
  return out;
}

// m / (1 - p) with m ~ Bernoulli(1 - p): 0 with probability p, else 1 / (1 - p).
Tensor keep_mask(const Shape& shape, DType dtype, double p, Generator& gen, const char* op) {
  const double scale = 1.0 / (1.0 - p);
  return noise(shape, dtype, op, [&] { return gen.uniform_double() < p ? 0.0 : scale; });
}

// SELU's negative saturation value, -scale * alpha.
constexpr double kAlphaPrime = -1.7580993408473766;

}  // namespace

Tensor dropout(const Tensor& x, double p, Generator& gen) {
  check_p(p, "dropout");
  if (p == 0.0) return x;
  return x * keep_mask(x.shape(), x.dtype(), p, gen, "dropout");
}

Tensor gaussian_dropout(const Tensor& x, double p, Generator& gen) {
  check_p(p, "gaussian_dropout");
  if (p == 0.0) return x;
  const double stddev = std::sqrt(p / (1.0 - p));
  return x * noise(x.shape(), x.dtype(), "gaussian_dropout",
                   [&] { return 1.0 + stddev * static_cast<double>(gen.normal()); });
}

Tensor alpha_dropout(const Tensor& x, double p, Generator& gen) {
  check_p(p, "alpha_dropout");
  if (p == 0.0) return x;
  const double a = 1.0 / std::sqrt((1.0 - p) * (1.0 + p * kAlphaPrime * kAlphaPrime));
  const double b = -a * kAlphaPrime * p;
  // Kept: y = a x + b; dropped: y = 0 * x + (a alpha' + b). One draw decides both factors of an element.
  Tensor scale = empty(x.shape(), TensorOptions{x.dtype()});
  Tensor shift = empty(x.shape(), TensorOptions{x.dtype()});
  kernels::dispatch_floating(x.dtype(), "alpha_dropout", [&](auto zero) {
    using T = decltype(zero);
    T* ps = scale.data<T>();
    T* pt = shift.data<T>();
    for (std::int64_t i = 0; i < x.numel(); ++i) {
      const bool drop = gen.uniform_double() < p;
      ps[i] = static_cast<T>(drop ? 0.0 : a);
      pt[i] = static_cast<T>(drop ? a * kAlphaPrime + b : b);
    }
  });
  return x * scale + shift;
}

Tensor drop_connect_linear(const Tensor& x, const Tensor& weight, const Tensor& bias, double p, Generator& gen) {
  check_p(p, "drop_connect_linear");
  if (p == 0.0) return linear(x, weight, bias);
  return linear(x, weight * keep_mask(weight.shape(), weight.dtype(), p, gen, "drop_connect_linear"), bias);
}

Dropout::Dropout(double p, Generator& gen) : p_(p), gen_(gen.split()) { check_p(p, "Dropout"); }

Tensor Dropout::forward(const Tensor& x) { return training() ? dropout(x, p_, gen_) : x; }

GaussianDropout::GaussianDropout(double p, Generator& gen) : p_(p), gen_(gen.split()) { check_p(p, "GaussianDropout"); }

Tensor GaussianDropout::forward(const Tensor& x) { return training() ? gaussian_dropout(x, p_, gen_) : x; }

AlphaDropout::AlphaDropout(double p, Generator& gen) : p_(p), gen_(gen.split()) { check_p(p, "AlphaDropout"); }

Tensor AlphaDropout::forward(const Tensor& x) { return training() ? alpha_dropout(x, p_, gen_) : x; }

DropConnect::DropConnect(std::shared_ptr<Linear> linear, double p, Generator& gen)
    : linear_(std::move(linear)), p_(p), gen_(gen.split()) {
  check_p(p, "DropConnect");
  VIGIL_CHECK(linear_ != nullptr, Error, "DropConnect: the wrapped Linear is null");
  register_module("linear", linear_);
}

Tensor DropConnect::forward(const Tensor& x) {
  if (!training()) return (*linear_)(x);
  return drop_connect_linear(x, linear_->weight(), linear_->bias(), p_, gen_);
}

}  // namespace vigil::nn
