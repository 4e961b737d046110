// Convolution layers: Conv2d, Conv1d and ConvTranspose2d, over the autograd ops of autograd/ops/conv.hpp.
//
// Shapes (G = groups):
//   Conv2d           x [N, C_in, H, W] -> y [N, C_out, OH, OW];  weight [C_out, C_in / G, KH, KW], bias [C_out]
//   Conv1d           x [N, C_in, L]    -> y [N, C_out, OL];      weight [C_out, C_in / G, K],      bias [C_out]
//   ConvTranspose2d  x [N, C_in, H, W] -> y [N, C_out, OH, OW];  weight [C_in, C_out / G, KH, KW], bias [C_out]
// Output extents, options and errors as the ops (conv2d, conv1d, conv_transpose2d).
//
// Initialisation is PyTorch's default: the weight from kaiming_uniform with a = sqrt(5), i.e. U(-b, b) with
// b = 1 / sqrt(fan_in), fan_in = weight.size(1) * KH * KW (for the transposed layer that is C_out / G, as torch
// computes it from the weight's second dim), then the bias from U(-b, b) with the same b. Both are drawn from the
// Generator passed in, weight first. Parameters: "weight", "bias" (absent when bias = false).
// Constructors throw Error naming the layer when a channel count or kernel extent is not positive, groups does not
// divide both channel counts, or the padding is not numbers >= 0, "same" or "valid".
#pragma once

#include <vigil/autograd/ops/conv.hpp>
#include <vigil/nn/module.hpp>

#include <cstdint>
#include <string>

namespace vigil::nn {

class Conv2d : public Module {
 public:
  Conv2d(std::int64_t in_channels, std::int64_t out_channels, Size2 kernel_size, Generator& gen,
         const Conv2dOptions& options = {}, bool bias = true);

  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Conv2d"; }
  // "1 -> 32, kernel 3x3" and the options that differ from the defaults: ", stride 2", ", padding same",
  // ", dilation 2", ", groups 4", ", no bias".
  std::string extra_repr() const override;

  const Tensor& weight() const { return weight_; }
  const Tensor& bias() const { return bias_; }  // undefined without bias
  const Conv2dOptions& options() const { return options_; }

 private:
  std::int64_t in_channels_, out_channels_;
  Size2 kernel_size_;
  Conv2dOptions options_;
  Tensor weight_, bias_;
};

class Conv1d : public Module {
 public:
  Conv1d(std::int64_t in_channels, std::int64_t out_channels, std::int64_t kernel_size, Generator& gen,
         const Conv1dOptions& options = {}, bool bias = true);

  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Conv1d"; }
  // As Conv2d's: "4 -> 8, kernel 5, padding same".
  std::string extra_repr() const override;

  const Tensor& weight() const { return weight_; }
  const Tensor& bias() const { return bias_; }
  const Conv1dOptions& options() const { return options_; }

 private:
  std::int64_t in_channels_, out_channels_, kernel_size_;
  Conv1dOptions options_;
  Tensor weight_, bias_;
};

class ConvTranspose2d : public Module {
 public:
  ConvTranspose2d(std::int64_t in_channels, std::int64_t out_channels, Size2 kernel_size, Generator& gen,
                  const ConvTranspose2dOptions& options = {}, bool bias = true);

  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "ConvTranspose2d"; }
  // As Conv2d's, plus ", output_padding 1".
  std::string extra_repr() const override;

  const Tensor& weight() const { return weight_; }
  const Tensor& bias() const { return bias_; }
  const ConvTranspose2dOptions& options() const { return options_; }

 private:
  std::int64_t in_channels_, out_channels_;
  Size2 kernel_size_;
  ConvTranspose2dOptions options_;
  Tensor weight_, bias_;
};

}  // namespace vigil::nn
