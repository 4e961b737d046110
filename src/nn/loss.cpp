// Losses composed from differentiable autograd ops; the math and PyTorch 1.13's conventions are in loss.hpp.
#include <vigil/nn/loss.hpp>

#include <vector>

namespace vigil::nn {

namespace {

Tensor reduce(const Tensor& loss, Reduction reduction) {
  switch (reduction) {
    case Reduction::Mean: return mean(loss);
    case Reduction::Sum: return sum(loss);
    case Reduction::None: return loss;
  }
  return loss;
}

void check_same_shape(const Tensor& input, const Tensor& target, const char* loss) {
  VIGIL_CHECK(input.shape() == target.shape(), ShapeError, "{}: target of shape {} does not match input of shape {}",
              loss, target.shape().str(), input.shape().str());
}

// An optional per-element weight must broadcast to the input's shape without enlarging it.
void check_weight_broadcasts(const Tensor& weight, const Tensor& input, const char* loss, const char* what) {
  if (!weight.defined()) return;
  VIGIL_CHECK(broadcast_shapes(weight.shape(), input.shape(), loss) == input.shape(), ShapeError,
              "{}: {} of shape {} does not broadcast to input of shape {}", loss, what, weight.shape().str(),
              input.shape().str());
}

// x [N, C, d1, ...] -> [M, C] with M = N * d1 * ..., the class dim moved last (rows in targets' row-major order).
Tensor classes_last(const Tensor& x) {
  if (x.dim() == 2) return x;
  std::vector<std::int64_t> order{0};
  for (std::int64_t d = 2; d < x.dim(); ++d) order.push_back(d);
  order.push_back(1);
  return reshape(permute(x, order), Shape{x.numel() / x.size(1), x.size(1)});
}

Shape sample_shape_of(const Tensor& x) {
  std::vector<std::int64_t> dims{x.size(0)};
  for (std::int64_t d = 2; d < x.dim(); ++d) dims.push_back(x.size(d));
  return Shape(dims);
}

void check_input_and_weight(const Tensor& x, const Tensor& weight, const char* loss) {
  VIGIL_CHECK(x.dim() >= 2, ShapeError, "{}: input must be [C], [N, C] or [N, C, d1, ...], got {}", loss, x.shape().str());
  if (weight.defined()) {
    VIGIL_CHECK(weight.shape() == Shape{x.size(1)}, ShapeError,
                "{}: weight of shape {} does not match input of shape {} (expected [{}] for C = {})", loss,
                weight.shape().str(), x.shape().str(), x.size(1), x.size(1));
    VIGIL_CHECK(weight.dtype() == x.dtype(), DTypeError, "{}: weight is {} but input is {}", loss,
                dtype_name(weight.dtype()), dtype_name(x.dtype()));
  }
}

// The per-sample weights w[y_i] (0 for ignored targets) and the labels as an int64 [M] index (ignored ones -> 0),
// after checking every label.
struct Picked {
  Tensor index;          // int64 [M]
  Tensor keep;           // [M], x's dtype: 1 where the target is not ignored, else 0
  Tensor sample_weight;  // [M], x's dtype: w[y_i] * keep_i (keep_i without weight); no gradient
};

Picked pick(const Tensor& x, const Tensor& targets, const Tensor& weight, std::int64_t ignore_index,
            const char* loss) {
  const Shape expected = sample_shape_of(x);
  VIGIL_CHECK(targets.shape() == expected, ShapeError,
              "{}: targets of shape {} do not match input of shape {} (expected {})", loss, targets.shape().str(),
              x.shape().str(), expected.str());
  const std::int64_t classes = x.size(1);
  const Tensor labels = vigil::contiguous(targets.detach());
  const std::int64_t* values = labels.data<std::int64_t>();
  const std::int64_t m = labels.numel();
  Tensor index = empty(Shape{m}, {DType::Int64});
  std::int64_t* out = index.data<std::int64_t>();
  std::vector<float> keep(m);
  for (std::int64_t i = 0; i < m; ++i) {
    const std::int64_t y = values[i];
    const bool ignored = y == ignore_index;
    VIGIL_CHECK(ignored || (y >= 0 && y < classes), IndexError,
                "{}: target label {} at index {} is outside [0, {}) for input of shape {}", loss, y, i, classes,
                x.shape().str());
    out[i] = ignored ? 0 : y;
    keep[i] = ignored ? 0.0f : 1.0f;
  }
  NoGradGuard no_grad;
  const Tensor keep_mask = to_dtype(from_vector(keep, Shape{m}), x.dtype());
  const Tensor sample_weight = weight.defined() ? index_select(weight.detach(), 0, index) * keep_mask : keep_mask;
  return {index, keep_mask, sample_weight};
}

// Reduces per-sample losses [M] whose Mean divides by the summed sample weights.
Tensor reduce_weighted(const Tensor& loss, const Tensor& sample_weight, const Shape& sample_shape,
                       Reduction reduction) {
  switch (reduction) {
    case Reduction::Mean: return sum(loss) / sum(sample_weight);
    case Reduction::Sum: return sum(loss);
    case Reduction::None: return reshape(loss, sample_shape);
  }
  return loss;
}

// Per-sample nll -w[y_i] log p_i[y_i] ([M]) from log-probabilities in classes_last's [M, C] layout.
Tensor nll_rows(const Tensor& log_probs_rows, const Picked& picked) {
  const Tensor index = unsqueeze(picked.index, 1);
  return -reshape(gather(log_probs_rows, 1, index), Shape{index.size(0)}) * picked.sample_weight;
}

Tensor soft_cross_entropy(const Tensor& logits, const Tensor& targets, const CrossEntropyOptions& options) {
  check_same_shape(logits, targets, "cross_entropy");
  VIGIL_CHECK(targets.dtype() == logits.dtype(), DTypeError,
              "cross_entropy: soft targets are {} but logits are {} (class indices must be int64)",
              dtype_name(targets.dtype()), dtype_name(logits.dtype()));
  const std::int64_t classes = logits.size(1);
  const Tensor log_probs = classes_last(log_softmax(logits, 1));
  Tensor t = classes_last(targets);
  if (options.label_smoothing > 0.0) {
    t = t * (1.0 - options.label_smoothing) + options.label_smoothing / static_cast<double>(classes);
  }
  Tensor terms = log_probs * t;
  if (options.weight.defined()) terms = terms * options.weight;
  const Tensor loss = -sum(terms, {1});
  switch (options.reduction) {
    case Reduction::Mean: return sum(loss) / static_cast<double>(loss.numel());
    case Reduction::Sum: return sum(loss);
    case Reduction::None: return reshape(loss, sample_shape_of(logits));
  }
  return loss;
}

// An unbatched input [C] with a 0-d label (or [C] probabilities) is the batch of one, as in PyTorch: runs `loss`
// on [1, C] and [1] (or [1, C]) and drops the batch dim again from Reduction::None's result.
template <class Loss>
Tensor as_batch_of_one(const Loss& loss, const Tensor& x, const Tensor& targets, const CrossEntropyOptions& options,
                       const char* name) {
  const Shape expected = targets.dtype() == DType::Int64 ? Shape() : x.shape();
  VIGIL_CHECK(targets.shape() == expected, ShapeError,
              "{}: targets of shape {} do not match unbatched input of shape {} (expected {})", name,
              targets.shape().str(), x.shape().str(), expected.str());
  const Tensor out = loss(unsqueeze(x, 0), unsqueeze(targets, 0), options);
  return options.reduction == Reduction::None ? squeeze(out, 0) : out;
}

}  // namespace

Tensor nll_loss(const Tensor& log_probs, const Tensor& targets, const CrossEntropyOptions& options) {
  if (log_probs.dim() == 1) return as_batch_of_one(nll_loss, log_probs, targets, options, "nll_loss");
  check_input_and_weight(log_probs, options.weight, "nll_loss");
  VIGIL_CHECK(options.label_smoothing == 0.0, Error, "nll_loss: label_smoothing must be 0, got {}",
              options.label_smoothing);
  VIGIL_CHECK(targets.dtype() == DType::Int64, DTypeError, "nll_loss: targets must be int64 class indices, got {}",
              dtype_name(targets.dtype()));
  const Picked picked = pick(log_probs, targets, options.weight, options.ignore_index, "nll_loss");
  return reduce_weighted(nll_rows(classes_last(log_probs), picked), picked.sample_weight, sample_shape_of(log_probs),
                         options.reduction);
}

Tensor cross_entropy(const Tensor& logits, const Tensor& targets, const CrossEntropyOptions& options) {
  if (logits.dim() == 1) return as_batch_of_one(cross_entropy, logits, targets, options, "cross_entropy");
  check_input_and_weight(logits, options.weight, "cross_entropy");
  VIGIL_CHECK(options.label_smoothing >= 0.0 && options.label_smoothing <= 1.0, Error,
              "cross_entropy: label_smoothing must lie in [0, 1], got {}", options.label_smoothing);
  if (targets.dtype() != DType::Int64) return soft_cross_entropy(logits, targets, options);

  const Picked picked = pick(logits, targets, options.weight, options.ignore_index, "cross_entropy");
  const Shape sample_shape = sample_shape_of(logits);
  const Tensor log_probs = classes_last(log_softmax(logits, 1));
  const Tensor nll = reduce_weighted(nll_rows(log_probs, picked), picked.sample_weight, sample_shape,
                                     options.reduction);
  if (options.label_smoothing == 0.0) return nll;

  // PyTorch's smoothing term: -sum_c w[c] log p[c] per sample, 0 where the target is ignored, and a Mean over the
  // same summed weights as the nll term.
  const Tensor weighted = options.weight.defined() ? log_probs * options.weight.detach() : log_probs;
  const Tensor smooth = -sum(weighted, {1}) * picked.keep;
  const Tensor smooth_reduced = reduce_weighted(smooth, picked.sample_weight, sample_shape, options.reduction);
  const double ls = options.label_smoothing;
  return nll * (1.0 - ls) + smooth_reduced * (ls / static_cast<double>(logits.size(1)));
}

Tensor binary_cross_entropy(const Tensor& probs, const Tensor& targets, const Tensor& weight, Reduction reduction) {
  check_same_shape(probs, targets, "binary_cross_entropy");
  check_weight_broadcasts(weight, probs, "binary_cross_entropy", "weight");
  {
    NoGradGuard no_grad;
    const Tensor values = contiguous(to_dtype(probs.detach(), DType::Float64));
    const double* p = values.data<double>();
    for (std::int64_t i = 0; i < values.numel(); ++i) {
      VIGIL_CHECK(p[i] >= 0.0 && p[i] <= 1.0, Error,
                  "binary_cross_entropy: input {} at index {} is not a probability in [0, 1] (input of shape {}); "
                  "use binary_cross_entropy_with_logits for logits",
                  p[i], i, probs.shape().str());
    }
  }
  Tensor loss = -(targets * clamp(log(probs), -100.0) + (1.0 - targets) * clamp(log(1.0 - probs), -100.0));
  if (weight.defined()) loss = loss * weight;
  return reduce(loss, reduction);
}

Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& targets, const Tensor& weight,
                                        const Tensor& pos_weight, Reduction reduction) {
  check_same_shape(logits, targets, "binary_cross_entropy_with_logits");
  check_weight_broadcasts(weight, logits, "binary_cross_entropy_with_logits", "weight");
  check_weight_broadcasts(pos_weight, logits, "binary_cross_entropy_with_logits", "pos_weight");
  Tensor log_sigmoid = -softplus(-logits);
  if (pos_weight.defined()) log_sigmoid = log_sigmoid * ((pos_weight - 1.0) * targets + 1.0);
  Tensor loss = (1.0 - targets) * logits - log_sigmoid;
  if (weight.defined()) loss = loss * weight;
  return reduce(loss, reduction);
}

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  check_same_shape(input, target, "mse_loss");
  const Tensor d = input - target;
  return reduce(d * d, reduction);
}

Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  check_same_shape(input, target, "l1_loss");
  return reduce(abs(input - target), reduction);
}

Tensor huber_loss(const Tensor& input, const Tensor& target, Reduction reduction, double delta) {
  check_same_shape(input, target, "huber_loss");
  VIGIL_CHECK(delta > 0.0, Error, "huber_loss: delta must be positive, got {}", delta);
  const Tensor d = input - target;
  const Tensor a = abs(d);
  return reduce(where(lt(a, delta), d * d * 0.5, (a - 0.5 * delta) * delta), reduction);
}

Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, Reduction reduction, double beta) {
  check_same_shape(input, target, "smooth_l1_loss");
  VIGIL_CHECK(beta >= 0.0, Error, "smooth_l1_loss: beta must be non-negative, got {}", beta);
  const Tensor d = input - target;
  const Tensor a = abs(d);
  if (beta == 0.0) return reduce(a, reduction);
  return reduce(where(lt(a, beta), d * d * (0.5 / beta), a - 0.5 * beta), reduction);
}

Tensor kl_div(const Tensor& log_input, const Tensor& target, KLDivReduction reduction, bool log_target) {
  check_same_shape(log_input, target, "kl_div");
  Tensor loss;
  if (log_target) {
    loss = exp(target) * (target - log_input);
  } else {
    // xlogy(t, t) = t log t with 0 log 0 = 0: log's argument is 1 where t = 0, so neither value nor gradient is NaN.
    const Tensor safe = where(eq(target, 0.0), scalar_tensor(1.0f, {target.dtype()}), target);
    loss = target * log(safe) - target * log_input;
  }
  switch (reduction) {
    case KLDivReduction::Mean: return mean(loss);
    case KLDivReduction::BatchMean:
      return log_input.dim() == 0 ? sum(loss) : sum(loss) / static_cast<double>(log_input.size(0));
    case KLDivReduction::Sum: return sum(loss);
    case KLDivReduction::None: return loss;
  }
  return loss;
}

}  // namespace vigil::nn
