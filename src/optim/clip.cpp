// Gradient clipping by global norm and by value (see clip.hpp).
#include <vigil/optim/clip.hpp>

#include "fused.hpp"

#include <algorithm>
#include <cmath>

namespace vigil::optim {

namespace {

std::vector<Tensor> defined_grads(const std::vector<Tensor>& params) {
  std::vector<Tensor> grads;
  for (const Tensor& p : params) {
    VIGIL_CHECK(p.defined(), Error, "clip_grad: an undefined tensor was given as a parameter");
    Tensor g = p.grad();
    if (g.defined()) grads.push_back(std::move(g));
  }
  return grads;
}

std::vector<Tensor> tensors_of(const std::vector<NamedParameter>& params) {
  std::vector<Tensor> tensors;
  tensors.reserve(params.size());
  for (const NamedParameter& np : params) tensors.push_back(np.tensor);
  return tensors;
}

// Runs fn(T* data, n) over g's elements in place; a strided gradient goes through a contiguous copy.
template <class F>
void modify_in_place(const Tensor& g, const char* op, F&& fn) {
  const Tensor work = g.is_contiguous() ? g : raw::contiguous(g);
  kernels::dispatch_floating(work.dtype(), op, [&](auto zero) { fn(work.template data<decltype(zero)>(), work.numel()); });
  if (!work.shares_storage(g)) raw::copy_(g, work);
}

// sum |g|^q over g's elements (q finite), or max |g| (q infinite), in double.
double partial_norm(const Tensor& g, double q) {
  const Tensor c = raw::contiguous(g);
  return kernels::dispatch_floating(c.dtype(), "clip_grad_norm", [&](auto zero) {
    using T = decltype(zero);
    const T* d = c.data<T>();
    const std::int64_t n = c.numel();
    double acc = 0.0;
    if (std::isinf(q)) {
#pragma omp parallel for reduction(max : acc) schedule(static) if (n >= kernels::kParallelGrain)
      for (std::int64_t i = 0; i < n; ++i) acc = std::max(acc, static_cast<double>(std::abs(d[i])));
    } else if (q == 2.0) {
#pragma omp parallel for reduction(+ : acc) schedule(static) if (n >= kernels::kParallelGrain)
      for (std::int64_t i = 0; i < n; ++i) acc += static_cast<double>(d[i]) * static_cast<double>(d[i]);
    } else {
#pragma omp parallel for reduction(+ : acc) schedule(static) if (n >= kernels::kParallelGrain)
      for (std::int64_t i = 0; i < n; ++i) acc += std::pow(std::abs(static_cast<double>(d[i])), q);
    }
    return acc;
  });
}

}  // namespace

double clip_grad_norm(const std::vector<Tensor>& params, double max_norm, double norm_type) {
  VIGIL_CHECK(max_norm >= 0, Error, "clip_grad_norm: max_norm must be >= 0, got {}", max_norm);
  VIGIL_CHECK(norm_type > 0, Error, "clip_grad_norm: norm_type must be > 0 (or infinity), got {}", norm_type);
  const std::vector<Tensor> grads = defined_grads(params);
  if (grads.empty()) return 0.0;
  const bool inf_norm = std::isinf(norm_type);
  double acc = 0.0;
  for (const Tensor& g : grads) {
    const double part = partial_norm(g, norm_type);
    acc = inf_norm ? std::max(acc, part) : acc + part;
  }
  const double total = inf_norm ? acc : norm_type == 2.0 ? std::sqrt(acc) : std::pow(acc, 1.0 / norm_type);
  for (const Tensor& g : grads) {
    modify_in_place(g, "clip_grad_norm", [&](auto* d, std::int64_t n) {
      using T = std::remove_pointer_t<decltype(d)>;
      // PyTorch: clamp(max_norm * reciprocal(total + 1e-6), max=1), in the gradient's dtype.
      const T coef = static_cast<T>(max_norm) * (T(1) / (static_cast<T>(total) + static_cast<T>(1e-6)));
      if (!(coef < T(1))) return;
      detail::fused_loop(n, [=](std::int64_t i) { d[i] *= coef; });
    });
  }
  return total;
}

double clip_grad_norm(const std::vector<NamedParameter>& params, double max_norm, double norm_type) {
  return clip_grad_norm(tensors_of(params), max_norm, norm_type);
}

void clip_grad_value(const std::vector<Tensor>& params, double value) {
  VIGIL_CHECK(value >= 0, Error, "clip_grad_value: value must be >= 0, got {}", value);
  for (const Tensor& g : defined_grads(params)) {
    modify_in_place(g, "clip_grad_value", [&](auto* d, std::int64_t n) {
      using T = std::remove_pointer_t<decltype(d)>;
      const T hi = static_cast<T>(value), lo = -hi;
      detail::fused_loop(n, [=](std::int64_t i) { d[i] = std::min(std::max(d[i], lo), hi); });
    });
  }
}

void clip_grad_value(const std::vector<NamedParameter>& params, double value) {
  clip_grad_value(tensors_of(params), value);
}

}  // namespace vigil::optim
