// A model zoo for small images (MNIST / Fashion-MNIST 28x28, CIFAR 32x32): LeNet-5, a small VGG, a
// ResNet-18-style network, a MobileNet-style network and a small U-Net. Each is a Module built from the layers and
// blocks of this module, configurable for 1- or 3-channel (any positive count) inputs and the number of classes,
// with every random draw taken from the Generator passed in (one seed, one model).
//
// Shapes: the classifiers map x [N, in_channels, H, W] to logits [N, num_classes] (pair with cross_entropy);
// the U-Net maps it to per-pixel logits [N, num_classes, H, W] (cross_entropy with int64 targets [N, H, W]).
// The classifiers end in global average pooling (LeNet-5 excepted), so they accept any H, W at least as large as
// their total stride; LeNet-5 has a fixed input size (below).
//
// Parameter names are torchvision's where torchvision has the model (ResNet: "conv1", "layer1.0.bn2", "fc"), so a
// parameter list can be compared with PyTorch's one to one; tools/zoo/zoo_params.py builds the same
// architectures in PyTorch and writes their parameter names and shapes for the tests.
//
// Constructors throw Error naming the model for a non-positive channel count, class count or width.
#pragma once

#include <vigil/nn/blocks.hpp>
#include <vigil/nn/dropout.hpp>
#include <vigil/nn/linear.hpp>
#include <vigil/nn/module.hpp>
#include <vigil/nn/pooling.hpp>
#include <vigil/nn/sequential.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace vigil::nn {

// The reference CNN of issue 5 and ../shared/bench/torch_reference.py, the benchmark and the CLI's default model:
//   conv 3x3 in_channels -> 32 (padding 1, no bias), BatchNorm2d, ReLU, max pool 2
//   conv 3x3 32 -> 64 (padding 1, no bias), BatchNorm2d, ReLU, max pool 2
//   flatten, Linear 64 (height / 4) (width / 4) -> 128, ReLU, Dropout(dropout), Linear 128 -> num_classes
// as one Sequential (children "0".."12", so the parameter paths are those of the same torch.nn.Sequential), with
// PyTorch's default initialisation, drawn from gen in layer order. Each conv-BN-ReLU-pool runs as one fused op
// (see Sequential). Throws Error naming reference_cnn for a non-positive channel or class count, an image smaller
// than 4x4 (it pools twice by 2), or a dropout outside [0, 1).
std::shared_ptr<Sequential> reference_cnn(std::int64_t in_channels, std::int64_t height, std::int64_t width,
                                          std::int64_t num_classes, Generator& gen, double dropout = 0.25);

// LeNet-5 (LeCun et al. 1998) in its common modern form: the classic topology with ReLU in place of the scaled
// tanh and max pooling in place of the trainable subsampling, and C3 fully connected to S2 (no sparse table):
//   C1 conv 5x5, 6 maps -> ReLU -> S2 max pool 2   [6, 14, 14]
//   C3 conv 5x5, 16 maps -> ReLU -> S4 max pool 2  [16, 5, 5]
//   C5 Linear 400 -> 120 -> ReLU, F6 Linear 120 -> 84 -> ReLU, output Linear 84 -> num_classes
// The classic network takes 32x32 images (image_size 32, C1 unpadded); for 28x28 images (image_size 28) C1 pads
// by 2, the usual way of running LeNet-5 on MNIST, which is the same as padding the image to 32x32. Either way S4
// is 16x5x5. Requires image_size 28 or 32 and an input of that size (a Linear ShapeError otherwise).
// Children "features" (Sequential: conv, relu, pool, conv, relu, pool, flatten) and "classifier" (Sequential).
// Layers keep PyTorch's default initialisation (LeNet predates He's).
class LeNet5 : public Module {
 public:
  LeNet5(std::int64_t in_channels, std::int64_t num_classes, Generator& gen, std::int64_t image_size = 32);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "LeNet5"; }
  std::string extra_repr() const override;  // "1 -> 10, 28x28"

 private:
  std::int64_t in_channels_, num_classes_, image_size_;
  std::shared_ptr<Sequential> features_, classifier_;
};

struct SmallVGGOptions {
  std::int64_t width = 32;  // channels of the first stage; the stages have width, 2 width, 4 width
  double dropout = 0.5;     // before the last Linear
};

// A small VGG-BN: three VGGBlocks of two 3x3 convolutions each (width, 2 width, 4 width channels), each ending
// in a 2x2 max pool, then global average pooling and the classifier
//   Linear 4 width -> 8 width -> ReLU -> Dropout -> Linear 8 width -> num_classes.
// 28x28 -> 3x3 and 32x32 -> 4x4 feature maps before the pooling; needs H, W >= 8.
// Children "features" (Sequential of the three VGGBlocks), "avgpool", "classifier" (Sequential).
class SmallVGG : public Module {
 public:
  SmallVGG(std::int64_t in_channels, std::int64_t num_classes, Generator& gen, const SmallVGGOptions& options = {});
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "SmallVGG"; }
  std::string extra_repr() const override;  // "3 -> 10, width 32"

 private:
  std::int64_t in_channels_, num_classes_;
  SmallVGGOptions options_;
  std::shared_ptr<Sequential> features_, classifier_;
  std::shared_ptr<GlobalAvgPool2d> avgpool_;
};

struct ResNetOptions {
  std::int64_t width = 64;  // channels of layer1; layer2..4 double it each (torchvision: 64, 128, 256, 512)
  // true: the CIFAR / Fashion-MNIST stem for small images, a 3x3 stride-1 convolution without max pool (28x28 keeps
  // its resolution into layer1); false: ImageNet's 7x7 stride-2 convolution (padding 3) and 3x3 stride-2 max pool.
  bool small_input_stem = true;
};

// ResNet-18 (He et al. 2016), torchvision's layout and names:
//   conv1 (stem) -> bn1 -> ReLU [-> maxpool]
//   layer1..layer4: two BasicResidualBlocks each ([2, 2, 2, 2]) of width w, 2w, 4w, 8w; the first block of
//                   layer2..4 has stride 2 and a projection shortcut
//   avgpool (global) -> fc Linear 8w -> num_classes
// With the small-input stem a 28x28 input reaches layer4 at 4x4, 32x32 at 4x4. The stem convolution feeds a ReLU
// and gets He's initialisation like the blocks' (no bias); fc keeps Linear's default.
class ResNet18 : public Module {
 public:
  ResNet18(std::int64_t in_channels, std::int64_t num_classes, Generator& gen, const ResNetOptions& options = {});
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "ResNet18"; }
  std::string extra_repr() const override;  // "3 -> 10, width 64, small-input stem"

 private:
  std::int64_t in_channels_, num_classes_;
  ResNetOptions options_;
  std::shared_ptr<Conv2d> conv1_;
  std::shared_ptr<BatchNorm2d> bn1_;
  std::shared_ptr<MaxPool2d> maxpool_;  // null with the small-input stem
  std::vector<std::shared_ptr<Sequential>> layers_;
  std::shared_ptr<GlobalAvgPool2d> avgpool_;
  std::shared_ptr<Linear> fc_;
};

struct MobileNetOptions {
  // MobileNet's alpha: every layer's channel count c becomes max(8, floor(alpha c)).
  double width_multiplier = 1.0;
  // true: the stem convolution has stride 1 (small images); false: stride 2 as MobileNet v1 on 224x224.
  bool small_input_stem = true;
};

// MobileNet v1 (Howard et al. 2017): a ConvBNReLU 3x3 stem of 32 channels (padding 1), then 13
// DepthwiseSeparable blocks (out channels / stride):
//   64/1, 128/2, 128/1, 256/2, 256/1, 512/2, 5 x 512/1, 1024/2, 1024/1
// then global average pooling and Linear 1024 -> num_classes (channels scaled by the width multiplier).
// A 28x28 input ends at 2x2 with the small-input stem, 32x32 at 2x2. Children "stem", "features" (Sequential of
// the blocks), "avgpool", "fc".
class MobileNet : public Module {
 public:
  MobileNet(std::int64_t in_channels, std::int64_t num_classes, Generator& gen, const MobileNetOptions& options = {});
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "MobileNet"; }
  std::string extra_repr() const override;  // "3 -> 10, width x0.25"

 private:
  std::int64_t in_channels_, num_classes_;
  MobileNetOptions options_;
  std::shared_ptr<ConvBNReLU> stem_;
  std::shared_ptr<Sequential> features_;
  std::shared_ptr<GlobalAvgPool2d> avgpool_;
  std::shared_ptr<Linear> fc_;
};

struct UNetOptions {
  std::int64_t width = 16;  // channels of the first level; each level down doubles them
  int depth = 2;            // number of 2x2 poolings (and of transposed-convolution upsamplings)
};

// A small U-Net (Ronneberger et al. 2015) with batch norm and "same" convolutions, so the output keeps the input's
// H and W. With w_l = width 2^l:
//   encoder  down0 = double_conv(in -> w_0); level l = 1..depth: pool (2x2 max), down_l = double_conv(w_{l-1} -> w_l)
//            (down_depth is the bottleneck)
//   decoder  for l = depth-1 .. 0: up_l = ConvTranspose2d(w_{l+1} -> w_l, kernel 2, stride 2) doubles H and W;
//            when the level's H or W was odd (pooling floored it), the upsampled map is zero-padded on the
//            bottom/right to the skip's size; then cat([skip_l, up], channels) -> up_conv_l = double_conv(2 w_l -> w_l)
//   head     Conv2d 1x1 w_0 -> num_classes (with bias): per-pixel logits [N, num_classes, H, W]
// double_conv is two ConvBNReLU 3x3 with padding 1 (a Sequential). Requires H, W >= 2^depth.
// Children "down0".."down<depth>", "pool", "up<l>" and "up_conv<l>" for l = depth-1..0, "head".
class UNet : public Module {
 public:
  UNet(std::int64_t in_channels, std::int64_t num_classes, Generator& gen, const UNetOptions& options = {});
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "UNet"; }
  std::string extra_repr() const override;  // "1 -> 2, width 16, depth 2"

 private:
  std::int64_t in_channels_, num_classes_;
  UNetOptions options_;
  std::vector<std::shared_ptr<Sequential>> down_;     // depth + 1, down_[depth] the bottleneck
  std::shared_ptr<MaxPool2d> pool_;
  std::vector<std::shared_ptr<ConvTranspose2d>> up_;  // up_[l] for level l = 0..depth-1
  std::vector<std::shared_ptr<Sequential>> up_conv_;
  std::shared_ptr<Conv2d> head_;
};

}  // namespace vigil::nn
