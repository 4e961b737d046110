// Ensembles and MC dropout (see ensemble.hpp): softmax in float64 per draw, then the moments over the draws.
#include <vigil/train/ensemble.hpp>

#include <vigil/autograd/autograd.hpp>
#include <vigil/nn/dropout.hpp>
#include <vigil/tensor/error.hpp>
#include <vigil/train/fit.hpp>

#include <algorithm>
#include <cmath>
#include <optional>
#include <utility>

namespace vigil::train {
namespace {

// Row-wise softmax of logits [rows, C] into a float64 buffer, max-subtracted so that exp never overflows.
std::vector<double> softmax_rows(const Tensor& logits) {
  const Tensor x = raw::contiguous(raw::to_dtype(logits, DType::Float64));
  const std::int64_t rows = x.size(0), classes = x.size(1);
  const double* in = x.data<double>();
  std::vector<double> p(static_cast<std::size_t>(rows * classes));
  for (std::int64_t r = 0; r < rows; ++r) {
    const double* row = in + r * classes;
    double* out = p.data() + r * classes;
    const double top = *std::max_element(row, row + classes);
    double total = 0.0;
    for (std::int64_t c = 0; c < classes; ++c) total += out[c] = std::exp(row[c] - top);
    for (std::int64_t c = 0; c < classes; ++c) out[c] /= total;
  }
  return p;
}

// -sum_c p_c log p_c over one row, with 0 log 0 = 0.
double entropy(const double* p, std::int64_t classes) {
  double h = 0.0;
  for (std::int64_t c = 0; c < classes; ++c)
    if (p[c] > 0.0) h -= p[c] * std::log(p[c]);
  return h;
}

// The summary of UncertainPrediction, built block of rows by block of rows, in float64 until the end.
class Summary {
 public:
  Summary(std::int64_t classes, DType dtype) : classes_(classes), dtype_(dtype) {}

  // Appends rows: draws are T >= 1 probability blocks [block_rows, C], one per draw.
  void add_block(std::int64_t block_rows, const std::vector<std::vector<double>>& draws) {
    const double t = static_cast<double>(draws.size());
    const std::size_t row0 = entropy_.size();
    mean_.resize(mean_.size() + static_cast<std::size_t>(block_rows * classes_), 0.0);
    std_.resize(mean_.size(), 0.0);
    for (std::int64_t r = 0; r < block_rows; ++r) {
      const std::size_t at = (row0 + static_cast<std::size_t>(r)) * static_cast<std::size_t>(classes_);
      double* mean = mean_.data() + at;
      double* spread = std_.data() + at;
      // Moments of the shifted values d_t = p_t - p_1 (the shifted-data algorithm): mean = p_1 + E[d] and
      // var = E[d^2] - E[d]^2 lose no precision when the draws nearly agree, and identical draws give d = 0, so
      // the mean is p_1 itself and the spread exactly 0.
      const double* first = draws.front().data() + r * classes_;
      double draw_entropy = 0.0;
      for (const auto& p : draws) {
        const double* row = p.data() + r * classes_;
        for (std::int64_t c = 0; c < classes_; ++c) {
          const double d = row[c] - first[c];
          mean[c] += d;
          spread[c] += d * d;
        }
        draw_entropy += entropy(row, classes_);
      }
      for (std::int64_t c = 0; c < classes_; ++c) {
        const double shift = mean[c] / t;
        mean[c] = first[c] + shift;
        spread[c] = std::sqrt(std::max(0.0, spread[c] / t - shift * shift));
      }
      const double h = entropy(mean, classes_);
      entropy_.push_back(h);
      mutual_information_.push_back(std::max(0.0, h - draw_entropy / t));
    }
  }

  UncertainPrediction result() const {
    const auto rows = static_cast<std::int64_t>(entropy_.size());
    return {to_tensor(mean_, Shape{rows, classes_}), to_tensor(std_, Shape{rows, classes_}),
            to_tensor(entropy_, Shape{rows}), to_tensor(mutual_information_, Shape{rows})};
  }

 private:
  Tensor to_tensor(const std::vector<double>& values, const Shape& shape) const {
    Tensor out = empty(shape, TensorOptions{DType::Float64});
    std::copy(values.begin(), values.end(), out.data<double>());
    return raw::to_dtype(out, dtype_);
  }

  std::int64_t classes_;
  DType dtype_;
  std::vector<double> mean_, std_, entropy_, mutual_information_;
};

void check_logits(const Tensor& logits, const char* op) {
  VIGIL_CHECK(logits.dim() == 2 && logits.size(1) >= 1, ShapeError,
              "{}: expected the model to give logits [N, C], got {}", op, logits.shape().str());
}

// Sets every module of a tree to eval except the dropout layers, and restores each module's own mode when the
// scope ends (also on an exception). Modes are restored in named_modules() order, parents before children, so
// that a parent's train(), which sets its whole subtree, is corrected by each child's restore after it.
class DropoutOnlyGuard {
 public:
  explicit DropoutOnlyGuard(nn::Module& model) {
    for (const auto& [path, module] : model.named_modules()) modes_.emplace_back(module, module->training());
    model.eval();
    for (nn::Module* dropout : dropout_modules(model)) dropout->train(true);
  }
  ~DropoutOnlyGuard() {
    for (const auto& [module, training] : modes_) module->train(training);
  }
  DropoutOnlyGuard(const DropoutOnlyGuard&) = delete;
  DropoutOnlyGuard& operator=(const DropoutOnlyGuard&) = delete;

 private:
  std::vector<std::pair<nn::Module*, bool>> modes_;
};

}  // namespace

std::vector<nn::Module*> dropout_modules(nn::Module& model) {
  std::vector<nn::Module*> found;
  for (const auto& [path, module] : model.named_modules()) {
    if (dynamic_cast<nn::Dropout*>(module) != nullptr || dynamic_cast<nn::GaussianDropout*>(module) != nullptr ||
        dynamic_cast<nn::AlphaDropout*>(module) != nullptr || dynamic_cast<nn::DropConnect*>(module) != nullptr)
      found.push_back(module);
  }
  return found;
}

UncertainPrediction ensemble_predict(const std::vector<nn::Module*>& models, const data::DataLoader& loader,
                                     std::int64_t epoch) {
  VIGIL_CHECK(!models.empty(), Error, "ensemble_predict: no models given");
  std::vector<std::vector<double>> draws;
  Shape shape;
  DType dtype = DType::Float32;
  for (std::size_t m = 0; m < models.size(); ++m) {
    VIGIL_CHECK(models[m] != nullptr, Error, "ensemble_predict: model {} is null", m);
    const Tensor logits = predict(*models[m], loader, epoch);
    check_logits(logits, "ensemble_predict");
    if (m == 0) {
      shape = logits.shape();
      dtype = logits.dtype();
    }
    VIGIL_CHECK(logits.shape() == shape, ShapeError,
                "ensemble_predict: model {} gives logits {} but model 0 gives {}", m, logits.shape().str(),
                shape.str());
    draws.push_back(softmax_rows(logits));
  }
  Summary summary(shape[1], dtype);
  summary.add_block(shape[0], draws);
  return summary.result();
}

UncertainPrediction mc_dropout_predict(nn::Module& model, const data::DataLoader& loader, std::int64_t passes,
                                       std::int64_t epoch) {
  VIGIL_CHECK(passes >= 1, Error, "mc_dropout_predict: passes must be >= 1, got {}", passes);
  DropoutOnlyGuard modes(model);
  NoGradGuard no_grad;
  std::optional<Summary> summary;  // made at the first batch, when C and the dtype are known
  std::int64_t classes = 0, batch_index = 0;
  for (const data::Batch& batch : loader.epoch(epoch)) {
    std::vector<std::vector<double>> draws;
    for (std::int64_t t = 0; t < passes; ++t) {
      const Tensor logits = model(batch.inputs);
      check_logits(logits, "mc_dropout_predict");
      VIGIL_CHECK(logits.size(0) == batch.inputs.size(0), ShapeError,
                  "mc_dropout_predict: the model gives logits {} for inputs {} (one row per sample expected)",
                  logits.shape().str(), batch.inputs.shape().str());
      if (!summary) {
        classes = logits.size(1);
        summary.emplace(classes, logits.dtype());
      }
      VIGIL_CHECK(logits.size(1) == classes, ShapeError,
                  "mc_dropout_predict: batch {} gives logits {} but the first gave {} classes", batch_index,
                  logits.shape().str(), classes);
      draws.push_back(softmax_rows(logits));
    }
    summary->add_block(batch.inputs.size(0), draws);
    ++batch_index;
  }
  VIGIL_CHECK(summary.has_value(), Error, "mc_dropout_predict: the loader over {} yields no batches",
              loader.dataset().describe());
  return summary->result();
}

}  // namespace vigil::train
