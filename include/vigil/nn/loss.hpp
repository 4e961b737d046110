// Loss functions, matched to torch.nn.functional in PyTorch 1.13 (value and gradient).
//
// Every loss is composed from differentiable autograd ops (log_softmax, gather, index_select, softplus, where, ...),
// so its backward is theirs. Inputs may be float32 or float64 (gradcheck); targets of a floating loss share the
// input's dtype. Integer class labels are int64 and never carry a gradient; neither do class weights in the
// class-index losses (as in PyTorch, whose nll_loss has no weight gradient).
//
// Reduction: None returns the per-element (or per-sample) losses, Sum their sum, Mean their mean; the weighted
// class-index losses divide by the summed weights of the non-ignored targets instead, as PyTorch does.
//
// Wrong input throws ShapeError (shapes that do not fit, naming the loss and both shapes), IndexError (a class label
// outside [0, C) that is not ignore_index, naming the loss, the label, its flat index in targets and C) or
// DTypeError (targets of the wrong dtype).
#pragma once

#include <vigil/autograd/autograd.hpp>

#include <cstdint>

namespace vigil::nn {

enum class Reduction { Mean, Sum, None };

struct CrossEntropyOptions {
  Tensor weight;                   // [C] rescaling weight per class; undefined for all ones
  std::int64_t ignore_index = -100;  // targets equal to it contribute neither loss nor gradient (class indices only)
  double label_smoothing = 0.0;    // in [0, 1]: the target becomes (1 - ls) one_hot + ls / C
  Reduction reduction = Reduction::Mean;
};

// Cross-entropy from unnormalised logits: nll_loss(log_softmax(logits, 1), targets) plus label smoothing.
// Shapes: logits [N, C] or [N, C, d1, ...]; targets either int64 class indices [N] / [N, d1, ...], or floating class
// probabilities of logits' shape (soft targets, e.g. for mixup; ignore_index does not apply to them). Unbatched
// logits [C] take a 0-d label (or [C] probabilities) and Reduction::None then gives a 0-d result.
// Class indices:  l_i = -w[y_i] log p_i[y_i]; Mean = sum_i l_i / sum_{i not ignored} w[y_i].
//   With smoothing ls the result is (1 - ls) nll + (ls / C) smooth, where smooth_i = -sum_c w[c] log p_i[c]
//   (0 for ignored targets), reduced the same way (Mean divides by the same summed weights).
// Soft targets:   l_i = -sum_c w[c] t'_i[c] log p_i[c], t' = (1 - ls) t + ls / C; Mean divides by the number of
//   samples N * d1 * ... (not by the weights). The targets get a gradient when they require one.
// Result: a scalar, or [N, d1, ...] for Reduction::None.
Tensor cross_entropy(const Tensor& logits, const Tensor& targets, const CrossEntropyOptions& options = {});

// Negative log-likelihood on log-probabilities (e.g. log_softmax output): l_i = -w[y_i] log_probs[i, y_i].
// Shapes as cross_entropy's class-index form; label_smoothing is not accepted here (it must be 0), as in PyTorch.
Tensor nll_loss(const Tensor& log_probs, const Tensor& targets, const CrossEntropyOptions& options = {});

// Binary cross-entropy on probabilities p in [0, 1]: l = -w (t log p + (1 - t) log(1 - p)), each log clamped to
// >= -100 as PyTorch does (so p = 0 or 1 gives a finite loss). Shapes: targets of probs' shape; weight (optional)
// broadcasts to it. A probability outside [0, 1] (or NaN) throws Error naming its value and flat index.
// The gradient is that of the clamped logs: it matches PyTorch for 0 < p < 1; at p exactly 0 or 1, where PyTorch
// returns w (p - t) / 1e-12, the clamped side contributes 0 instead.
Tensor binary_cross_entropy(const Tensor& probs, const Tensor& targets, const Tensor& weight = Tensor(),
                            Reduction reduction = Reduction::Mean);

// Binary cross-entropy on logits x, in the stable form
//   l = w ((1 - t) x - (1 + (pw - 1) t) log_sigmoid(x)),   log_sigmoid(x) = -softplus(-x),
// which never forms sigmoid(x) and so stays finite for any x. pos_weight pw weighs the positive term (broadcast
// over the last dim, one entry per class); weight w rescales every element. Both optional and broadcast to x.
// Shapes: targets of logits' shape.
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& targets, const Tensor& weight = Tensor(),
                                        const Tensor& pos_weight = Tensor(), Reduction reduction = Reduction::Mean);

// Element-wise regression losses on d = input - target; target must have input's shape.
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);  // d^2
Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);   // |d|
// Huber: 0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta). delta > 0.
Tensor huber_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean,
                  double delta = 1.0);
// Smooth L1: 0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta; beta = 0 is the L1 loss. beta >= 0.
// (smooth_l1(beta) = huber(delta = beta) / beta.)
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean,
                      double beta = 1.0);

// KL divergence's reductions: BatchMean (sum / input.size(0)) is the mathematically right one for KL(target || p)
// per sample; Mean divides by the element count, as PyTorch's default (which warns about it).
enum class KLDivReduction { Mean, BatchMean, Sum, None };

// KL divergence with input given as log-probabilities:
//   l = t (log t - input), taken as 0 where t = 0 (xlogy), or, with log_target, l = exp(t) (t - input).
// Where t = 0 the target's own gradient is 0 (PyTorch 1.13 gives NaN there); every other gradient matches.
// Shapes: target of input's shape.
Tensor kl_div(const Tensor& log_input, const Tensor& target, KLDivReduction reduction = KLDivReduction::Mean,
              bool log_target = false);

}  // namespace vigil::nn
