// Pooling and upsampling layers over [N, C, H, W] inputs: thin layers over the differentiable functions of
// vigil/autograd/ops/pool.hpp and upsample.hpp (the math, shapes and errors are documented there). None has
// parameters or buffers, and training and evaluation compute the same thing.
#pragma once

#include <vigil/autograd/ops/pool.hpp>
#include <vigil/autograd/ops/upsample.hpp>
#include <vigil/nn/module.hpp>

#include <string>
#include <vector>

namespace vigil::nn {

// torch.nn.MaxPool2d(kernel, stride, padding); stride {0, 0} means stride = kernel (PyTorch's default).
class MaxPool2d : public Module {
 public:
  explicit MaxPool2d(Size2 kernel, Size2 stride = {0, 0}, Size2 padding = {0, 0});
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  // A 2x2 window with stride 2 and no padding: Sequential then fuses a batch norm and ReLU before it.
  bool is_2x2_stride_2() const;

 private:
  Size2 kernel_, stride_, padding_;
};

// torch.nn.AvgPool2d(kernel, stride, padding, count_include_pad = true).
class AvgPool2d : public Module {
 public:
  explicit AvgPool2d(Size2 kernel, Size2 stride = {0, 0}, Size2 padding = {0, 0}, bool count_include_pad = true);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;

 private:
  Size2 kernel_, stride_, padding_;
  bool count_include_pad_;
};

// The mean of each channel's plane: [N, C, H, W] -> [N, C] (ready for a Linear), or [N, C, 1, 1] with keepdim.
class GlobalAvgPool2d : public Module {
 public:
  explicit GlobalAvgPool2d(bool keepdim = false) : keepdim_(keepdim) {}
  Tensor forward(const Tensor& x) override { return global_avg_pool2d(x, keepdim_); }
  std::string extra_repr() const override { return keepdim_ ? "keepdim" : ""; }

 private:
  bool keepdim_;
};

// torch.nn.AdaptiveAvgPool2d / AdaptiveMaxPool2d(output_size): [N, C, H, W] -> [N, C, out_h, out_w].
class AdaptiveAvgPool2d : public Module {
 public:
  explicit AdaptiveAvgPool2d(Size2 output_size);
  Tensor forward(const Tensor& x) override { return adaptive_avg_pool2d(x, output_size_); }
  std::string extra_repr() const override;

 private:
  Size2 output_size_;
};

class AdaptiveMaxPool2d : public Module {
 public:
  explicit AdaptiveMaxPool2d(Size2 output_size);
  Tensor forward(const Tensor& x) override { return adaptive_max_pool2d(x, output_size_); }
  std::string extra_repr() const override;

 private:
  Size2 output_size_;
};

// Spatial pyramid pooling: [N, C, H, W] -> [N, C * output_multiplier()] for any H, W; levels e.g. {1, 2, 4}.
class SpatialPyramidPool : public Module {
 public:
  explicit SpatialPyramidPool(std::vector<std::int64_t> levels);
  Tensor forward(const Tensor& x) override { return spatial_pyramid_pool(x, levels_); }
  std::string extra_repr() const override;
  // sum(l^2): the output has C times this many features.
  std::int64_t output_multiplier() const;

 private:
  std::vector<std::int64_t> levels_;
};

// torch.nn.Upsample(size or scale_factor, mode, align_corners), with the options of upsample2d.
class Upsample : public Module {
 public:
  explicit Upsample(const UpsampleOptions& options);
  Tensor forward(const Tensor& x) override { return upsample2d(x, options_); }
  std::string extra_repr() const override;

 private:
  UpsampleOptions options_;
};

}  // namespace vigil::nn
