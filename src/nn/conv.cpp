// Conv2d, Conv1d and ConvTranspose2d: parameters, PyTorch's default initialisation, and the ops.
#include <vigil/nn/conv.hpp>
#include <vigil/nn/init.hpp>

#include <cmath>

namespace vigil::nn {

namespace {

void check_layer(const char* layer, std::int64_t in_channels, std::int64_t out_channels, std::int64_t kh,
                 std::int64_t kw, std::int64_t groups) {
  VIGIL_CHECK(in_channels > 0 && out_channels > 0 && kh > 0 && kw > 0 && groups > 0, Error,
              "{}: channels ({} -> {}), kernel size ({}, {}) and groups ({}) must be positive", layer, in_channels,
              out_channels, kh, kw, groups);
  VIGIL_CHECK(in_channels % groups == 0 && out_channels % groups == 0, Error,
              "{}: groups = {} must divide both in_channels = {} and out_channels = {}", layer, groups, in_channels,
              out_channels);
}

// A weight of `shape` from kaiming_uniform(a = sqrt(5)), then (when wanted) a bias [bias_size] from U(-b, b) with
// b = 1 / sqrt(fan_in): torch's reset_parameters for every convolution, in its order of draws.
std::pair<Tensor, Tensor> default_init(const Shape& shape, std::int64_t bias_size, bool with_bias, Generator& gen) {
  Tensor weight = empty(shape);
  init::kaiming_uniform(weight, gen, std::sqrt(5.0));
  if (!with_bias) return {weight, Tensor()};
  Tensor bias = empty(Shape{bias_size});
  const double bound = 1.0 / std::sqrt(static_cast<double>(init::calculate_fans(weight).fan_in));
  init::uniform(bias, gen, -bound, bound);
  return {weight, bias};
}

std::string size2_str(Size2 s, const char* sep) {
  return s.h == s.w ? fmt::format("{}", s.h) : fmt::format("({}{}{})", s.h, sep, s.w);
}

// ", name value" when value differs from 1 (stride, dilation, groups).
std::string non_default(const char* name, const std::string& value) {
  return value == "1" ? std::string() : fmt::format(", {} {}", name, value);
}

}  // namespace

Conv2d::Conv2d(std::int64_t in_channels, std::int64_t out_channels, Size2 kernel_size, Generator& gen,
               const Conv2dOptions& options, bool bias)
    : in_channels_(in_channels), out_channels_(out_channels), kernel_size_(kernel_size), options_(options) {
  check_layer("Conv2d", in_channels, out_channels, kernel_size.h, kernel_size.w, options.groups);
  options.padding.check("Conv2d");
  auto [w, b] = default_init(Shape{out_channels, in_channels / options.groups, kernel_size.h, kernel_size.w},
                             out_channels, bias, gen);
  weight_ = register_parameter("weight", w);
  if (bias) bias_ = register_parameter("bias", b);
}

Tensor Conv2d::forward(const Tensor& x) { return conv2d(x, weight_, bias_, options_); }

std::string Conv2d::extra_repr() const {
  std::string s = fmt::format("{} -> {}, kernel {}x{}", in_channels_, out_channels_, kernel_size_.h, kernel_size_.w);
  s += non_default("stride", size2_str(options_.stride, ", "));
  if (!options_.padding.is_zero()) s += fmt::format(", padding {}", options_.padding.str());
  s += non_default("dilation", size2_str(options_.dilation, ", "));
  s += non_default("groups", fmt::format("{}", options_.groups));
  if (!bias_.defined()) s += ", no bias";
  return s;
}

Conv1d::Conv1d(std::int64_t in_channels, std::int64_t out_channels, std::int64_t kernel_size, Generator& gen,
               const Conv1dOptions& options, bool bias)
    : in_channels_(in_channels), out_channels_(out_channels), kernel_size_(kernel_size), options_(options) {
  check_layer("Conv1d", in_channels, out_channels, 1, kernel_size, options.groups);
  options.padding.check("Conv1d");
  auto [w, b] = default_init(Shape{out_channels, in_channels / options.groups, kernel_size}, out_channels, bias, gen);
  weight_ = register_parameter("weight", w);
  if (bias) bias_ = register_parameter("bias", b);
}

Tensor Conv1d::forward(const Tensor& x) { return conv1d(x, weight_, bias_, options_); }

std::string Conv1d::extra_repr() const {
  std::string s = fmt::format("{} -> {}, kernel {}", in_channels_, out_channels_, kernel_size_);
  s += non_default("stride", fmt::format("{}", options_.stride));
  if (!options_.padding.is_zero()) s += fmt::format(", padding {}", options_.padding.str());
  s += non_default("dilation", fmt::format("{}", options_.dilation));
  s += non_default("groups", fmt::format("{}", options_.groups));
  if (!bias_.defined()) s += ", no bias";
  return s;
}

ConvTranspose2d::ConvTranspose2d(std::int64_t in_channels, std::int64_t out_channels, Size2 kernel_size,
                                 Generator& gen, const ConvTranspose2dOptions& options, bool bias)
    : in_channels_(in_channels), out_channels_(out_channels), kernel_size_(kernel_size), options_(options) {
  check_layer("ConvTranspose2d", in_channels, out_channels, kernel_size.h, kernel_size.w, options.groups);
  VIGIL_CHECK(options.padding.h >= 0 && options.padding.w >= 0, Error,
              "ConvTranspose2d: padding must not be negative, got {}", size2_str(options.padding, ", "));
  auto [w, b] = default_init(Shape{in_channels, out_channels / options.groups, kernel_size.h, kernel_size.w},
                             out_channels, bias, gen);
  weight_ = register_parameter("weight", w);
  if (bias) bias_ = register_parameter("bias", b);
}

Tensor ConvTranspose2d::forward(const Tensor& x) { return conv_transpose2d(x, weight_, bias_, options_); }

std::string ConvTranspose2d::extra_repr() const {
  std::string s = fmt::format("{} -> {}, kernel {}x{}", in_channels_, out_channels_, kernel_size_.h, kernel_size_.w);
  s += non_default("stride", size2_str(options_.stride, ", "));
  const std::string padding = size2_str(options_.padding, ", ");
  if (padding != "0") s += fmt::format(", padding {}", padding);
  const std::string output_padding = size2_str(options_.output_padding, ", ");
  if (output_padding != "0") s += fmt::format(", output_padding {}", output_padding);
  s += non_default("dilation", size2_str(options_.dilation, ", "));
  s += non_default("groups", fmt::format("{}", options_.groups));
  if (!bias_.defined()) s += ", no bias";
  return s;
}

}  // namespace vigil::nn
