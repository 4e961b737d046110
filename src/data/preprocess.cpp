#include <vigil/data/preprocess.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

namespace vigil::data {
namespace {

// Running statistics of each group of input elements (a feature or a channel), over a whole dataset.
struct GroupStats {
  Shape stat_shape;  // broadcasts against one sample: the sample shape, or [C, 1, ..., 1]
  std::vector<double> count, mean, m2, min, max;
};

GroupStats accumulate(const Dataset& train, StatAxis axis, const char* op) {
  VIGIL_CHECK(train.size() > 0, Error, "{}: {} is empty; nothing to fit", op, train.describe());
  Shape sample;
  GroupStats stats;
  std::int64_t per_group = 1;  // consecutive elements of one group (PerChannel: H * W ...)
  for (std::int64_t i = 0; i < train.size(); ++i) {
    const Tensor x = raw::contiguous(raw::to_dtype(train.get(i).input, DType::Float64));
    if (i == 0) {
      VIGIL_CHECK(x.dim() >= 1 || axis == StatAxis::PerFeature, ShapeError,
                  "{}: per-channel statistics need inputs of rank >= 1 (channels first); {} index 0 has shape {}", op,
                  train.describe(), x.shape().str());
      sample = x.shape();
      stats.stat_shape = sample;
      if (axis == StatAxis::PerChannel) {
        stats.stat_shape = Shape::filled(sample.size(), 1);
        stats.stat_shape[0] = sample[0];
        per_group = sample.numel() / std::max<std::int64_t>(sample[0], 1);
      }
      const auto groups = static_cast<std::size_t>(stats.stat_shape.numel());
      stats.count.assign(groups, 0.0);
      stats.mean.assign(groups, 0.0);
      stats.m2.assign(groups, 0.0);
      stats.min.assign(groups, std::numeric_limits<double>::infinity());
      stats.max.assign(groups, -std::numeric_limits<double>::infinity());
    }
    VIGIL_CHECK(x.shape() == sample, ShapeError, "{}: {} index {} has input shape {}, but index 0 has {}", op,
                train.describe(), i, x.shape().str(), sample.str());
    const double* v = x.data<double>();
    for (std::int64_t k = 0; k < x.numel(); ++k) {
      const auto g = static_cast<std::size_t>(k / per_group);
      // Welford: the mean moves by delta / n; m2 gains delta * (x - new mean).
      const double delta = v[k] - stats.mean[g];
      stats.count[g] += 1.0;
      stats.mean[g] += delta / stats.count[g];
      stats.m2[g] += delta * (v[k] - stats.mean[g]);
      stats.min[g] = std::min(stats.min[g], v[k]);
      stats.max[g] = std::max(stats.max[g], v[k]);
    }
  }
  return stats;
}

Tensor to_tensor(const std::vector<double>& values, const Shape& shape) {
  Tensor out = empty(shape);
  std::transform(values.begin(), values.end(), out.data<float>(), [](double v) { return static_cast<float>(v); });
  return out;
}

// `stat` materialised at x's shape (float64), after checking that it broadcasts to x without growing it.
std::vector<double> broadcast_to(const Tensor& stat, const Tensor& x, const char* op) {
  VIGIL_CHECK(stat.defined(), Error, "{}: not fitted (call fit() or load_state())", op);
  VIGIL_CHECK(is_floating(x.dtype()), DTypeError, "{}: input must be float32 or float64, not {}", op,
              dtype_name(x.dtype()));
  VIGIL_CHECK(x.dim() >= stat.dim() && broadcast_shapes(x.shape(), stat.shape(), op) == x.shape(), ShapeError,
              "{}: input of shape {} does not fit statistics of shape {} (expected one sample or a batch of them)", op,
              x.shape().str(), stat.shape().str());
  const Tensor full_stat = raw::contiguous(raw::to_dtype(raw::expand(stat, x.shape()), DType::Float64));
  const double* p = full_stat.data<double>();
  return {p, p + full_stat.numel()};
}

// out = (x - shift) * scale + offset elementwise, in x's dtype; shift and scale broadcast as above.
Tensor affine(const Tensor& x, const Tensor& shift, const Tensor& scale, double offset, const char* op) {
  const std::vector<double> s = broadcast_to(shift, x, op), m = broadcast_to(scale, x, op);
  const Tensor src = raw::contiguous(raw::to_dtype(x, DType::Float64));
  Tensor out = empty(x.shape(), TensorOptions{DType::Float64});
  const double* in = src.data<double>();
  double* o = out.data<double>();
  for (std::size_t i = 0; i < s.size(); ++i) o[i] = (in[i] - s[i]) * m[i] + offset;
  return raw::to_dtype(out, x.dtype());
}

const Tensor& find_state(const NamedTensors& state, const std::string& name, const char* op) {
  for (const auto& [key, value] : state)
    if (key == name) {
      VIGIL_CHECK(value.defined() && value.dtype() == DType::Float32, DTypeError, "{}::load_state: '{}' must be float32",
                  op, name);
      return value;
    }
  std::string names;
  for (const auto& entry : state) names += (names.empty() ? "'" : ", '") + entry.first + "'";
  throw Error(fmt::format("{}::load_state: no tensor named '{}' (found: {})", op, name, names.empty() ? "none" : names));
}

}  // namespace

Standardizer Standardizer::fit(const Dataset& train, StatAxis axis) {
  const GroupStats stats = accumulate(train, axis, "Standardizer::fit");
  std::vector<double> std_dev(stats.m2.size());
  for (std::size_t g = 0; g < std_dev.size(); ++g) {
    const double s = std::sqrt(stats.m2[g] / stats.count[g]);
    std_dev[g] = s < 1e-12 ? 1.0 : s;
  }
  Standardizer out;
  out.mean_ = to_tensor(stats.mean, stats.stat_shape);
  out.std_ = to_tensor(std_dev, stats.stat_shape);
  return out;
}

Tensor Standardizer::apply(const Tensor& x) const {
  VIGIL_CHECK(std_.defined(), Error, "Standardizer: not fitted (call fit() or load_state())");
  Tensor inverse = empty(std_.shape());
  const float* s = std_.data<float>();
  for (std::int64_t i = 0; i < std_.numel(); ++i) inverse.data<float>()[i] = 1.0f / s[i];
  return affine(x, mean_, inverse, 0.0, "Standardizer");
}

ExampleTransform Standardizer::transform() const {
  return [self = *this](Example example, Generator&) {
    example.input = self.apply(example.input);
    return example;
  };
}

NamedTensors Standardizer::state() const { return {{"mean", mean_}, {"std", std_}}; }

void Standardizer::load_state(const NamedTensors& state) {
  const Tensor& mean = find_state(state, "mean", "Standardizer");
  const Tensor& std_dev = find_state(state, "std", "Standardizer");
  VIGIL_CHECK(mean.shape() == std_dev.shape(), ShapeError, "Standardizer::load_state: mean {} and std {} differ in shape",
              mean.shape().str(), std_dev.shape().str());
  mean_ = raw::clone(mean);
  std_ = raw::clone(std_dev);
}

MinMaxScaler MinMaxScaler::fit(const Dataset& train, StatAxis axis, float low, float high) {
  VIGIL_CHECK(low < high, Error, "MinMaxScaler::fit: the range [{}, {}] is empty", low, high);
  const GroupStats stats = accumulate(train, axis, "MinMaxScaler::fit");
  MinMaxScaler out;
  out.min_ = to_tensor(stats.min, stats.stat_shape);
  out.max_ = to_tensor(stats.max, stats.stat_shape);
  out.low_ = low;
  out.high_ = high;
  return out;
}

Tensor MinMaxScaler::apply(const Tensor& x) const {
  VIGIL_CHECK(min_.defined(), Error, "MinMaxScaler: not fitted (call fit() or load_state())");
  Tensor scale = empty(min_.shape());
  for (std::int64_t i = 0; i < min_.numel(); ++i) {
    const double range = static_cast<double>(max_.data<float>()[i]) - min_.data<float>()[i];
    scale.data<float>()[i] = static_cast<float>(range > 0.0 ? (high_ - low_) / range : 0.0);
  }
  return affine(x, min_, scale, low_, "MinMaxScaler");
}

ExampleTransform MinMaxScaler::transform() const {
  return [self = *this](Example example, Generator&) {
    example.input = self.apply(example.input);
    return example;
  };
}

NamedTensors MinMaxScaler::state() const {
  return {{"min", min_}, {"max", max_}, {"range", from_vector(std::vector<float>{low_, high_}, {2})}};
}

void MinMaxScaler::load_state(const NamedTensors& state) {
  const Tensor& min = find_state(state, "min", "MinMaxScaler");
  const Tensor& max = find_state(state, "max", "MinMaxScaler");
  const Tensor& range = find_state(state, "range", "MinMaxScaler");
  VIGIL_CHECK(min.shape() == max.shape(), ShapeError, "MinMaxScaler::load_state: min {} and max {} differ in shape",
              min.shape().str(), max.shape().str());
  VIGIL_CHECK(range.shape() == Shape{2}, ShapeError, "MinMaxScaler::load_state: 'range' has shape {}, expected [2]",
              range.shape().str());
  const auto bounds = range.to_vector();
  VIGIL_CHECK(bounds[0] < bounds[1], Error, "MinMaxScaler::load_state: the range [{}, {}] is empty", bounds[0], bounds[1]);
  min_ = raw::clone(min);
  max_ = raw::clone(max);
  low_ = bounds[0];
  high_ = bounds[1];
}

Tensor one_hot(const Tensor& labels, std::int64_t num_classes) {
  VIGIL_CHECK(labels.dtype() == DType::Int64, DTypeError, "one_hot: labels must be int64, not {}",
              dtype_name(labels.dtype()));
  VIGIL_CHECK(num_classes >= 1, Error, "one_hot: num_classes {} must be >= 1", num_classes);
  Shape shape = labels.shape();
  shape.push_back(num_classes);
  Tensor out = zeros(shape);
  const Tensor src = raw::contiguous(labels);
  const std::int64_t* y = src.data<std::int64_t>();
  float* o = out.data<float>();
  for (std::int64_t i = 0; i < src.numel(); ++i) {
    VIGIL_CHECK(y[i] >= 0 && y[i] < num_classes, IndexError,
                "one_hot: label {} at position {} of labels {} is outside [0, {})", y[i], i, labels.shape().str(),
                num_classes);
    o[i * num_classes + y[i]] = 1.0f;
  }
  return out;
}

ExampleTransform one_hot_transform(std::int64_t num_classes) {
  return [num_classes](Example example, Generator&) {
    example.target = one_hot(example.target, num_classes);
    return example;
  };
}

}  // namespace vigil::data
