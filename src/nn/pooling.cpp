// Pooling and upsampling layers: configuration checks and reports; the computation is the autograd ops'.
#include <vigil/nn/pooling.hpp>

#include <fmt/format.h>

namespace vigil::nn {

namespace {

std::string pair_str(Size2 s) { return s.h == s.w ? fmt::format("{}", s.h) : fmt::format("({}, {})", s.h, s.w); }

void check_positive(Size2 s, const char* layer, const char* what) {
  VIGIL_CHECK(s.h > 0 && s.w > 0, ShapeError, "{}: {} ({}, {}) must be positive", layer, what, s.h, s.w);
}

std::string window_repr(Size2 kernel, Size2 stride, Size2 padding) {
  const bool default_stride = stride.h == 0 && stride.w == 0;
  return fmt::format("kernel={}, stride={}, padding={}", pair_str(kernel), pair_str(default_stride ? kernel : stride),
                     pair_str(padding));
}

}  // namespace

MaxPool2d::MaxPool2d(Size2 kernel, Size2 stride, Size2 padding) : kernel_(kernel), stride_(stride), padding_(padding) {
  check_positive(kernel, "MaxPool2d", "kernel");
}

Tensor MaxPool2d::forward(const Tensor& x) { return max_pool2d(x, kernel_, stride_, padding_); }

std::string MaxPool2d::extra_repr() const { return window_repr(kernel_, stride_, padding_); }

bool MaxPool2d::is_2x2_stride_2() const {
  return kernel_ == Size2{2, 2} && (stride_ == Size2{2, 2} || stride_ == Size2{0, 0}) && padding_ == Size2{0, 0};
}

AvgPool2d::AvgPool2d(Size2 kernel, Size2 stride, Size2 padding, bool count_include_pad)
    : kernel_(kernel), stride_(stride), padding_(padding), count_include_pad_(count_include_pad) {
  check_positive(kernel, "AvgPool2d", "kernel");
}

Tensor AvgPool2d::forward(const Tensor& x) { return avg_pool2d(x, kernel_, stride_, padding_, count_include_pad_); }

std::string AvgPool2d::extra_repr() const {
  return window_repr(kernel_, stride_, padding_) + (count_include_pad_ ? "" : ", count_include_pad=false");
}

AdaptiveAvgPool2d::AdaptiveAvgPool2d(Size2 output_size) : output_size_(output_size) {
  check_positive(output_size, "AdaptiveAvgPool2d", "output size");
}

std::string AdaptiveAvgPool2d::extra_repr() const { return "output_size=" + pair_str(output_size_); }

AdaptiveMaxPool2d::AdaptiveMaxPool2d(Size2 output_size) : output_size_(output_size) {
  check_positive(output_size, "AdaptiveMaxPool2d", "output size");
}

std::string AdaptiveMaxPool2d::extra_repr() const { return "output_size=" + pair_str(output_size_); }

SpatialPyramidPool::SpatialPyramidPool(std::vector<std::int64_t> levels) : levels_(std::move(levels)) {
  VIGIL_CHECK(!levels_.empty(), ShapeError, "SpatialPyramidPool: no levels given");
  for (std::int64_t l : levels_) {
    VIGIL_CHECK(l > 0, ShapeError, "SpatialPyramidPool: levels must be positive, got {}", l);
  }
}

std::int64_t SpatialPyramidPool::output_multiplier() const {
  std::int64_t total = 0;
  for (std::int64_t l : levels_) total += l * l;
  return total;
}

std::string SpatialPyramidPool::extra_repr() const { return fmt::format("levels={{{}}}", fmt::join(levels_, ", ")); }

Upsample::Upsample(const UpsampleOptions& options) : options_(options) {
  const bool by_size = options.size.h != 0 || options.size.w != 0;
  const bool by_scale = options.scale[0] != 0.0 || options.scale[1] != 0.0;
  VIGIL_CHECK(by_size != by_scale, ShapeError, "Upsample: give either an output size or scale factors, not {}",
              by_size ? "both" : "neither");
  VIGIL_CHECK(!(options.mode == UpsampleMode::Nearest && options.align_corners), Error,
              "Upsample: align_corners applies to bilinear mode only");
}

std::string Upsample::extra_repr() const {
  const bool by_size = options_.size.h != 0 || options_.size.w != 0;
  const std::string target = by_size ? "size=" + pair_str(options_.size)
                                     : fmt::format("scale=({}, {})", options_.scale[0], options_.scale[1]);
  if (options_.mode == UpsampleMode::Nearest) return target + ", mode=nearest";
  return target + fmt::format(", mode=bilinear, align_corners={}", options_.align_corners);
}

}  // namespace vigil::nn
