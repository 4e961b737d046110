// The model zoo: LeNet-5, SmallVGG, ResNet18, MobileNet and UNet, assembled from layers and blocks.
#include <vigil/autograd/ops/activation.hpp>
#include <vigil/autograd/ops/join.hpp>
#include <vigil/nn/activation.hpp>
#include <vigil/nn/flatten.hpp>
#include <vigil/nn/init.hpp>
#include <vigil/nn/zoo.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace vigil::nn {

namespace {

void check_model(const char* model, std::int64_t in_channels, std::int64_t num_classes) {
  VIGIL_CHECK(in_channels > 0 && num_classes > 0, Error,
              "{}: in_channels ({}) and num_classes ({}) must be positive", model, in_channels, num_classes);
}

void check_width(const char* model, std::int64_t width) {
  VIGIL_CHECK(width > 0, Error, "{}: width must be positive, got {}", model, width);
}

}  // namespace

std::shared_ptr<Sequential> reference_cnn(std::int64_t in_channels, std::int64_t height, std::int64_t width,
                                          std::int64_t num_classes, Generator& gen, double dropout) {
  check_model("reference_cnn", in_channels, num_classes);
  VIGIL_CHECK(height >= 4 && width >= 4, Error,
              "reference_cnn: it pools twice by 2, so it needs images of at least 4x4, got {}x{}", height, width);
  VIGIL_CHECK(dropout >= 0.0 && dropout < 1.0, Error, "reference_cnn: dropout must be in [0, 1), got {}", dropout);
  const Conv2dOptions same3x3{.padding = 1};
  auto model = std::make_shared<Sequential>();
  model->push_back(std::make_shared<Conv2d>(in_channels, 32, Size2{3, 3}, gen, same3x3, false));
  model->push_back(std::make_shared<BatchNorm2d>(32));
  model->push_back(std::make_shared<ReLU>());
  model->push_back(std::make_shared<MaxPool2d>(Size2{2, 2}));
  model->push_back(std::make_shared<Conv2d>(32, 64, Size2{3, 3}, gen, same3x3, false));
  model->push_back(std::make_shared<BatchNorm2d>(64));
  model->push_back(std::make_shared<ReLU>());
  model->push_back(std::make_shared<MaxPool2d>(Size2{2, 2}));
  model->push_back(std::make_shared<Flatten>());
  model->push_back(std::make_shared<Linear>(64 * (height / 4) * (width / 4), 128, true, gen));
  model->push_back(std::make_shared<ReLU>());
  model->push_back(std::make_shared<Dropout>(dropout, gen));
  model->push_back(std::make_shared<Linear>(128, num_classes, true, gen));
  return model;
}

LeNet5::LeNet5(std::int64_t in_channels, std::int64_t num_classes, Generator& gen, std::int64_t image_size)
    : in_channels_(in_channels), num_classes_(num_classes), image_size_(image_size) {
  check_model("LeNet5", in_channels, num_classes);
  VIGIL_CHECK(image_size == 28 || image_size == 32, Error, "LeNet5: image_size must be 28 or 32, got {}",
              image_size);
  // 28x28 images are padded by 2 in C1, as if they were 32x32: both reach S4 at 16x5x5.
  const std::int64_t c1_padding = (32 - image_size) / 2;
  features_ = register_module("features", std::make_shared<Sequential>());
  features_->push_back(std::make_shared<Conv2d>(in_channels, 6, 5, gen, Conv2dOptions{.padding = c1_padding}));
  features_->push_back(std::make_shared<ReLU>());
  features_->push_back(std::make_shared<MaxPool2d>(2));
  features_->push_back(std::make_shared<Conv2d>(6, 16, 5, gen));
  features_->push_back(std::make_shared<ReLU>());
  features_->push_back(std::make_shared<MaxPool2d>(2));
  features_->push_back(std::make_shared<Flatten>());
  classifier_ = register_module("classifier", std::make_shared<Sequential>());
  classifier_->push_back(std::make_shared<Linear>(16 * 5 * 5, 120, gen));
  classifier_->push_back(std::make_shared<ReLU>());
  classifier_->push_back(std::make_shared<Linear>(120, 84, gen));
  classifier_->push_back(std::make_shared<ReLU>());
  classifier_->push_back(std::make_shared<Linear>(84, num_classes, gen));
}

Tensor LeNet5::forward(const Tensor& x) { return (*classifier_)((*features_)(x)); }

std::string LeNet5::extra_repr() const {
  return fmt::format("{} -> {}, {}x{}", in_channels_, num_classes_, image_size_, image_size_);
}

SmallVGG::SmallVGG(std::int64_t in_channels, std::int64_t num_classes, Generator& gen, const SmallVGGOptions& options)
    : in_channels_(in_channels), num_classes_(num_classes), options_(options) {
  check_model("SmallVGG", in_channels, num_classes);
  check_width("SmallVGG", options.width);
  const std::int64_t w = options.width;
  features_ = register_module("features", std::make_shared<Sequential>());
  features_->push_back(std::make_shared<VGGBlock>(in_channels, w, 2, gen));
  features_->push_back(std::make_shared<VGGBlock>(w, 2 * w, 2, gen));
  features_->push_back(std::make_shared<VGGBlock>(2 * w, 4 * w, 2, gen));
  avgpool_ = register_module("avgpool", std::make_shared<GlobalAvgPool2d>());
  classifier_ = register_module("classifier", std::make_shared<Sequential>());
  classifier_->push_back(std::make_shared<Linear>(4 * w, 8 * w, gen));
  classifier_->push_back(std::make_shared<ReLU>());
  classifier_->push_back(std::make_shared<Dropout>(options.dropout, gen));
  classifier_->push_back(std::make_shared<Linear>(8 * w, num_classes, gen));
}

Tensor SmallVGG::forward(const Tensor& x) { return (*classifier_)((*avgpool_)((*features_)(x))); }

std::string SmallVGG::extra_repr() const {
  return fmt::format("{} -> {}, width {}", in_channels_, num_classes_, options_.width);
}

ResNet18::ResNet18(std::int64_t in_channels, std::int64_t num_classes, Generator& gen, const ResNetOptions& options)
    : in_channels_(in_channels), num_classes_(num_classes), options_(options) {
  check_model("ResNet18", in_channels, num_classes);
  check_width("ResNet18", options.width);
  const std::int64_t w = options.width;
  const Conv2dOptions stem = options.small_input_stem ? Conv2dOptions{.padding = 1}
                                                      : Conv2dOptions{.stride = 2, .padding = 3};
  conv1_ = register_module("conv1", std::make_shared<Conv2d>(in_channels, w, options.small_input_stem ? 3 : 7, gen,
                                                             stem, /*bias=*/false));
  init::kaiming_normal(conv1_->weight(), gen, 0.0, init::FanMode::FanIn, init::Nonlinearity::ReLU);
  bn1_ = register_module("bn1", std::make_shared<BatchNorm2d>(w));
  if (!options.small_input_stem) maxpool_ = register_module("maxpool", std::make_shared<MaxPool2d>(3, 2, 1));
  std::int64_t in = w;
  for (int stage = 0; stage < 4; ++stage) {
    const std::int64_t out = w << stage;
    const std::int64_t stride = stage == 0 ? 1 : 2;
    auto layer = register_module(fmt::format("layer{}", stage + 1), std::make_shared<Sequential>());
    layer->push_back(std::make_shared<BasicResidualBlock>(in, out, gen, stride));
    layer->push_back(std::make_shared<BasicResidualBlock>(out, out, gen, 1));
    layers_.push_back(layer);
    in = out;
  }
  avgpool_ = register_module("avgpool", std::make_shared<GlobalAvgPool2d>());
  fc_ = register_module("fc", std::make_shared<Linear>(in, num_classes, gen));
}

Tensor ResNet18::forward(const Tensor& x) {
  Tensor h = batch_norm_relu(*bn1_, (*conv1_)(x));
  if (maxpool_) h = (*maxpool_)(h);
  for (const auto& layer : layers_) h = (*layer)(h);
  return (*fc_)((*avgpool_)(h));
}

std::string ResNet18::extra_repr() const {
  return fmt::format("{} -> {}, width {}, {} stem", in_channels_, num_classes_, options_.width,
                     options_.small_input_stem ? "small-input" : "ImageNet");
}

MobileNet::MobileNet(std::int64_t in_channels, std::int64_t num_classes, Generator& gen,
                     const MobileNetOptions& options)
    : in_channels_(in_channels), num_classes_(num_classes), options_(options) {
  check_model("MobileNet", in_channels, num_classes);
  VIGIL_CHECK(options.width_multiplier > 0, Error, "MobileNet: width_multiplier must be positive, got {}",
              options.width_multiplier);
  const auto scaled = [&options](std::int64_t c) {
    return std::max<std::int64_t>(8, static_cast<std::int64_t>(std::floor(options.width_multiplier * c)));
  };
  struct Stage {
    std::int64_t out, stride;
  };
  static constexpr Stage stages[] = {{64, 1},  {128, 2}, {128, 1}, {256, 2}, {256, 1},  {512, 2}, {512, 1},
                                     {512, 1}, {512, 1}, {512, 1}, {512, 1}, {1024, 2}, {1024, 1}};
  std::int64_t in = scaled(32);
  stem_ = register_module("stem", std::make_shared<ConvBNReLU>(
                                      in_channels, in, 3, gen,
                                      Conv2dOptions{.stride = options.small_input_stem ? 1 : 2, .padding = 1}));
  features_ = register_module("features", std::make_shared<Sequential>());
  for (const Stage& stage : stages) {
    features_->push_back(std::make_shared<DepthwiseSeparable>(in, scaled(stage.out), gen, stage.stride));
    in = scaled(stage.out);
  }
  avgpool_ = register_module("avgpool", std::make_shared<GlobalAvgPool2d>());
  fc_ = register_module("fc", std::make_shared<Linear>(in, num_classes, gen));
}

Tensor MobileNet::forward(const Tensor& x) { return (*fc_)((*avgpool_)((*features_)((*stem_)(x)))); }

std::string MobileNet::extra_repr() const {
  return fmt::format("{} -> {}, width x{}", in_channels_, num_classes_, options_.width_multiplier);
}

namespace {

// Two 3x3 ConvBNReLU layers with padding 1: U-Net's unit at every level.
std::shared_ptr<Sequential> double_conv(std::int64_t in_channels, std::int64_t out_channels, Generator& gen) {
  auto block = std::make_shared<Sequential>();
  block->push_back(std::make_shared<ConvBNReLU>(in_channels, out_channels, 3, gen, Conv2dOptions{.padding = 1}));
  block->push_back(std::make_shared<ConvBNReLU>(out_channels, out_channels, 3, gen, Conv2dOptions{.padding = 1}));
  return block;
}

}  // namespace

UNet::UNet(std::int64_t in_channels, std::int64_t num_classes, Generator& gen, const UNetOptions& options)
    : in_channels_(in_channels), num_classes_(num_classes), options_(options) {
  check_model("UNet", in_channels, num_classes);
  check_width("UNet", options.width);
  VIGIL_CHECK(options.depth >= 1, Error, "UNet: depth must be at least 1, got {}", options.depth);
  const auto width = [&options](int level) { return options.width << level; };
  down_.push_back(register_module("down0", double_conv(in_channels, width(0), gen)));
  pool_ = register_module("pool", std::make_shared<MaxPool2d>(2));
  for (int level = 1; level <= options.depth; ++level) {
    down_.push_back(register_module(fmt::format("down{}", level), double_conv(width(level - 1), width(level), gen)));
  }
  up_.resize(options.depth);
  up_conv_.resize(options.depth);
  for (int level = options.depth - 1; level >= 0; --level) {
    up_[level] = register_module(fmt::format("up{}", level),
                                 std::make_shared<ConvTranspose2d>(width(level + 1), width(level), 2, gen,
                                                                   ConvTranspose2dOptions{.stride = 2}));
    up_conv_[level] = register_module(fmt::format("up_conv{}", level), double_conv(2 * width(level), width(level), gen));
  }
  head_ = register_module("head", std::make_shared<Conv2d>(width(0), num_classes, 1, gen));
}

Tensor UNet::forward(const Tensor& x) {
  VIGIL_CHECK(x.dim() == 4, ShapeError, "UNet: expects an input [N, C, H, W], got {}", x.shape().str());
  const std::int64_t min_extent = std::int64_t{1} << options_.depth;
  VIGIL_CHECK(x.size(2) >= min_extent && x.size(3) >= min_extent, ShapeError,
              "UNet: an input of shape {} is smaller than 2^depth = {} along H or W", x.shape().str(), min_extent);
  std::vector<Tensor> skips;
  Tensor h = (*down_[0])(x);
  for (int level = 1; level <= options_.depth; ++level) {
    skips.push_back(h);
    h = (*down_[level])((*pool_)(h));
  }
  for (int level = options_.depth - 1; level >= 0; --level) {
    const Tensor& skip = skips[level];
    h = (*up_[level])(h);
    // Pooling floors odd extents; the upsampled map is then one short of the skip's, padded on the bottom/right.
    const std::int64_t pad_h = skip.size(2) - h.size(2), pad_w = skip.size(3) - h.size(3);
    if (pad_h != 0 || pad_w != 0) h = pad(h, {0, pad_w, 0, pad_h});
    h = (*up_conv_[level])(cat({skip, h}, 1));
  }
  return (*head_)(h);
}

std::string UNet::extra_repr() const {
  return fmt::format("{} -> {}, width {}, depth {}", in_channels_, num_classes_, options_.width, options_.depth);
}

}  // namespace vigil::nn
