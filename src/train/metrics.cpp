// Metrics: counts and double sums over batches (see metrics.hpp).
#include <vigil/train/metrics.hpp>

#include <vigil/tensor/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace vigil::train {
namespace {


// x as a contiguous float64 tensor (a copy unless it already is one).
Tensor as_double(const Tensor& x) { return raw::contiguous(raw::to_dtype(x, DType::Float64)); }

// Index of the largest of `row[0..n)`, the lowest index on ties.
std::int64_t argmax(const double* row, std::int64_t n) {
  std::int64_t best = 0;
  for (std::int64_t c = 1; c < n; ++c)
    if (row[c] > row[best]) best = c;
  return best;
}

bool binary_scores(const Tensor& scores) {
  return scores.dim() == 1 || (scores.dim() == 2 && scores.size(1) == 1);
}

}  // namespace

LabelPairs label_pairs(const Tensor& scores, const Tensor& targets, const char* metric) {
  VIGIL_CHECK(is_floating(scores.dtype()), DTypeError, "{}: scores must be floating, got {}", metric,
              dtype_name(scores.dtype()));
  const bool binary = binary_scores(scores);
  VIGIL_CHECK(binary || scores.dim() == 2, ShapeError, "{}: scores must be [N, C], [N] or [N, 1], got {}", metric,
              scores.shape().str());
  const std::int64_t n = scores.size(0);
  const std::int64_t classes = binary ? 2 : scores.size(1);
  LabelPairs out{{}, {}, classes};
  out.predicted.resize(static_cast<std::size_t>(n));
  out.actual.resize(static_cast<std::size_t>(n));

  const Tensor s = as_double(scores);
  for (std::int64_t i = 0; i < n; ++i)
    out.predicted[i] = binary ? (s.data<double>()[i] > 0.0 ? 1 : 0) : argmax(s.data<double>() + i * classes, classes);

  if (targets.dtype() == DType::Int64) {
    VIGIL_CHECK(targets.shape() == Shape{n}, ShapeError, "{}: int64 targets {} do not match scores {} (expected [{}])",
                metric, targets.shape().str(), scores.shape().str(), n);
    const Tensor t = raw::contiguous(targets);
    for (std::int64_t i = 0; i < n; ++i) {
      const std::int64_t label = t.data<std::int64_t>()[i];
      VIGIL_CHECK(label >= 0 && label < classes, IndexError, "{}: label {} at index {} is outside [0, {})", metric,
                  label, i, classes);
      out.actual[i] = label;
    }
    return out;
  }
  VIGIL_CHECK(is_floating(targets.dtype()), DTypeError, "{}: targets must be int64 labels or floating, got {}", metric,
              dtype_name(targets.dtype()));
  if (binary) {
    VIGIL_CHECK(targets.numel() == n && targets.dim() == scores.dim(), ShapeError,
                "{}: binary targets {} do not match scores {}", metric, targets.shape().str(), scores.shape().str());
    const Tensor t = as_double(targets);
    for (std::int64_t i = 0; i < n; ++i) out.actual[i] = t.data<double>()[i] > 0.5 ? 1 : 0;
    return out;
  }
  VIGIL_CHECK(targets.shape() == scores.shape(), ShapeError,
              "{}: soft targets {} must have the scores' shape {}", metric, targets.shape().str(),
              scores.shape().str());
  const Tensor t = as_double(targets);
  for (std::int64_t i = 0; i < n; ++i) out.actual[i] = argmax(t.data<double>() + i * classes, classes);
  return out;
}

// ---- ConfusionMatrix ----

ConfusionMatrix::ConfusionMatrix(std::int64_t num_classes) : num_classes_(num_classes) {
  VIGIL_CHECK(num_classes >= 2, Error, "ConfusionMatrix: num_classes must be >= 2, got {}", num_classes);
  counts_.assign(static_cast<std::size_t>(num_classes * num_classes), 0);
}

void ConfusionMatrix::update(const Tensor& scores, const Tensor& targets) {
  const LabelPairs pairs = label_pairs(scores, targets, "ConfusionMatrix");
  VIGIL_CHECK(pairs.num_classes == num_classes_, ShapeError, "ConfusionMatrix: scores {} have {} classes, expected {}",
              scores.shape().str(), pairs.num_classes, num_classes_);
  update(pairs.predicted, pairs.actual);
}

void ConfusionMatrix::update(std::span<const std::int64_t> predicted, std::span<const std::int64_t> actual) {
  VIGIL_CHECK(predicted.size() == actual.size(), ShapeError,
              "ConfusionMatrix: {} predictions but {} targets", predicted.size(), actual.size());
  for (std::size_t i = 0; i < predicted.size(); ++i) {
    VIGIL_CHECK(predicted[i] >= 0 && predicted[i] < num_classes_ && actual[i] >= 0 && actual[i] < num_classes_,
                IndexError, "ConfusionMatrix: pair {} (actual {}, predicted {}) is outside [0, {})", i, actual[i],
                predicted[i], num_classes_);
    ++counts_[static_cast<std::size_t>(actual[i] * num_classes_ + predicted[i])];
  }
  total_ += static_cast<std::int64_t>(predicted.size());
}

void ConfusionMatrix::reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  total_ = 0;
}

std::int64_t ConfusionMatrix::count(std::int64_t actual, std::int64_t predicted) const {
  VIGIL_CHECK(actual >= 0 && actual < num_classes_ && predicted >= 0 && predicted < num_classes_, IndexError,
              "ConfusionMatrix::count: ({}, {}) is outside [0, {})", actual, predicted, num_classes_);
  return counts_[static_cast<std::size_t>(actual * num_classes_ + predicted)];
}

double ConfusionMatrix::accuracy() const {
  std::int64_t correct = 0;
  for (std::int64_t c = 0; c < num_classes_; ++c) correct += count(c, c);
  return total_ == 0 ? 0.0 : static_cast<double>(correct) / static_cast<double>(total_);
}

double ConfusionMatrix::precision(std::int64_t c) const {
  std::int64_t predicted_c = 0;
  for (std::int64_t t = 0; t < num_classes_; ++t) predicted_c += count(t, c);
  return predicted_c == 0 ? 0.0 : static_cast<double>(count(c, c)) / static_cast<double>(predicted_c);
}

double ConfusionMatrix::recall(std::int64_t c) const {
  std::int64_t actual_c = 0;
  for (std::int64_t p = 0; p < num_classes_; ++p) actual_c += count(c, p);
  return actual_c == 0 ? 0.0 : static_cast<double>(count(c, c)) / static_cast<double>(actual_c);
}

double ConfusionMatrix::f1(std::int64_t c) const {
  const double p = precision(c), r = recall(c);
  return p + r == 0.0 ? 0.0 : 2.0 * p * r / (p + r);
}

namespace {
template <class PerClass>
double macro_mean(std::int64_t classes, PerClass per_class) {
  double sum = 0.0;
  for (std::int64_t c = 0; c < classes; ++c) sum += per_class(c);
  return sum / static_cast<double>(classes);
}
}  // namespace

double ConfusionMatrix::macro_precision() const {
  return macro_mean(num_classes_, [this](std::int64_t c) { return precision(c); });
}
double ConfusionMatrix::macro_recall() const {
  return macro_mean(num_classes_, [this](std::int64_t c) { return recall(c); });
}
double ConfusionMatrix::macro_f1() const {
  return macro_mean(num_classes_, [this](std::int64_t c) { return f1(c); });
}

std::string ConfusionMatrix::str(std::span<const std::string> names) const {
  VIGIL_CHECK(names.empty() || static_cast<std::int64_t>(names.size()) == num_classes_, Error,
              "ConfusionMatrix::str: {} names for {} classes", names.size(), num_classes_);
  auto label = [&](std::int64_t c) { return names.empty() ? std::to_string(c) : names[c]; };
  std::size_t width = 6;
  for (std::int64_t c = 0; c < num_classes_; ++c) width = std::max(width, label(c).size());
  for (std::int64_t v : counts_) width = std::max(width, std::to_string(v).size());
  std::string out = fmt::format("{:>{}}", "true\\pred", width + 3);
  for (std::int64_t p = 0; p < num_classes_; ++p) out += fmt::format(" {:>{}}", label(p), width);
  out += '\n';
  for (std::int64_t t = 0; t < num_classes_; ++t) {
    out += fmt::format("{:>{}}", label(t), width + 3);
    for (std::int64_t p = 0; p < num_classes_; ++p) out += fmt::format(" {:>{}}", count(t, p), width);
    out += '\n';
  }
  return out;
}

// ---- Metric implementations ----
namespace {

class ConfusionMetric final : public Metric {
 public:
  using Reader = double (ConfusionMatrix::*)() const;
  ConfusionMetric(std::string name, Reader read) : name_(std::move(name)), read_(read) {}
  std::string name() const override { return name_; }
  void reset() override {
    if (matrix_) matrix_->reset();
  }
  void update(const Tensor& outputs, const Tensor& targets) override {
    const LabelPairs pairs = label_pairs(outputs, targets, name_.c_str());
    if (!matrix_ || matrix_->num_classes() != pairs.num_classes) {
      VIGIL_CHECK(!matrix_ || matrix_->total() == 0, ShapeError, "{}: scores {} have {} classes, earlier batches had {}",
                  name_, outputs.shape().str(), pairs.num_classes, matrix_ ? matrix_->num_classes() : 0);
      matrix_ = std::make_unique<ConfusionMatrix>(pairs.num_classes);
    }
    matrix_->update(pairs.predicted, pairs.actual);
  }
  double value() const override { return matrix_ ? ((*matrix_).*read_)() : 0.0; }
  bool higher_is_better() const override { return true; }

 private:
  std::string name_;
  Reader read_;
  std::unique_ptr<ConfusionMatrix> matrix_;  // created at the first update, when C is known
};

class TopKAccuracy final : public Metric {
 public:
  explicit TopKAccuracy(std::int64_t k) : k_(k) {
    VIGIL_CHECK(k >= 1, Error, "top_k_accuracy: k must be >= 1, got {}", k);
  }
  std::string name() const override { return fmt::format("top{}_accuracy", k_); }
  void reset() override { correct_ = total_ = 0; }
  void update(const Tensor& outputs, const Tensor& targets) override {
    const std::string name = this->name();
    VIGIL_CHECK(outputs.dim() == 2, ShapeError, "{}: scores must be [N, C], got {}", name, outputs.shape().str());
    const LabelPairs pairs = label_pairs(outputs, targets, name.c_str());
    const std::int64_t classes = outputs.size(1);
    const Tensor s = as_double(outputs);
    for (std::size_t i = 0; i < pairs.actual.size(); ++i) {
      const double* row = s.data<double>() + static_cast<std::int64_t>(i) * classes;
      const std::int64_t label = pairs.actual[i];
      // The label's rank: classes scoring higher, or equal with a lower index, come before it.
      std::int64_t ahead = 0;
      for (std::int64_t c = 0; c < classes; ++c) ahead += row[c] > row[label] || (row[c] == row[label] && c < label);
      correct_ += ahead < k_;
    }
    total_ += static_cast<std::int64_t>(pairs.actual.size());
  }
  double value() const override { return total_ == 0 ? 0.0 : static_cast<double>(correct_) / static_cast<double>(total_); }
  bool higher_is_better() const override { return true; }

 private:
  std::int64_t k_;
  std::int64_t correct_ = 0, total_ = 0;
};

// Sums of the residuals' powers and of the targets' moments, in double.
class RegressionMetric final : public Metric {
 public:
  enum class Kind { MAE, RMSE, R2 };
  explicit RegressionMetric(Kind kind) : kind_(kind) {}
  std::string name() const override { return kind_ == Kind::MAE ? "mae" : kind_ == Kind::RMSE ? "rmse" : "r2"; }
  void reset() override { count_ = abs_sum_ = sq_sum_ = target_sum_ = target_sq_sum_ = 0.0; }
  void update(const Tensor& outputs, const Tensor& targets) override {
    VIGIL_CHECK(outputs.shape() == targets.shape(), ShapeError, "{}: predictions {} and targets {} differ in shape",
                name(), outputs.shape().str(), targets.shape().str());
    VIGIL_CHECK(is_floating(outputs.dtype()) && is_floating(targets.dtype()), DTypeError,
                "{}: predictions and targets must be floating, got {} and {}", name(), dtype_name(outputs.dtype()),
                dtype_name(targets.dtype()));
    const Tensor y = as_double(outputs), t = as_double(targets);
    for (std::int64_t i = 0; i < y.numel(); ++i) {
      const double target = t.data<double>()[i], residual = y.data<double>()[i] - target;
      abs_sum_ += std::abs(residual);
      sq_sum_ += residual * residual;
      target_sum_ += target;
      target_sq_sum_ += target * target;
    }
    count_ += static_cast<double>(y.numel());
  }
  double value() const override {
    if (count_ == 0.0) return 0.0;
    switch (kind_) {
      case Kind::MAE: return abs_sum_ / count_;
      case Kind::RMSE: return std::sqrt(sq_sum_ / count_);
      case Kind::R2: {
        const double total = target_sq_sum_ - target_sum_ * target_sum_ / count_;  // sum (t - mean t)^2
        return total <= 0.0 ? 0.0 : 1.0 - sq_sum_ / total;
      }
    }
    return 0.0;
  }
  bool higher_is_better() const override { return kind_ == Kind::R2; }

 private:
  Kind kind_;
  double count_ = 0, abs_sum_ = 0, sq_sum_ = 0, target_sum_ = 0, target_sq_sum_ = 0;
};

}  // namespace

MetricPtr accuracy() { return std::make_shared<ConfusionMetric>("accuracy", &ConfusionMatrix::accuracy); }
MetricPtr top_k_accuracy(std::int64_t k) { return std::make_shared<TopKAccuracy>(k); }
MetricPtr macro_precision() {
  return std::make_shared<ConfusionMetric>("macro_precision", &ConfusionMatrix::macro_precision);
}
MetricPtr macro_recall() { return std::make_shared<ConfusionMetric>("macro_recall", &ConfusionMatrix::macro_recall); }
MetricPtr macro_f1() { return std::make_shared<ConfusionMetric>("macro_f1", &ConfusionMatrix::macro_f1); }
MetricPtr mean_absolute_error() { return std::make_shared<RegressionMetric>(RegressionMetric::Kind::MAE); }
MetricPtr root_mean_squared_error() { return std::make_shared<RegressionMetric>(RegressionMetric::Kind::RMSE); }
MetricPtr r2_score() { return std::make_shared<RegressionMetric>(RegressionMetric::Kind::R2); }

MetricPtr make_metric(const std::string& name) {
  if (name == "accuracy") return accuracy();
  if (name == "macro_precision") return macro_precision();
  if (name == "macro_recall") return macro_recall();
  if (name == "macro_f1") return macro_f1();
  if (name == "mae") return mean_absolute_error();
  if (name == "rmse") return root_mean_squared_error();
  if (name == "r2") return r2_score();
  const std::string prefix = "top", suffix = "_accuracy";
  if (name.size() > prefix.size() + suffix.size() && name.starts_with(prefix) && name.ends_with(suffix)) {
    const std::string digits = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
    if (std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }) && digits.size() < 6)
      return top_k_accuracy(std::stoll(digits));
  }
  throw Error(fmt::format("unknown metric \"{}\": expected accuracy, top<k>_accuracy, macro_precision, macro_recall, "
                          "macro_f1, mae, rmse or r2",
                          name));
}

}  // namespace vigil::train
