#include <vigil/autograd/backward.hpp>
#include <vigil/autograd/gradcheck.hpp>
#include <vigil/autograd/grad_mode.hpp>
#include <vigil/tensor/generator.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace vigil {
namespace {

// s = sum(u * y) in double, the scalar whose gradient is checked.
double project(const Tensor& y, const std::vector<double>& u) {
  VIGIL_CHECK(static_cast<std::size_t>(y.numel()) == u.size(), ShapeError,
              "gradcheck: the function's output changed shape between calls (now {})", y.shape().str());
  const Tensor y64 = y.dtype() == DType::Float64 ? raw::contiguous(y) : raw::to_dtype(y, DType::Float64);
  const double* p = y64.data<double>();
  double s = 0;
  for (std::size_t i = 0; i < u.size(); ++i) s += p[i] * u[i];
  return s;
}

std::string index_string(const Shape& shape, std::int64_t flat) {
  Shape idx = Shape::filled(shape.size(), 0);
  for (int d = shape.size() - 1; d >= 0; --d) {
    idx[d] = flat % std::max<std::int64_t>(shape[d], 1);
    flat /= std::max<std::int64_t>(shape[d], 1);
  }
  return idx.str();
}

struct Checker {
  const TensorFunction& f;
  std::vector<Tensor> inputs;  // float64 copies
  const GradcheckOptions& opt;
  std::vector<double> u;
  GradcheckResult result;

  double evaluate() {
    NoGradGuard no_grad;
    return project(f(inputs), u);
  }

  void compare(int input, std::int64_t element, double analytic, double numeric, const std::string& where) {
    const double tol = opt.atol + opt.rtol * std::abs(numeric);
    const double excess = std::isfinite(analytic) && std::isfinite(numeric) ? std::abs(analytic - numeric) / tol : INFINITY;
    if (excess > result.worst_excess) {
      result.worst_excess = excess;
      result.worst_input = input;
      result.worst_element = element;
      result.analytic = analytic;
      result.numeric = numeric;
    }
    if (excess > 1.0) {
      result.passed = false;
      result.report += fmt::format("input {} (shape {}) {}: analytic {:.8g}, numeric {:.8g}, |diff| {:.3g} > tolerance {:.3g}\n",
                                   input, inputs[static_cast<std::size_t>(input)].shape().str(), where, analytic, numeric,
                                   std::abs(analytic - numeric), tol);
    }
  }

  // Central difference of s along direction v (flat, same numel as input i).
  double directional(int i, const std::vector<double>& v) {
    double* p = inputs[static_cast<std::size_t>(i)].data<double>();
    const std::int64_t n = inputs[static_cast<std::size_t>(i)].numel();
    std::vector<double> original(p, p + n);
    for (std::int64_t j = 0; j < n; ++j) p[j] = original[static_cast<std::size_t>(j)] + opt.step * v[static_cast<std::size_t>(j)];
    const double plus = evaluate();
    for (std::int64_t j = 0; j < n; ++j) p[j] = original[static_cast<std::size_t>(j)] - opt.step * v[static_cast<std::size_t>(j)];
    const double minus = evaluate();
    std::copy(original.begin(), original.end(), p);
    return (plus - minus) / (2 * opt.step);
  }

  double one_element(int i, std::int64_t j) {
    double* p = inputs[static_cast<std::size_t>(i)].data<double>() + j;
    const double original = *p;
    *p = original + opt.step;
    const double plus = evaluate();
    *p = original - opt.step;
    const double minus = evaluate();
    *p = original;
    return (plus - minus) / (2 * opt.step);
  }
};

Tensor to_float64_leaf(const Tensor& x) {
  if (!is_floating(x.dtype())) return x;
  Tensor copy = raw::to_dtype(x, DType::Float64);  // a fresh contiguous leaf
  if (x.requires_grad()) copy.set_requires_grad(true);
  return copy;
}

}  // namespace

GradcheckResult gradcheck(const TensorFunction& f, const std::vector<Tensor>& inputs, const GradcheckOptions& options) {
  Checker c{f, {}, options, {}, {}};
  for (const Tensor& x : inputs) c.inputs.push_back(to_float64_leaf(x));
  Generator gen(options.seed);

  // Analytic gradients: one backward of s = sum(u * y).
  Tensor y = f(c.inputs);
  c.u.resize(static_cast<std::size_t>(y.numel()));
  for (double& v : c.u) v = gen.normal();
  VIGIL_CHECK(y.requires_grad(), Error,
              "gradcheck: the output does not depend on any input that requires a gradient (shape {})", y.shape().str());
  Tensor u_tensor = empty(y.shape(), TensorOptions{y.dtype()});
  {
    const Tensor u64 = from_blob(c.u.data(), y.shape(), DType::Float64);
    raw::copy_(u_tensor, y.dtype() == DType::Float64 ? u64 : raw::to_dtype(u64, y.dtype()));
  }
  backward(y, u_tensor);

  for (int i = 0; i < static_cast<int>(c.inputs.size()); ++i) {
    const Tensor& x = c.inputs[static_cast<std::size_t>(i)];
    if (!x.requires_grad()) continue;
    const std::int64_t n = x.numel();
    const Tensor g = x.grad().defined() ? raw::to_dtype(x.grad(), DType::Float64) : zeros(x.shape(), TensorOptions{DType::Float64});
    const double* pg = g.data<double>();

    std::vector<std::int64_t> elements(static_cast<std::size_t>(n));
    std::iota(elements.begin(), elements.end(), 0);
    if (n > options.max_elements_per_input) {  // seeded partial Fisher-Yates: a random sample without repeats
      for (std::int64_t k = 0; k < options.max_elements_per_input; ++k) {
        std::swap(elements[static_cast<std::size_t>(k)],
                  elements[static_cast<std::size_t>(k + static_cast<std::int64_t>(gen.below(static_cast<std::uint64_t>(n - k))))]);
      }
      elements.resize(static_cast<std::size_t>(options.max_elements_per_input));
    }
    for (std::int64_t j : elements) {
      c.compare(i, j, pg[j], c.one_element(i, j), "element " + index_string(x.shape(), j));
    }
    for (int k = 0; k < options.random_directions; ++k) {
      std::vector<double> v(static_cast<std::size_t>(n));
      double norm = 0;
      for (double& e : v) {
        e = gen.normal();
        norm += e * e;
      }
      norm = std::sqrt(std::max(norm, 1e-300));
      double analytic = 0;
      for (std::int64_t j = 0; j < n; ++j) analytic += pg[j] * (v[static_cast<std::size_t>(j)] /= norm);
      c.compare(i, -1, analytic, c.directional(i, v), fmt::format("random direction {}", k));
    }
  }
  GradcheckResult& r = c.result;
  if (r.worst_input >= 0) {
    const Tensor& x = c.inputs[static_cast<std::size_t>(r.worst_input)];
    r.report += fmt::format("gradcheck {}: worst is input {} (shape {}) {}: analytic {:.8g}, numeric {:.8g} ({:.3g}x tolerance)",
                            r.passed ? "passed" : "FAILED", r.worst_input, x.shape().str(),
                            r.worst_element >= 0 ? "element " + index_string(x.shape(), r.worst_element) : "along a random direction",
                            r.analytic, r.numeric, r.worst_excess);
  }
  return r;
}

}  // namespace vigil
