// Structured dropout for convolutional feature maps: whole channels (Dropout2d) or square blocks (DropBlock).
//
// Neighbouring activations of a feature map are strongly correlated, so element-wise dropout barely removes
// information: a dropped pixel's neighbours still carry it. Dropping whole channels (Tompson et al., 2015) or
// contiguous blocks (Ghiasi et al., 2018, DropBlock; cutout, DeVries & Taylor, 2017, applies the same idea to
// the input image) removes it for real and regularises convolutional layers much better.
//
// Randomness and mode follow vigil/nn/dropout.hpp: each layer owns a Generator split from the one it was built
// with (generator(), saved by checkpoints through own_generators()); the functions always apply the noise and draw
// from the generator passed in; a layer applies its function in training() and returns x itself in eval.
// p must lie in [0, 1) (Error naming the layer or function otherwise); p = 0 returns x without drawing.
// The noise multiplies x through the differentiable mul, so dx = g * noise: dropped units get no gradient.
#pragma once

#include <vigil/nn/module.hpp>

#include <cstdint>
#include <string>

namespace vigil::nn {

// torch.nn.functional.dropout2d on x [N, C, *] (rank >= 3): each (n, c) channel is zeroed with probability p,
// one draw per channel in row-major (n, c) order, and kept channels are scaled by 1 / (1 - p), so E[y] = x.
// Throws ShapeError naming dropout2d for rank < 3.
Tensor dropout2d(const Tensor& x, double p, Generator& gen);

// DropBlock on x [N, C, H, W] with block size b (1 <= b <= min(H, W), ShapeError otherwise):
//   1. per (n, c), every top-left corner (i, j) of a b x b block that fits inside the plane (i <= H - b,
//      j <= W - b) becomes a seed with probability gamma = min(1, p / b^2 * H W / ((H - b + 1)(W - b + 1))),
//      one draw per corner, row-major over (n, c, i, j): the expected dropped fraction is about p (less where
//      blocks overlap);
//   2. the mask is 0 on every seed's block, 1 elsewhere;
//   3. y = x * mask * numel(mask) / sum(mask): the kept units are scaled so the whole tensor keeps its expected
//      sum (DropBlock's normalisation); a mask with nothing kept gives y = 0.
// b = 1 is element-wise dropout with the batch-normalised rescaling.
Tensor drop_block2d(const Tensor& x, double p, std::int64_t block_size, Generator& gen);

// torch.nn.Dropout2d(p).
class Dropout2d : public Module {
 public:
  Dropout2d(double p, Generator& gen);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  double p() const { return p_; }
  Generator& generator() { return gen_; }
  std::vector<std::pair<std::string, Generator*>> own_generators() override { return {{"generator", &gen_}}; }

 private:
  double p_;
  Generator gen_;
};

// DropBlock(p, block_size): drop_block2d in training.
class DropBlock : public Module {
 public:
  DropBlock(double p, std::int64_t block_size, Generator& gen);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  double p() const { return p_; }
  std::int64_t block_size() const { return block_size_; }
  Generator& generator() { return gen_; }
  std::vector<std::pair<std::string, Generator*>> own_generators() override { return {{"generator", &gen_}}; }

 private:
  double p_;
  std::int64_t block_size_;
  Generator gen_;
};

}  // namespace vigil::nn
