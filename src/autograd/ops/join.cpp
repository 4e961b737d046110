// Joining and splitting: forward through raw views, copies and the indexing kernels, backward right below each.
#include <vigil/autograd/function.hpp>
#include <vigil/autograd/ops/join.hpp>
#include <vigil/autograd/ops/shape.hpp>
#include <vigil/kernels/dispatch.hpp>
#include <vigil/kernels/indexing.hpp>

#include <algorithm>
#include <array>
#include <string>

namespace vigil {

namespace {

// Copies the parts into a new tensor along dim d; parts share rank, dtype and every extent but d's.
Tensor concatenate(const std::vector<Tensor>& parts, int d) {
  Shape shape = parts.front().shape();
  shape[d] = 0;
  for (const Tensor& p : parts) shape[d] += p.shape()[d];
  Tensor out = empty(shape, TensorOptions{parts.front().dtype()});
  std::int64_t offset = 0;
  for (const Tensor& p : parts) {
    raw::copy_(raw::narrow(out, d, offset, p.shape()[d]), p);
    offset += p.shape()[d];
  }
  return out;
}

void check_joinable(const std::vector<Tensor>& tensors, int d, const char* op, bool same_extent_at_d) {
  const Tensor& first = tensors.front();
  for (std::size_t i = 1; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    VIGIL_CHECK(t.dtype() == first.dtype(), DTypeError, "{}: tensor {} is {} but tensor 0 is {} (shapes {} and {})", op, i,
                dtype_name(t.dtype()), dtype_name(first.dtype()), t.shape().str(), first.shape().str());
    bool fits = t.dim() == first.dim();
    for (int k = 0; fits && k < t.dim(); ++k) fits = t.shape()[k] == first.shape()[k] || (k == d && !same_extent_at_d);
    VIGIL_CHECK(fits, ShapeError, "{}: tensor {} has shape {} but tensor 0 has shape {} ({})", op, i, t.shape().str(),
                first.shape().str(),
                same_extent_at_d ? std::string("shapes must be equal") : fmt::format("extents must match except along dim {}", d));
  }
}

}  // namespace

Tensor cat(const std::vector<Tensor>& tensors, std::int64_t dim) {
  VIGIL_CHECK(!tensors.empty(), ShapeError, "cat: expects at least one tensor, got an empty list");
  VIGIL_CHECK(tensors.front().dim() > 0, ShapeError, "cat: zero-dimensional tensors cannot be concatenated; use stack");
  const int d = normalize_dim(dim, tensors.front().dim(), "cat");
  check_joinable(tensors, d, "cat", false);
  Tensor out = concatenate(tensors, d);
  std::vector<std::int64_t> extents;
  for (const Tensor& t : tensors) extents.push_back(t.shape()[d]);
  record_variadic("cat", out, tensors, [d, extents = std::move(extents)](const Tensor& g, GradInputs& dx) {
    std::int64_t offset = 0;
    for (std::size_t i = 0; i < extents.size(); ++i) {
      if (dx.needs(i)) dx[i] = raw::narrow(g, d, offset, extents[i]);
      offset += extents[i];
    }
  });
  return out;
}

Tensor stack(const std::vector<Tensor>& tensors, std::int64_t dim) {
  VIGIL_CHECK(!tensors.empty(), ShapeError, "stack: expects at least one tensor, got an empty list");
  const int d = normalize_dim(dim, tensors.front().dim() + 1, "stack");
  check_joinable(tensors, -1, "stack", true);
  std::vector<Tensor> parts;
  parts.reserve(tensors.size());
  for (const Tensor& t : tensors) parts.push_back(raw::unsqueeze(t, d));
  Tensor out = concatenate(parts, d);
  record_variadic("stack", out, tensors, [d](const Tensor& g, GradInputs& dx) {
    for (std::size_t i = 0; i < dx.size(); ++i) {
      if (dx.needs(i)) dx[i] = raw::squeeze(raw::narrow(g, d, static_cast<std::int64_t>(i), 1), d);
    }
  });
  return out;
}

std::vector<Tensor> split(const Tensor& x, std::int64_t split_size, std::int64_t dim) {
  const int d = normalize_dim(dim, x.dim(), "split");
  VIGIL_CHECK(x.dim() > 0, ShapeError, "split: a zero-dimensional tensor cannot be split");
  VIGIL_CHECK(split_size > 0, ShapeError, "split: split_size must be positive, got {} (shape {})", split_size,
              x.shape().str());
  const std::int64_t extent = x.shape()[d];
  std::vector<Tensor> parts;
  if (extent == 0) parts.push_back(narrow(x, d, 0, 0));
  for (std::int64_t start = 0; start < extent; start += split_size) {
    parts.push_back(narrow(x, d, start, std::min(split_size, extent - start)));
  }
  return parts;
}

std::vector<Tensor> split(const Tensor& x, std::span<const std::int64_t> sizes, std::int64_t dim) {
  const int d = normalize_dim(dim, x.dim(), "split");
  VIGIL_CHECK(x.dim() > 0, ShapeError, "split: a zero-dimensional tensor cannot be split");
  std::int64_t total = 0;
  for (std::int64_t s : sizes) {
    VIGIL_CHECK(s >= 0, ShapeError, "split: sizes must be non-negative, got {}", s);
    total += s;
  }
  VIGIL_CHECK(total == x.shape()[d], ShapeError, "split: sizes sum to {} but dim {} of shape {} has extent {}", total, d,
              x.shape().str(), x.shape()[d]);
  std::vector<Tensor> parts;
  std::int64_t start = 0;
  for (std::int64_t s : sizes) {
    parts.push_back(narrow(x, d, start, s));
    start += s;
  }
  return parts;
}

std::vector<Tensor> chunk(const Tensor& x, std::int64_t chunks, std::int64_t dim) {
  const int d = normalize_dim(dim, x.dim(), "chunk");
  VIGIL_CHECK(x.dim() > 0, ShapeError, "chunk: a zero-dimensional tensor cannot be chunked");
  VIGIL_CHECK(chunks > 0, ShapeError, "chunk: chunks must be positive, got {} (shape {})", chunks, x.shape().str());
  const std::int64_t extent = x.shape()[d];
  return split(x, std::max<std::int64_t>((extent + chunks - 1) / chunks, 1), d);
}

namespace {

// One padded dim of a Reflect/Replicate pad: out[..., p, ...] = x[..., source[p], ...] along dim.
struct PadStep {
  int dim;
  std::int64_t extent;  // the input's extent along dim
  Tensor source;        // int64 [extent + left + right]
};

PadStep border_step(int dim, std::int64_t extent, std::int64_t left, std::int64_t right, PadMode mode) {
  std::vector<std::int64_t> source;
  for (std::int64_t p = 0; p < extent + left + right; ++p) {
    std::int64_t i = p - left;
    if (mode == PadMode::Reflect) {
      if (i < 0) i = -i;                           // x[1], x[2], ... mirror the left edge
      if (i >= extent) i = 2 * (extent - 1) - i;  // x[n-2], x[n-3], ... mirror the right edge
    } else {
      i = std::clamp<std::int64_t>(i, 0, extent - 1);
    }
    source.push_back(i);
  }
  return {dim, extent, from_vector_i64(source, Shape{static_cast<std::int64_t>(source.size())})};
}

Tensor pad_border(const Tensor& x, std::span<const std::int64_t> pads, PadMode mode) {
  const char* name = mode == PadMode::Reflect ? "pad (reflect)" : "pad (replicate)";
  std::vector<PadStep> steps;
  for (std::size_t k = 0; k < pads.size() / 2; ++k) {
    const int d = x.dim() - 1 - static_cast<int>(k);
    const std::int64_t left = pads[2 * k], right = pads[2 * k + 1], extent = x.shape()[d];
    VIGIL_CHECK(left >= 0 && right >= 0, ShapeError, "{}: pads must be non-negative, got ({}, {}) for dim {} of shape {}",
                name, left, right, d, x.shape().str());
    if (mode == PadMode::Reflect) {
      VIGIL_CHECK(left < extent && right < extent, ShapeError,
                  "{}: padding ({}, {}) must be less than the extent {} of dim {} (shape {})", name, left, right, extent,
                  d, x.shape().str());
    } else {
      VIGIL_CHECK(extent > 0, ShapeError, "{}: cannot replicate the edge of empty dim {} (shape {})", name, d,
                  x.shape().str());
    }
    if (left != 0 || right != 0) steps.push_back(border_step(d, extent, left, right, mode));
  }
  Tensor out = x;
  for (const PadStep& s : steps) out = kernels::index_select(out, s.dim, s.source);
  if (steps.empty()) out = raw::clone(x);
  record<1>(name, out, {&x}, [steps = std::move(steps)](const Tensor& g, GradInputs& dx) {
    // Undo the steps in reverse: each border element's gradient is added onto the element it copied.
    Tensor grad = g;
    for (auto s = steps.rbegin(); s != steps.rend(); ++s) {
      Shape before = grad.shape();
      before[s->dim] = s->extent;
      grad = kernels::index_add(zeros(before, TensorOptions{g.dtype()}), s->dim, s->source, grad);
    }
    dx[0] = grad;
  });
  return out;
}

// Constant pad: out = value, with x's kept region (after cropping by negative pads) copied in.
Tensor pad_constant(const Tensor& x, std::span<const std::int64_t> pads, double value) {
  Shape shape = x.shape();
  // Per padded dim: where the kept region starts in x and in out, and its length.
  std::vector<std::array<std::int64_t, 4>> regions;  // {dim, start in x, start in out, length}
  for (std::size_t k = 0; k < pads.size() / 2; ++k) {
    const int d = x.dim() - 1 - static_cast<int>(k);
    const std::int64_t left = pads[2 * k], right = pads[2 * k + 1], extent = x.shape()[d];
    shape[d] = extent + left + right;
    VIGIL_CHECK(shape[d] >= 0, ShapeError, "pad: padding ({}, {}) of dim {} of shape {} leaves a negative extent {}", left,
                right, d, x.shape().str(), shape[d]);
    const std::int64_t length = std::max<std::int64_t>(extent - std::max<std::int64_t>(-left, 0) - std::max<std::int64_t>(-right, 0), 0);
    regions.push_back({d, std::max<std::int64_t>(-left, 0), std::max<std::int64_t>(left, 0), length});
  }
  Tensor out = empty(shape, TensorOptions{x.dtype()});
  kernels::dispatch_floating(x.dtype(), "pad", [&](auto zero) {
    using T = decltype(zero);
    std::fill_n(out.data<T>(), out.numel(), static_cast<T>(value));
  });
  auto region_of = [regions](Tensor t, bool in_x) {
    for (const auto& [d, x_start, out_start, length] : regions) t = raw::narrow(t, d, in_x ? x_start : out_start, length);
    return t;
  };
  raw::copy_(region_of(out, false), region_of(x, true));
  record<1>("pad", out, {&x}, [s = x.shape(), region_of](const Tensor& g, GradInputs& dx) {
    dx[0] = zeros(s, TensorOptions{g.dtype()});
    raw::copy_(region_of(dx[0], true), region_of(g, false));
  });
  return out;
}

}  // namespace

Tensor pad(const Tensor& x, std::span<const std::int64_t> pads, PadMode mode, double value) {
  VIGIL_CHECK(pads.size() % 2 == 0 && pads.size() <= static_cast<std::size_t>(2 * x.dim()), ShapeError,
              "pad: expects (left, right) pairs for at most {} dims of shape {}, got {} values", x.dim(), x.shape().str(),
              pads.size());
  if (mode == PadMode::Constant) return pad_constant(x, pads, value);
  return pad_border(x, pads, mode);
}

}  // namespace vigil
