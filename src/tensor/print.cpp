// PyTorch-like printing: nested brackets, a common format per tensor, "..." beyond 1000 elements.
#include <vigil/tensor/tensor.hpp>

#include <algorithm>
#include <cmath>
#include <ostream>

namespace vigil {
namespace {

constexpr std::int64_t kSummaryThreshold = 1000;
constexpr std::int64_t kEdgeItems = 3;

struct Formatter {
  bool scientific = false;
  bool integral = false;

  explicit Formatter(const std::vector<float>& values) {
    double max_abs = 0, min_abs = INFINITY;
    integral = true;
    for (float v : values) {
      if (!std::isfinite(v)) continue;
      max_abs = std::max(max_abs, double(std::abs(v)));
      if (v != 0) min_abs = std::min(min_abs, double(std::abs(v)));
      if (v != std::nearbyint(v)) integral = false;
    }
    scientific = max_abs >= 1e8 || (min_abs < 1e-4 && max_abs > 0) || (max_abs / min_abs > 1e3 && !integral);
  }

  std::string operator()(float v) const {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    if (scientific) return fmt::format("{:.4e}", v);
    if (integral) return fmt::format("{:.0f}.", v);
    return fmt::format("{:.4f}", v);
  }
};

void print_dim(std::string& out, const Tensor& x, const std::vector<float>& flat, const Formatter& f, int d,
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
  const std::vector<float> flat = x.to_vector();
  const Formatter f(flat);
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
