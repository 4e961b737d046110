// Batch normalisation layers (torch.nn.BatchNorm1d / BatchNorm2d) and folding a trained batch norm into the
// preceding layer for inference.
//
// y = (x - mean_c) / sqrt(var_c + eps) * weight_c + bias_c per channel c (dim 1). Mode is the layer's:
//   training():  mean and var of the batch (biased var normalises); the buffers move towards them,
//                running = (1 - momentum) running + momentum batch (unbiased var), and num_batches_tracked += 1;
//   eval:        running_mean and running_var; nothing changes.
// The function, its backward and its errors are vigil::batch_norm's (vigil/autograd/ops/batch_norm.hpp).
//
// Parameters "weight" (ones) and "bias" (zeros) of [C] when affine (PyTorch's default); persistent buffers
// "running_mean" (zeros [C]), "running_var" (ones [C]) and "num_batches_tracked" (int64 0-d, 0), PyTorch's
// names, so checkpoints map one to one.
#pragma once

#include <vigil/autograd/ops/batch_norm.hpp>
#include <vigil/nn/module.hpp>

#include <string>

namespace vigil::nn {

class BatchNorm : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  // relu(forward(x)) in one fused op (vigil::batch_norm_relu): same values and gradients. Runs none of this
  // module's hooks; batch_norm_relu() below picks it only when there are none.
  Tensor forward_relu(const Tensor& x);
  // max_pool2d(relu(forward(x)), 2) in one fused op (vigil::batch_norm_relu_max_pool2x2) for x [N, C, H, W] with
  // H, W >= 2: same values and gradients. Runs none of this module's hooks.
  Tensor forward_relu_max_pool2x2(const Tensor& x);
  std::string extra_repr() const override;

  std::int64_t num_features() const { return num_features_; }
  double eps() const { return eps_; }
  double momentum() const { return momentum_; }
  const Tensor& weight() const { return weight_; }  // undefined without affine
  const Tensor& bias() const { return bias_; }
  const Tensor& running_mean() const { return running_mean_; }
  const Tensor& running_var() const { return running_var_; }
  // The number of training-mode forward passes so far.
  std::int64_t num_batches_tracked() const;

 protected:
  // `ranks` lists the input ranks the layer accepts (ShapeError naming the layer otherwise).
  BatchNorm(const char* name, std::initializer_list<int> ranks, std::int64_t num_features, double eps,
            double momentum, bool affine);

 private:
  const char* name_;
  std::vector<int> ranks_;
  std::int64_t num_features_;
  double eps_, momentum_;
  enum class Fused { none, relu, relu_max_pool2x2 };
  Tensor normalize(const Tensor& x, Fused fused);
  Tensor weight_, bias_, running_mean_, running_var_, num_batches_tracked_;
};

// Input [N, C] or [N, C, L].
// relu(bn(x)): the fused op when bn has no hooks (Sequential and the blocks use it), else bn's call then relu.
Tensor batch_norm_relu(BatchNorm& bn, const Tensor& x);

class BatchNorm1d : public BatchNorm {
 public:
  explicit BatchNorm1d(std::int64_t num_features, double eps = 1e-5, double momentum = 0.1, bool affine = true)
      : BatchNorm("BatchNorm1d", {2, 3}, num_features, eps, momentum, affine) {}
};

// Input [N, C, H, W].
class BatchNorm2d : public BatchNorm {
 public:
  explicit BatchNorm2d(std::int64_t num_features, double eps = 1e-5, double momentum = 0.1, bool affine = true)
      : BatchNorm("BatchNorm2d", {4}, num_features, eps, momentum, affine) {}
};

struct FoldedParameters {
  Tensor weight;
  Tensor bias;  // always defined
};

// Folds an evaluation-mode batch norm into the layer before it, for inference: a layer computing
// z_o = <weight_o, x> + bias_o per output channel o (Linear [O, I]; a convolution [O, I/groups, kh, kw]) followed
// by bn equals the same layer with
//   weight'_o = weight_o s_o,   bias'_o = (bias_o - running_mean_o) s_o + beta_o,   s_o = gamma_o / sqrt(running_var_o + eps)
// (bias undefined counts as 0; gamma = 1 and beta = 0 without affine). Returns new tensors in weight's dtype that
// require no gradient. Throws ShapeError naming fold_batch_norm when weight's dim 0, or a defined bias, does not
// have bn.num_features() entries.
FoldedParameters fold_batch_norm(const Tensor& weight, const Tensor& bias, const BatchNorm& bn);

}  // namespace vigil::nn
