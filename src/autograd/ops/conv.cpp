// conv2d, conv1d and conv_transpose2d: forward through the kernels, backward right below each.
#include <vigil/autograd/function.hpp>
#include <vigil/autograd/ops/conv.hpp>
#include <vigil/autograd/ops/shape.hpp>
#include <vigil/kernels/conv.hpp>
#include <vigil/kernels/reduce.hpp>

#include <utility>

namespace vigil {

// ---- ConvPadding ----

ConvPadding::ConvPadding(std::int64_t all) : values_{all, all, all, all}, count_(1) {}

ConvPadding::ConvPadding(std::int64_t first, std::int64_t second) : values_{first, second, 0, 0}, count_(2) {}

ConvPadding::ConvPadding(const char* mode) : mode_(mode) {}

ConvPadding::ConvPadding(std::string mode) : mode_(std::move(mode)) {}

ConvPadding ConvPadding::sides(std::int64_t top, std::int64_t bottom, std::int64_t left, std::int64_t right) {
  ConvPadding p(top);
  p.values_ = {top, bottom, left, right};
  p.count_ = 4;
  return p;
}

void ConvPadding::check(const char* op) const {
  if (!mode_.empty()) {
    VIGIL_CHECK(mode_ == "same" || mode_ == "valid", Error,
                "{}: padding must be numbers, \"same\" or \"valid\", got \"{}\"", op, mode_);
    return;
  }
  for (int i = 0; i < count_; ++i) {
    VIGIL_CHECK(values_[static_cast<std::size_t>(i)] >= 0, Error, "{}: padding must not be negative, got {}", op,
                str());
  }
}

std::array<std::int64_t, 4> ConvPadding::resolve(const char* op, int spatial_rank, Size2 kernel, Size2 dilation,
                                                 Size2 stride) const {
  check(op);
  if (mode_ == "valid") return {0, 0, 0, 0};
  if (mode_ == "same") {
    VIGIL_CHECK(stride.h == 1 && stride.w == 1, ShapeError,
                "{}: padding=\"same\" is not supported for strided convolutions (stride ({}, {}))", op, stride.h,
                stride.w);
    // The dilated kernel overhangs the input by d (k - 1); the smaller half goes first (top/left), as PyTorch.
    const std::int64_t total_h = dilation.h * (kernel.h - 1), total_w = dilation.w * (kernel.w - 1);
    return {total_h / 2, total_h - total_h / 2, total_w / 2, total_w - total_w / 2};
  }
  const auto& v = values_;
  if (spatial_rank == 1) {
    VIGIL_CHECK(count_ <= 2, Error, "{}: padding {} has 4 sides; a 1-D convolution takes one or two numbers", op,
                str());
    return count_ == 1 ? std::array<std::int64_t, 4>{0, 0, v[0], v[0]} : std::array<std::int64_t, 4>{0, 0, v[0], v[1]};
  }
  if (count_ == 1) return {v[0], v[0], v[0], v[0]};
  if (count_ == 2) return {v[0], v[0], v[1], v[1]};
  return v;
}

std::string ConvPadding::str() const {
  if (!mode_.empty()) return mode_;
  if (count_ == 1) return fmt::format("{}", values_[0]);
  if (count_ == 2) return fmt::format("({}, {})", values_[0], values_[1]);
  return fmt::format("({}, {}, {}, {})", values_[0], values_[1], values_[2], values_[3]);
}

bool ConvPadding::is_zero() const {
  if (!mode_.empty()) return mode_ == "valid";
  for (int i = 0; i < count_; ++i) {
    if (values_[static_cast<std::size_t>(i)] != 0) return false;
  }
  return true;
}

// ---- The ops ----

namespace {

kernels::ConvParams make_params(Size2 stride, const std::array<std::int64_t, 4>& pad, Size2 dilation,
                                std::int64_t groups) {
  kernels::ConvParams p;
  p.stride_h = stride.h;
  p.stride_w = stride.w;
  p.pad_top = pad[0];
  p.pad_bottom = pad[1];
  p.pad_left = pad[2];
  p.pad_right = pad[3];
  p.dilation_h = dilation.h;
  p.dilation_w = dilation.w;
  p.groups = groups;
  return p;
}

// db = sum of dy over N, H and W.
Tensor bias_grad(const Tensor& dy) {
  const std::array<std::int64_t, 3> dims{0, 2, 3};
  return kernels::sum(dy, dims);
}

// The convolution on 4-D operands with resolved parameters, recorded under `name`.
Tensor conv2d_recorded(const Tensor& x, const Tensor& weight, const Tensor& bias, const kernels::ConvParams& p,
                       const char* name) {
  Tensor y = kernels::conv2d(x, weight, bias, p);
  record<3>(name, y, {&x, &weight, &bias}, [x = saved(x), w = saved(weight), p](const Tensor& g, GradInputs& dx) {
    if (dx.needs(0)) dx[0] = kernels::conv2d_backward_data(g, w, x.shape(), p);
    if (dx.needs(1)) {
      // One oneDNN pass gives dw and, when wanted, db.
      kernels::ConvWeightGrads grads = kernels::conv2d_backward_weights(g, x, w.shape(), p, dx.needs(2));
      dx[1] = std::move(grads.dweight);
      if (dx.needs(2)) dx[2] = std::move(grads.dbias);
    } else if (dx.needs(2)) {
      dx[2] = bias_grad(g);
    }
  });
  return y;
}

void check_rank(const Tensor& x, const Tensor& weight, int rank, const char* op, const char* layout) {
  VIGIL_CHECK(x.dim() == rank && weight.dim() == rank, ShapeError,
              "{}: expects a {}-D input {} and a {}-D weight, got input {} and weight {}", op, rank, layout, rank,
              x.shape().str(), weight.shape().str());
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dOptions& options) {
  check_rank(x, weight, 4, "conv2d", "[N, C, H, W]");
  const Size2 kernel(weight.size(2), weight.size(3));
  const auto pad = options.padding.resolve("conv2d", 2, kernel, options.dilation, options.stride);
  return conv2d_recorded(x, weight, bias, make_params(options.stride, pad, options.dilation, options.groups),
                         "conv2d");
}

Tensor conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv1dOptions& options) {
  check_rank(x, weight, 3, "conv1d", "[N, C, L]");
  const Size2 kernel(1, weight.size(2)), stride(1, options.stride), dilation(1, options.dilation);
  const auto pad = options.padding.resolve("conv1d", 1, kernel, dilation, stride);
  const kernels::ConvParams p = make_params(stride, pad, dilation, options.groups);
  // As conv2d on [N, C, 1, L]; shape errors are reported with the 1-D shapes the caller passed.
  const Tensor x4 = unsqueeze(x, 2), w4 = unsqueeze(weight, 2);
  try {
    (void)kernels::conv2d_output_shape(x4.shape(), w4.shape(), p, "conv1d");
  } catch (const ShapeError& e) {
    throw ShapeError(fmt::format("{} (as conv2d with H = 1; conv1d input {}, weight {})", e.what(),
                                 x.shape().str(), weight.shape().str()));
  }
  return squeeze(conv2d_recorded(x4, w4, bias, p, "conv1d"), 2);
}

Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
                        const ConvTranspose2dOptions& options) {
  check_rank(x, weight, 4, "conv_transpose2d", "[N, C, H, W]");
  const Size2 pad = options.padding;
  VIGIL_CHECK(pad.h >= 0 && pad.w >= 0, Error, "conv_transpose2d: padding must not be negative, got ({}, {})", pad.h,
              pad.w);
  const kernels::ConvParams p =
      make_params(options.stride, {pad.h, pad.h, pad.w, pad.w}, options.dilation, options.groups);
  const std::array<std::int64_t, 2> output_padding{options.output_padding.h, options.output_padding.w};
  Tensor y = kernels::conv_transpose2d(x, weight, bias, p, output_padding);
  // y is the backward-data pass of the convolution c: y -> x (same weight); its gradients are c's other passes.
  record<3>("conv_transpose2d", y, {&x, &weight, &bias},
            [x = saved(x), w = saved(weight), c = kernels::transposed_as_conv(p, output_padding)](const Tensor& g,
                                                                                                   GradInputs& dx) {
              if (dx.needs(0)) dx[0] = kernels::conv2d(g, w, Tensor(), c);                                  // dx = c(dy)
              if (dx.needs(1)) dx[1] = kernels::conv2d_backward_weights(x, g, w.shape(), c, false).dweight;  // x as c's dy
              if (dx.needs(2)) dx[2] = bias_grad(g);
            });
  return y;
}

}  // namespace vigil
