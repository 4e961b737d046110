// Metrics: what fit() and evaluate() report besides the loss, accumulated over batches.
//
// Classification metrics take the model's scores and the targets of a batch:
//   scores  [N, C] logits or probabilities (C >= 2; the prediction is the argmax, ties to the lower class), or
//           [N] / [N, 1] binary logits (the prediction is 1 when the logit is > 0);
//   targets [N] int64 labels in [0, C), or floating [N, C] class probabilities (soft labels from mixup or label
//           smoothing; the label is their argmax).
// Regression metrics take predictions and targets of one shape (any), compared element by element.
// Every metric accumulates exact counts or double sums, so the value after several update() calls equals the
// value over the concatenated batches (up to the order of double additions). A shape that does not fit throws
// ShapeError naming the metric and both shapes; a label outside [0, C) throws IndexError.
#pragma once

#include <vigil/tensor/tensor.hpp>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace vigil::train {

// The predicted label of each row of `scores` and the true label of each row of `targets`, checked as above.
struct LabelPairs {
  std::vector<std::int64_t> predicted;
  std::vector<std::int64_t> actual;
  std::int64_t num_classes;  // C (2 for binary logits)
};
LabelPairs label_pairs(const Tensor& scores, const Tensor& targets, const char* metric);

// counts[t][p]: how many samples of true class t were predicted as p.
class ConfusionMatrix {
 public:
  explicit ConfusionMatrix(std::int64_t num_classes);

  void update(const Tensor& scores, const Tensor& targets);
  void update(std::span<const std::int64_t> predicted, std::span<const std::int64_t> actual);
  void reset();

  std::int64_t num_classes() const { return num_classes_; }
  std::int64_t count(std::int64_t actual, std::int64_t predicted) const;
  std::int64_t total() const { return total_; }

  double accuracy() const;  // trace / total; 0 when empty
  // Per class c: precision = TP / (TP + FP), recall = TP / (TP + FN), F1 = 2PR / (P + R). A ratio whose
  // denominator is 0 (a class never predicted, or absent) counts as 0, as scikit-learn's zero_division=0.
  double precision(std::int64_t c) const;
  double recall(std::int64_t c) const;
  double f1(std::int64_t c) const;
  // Unweighted means over all C classes (scikit-learn's average="macro").
  double macro_precision() const;
  double macro_recall() const;
  double macro_f1() const;

  // An aligned table: rows are true classes, columns predictions; `names` (C of them) label rows and columns,
  // class indices when empty.
  std::string str(std::span<const std::string> names = {}) const;

 private:
  std::int64_t num_classes_;
  std::int64_t total_ = 0;
  std::vector<std::int64_t> counts_;  // row-major [C, C]
};

// The accumulating interface fit() and evaluate() drive: reset() at the start of an epoch, update() per batch,
// value() at the end (and for the progress bar's running figure).
class Metric {
 public:
  virtual ~Metric() = default;
  virtual std::string name() const = 0;  // the log key: "accuracy", "top5_accuracy", "macro_f1", "mae", ...
  virtual void reset() = 0;
  virtual void update(const Tensor& outputs, const Tensor& targets) = 0;
  virtual double value() const = 0;
  // Whether a larger value is better (early stopping and checkpointing use it for "auto" mode).
  virtual bool higher_is_better() const = 0;
};
using MetricPtr = std::shared_ptr<Metric>;

MetricPtr accuracy();
// A sample counts when its label is among the k highest scores (ties broken towards the lower class).
MetricPtr top_k_accuracy(std::int64_t k);
MetricPtr macro_precision();
MetricPtr macro_recall();
MetricPtr macro_f1();
MetricPtr mean_absolute_error();     // mean |y - t|
MetricPtr root_mean_squared_error();  // sqrt(mean (y - t)^2)
// R^2 = 1 - SS_res / SS_tot, SS_tot = sum (t - mean t)^2 over every element seen; 0 when SS_tot is 0.
MetricPtr r2_score();
// By name, for configs: "accuracy", "top<k>_accuracy", "macro_precision", "macro_recall", "macro_f1", "mae",
// "rmse", "r2". Throws Error listing the known names for anything else.
MetricPtr make_metric(const std::string& name);

}  // namespace vigil::train
