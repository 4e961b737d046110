// Regularisers: penalties from recording ops (their backward is abs's and mul's); max-norm computed in float64.
#include <vigil/nn/regularizer.hpp>

#include <cmath>
#include <functional>

namespace vigil::nn {

namespace {

void check_lambda(double lambda, const char* op, const char* name) {
  VIGIL_CHECK(lambda >= 0.0, Error, "{}: {} must be >= 0, got {}", op, name, lambda);
}

// sum over params of sum(term(p)); a float32 scalar 0 when there are none.
Tensor sum_over(const std::vector<Tensor>& params, const std::function<Tensor(const Tensor&)>& term, const char* op) {
  Tensor total;
  for (const Tensor& p : params) {
    VIGIL_CHECK(p.defined() && is_floating(p.dtype()), DTypeError, "{}: needs floating parameters, got {}", op,
                p.defined() ? std::string(dtype_name(p.dtype())) : std::string("an undefined tensor"));
    Tensor s = sum(term(p));
    total = total.defined() ? total + s : s;
  }
  return total.defined() ? total : scalar_tensor(0.0f);
}

Tensor l1_sum(const std::vector<Tensor>& params, const char* op) {
  return sum_over(params, [](const Tensor& p) { return abs(p); }, op);
}

Tensor l2_sum(const std::vector<Tensor>& params, const char* op) {
  return sum_over(params, [](const Tensor& p) { return p * p; }, op);
}

}  // namespace

Tensor l1_penalty(const std::vector<Tensor>& params, double lambda) {
  check_lambda(lambda, "l1_penalty", "lambda");
  return l1_sum(params, "l1_penalty") * lambda;
}

Tensor l2_penalty(const std::vector<Tensor>& params, double lambda) {
  check_lambda(lambda, "l2_penalty", "lambda");
  return l2_sum(params, "l2_penalty") * lambda;
}

Tensor elastic_net(const std::vector<Tensor>& params, double l1, double l2) {
  check_lambda(l1, "elastic_net", "l1");
  check_lambda(l2, "elastic_net", "l2");
  return l1_sum(params, "elastic_net") * l1 + l2_sum(params, "elastic_net") * l2;
}

std::vector<Tensor> weights_only(const std::vector<std::pair<std::string, Tensor>>& named_params) {
  std::vector<Tensor> out;
  for (const auto& [path, tensor] : named_params) {
    const std::size_t dot = path.rfind('.');
    const std::string last = dot == std::string::npos ? path : path.substr(dot + 1);
    if (last == "weight" && tensor.dim() >= 2) out.push_back(tensor);
  }
  return out;
}

std::vector<Tensor> weights_only(const Module& module) { return weights_only(module.named_parameters()); }

const Tensor& max_norm_(const Tensor& weight, double max_norm, std::int64_t dim) {
  VIGIL_CHECK(weight.defined() && is_floating(weight.dtype()), DTypeError,
              "max_norm_: needs a floating weight, got {}",
              weight.defined() ? std::string(dtype_name(weight.dtype())) : std::string("an undefined tensor"));
  VIGIL_CHECK(weight.dim() >= 1, ShapeError, "max_norm_: needs a weight with at least 1 dim, got shape {}",
              weight.shape().str());
  VIGIL_CHECK(dim >= -weight.dim() && dim < weight.dim(), IndexError,
              "max_norm_: dim {} is out of range for shape {}", dim, weight.shape().str());
  VIGIL_CHECK(max_norm > 0.0, Error, "max_norm_: max_norm must be > 0, got {}", max_norm);
  if (weight.numel() == 0) return weight;
  NoGradGuard no_grad;
  const std::int64_t d = dim < 0 ? dim + weight.dim() : dim;
  // Units along dim 0 of a float64 copy, each unit's values contiguous.
  const Tensor units = raw::transpose(weight, 0, d);
  Tensor w = raw::contiguous(raw::to_dtype(units, DType::Float64));
  if (w.shares_storage(weight)) w = raw::clone(w);
  const std::int64_t n_units = w.size(0);
  const std::int64_t per_unit = w.numel() / n_units;
  double* p = w.data<double>();
  bool changed = false;
  for (std::int64_t u = 0; u < n_units; ++u) {
    double* row = p + u * per_unit;
    double sq = 0.0;
    for (std::int64_t i = 0; i < per_unit; ++i) sq += row[i] * row[i];
    const double norm = std::sqrt(sq);
    if (norm <= max_norm) continue;
    const double scale = max_norm / norm;
    for (std::int64_t i = 0; i < per_unit; ++i) row[i] *= scale;
    changed = true;
  }
  // Units within the bound round-trip float -> double -> float unchanged, so copying back every unit is exact.
  if (changed) raw::copy_(units, weight.dtype() == DType::Float64 ? w : raw::to_dtype(w, weight.dtype()));
  return weight;
}

void max_norm_(const std::vector<Tensor>& weights, double max_norm, std::int64_t dim) {
  for (const Tensor& w : weights) max_norm_(w, max_norm, dim);
}

}  // namespace vigil::nn
