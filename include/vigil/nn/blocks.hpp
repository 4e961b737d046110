// Convolutional building blocks: conv-BN-ReLU, the VGG block, residual basic and bottleneck blocks, the
// inception module and the depthwise-separable block. Each is a Module whose children carry meaningful names, so
// parameter paths read "conv1.weight", "bn2.running_mean", "shortcut.0.weight" (torchvision's names where
// torchvision has the block, so checkpoints and parameter lists map one to one).
//
// Shapes: every block maps x [N, C_in, H, W] to y [N, C_out, OH, OW]; with stride s and the padding each block
// chooses (k / 2 for a k x k kernel), OH = floor((H - 1) / s) + 1 (OH = H for s = 1), and a pooling VGG block
// halves H and W (floor).
//
// Initialisation. Convolutions feeding batch norm carry no bias (the norm's beta plays its part, so a bias would
// be a redundant parameter). Every convolution weight is drawn with He's initialisation (kaiming_normal, fan_in,
// gain sqrt(2); He et al. 2015), since every block's convolutions feed a ReLU directly or through BN and a sum;
// the norms start at weight 1, bias 0. Draws come from the Generator passed in, in the order the children are
// listed below.
//
// Mode: batch norms use batch statistics in training and running statistics in evaluation; train() and eval()
// on a block (or on a model holding it) reach them, as for any module tree.
//
// Constructors throw Error naming the block when a channel count or stride is not positive (and as Conv2d does
// for invalid groups).
#pragma once

#include <vigil/nn/batch_norm.hpp>
#include <vigil/nn/conv.hpp>
#include <vigil/nn/module.hpp>
#include <vigil/nn/pooling.hpp>
#include <vigil/nn/sequential.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace vigil::nn {

// Conv2d (no bias) -> BatchNorm2d -> ReLU: y = relu(bn(conv(x))).
// Children "conv", "bn" (and a parameterless ReLU applied in forward). `options` are the convolution's (stride,
// padding, dilation, groups); the padding defaults to 0 as Conv2d's does.
class ConvBNReLU : public Module {
 public:
  ConvBNReLU(std::int64_t in_channels, std::int64_t out_channels, Size2 kernel_size, Generator& gen,
             const Conv2dOptions& options = {});
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "ConvBNReLU"; }
  std::string extra_repr() const override;  // the convolution's, e.g. "3 -> 32, kernel 3x3, padding 1"

  Conv2d& conv() const { return *conv_; }
  BatchNorm2d& bn() const { return *bn_; }

 private:
  std::shared_ptr<Conv2d> conv_;
  std::shared_ptr<BatchNorm2d> bn_;
};

// A VGG stage (Simonyan & Zisserman 2015, with batch norm as in VGG-BN): `convs` 3x3 ConvBNReLU layers with
// padding 1 (in -> out, then out -> out), then a 2x2 max pool with stride 2 when `pool` is set.
// Children "conv1" ... "conv<convs>" and "pool" (when pooling). Requires convs >= 1.
class VGGBlock : public Module {
 public:
  VGGBlock(std::int64_t in_channels, std::int64_t out_channels, int convs, Generator& gen, bool pool = true);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "VGGBlock"; }
  std::string extra_repr() const override;  // "3 -> 64, 2 convs, pool"

 private:
  std::int64_t in_channels_, out_channels_;
  std::vector<std::shared_ptr<ConvBNReLU>> convs_;
  std::shared_ptr<MaxPool2d> pool_;  // null without pooling
};

// The projection shortcut of the residual blocks: 1x1 Conv2d (no bias, the block's stride) -> BatchNorm2d, a
// Sequential with children "0" (conv) and "1" (bn), torchvision's "downsample".
std::shared_ptr<Sequential> projection_shortcut(std::int64_t in_channels, std::int64_t out_channels,
                                                std::int64_t stride, Generator& gen);

// ResNet's basic block (He et al. 2016, torchvision's BasicBlock):
//   y = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))
// conv1 3x3 with the block's stride, conv2 3x3 stride 1, both padding 1. The shortcut is the identity when the
// shape is kept (stride 1 and in == out), else projection_shortcut (a 1x1 conv with the stride, then BN).
// Children "conv1", "bn1", "conv2", "bn2", and "shortcut" when projecting.
class BasicResidualBlock : public Module {
 public:
  BasicResidualBlock(std::int64_t in_channels, std::int64_t out_channels, Generator& gen, std::int64_t stride = 1);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "BasicResidualBlock"; }
  std::string extra_repr() const override;  // "64 -> 128, stride 2, projection"
  bool has_projection() const { return shortcut_ != nullptr; }

 private:
  std::int64_t in_channels_, out_channels_, stride_;
  std::shared_ptr<Conv2d> conv1_, conv2_;
  std::shared_ptr<BatchNorm2d> bn1_, bn2_;
  std::shared_ptr<Sequential> shortcut_;  // null for the identity
};

// ResNet's bottleneck block (torchvision's Bottleneck, "ResNet v1.5": the stride sits on the 3x3 convolution):
//   h = relu(bn1(conv1(x)))      conv1 1x1, in -> mid           (reduce)
//   h = relu(bn2(conv2(h)))      conv2 3x3, mid -> mid, stride, padding 1
//   y = relu(bn3(conv3(h)) + shortcut(x))   conv3 1x1, mid -> out   (expand)
// Shortcut as BasicResidualBlock's. Children "conv1", "bn1", "conv2", "bn2", "conv3", "bn3", "shortcut".
class BottleneckBlock : public Module {
 public:
  BottleneckBlock(std::int64_t in_channels, std::int64_t mid_channels, std::int64_t out_channels, Generator& gen,
                  std::int64_t stride = 1);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "BottleneckBlock"; }
  std::string extra_repr() const override;  // "256 -> 64 -> 256"
  bool has_projection() const { return shortcut_ != nullptr; }

 private:
  std::int64_t in_channels_, mid_channels_, out_channels_, stride_;
  std::shared_ptr<Conv2d> conv1_, conv2_, conv3_;
  std::shared_ptr<BatchNorm2d> bn1_, bn2_, bn3_;
  std::shared_ptr<Sequential> shortcut_;
};

// The widths of an inception module's four branches (GoogLeNet's table columns).
struct InceptionChannels {
  std::int64_t b1x1;         // branch 1: 1x1
  std::int64_t b3x3_reduce;  // branch 2: 1x1 -> 3x3
  std::int64_t b3x3;
  std::int64_t b5x5_reduce;  // branch 3: 1x1 -> 5x5
  std::int64_t b5x5;
  std::int64_t pool_proj;    // branch 4: 3x3 max pool (stride 1, padding 1) -> 1x1
  std::int64_t out_channels() const { return b1x1 + b3x3 + b5x5 + pool_proj; }
};

// GoogLeNet's inception module (Szegedy et al. 2015) with batch norm (every convolution a ConvBNReLU, as
// torchvision's BasicConv2d): four branches on the same input, concatenated along channels in this order:
//   branch1x1    ConvBNReLU 1x1                                  -> b1x1
//   branch3x3    ConvBNReLU 1x1 -> ConvBNReLU 3x3 (padding 1)     -> b3x3
//   branch5x5    ConvBNReLU 1x1 -> ConvBNReLU 5x5 (padding 2)     -> b5x5   (a true 5x5; torchvision uses a 3x3)
//   branch_pool  MaxPool2d 3x3 stride 1 padding 1 -> ConvBNReLU 1x1 -> pool_proj
// y [N, channels.out_channels(), H, W]. Each branch is a Sequential child of that name ("branch3x3.1.conv.weight").
// Requires every width positive.
class InceptionModule : public Module {
 public:
  InceptionModule(std::int64_t in_channels, const InceptionChannels& channels, Generator& gen);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "InceptionModule"; }
  std::string extra_repr() const override;  // "192 -> 64 + 128 + 32 + 32"
  std::int64_t out_channels() const { return channels_.out_channels(); }

 private:
  std::int64_t in_channels_;
  InceptionChannels channels_;
  std::shared_ptr<Sequential> branch1x1_, branch3x3_, branch5x5_, branch_pool_;
};

// MobileNet's depthwise-separable block (Howard et al. 2017): a 3x3 depthwise ConvBNReLU (groups = in, the
// block's stride, padding 1), then a 1x1 pointwise ConvBNReLU in -> out. It costs 9 in + in out weights where a
// full 3x3 convolution costs 9 in out. Children "depthwise", "pointwise".
class DepthwiseSeparable : public Module {
 public:
  DepthwiseSeparable(std::int64_t in_channels, std::int64_t out_channels, Generator& gen, std::int64_t stride = 1);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "DepthwiseSeparable"; }
  std::string extra_repr() const override;  // "32 -> 64, stride 2"

  ConvBNReLU& depthwise() const { return *depthwise_; }
  ConvBNReLU& pointwise() const { return *pointwise_; }

 private:
  std::int64_t in_channels_, out_channels_, stride_;
  std::shared_ptr<ConvBNReLU> depthwise_, pointwise_;
};

}  // namespace vigil::nn
