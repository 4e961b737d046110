// PyTorch-like printing: nested brackets, a common format per tensor, "..." beyond 1000 elements.
#include <vigil/tensor/tensor.hpp>

#include <algorithm>
#include <cmath>
#include <ostream>

namespace vigil {
namespace {

constexpr std::int64_t kSummaryThreshold = 1000;
constexpr std::int64_t kEdgeItems = 3;

// One format for every element of a tensor, chosen from all its values as PyTorch does: integers for integer
// dtypes, true/false for bool; for floats "1." when every value is integral, scientific when the magnitudes call
// for it, else 4 decimals.
struct Formatter {
  DType dtype;
  bool scientific = false;
  bool integral = false;

  Formatter(const std::vector<double>& values, DType t) : dtype(t) {
    double max_abs = 0, min_abs = INFINITY;
    integral = true;
    for (double v : values) {
      if (!std::isfinite(v)) continue;
      max_abs = std::max(max_abs, std::abs(v));
      if (v != 0) min_abs = std::min(min_abs, std::abs(v));
      if (v != std::nearbyint(v)) integral = false;
    }
    scientific = max_abs >= 1e8 || (min_abs < 1e-4 && max_abs > 0) || (max_abs / min_abs > 1e3 && !integral);
  }

  std::string operator()(double v) const {
    if (dtype == DType::Bool) return v != 0 ? "true" : "false";
    if (!is_floating(dtype)) return fmt::format("{:.0f}", v);
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    if (scientific) return fmt::format("{:.4e}", v);
    if (integral) return fmt::format("{:.0f}.", v);
    return fmt::format("{:.4f}", v);
  }
};

void print_dim(std::string& out, const Tensor& x, const std::vector<double>& flat, const Formatter& f, int d,
               std::int64_t base, bool summarise) {
  const Shape& shape = x.shape();
  const std::int64_t n = shape[d];
  std::int64_t inner = 1;
  for (int i = d + 1; i < shape.size(); ++i) inner *= shape[i];
  out += "[";
  for (std::int64_t i = 0; i < n; ++i) {
    if (summarise && n > 2 * kEdgeItems && i == kEdgeItems) {
      out += d + 1 == shape.size() ? "..., " : fmt::format("...,\n{:{}}", "", d + 8);
      i = n - kEdgeItems - 1;
      continue;
    }
    if (d + 1 == shape.size()) {
      out += f(flat[static_cast<std::size_t>(base + i)]);
    } else {
      print_dim(out, x, flat, f, d + 1, base + i * inner, summarise);
    }
    if (i + 1 < n) out += d + 1 == shape.size() ? ", " : fmt::format(",\n{:{}}", "", d + 8);
  }
  out += "]";
}

}  // namespace

std::string to_string(const Tensor& x) {
  if (!x.defined()) return "tensor(undefined)";
  // Values as float64: exact for every float32, int32 and bool, and for int64 up to 2^53.
  const Tensor values = raw::to_dtype(x, DType::Float64);
  const double* p = values.data<double>();
  const std::vector<double> flat(p, p + values.numel());
  const Formatter f(flat, x.dtype());
  std::string out = "tensor(";
  if (x.dim() == 0) {
    out += f(flat[0]);
  } else {
    print_dim(out, x, flat, f, 0, 0, x.numel() > kSummaryThreshold);
  }
  out += fmt::format(", shape={}", x.shape().str());
  if (x.dtype() != DType::Float32) out += fmt::format(", dtype={}", dtype_name(x.dtype()));
  if (x.requires_grad()) out += ", requires_grad=true";
  return out + ")";
}

std::ostream& operator<<(std::ostream& os, const Tensor& x) { return os << to_string(x); }

}  // namespace vigil
