// Convolutional building blocks, composed from Conv2d, BatchNorm2d, pooling and the differentiable relu, add and
// cat; their backward passes are those ops'.
#include <vigil/autograd/ops/activation.hpp>
#include <vigil/autograd/ops/arith.hpp>
#include <vigil/autograd/ops/join.hpp>
#include <vigil/nn/blocks.hpp>
#include <vigil/nn/init.hpp>

#include <fmt/format.h>

#include <utility>

namespace vigil::nn {

namespace {

void check_channels(const char* block, std::initializer_list<std::int64_t> channels, std::int64_t stride = 1) {
  for (std::int64_t c : channels) {
    VIGIL_CHECK(c > 0, Error, "{}: channel counts must be positive, got {}", block, c);
  }
  VIGIL_CHECK(stride > 0, Error, "{}: stride must be positive, got {}", block, stride);
}

// A bias-free convolution (batch norm follows it) with He's initialisation for the ReLU it feeds:
// kaiming_normal, fan_in, gain sqrt(2), i.e. N(0, 2 / fan_in).
std::shared_ptr<Conv2d> he_conv(std::int64_t in_channels, std::int64_t out_channels, Size2 kernel_size,
                                Generator& gen, const Conv2dOptions& options) {
  auto conv = std::make_shared<Conv2d>(in_channels, out_channels, kernel_size, gen, options, /*bias=*/false);
  init::kaiming_normal(conv->weight(), gen, 0.0, init::FanMode::FanIn, init::Nonlinearity::ReLU);
  return conv;
}

std::string stride_repr(std::int64_t stride) { return stride == 1 ? std::string() : fmt::format(", stride {}", stride); }

}  // namespace

ConvBNReLU::ConvBNReLU(std::int64_t in_channels, std::int64_t out_channels, Size2 kernel_size, Generator& gen,
                       const Conv2dOptions& options) {
  check_channels("ConvBNReLU", {in_channels, out_channels});
  conv_ = register_module("conv", he_conv(in_channels, out_channels, kernel_size, gen, options));
  bn_ = register_module("bn", std::make_shared<BatchNorm2d>(out_channels));
}

Tensor ConvBNReLU::forward(const Tensor& x) { return batch_norm_relu(*bn_, (*conv_)(x)); }

std::string ConvBNReLU::extra_repr() const { return conv_->extra_repr(); }

VGGBlock::VGGBlock(std::int64_t in_channels, std::int64_t out_channels, int convs, Generator& gen, bool pool)
    : in_channels_(in_channels), out_channels_(out_channels) {
  check_channels("VGGBlock", {in_channels, out_channels});
  VIGIL_CHECK(convs >= 1, Error, "VGGBlock: needs at least one convolution, got convs = {}", convs);
  for (int i = 0; i < convs; ++i) {
    const std::int64_t in = i == 0 ? in_channels : out_channels;
    convs_.push_back(register_module(fmt::format("conv{}", i + 1),
                                     std::make_shared<ConvBNReLU>(in, out_channels, 3, gen, Conv2dOptions{.padding = 1})));
  }
  if (pool) pool_ = register_module("pool", std::make_shared<MaxPool2d>(2));
}

Tensor VGGBlock::forward(const Tensor& x) {
  Tensor h = x;
  for (const auto& conv : convs_) h = (*conv)(h);
  return pool_ ? (*pool_)(h) : h;
}

std::string VGGBlock::extra_repr() const {
  return fmt::format("{} -> {}, {} conv{}{}", in_channels_, out_channels_, convs_.size(), convs_.size() == 1 ? "" : "s",
                     pool_ ? ", pool" : "");
}

std::shared_ptr<Sequential> projection_shortcut(std::int64_t in_channels, std::int64_t out_channels,
                                                std::int64_t stride, Generator& gen) {
  auto shortcut = std::make_shared<Sequential>();
  shortcut->push_back(he_conv(in_channels, out_channels, 1, gen, {.stride = stride}));
  shortcut->push_back(std::make_shared<BatchNorm2d>(out_channels));
  return shortcut;
}

BasicResidualBlock::BasicResidualBlock(std::int64_t in_channels, std::int64_t out_channels, Generator& gen,
                                       std::int64_t stride)
    : in_channels_(in_channels), out_channels_(out_channels), stride_(stride) {
  check_channels("BasicResidualBlock", {in_channels, out_channels}, stride);
  conv1_ = register_module("conv1", he_conv(in_channels, out_channels, 3, gen, {.stride = stride, .padding = 1}));
  bn1_ = register_module("bn1", std::make_shared<BatchNorm2d>(out_channels));
  conv2_ = register_module("conv2", he_conv(out_channels, out_channels, 3, gen, {.padding = 1}));
  bn2_ = register_module("bn2", std::make_shared<BatchNorm2d>(out_channels));
  if (stride != 1 || in_channels != out_channels) {
    shortcut_ = register_module("shortcut", projection_shortcut(in_channels, out_channels, stride, gen));
  }
}

Tensor BasicResidualBlock::forward(const Tensor& x) {
  const Tensor h = batch_norm_relu(*bn1_, (*conv1_)(x));
  const Tensor skip = shortcut_ ? (*shortcut_)(x) : x;
  return relu((*bn2_)((*conv2_)(h)) + skip);
}

std::string BasicResidualBlock::extra_repr() const {
  return fmt::format("{} -> {}{}{}", in_channels_, out_channels_, stride_repr(stride_),
                     shortcut_ ? ", projection" : "");
}

BottleneckBlock::BottleneckBlock(std::int64_t in_channels, std::int64_t mid_channels, std::int64_t out_channels,
                                 Generator& gen, std::int64_t stride)
    : in_channels_(in_channels), mid_channels_(mid_channels), out_channels_(out_channels), stride_(stride) {
  check_channels("BottleneckBlock", {in_channels, mid_channels, out_channels}, stride);
  conv1_ = register_module("conv1", he_conv(in_channels, mid_channels, 1, gen, {}));
  bn1_ = register_module("bn1", std::make_shared<BatchNorm2d>(mid_channels));
  conv2_ = register_module("conv2", he_conv(mid_channels, mid_channels, 3, gen, {.stride = stride, .padding = 1}));
  bn2_ = register_module("bn2", std::make_shared<BatchNorm2d>(mid_channels));
  conv3_ = register_module("conv3", he_conv(mid_channels, out_channels, 1, gen, {}));
  bn3_ = register_module("bn3", std::make_shared<BatchNorm2d>(out_channels));
  if (stride != 1 || in_channels != out_channels) {
    shortcut_ = register_module("shortcut", projection_shortcut(in_channels, out_channels, stride, gen));
  }
}

Tensor BottleneckBlock::forward(const Tensor& x) {
  Tensor h = batch_norm_relu(*bn1_, (*conv1_)(x));
  h = batch_norm_relu(*bn2_, (*conv2_)(h));
  const Tensor skip = shortcut_ ? (*shortcut_)(x) : x;
  return relu((*bn3_)((*conv3_)(h)) + skip);
}

std::string BottleneckBlock::extra_repr() const {
  return fmt::format("{} -> {} -> {}{}{}", in_channels_, mid_channels_, out_channels_, stride_repr(stride_),
                     shortcut_ ? ", projection" : "");
}

InceptionModule::InceptionModule(std::int64_t in_channels, const InceptionChannels& channels, Generator& gen)
    : in_channels_(in_channels), channels_(channels) {
  check_channels("InceptionModule", {in_channels, channels.b1x1, channels.b3x3_reduce, channels.b3x3,
                                     channels.b5x5_reduce, channels.b5x5, channels.pool_proj});
  const auto conv = [&gen](std::int64_t in, std::int64_t out, std::int64_t kernel) {
    return std::make_shared<ConvBNReLU>(in, out, kernel, gen, Conv2dOptions{.padding = kernel / 2});
  };
  branch1x1_ = register_module("branch1x1", std::make_shared<Sequential>());
  branch1x1_->push_back(conv(in_channels, channels.b1x1, 1));
  branch3x3_ = register_module("branch3x3", std::make_shared<Sequential>());
  branch3x3_->push_back(conv(in_channels, channels.b3x3_reduce, 1));
  branch3x3_->push_back(conv(channels.b3x3_reduce, channels.b3x3, 3));
  branch5x5_ = register_module("branch5x5", std::make_shared<Sequential>());
  branch5x5_->push_back(conv(in_channels, channels.b5x5_reduce, 1));
  branch5x5_->push_back(conv(channels.b5x5_reduce, channels.b5x5, 5));
  branch_pool_ = register_module("branch_pool", std::make_shared<Sequential>());
  branch_pool_->push_back(std::make_shared<MaxPool2d>(3, 1, 1));
  branch_pool_->push_back(conv(in_channels, channels.pool_proj, 1));
}

Tensor InceptionModule::forward(const Tensor& x) {
  return cat({(*branch1x1_)(x), (*branch3x3_)(x), (*branch5x5_)(x), (*branch_pool_)(x)}, 1);
}

std::string InceptionModule::extra_repr() const {
  return fmt::format("{} -> {} + {} + {} + {}", in_channels_, channels_.b1x1, channels_.b3x3, channels_.b5x5,
                     channels_.pool_proj);
}

DepthwiseSeparable::DepthwiseSeparable(std::int64_t in_channels, std::int64_t out_channels, Generator& gen,
                                       std::int64_t stride)
    : in_channels_(in_channels), out_channels_(out_channels), stride_(stride) {
  check_channels("DepthwiseSeparable", {in_channels, out_channels}, stride);
  depthwise_ = register_module("depthwise", std::make_shared<ConvBNReLU>(
                                                in_channels, in_channels, 3, gen,
                                                Conv2dOptions{.stride = stride, .padding = 1, .groups = in_channels}));
  pointwise_ = register_module("pointwise", std::make_shared<ConvBNReLU>(in_channels, out_channels, 1, gen));
}

Tensor DepthwiseSeparable::forward(const Tensor& x) { return (*pointwise_)((*depthwise_)(x)); }

std::string DepthwiseSeparable::extra_repr() const {
  return fmt::format("{} -> {}{}", in_channels_, out_channels_, stride_repr(stride_));
}

}  // namespace vigil::nn
