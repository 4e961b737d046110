#include "vigil/doctor/data_checks.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <map>
#include <numeric>
#include <optional>
#include <unordered_set>

#include "data_sample.hpp"
#include "vigil/nn/loss.hpp"

namespace vigil::doctor {

namespace {

using detail::DataSample;

// Cross-entropy's default ignore_index: labels equal to it are padding, not classes.
constexpr std::int64_t kIgnoreIndex = -100;

std::string num(double v) { return fmt::format("{:.4g}", v); }

double log_excess(double value, double threshold) {
  if (value <= 0.0 || threshold <= 0.0) return 0.0;
  return std::abs(std::log(value / threshold));
}

// Feature f of a sample of shape `sample_shape` as a coordinate, "(0, 3, 7)", or "5" for flat samples.
std::string coordinate(const Shape& sample_shape, std::int64_t f) {
  if (sample_shape.size() <= 1) return std::to_string(f);
  std::vector<std::int64_t> index(sample_shape.size());
  for (std::int64_t d = static_cast<std::int64_t>(sample_shape.size()) - 1; d >= 0; --d) {
    index[d] = f % sample_shape[d];
    f /= sample_shape[d];
  }
  return fmt::format("({})", fmt::join(index, ", "));
}

Shape sample_shape(const DataSample& s) {
  const Shape& batch = s.batches.front().inputs.shape();
  return Shape(std::vector<std::int64_t>(batch.begin() + 1, batch.end()));
}

// Statistics of every finite input value.
struct Moments {
  double mean = 0.0, std = 0.0, min = 0.0, max = 0.0, max_abs = 0.0;
  bool integers = true;  // every value a whole number
  std::int64_t count = 0;
};

Moments moments(const std::vector<double>& v) {
  Moments m;
  double sum = 0.0, sq = 0.0;
  m.min = INFINITY;
  m.max = -INFINITY;
  for (double x : v) {
    if (!std::isfinite(x)) continue;
    ++m.count;
    sum += x;
    sq += x * x;
    m.min = std::min(m.min, x);
    m.max = std::max(m.max, x);
    if (m.integers && std::abs(x - std::round(x)) > 1e-6) m.integers = false;
  }
  if (m.count == 0) return Moments{};
  m.mean = sum / m.count;
  m.std = std::sqrt(std::max(0.0, sq / m.count - m.mean * m.mean));
  m.max_abs = std::max(std::abs(m.min), std::abs(m.max));
  return m;
}

bool is_tabular(const DataSample& s, const DataThresholds& th) {
  return s.batches.front().inputs.dim() == 2 && s.features <= th.max_tabular_features;
}

bool is_image_like(const DataSample& s, const DataThresholds& th) {
  return s.batches.front().inputs.dim() >= 3 || s.features >= th.image_min_features;
}

void check_non_finite(const DataSample& s, const std::string& split, Report& report) {
  auto scan = [&](const std::vector<double>& v, std::int64_t width, bool inputs) {
    std::int64_t count = 0, first = -1;
    for (std::size_t i = 0; i < v.size(); ++i)
      if (!std::isfinite(v[i])) {
        if (first < 0) first = static_cast<std::int64_t>(i);
        ++count;
      }
    if (count == 0) return;
    const std::int64_t row = first / width, feature = first % width;
    const std::string what = inputs ? "inputs" : "targets";
    const std::string at =
        inputs ? fmt::format("feature {}", coordinate(sample_shape(s), feature)) : fmt::format("component {}", feature);
    report.add(Finding{
        .check = inputs ? "data.non_finite_inputs" : "data.non_finite_targets",
        .severity = Severity::error,
        .cause = Cause::non_finite_data,
        .where = fmt::format("{}, {}", s.describe_row(split, row), at),
        .value = static_cast<double>(count),
        .threshold = 0.0,
        .explanation = fmt::format("{} of the {} {} values read are NaN or Inf (first: {} at {}, {}); one such value "
                                   "makes the loss and every gradient NaN.",
                                   count, v.size(), split + " " + what, num(v[first]), s.describe_row(split, row), at),
        .suggestion = fmt::format("Find where the {} become non-finite (missing values, a division by zero, a log of "
                                  "0 in preprocessing) and impute or drop those samples.",
                                  what),
        .excess = std::log1p(static_cast<double>(count))});
  };
  scan(s.inputs, s.features, true);
  scan(s.targets, s.target_width, false);
}

// Raw pixels, or (for non-tabular inputs) the inputs as a whole far from unit scale.
void check_global_scale(const DataSample& s, const Moments& m, const DataThresholds& th, Report& report) {
  if (m.count == 0) return;
  if (is_image_like(s, th) && m.integers && m.min >= 0.0 && m.max <= 255.0 && m.max > th.raw_pixel_max) {
    report.add(Finding{
        .check = "data.raw_pixels",
        .severity = Severity::warning,
        .cause = Cause::data,
        .where = "inputs",
        .value = m.max,
        .threshold = th.raw_pixel_max,
        .explanation = fmt::format("The inputs look like raw pixels: every value is a whole number in [0, 255] "
                                   "(max {}, mean {}), so first-layer activations are ~100x larger than the "
                                   "initialisation assumes.",
                                   num(m.max), num(m.mean)),
        .suggestion = "Divide by 255 (data::preprocess) or standardise with the training set's mean and std.",
        .excess = log_excess(m.max, th.raw_pixel_max)});
    return;
  }
  if (is_tabular(s, th)) return;  // checked feature by feature
  std::optional<std::pair<double, double>> bad;  // value, threshold
  if (m.max_abs > th.max_abs) bad = {m.max_abs, th.max_abs};
  else if (m.std > th.max_std) bad = {m.std, th.max_std};
  else if (m.std > 0.0 && m.std < th.min_std) bad = {m.std, th.min_std};
  if (!bad) return;
  report.add(Finding{
      .check = "data.input_scale",
      .severity = Severity::warning,
      .cause = Cause::data,
      .where = "inputs",
      .value = bad->first,
      .threshold = bad->second,
      .explanation = fmt::format("The inputs are far from unit scale: std {} and max |value| {} (expected std in "
                                 "[{}, {}], |value| below {}), which default initialisations do not expect.",
                                 num(m.std), num(m.max_abs), num(th.min_std), num(th.max_std), num(th.max_abs)),
      .suggestion = "Standardise the inputs with the training set's mean and std (data::preprocess).",
      .excess = log_excess(bad->first, bad->second)});
}

void check_feature_scale(const DataSample& s, const DataThresholds& th, Report& report) {
  if (!is_tabular(s, th)) return;
  struct Bad {
    std::int64_t feature;
    double value, threshold, std, max_abs;
  };
  std::vector<Bad> bad;
  for (std::int64_t f = 0; f < s.features; ++f) {
    double sum = 0.0, sq = 0.0, max_abs = 0.0;
    std::int64_t n = 0;
    for (std::int64_t r = 0; r < s.rows; ++r) {
      const double x = s.input(r, f);
      if (!std::isfinite(x)) continue;
      ++n;
      sum += x;
      sq += x * x;
      max_abs = std::max(max_abs, std::abs(x));
    }
    if (n < 2) continue;
    const double mean = sum / n, std = std::sqrt(std::max(0.0, sq / n - mean * mean));
    if (max_abs > th.max_abs) bad.push_back({f, max_abs, th.max_abs, std, max_abs});
    else if (std > th.max_std) bad.push_back({f, std, th.max_std, std, max_abs});
    else if (std > 0.0 && std < th.min_std) bad.push_back({f, std, th.min_std, std, max_abs});
  }
  if (bad.empty()) return;
  const auto worst = std::max_element(bad.begin(), bad.end(), [](const Bad& a, const Bad& b) {
    return log_excess(a.value, a.threshold) < log_excess(b.value, b.threshold);
  });
  std::vector<std::int64_t> listed;
  for (std::size_t i = 0; i < std::min<std::size_t>(bad.size(), 8); ++i) listed.push_back(bad[i].feature);
  report.add(Finding{
      .check = "data.feature_scale",
      .severity = Severity::warning,
      .cause = Cause::data,
      .where = fmt::format("inputs feature {}", worst->feature),
      .value = worst->value,
      .threshold = worst->threshold,
      .explanation = fmt::format("{} of {} features are far from unit scale (features {}{}); the worst, feature {}, "
                                 "has std {} and max |value| {} (expected std in [{}, {}], |value| below {}).",
                                 bad.size(), s.features, fmt::join(listed, ", "), bad.size() > listed.size() ? ", ..." : "",
                                 worst->feature, num(worst->std), num(worst->max_abs), num(th.min_std),
                                 num(th.max_std), num(th.max_abs)),
      .suggestion = "Standardise each feature with its training mean and std (or log-transform heavy-tailed ones).",
      .excess = log_excess(worst->value, worst->threshold)});
}

bool row_is_constant(const DataSample& s, std::int64_t r) {
  const double first = s.input(r, 0);
  for (std::int64_t f = 1; f < s.features; ++f)
    if (s.input(r, f) != first) return false;
  return true;
}

void check_constant_samples(const DataSample& s, const DataThresholds& th, Report& report) {
  if (s.features < 2) return;
  std::int64_t constant = 0, zeros = 0, first = -1;
  for (std::int64_t r = 0; r < s.rows; ++r) {
    if (!row_is_constant(s, r)) continue;
    if (first < 0) first = r;
    ++constant;
    if (s.input(r, 0) == 0.0) ++zeros;
  }
  const double fraction = static_cast<double>(constant) / s.rows;
  if (constant == 0 || fraction <= th.constant_sample_fraction) return;
  report.add(Finding{
      .check = "data.constant_samples",
      .severity = Severity::warning,
      .cause = Cause::data,
      .where = "inputs",
      .value = fraction,
      .threshold = th.constant_sample_fraction,
      .explanation = fmt::format("{} of {} training samples read have a constant input ({} all zero; first: {}), "
                                 "which carries no information about its label.",
                                 constant, s.rows, zeros, s.describe_row("train", first)),
      .suggestion = "Check the loading code (failed image decodes, a wrong offset or dtype) and drop blank samples.",
      .excess = log_excess(fraction, th.constant_sample_fraction)});
}

std::vector<std::int64_t> labels_of(const DataSample& s) {
  std::vector<std::int64_t> labels(s.rows);
  for (std::int64_t r = 0; r < s.rows; ++r) labels[r] = std::llround(s.targets[r]);
  return labels;
}

// Returns true when every label lies in [0, C) (or is the ignore index).
bool check_label_range(const DataSample& s, const std::vector<std::int64_t>& labels, std::int64_t classes,
                       Report& report) {
  std::int64_t out = 0, first = -1, max_label = -1;
  for (std::int64_t r = 0; r < s.rows; ++r) {
    const std::int64_t y = labels[r];
    if (y == kIgnoreIndex) continue;
    max_label = std::max(max_label, y);
    if (y >= 0 && y < classes) continue;
    if (first < 0) first = r;
    ++out;
  }
  if (out > 0) {
    const std::int64_t y = labels[first];
    report.add(Finding{
        .check = "data.label_range",
        .severity = Severity::error,
        .cause = Cause::data,
        .where = s.describe_row("train", first),
        .value = static_cast<double>(y),
        .threshold = static_cast<double>(classes),
        .explanation = fmt::format("{} of {} labels read lie outside [0, {}), the range of a head with {} output(s) "
                                   "(first: label {} at {}; largest label {}); cross-entropy cannot represent them.",
                                   out, s.rows, classes, classes, y, s.describe_row("train", first), max_label),
        .suggestion = max_label >= classes
                          ? fmt::format("Give the head {} outputs (the largest label + 1), or remap the labels to "
                                        "0..C-1.", max_label + 1)
                          : "Remap the labels to 0..C-1 (negative labels are only allowed as ignore_index -100).",
        .excess = std::log1p(static_cast<double>(out))});
    return false;
  }
  if (classes >= 2 && max_label >= 0 && max_label + 1 < classes) {
    report.add(Finding{
        .check = "data.unused_outputs",
        .severity = Severity::info,
        .cause = Cause::data,
        .where = "labels",
        .value = static_cast<double>(max_label + 1),
        .threshold = static_cast<double>(classes),
        .explanation = fmt::format("The head has {} outputs but the largest label in {} samples read is {}: outputs "
                                   "{}..{} are never a target, so their logits are only pushed down.",
                                   classes, s.rows, max_label, max_label + 1, classes - 1),
        .suggestion = "Size the head to the number of classes, unless the rare classes simply were not read.",
        .excess = log_excess(static_cast<double>(classes), static_cast<double>(max_label + 1))});
  }
  return true;
}

void check_imbalance(const Setup& setup, const DataSample& s, const std::vector<std::int64_t>& labels,
                     const DataThresholds& th, Report& report) {
  std::map<std::int64_t, std::int64_t> counts;
  for (std::int64_t y : labels)
    if (y != kIgnoreIndex) ++counts[y];
  if (counts.size() < 2) return;
  auto [lo, hi] = std::minmax_element(counts.begin(), counts.end(),
                                      [](const auto& a, const auto& b) { return a.second < b.second; });
  const double ratio = static_cast<double>(hi->second) / static_cast<double>(lo->second);
  if (ratio <= th.imbalance_ratio) return;
  // Plain cross-entropy or something else (weighted, focal, resampled)? Compare on a batch holding every class
  // seen: with a single class in the batch, a weighted mean would equal the plain one.
  double user = NAN, plain = NAN;
  try {
    const data::Batch probe = detail::probe_batch(s);
    const Tensor outputs = detail::eval_forward(setup.model, probe.inputs);
    user = detail::loss_value(setup.loss, outputs, probe.targets);
    plain = detail::loss_value([](const Tensor& y, const Tensor& t) { return nn::cross_entropy(y, t); }, outputs,
                               probe.targets);
  } catch (const std::exception&) {
    return;  // the model cannot run this batch: the probes report that
  }
  if (!detail::same_value(user, plain)) return;
  report.add(Finding{
      .check = "data.class_imbalance",
      .severity = Severity::warning,
      .cause = Cause::data,
      .where = "labels",
      .value = ratio,
      .threshold = th.imbalance_ratio,
      .explanation = fmt::format("Class {} has {} samples and class {} only {} in the {} read ({}:1), and the loss "
                                 "equals unweighted cross-entropy, so the model can score well by predicting the "
                                 "majority.",
                                 hi->first, hi->second, lo->first, lo->second, s.rows, num(ratio)),
      .suggestion = "Weight the loss by inverse class frequency (CrossEntropyOptions::weight) or resample "
                    "(a weighted sampler), and track per-class recall.",
      .excess = log_excess(ratio, th.imbalance_ratio)});
}

void check_unshuffled(const Setup& setup, const DataSample& s, const std::vector<std::int64_t>& labels,
                      const DataThresholds& th, Report& report) {
  const std::int64_t k = std::min<std::int64_t>(th.unshuffled_batches, static_cast<std::int64_t>(s.batches.size()));
  if (k < 2) return;
  std::vector<std::int64_t> first_labels;
  std::int64_t row = 0;
  for (std::int64_t b = 0; b < k; ++b) {
    const std::int64_t n = s.batches[b].inputs.size(0);
    if (n < 2) return;
    for (std::int64_t i = 1; i < n; ++i)
      if (labels[row + i] != labels[row]) return;
    first_labels.push_back(labels[row]);
    row += n;
  }
  const auto& options = setup.train.options();
  report.add(Finding{
      .check = "data.unshuffled",
      .severity = Severity::warning,
      .cause = Cause::data,
      .where = "train loader",
      .value = static_cast<double>(k),
      .threshold = static_cast<double>(k),
      .explanation = fmt::format("Each of the first {} training batches holds a single label (labels {}; the loader "
                                 "has shuffle = {}{}), so every step pulls the model towards one class.",
                                 k, fmt::join(first_labels, ", "), options.shuffle ? "true" : "false",
                                 options.sampler ? " and a custom sampler" : ""),
      .suggestion = "Shuffle the training loader (LoaderOptions::shuffle = true) or use a sampler that mixes classes.",
      .excess = 0.0});
}

// Leave-one-out accuracy of predicting the label from feature f alone (see DataThresholds::leak_*).
double single_feature_accuracy(const DataSample& s, std::int64_t f, const std::vector<std::int64_t>& labels,
                               const DataThresholds& th) {
  std::vector<std::pair<double, std::int64_t>> rows;  // value, row
  for (std::int64_t r = 0; r < s.rows; ++r)
    if (std::isfinite(s.input(r, f))) rows.emplace_back(s.input(r, f), r);
  if (rows.size() < 2) return 0.0;
  // Ties are broken by a scrambled row number: in row order, an unshuffled set would line labels up inside ties.
  auto scramble = [](std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
  };
  std::sort(rows.begin(), rows.end(), [&](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first < b.first;
    return scramble(a.second) < scramble(b.second);
  });
  std::int64_t distinct = 1;
  for (std::size_t i = 1; i < rows.size(); ++i)
    if (rows[i].first != rows[i - 1].first) ++distinct;
  std::int64_t correct = 0;
  if (distinct <= th.leak_max_distinct) {
    // Per-value purity: a sample is right when its label is the strict majority of the other samples of its value.
    std::size_t begin = 0;
    while (begin < rows.size()) {
      std::size_t end = begin;
      std::map<std::int64_t, std::int64_t> counts;
      while (end < rows.size() && rows[end].first == rows[begin].first) ++counts[labels[rows[end++].second]];
      for (std::size_t i = begin; i < end; ++i) {
        const std::int64_t y = labels[rows[i].second];
        const std::int64_t own = counts[y] - 1;
        bool majority = own > 0;
        for (const auto& [c, n] : counts)
          if (c != y && n >= own) majority = false;
        if (majority) ++correct;
      }
      begin = end;
    }
  } else {
    // 1-D nearest neighbours: right when the label matches a neighbour on either side along the sorted feature.
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const std::int64_t y = labels[rows[i].second];
      const bool left = i > 0 && labels[rows[i - 1].second] == y;
      const bool right = i + 1 < rows.size() && labels[rows[i + 1].second] == y;
      if (left || right) ++correct;
    }
  }
  return static_cast<double>(correct) / static_cast<double>(rows.size());
}

void check_feature_leak(const DataSample& s, const std::vector<std::int64_t>& labels, const DataThresholds& th,
                        Report& report) {
  if (!is_tabular(s, th) || s.rows < th.leak_min_samples) return;
  std::map<std::int64_t, std::int64_t> counts;
  for (std::int64_t y : labels) ++counts[y];
  if (counts.size() < 2) return;
  std::int64_t majority = 0;
  for (const auto& [c, n] : counts) majority = std::max(majority, n);
  const double majority_fraction = static_cast<double>(majority) / s.rows;
  if (majority_fraction > th.leak_majority) return;
  std::vector<std::pair<std::int64_t, double>> leaks;
  for (std::int64_t f = 0; f < s.features; ++f) {
    const double accuracy = single_feature_accuracy(s, f, labels, th);
    if (accuracy >= th.leak_accuracy) leaks.emplace_back(f, accuracy);
  }
  if (leaks.empty()) return;
  const auto best = *std::max_element(leaks.begin(), leaks.end(),
                                      [](const auto& a, const auto& b) { return a.second < b.second; });
  report.add(Finding{
      .check = "data.feature_leak",
      .severity = Severity::warning,
      .cause = Cause::data,
      .where = fmt::format("inputs feature {}", best.first),
      .value = best.second,
      .threshold = th.leak_accuracy,
      .explanation = fmt::format("Feature {} alone predicts the label of {} of the {} samples read (the majority "
                                 "class is only {}){}: it likely encodes the label (an id, a post-outcome field).",
                                 best.first, num(best.second), s.rows, num(majority_fraction),
                                 leaks.size() > 1 ? fmt::format("; {} features do so", leaks.size()) : ""),
      .suggestion = "Check how this feature is produced and drop it if it is derived from the label; otherwise "
                    "validation scores will not hold on new data.",
      .excess = best.second - majority_fraction});
}

void check_duplicates(const Setup& setup, const DataSample& train, const DataSample& val, const DataThresholds& th,
                      Report& report) {
  std::unordered_set<std::uint64_t> seen;
  std::map<std::uint64_t, std::int64_t> train_row;
  for (std::int64_t r = 0; r < train.rows; ++r)
    if (!row_is_constant(train, r) && seen.insert(train.input_hash[r]).second) train_row[train.input_hash[r]] = r;
  std::int64_t matched = 0, first = -1;
  for (std::int64_t r = 0; r < val.rows; ++r)
    if (!row_is_constant(val, r) && seen.count(val.input_hash[r])) {
      if (first < 0) first = r;
      ++matched;
    }
  if (matched < th.min_duplicates || val.rows == 0) return;
  const double coverage =
      std::min(1.0, static_cast<double>(train.rows) / std::max<std::int64_t>(1, setup.train.dataset().size()));
  const double estimate = std::min(1.0, static_cast<double>(matched) / val.rows / coverage);
  if (estimate < th.duplicate_fraction) return;
  const std::int64_t t = train_row[val.input_hash[first]];
  report.add(Finding{
      .check = "data.train_val_duplicates",
      .severity = Severity::warning,
      .cause = Cause::data,
      .where = "validation",
      .value = estimate,
      .threshold = th.duplicate_fraction,
      .explanation = fmt::format("{} of {} validation samples read have byte-identical inputs among the {} training "
                                 "samples read (first: validation dataset index {} = training dataset index {}); "
                                 "scaled by the share of training data read, about {:.1f}% of validation is "
                                 "training data, which inflates validation scores.",
                                 matched, val.rows, train.rows, val.dataset_index[first], train.dataset_index[t],
                                 100.0 * estimate),
      .suggestion = "Deduplicate before splitting (hash the inputs) and split by source (patient, user, file) "
                    "rather than by row.",
      .excess = log_excess(estimate, th.duplicate_fraction)});
}

void check_validation_preprocessing(const Moments& train, const Moments& val, const DataThresholds& th,
                                    Report& report) {
  if (train.count == 0 || val.count == 0 || train.std <= 0.0) return;
  const double ratio = val.std / train.std;
  const double shift = std::abs(val.mean - train.mean) / train.std;
  std::optional<std::pair<double, double>> bad;  // value, threshold
  if (ratio > th.std_ratio) bad = {ratio, th.std_ratio};
  else if (ratio < 1.0 / th.std_ratio) bad = {ratio, 1.0 / th.std_ratio};
  else if (shift > th.mean_shift) bad = {shift, th.mean_shift};
  if (!bad) return;
  report.add(Finding{
      .check = "data.validation_preprocessing",
      .severity = Severity::warning,
      .cause = Cause::data,
      .where = "validation inputs",
      .value = bad->first,
      .threshold = bad->second,
      .explanation = fmt::format("Validation inputs have mean {} and std {} (range [{}, {}]) but training inputs "
                                 "mean {} and std {} (range [{}, {}]): far beyond sampling noise, as if the two "
                                 "were preprocessed differently.",
                                 num(val.mean), num(val.std), num(val.min), num(val.max), num(train.mean),
                                 num(train.std), num(train.min), num(train.max)),
      .suggestion = "Apply the same transform to both, with statistics computed on the training set only.",
      .excess = log_excess(bad->first, bad->second)});
}

}  // namespace

void check_data(const Setup& setup, const Task& task, const Options& options, Report& report,
                const DataThresholds& thresholds) {
  const DataSample train = detail::read_sample(setup.train, options.max_batches);
  if (train.rows == 0 || train.features == 0) return;
  std::optional<DataSample> val;
  if (setup.validation) {
    val = detail::read_sample(*setup.validation, options.max_batches);
    if (val->rows == 0) val.reset();
  }
  check_non_finite(train, "train", report);
  if (val) check_non_finite(*val, "validation", report);

  const Moments train_moments = moments(train.inputs);
  check_global_scale(train, train_moments, thresholds, report);
  check_feature_scale(train, thresholds, report);
  check_constant_samples(train, thresholds, report);

  if (task.classification && !task.soft_labels && train.integer_targets && train.target_width == 1) {
    const std::vector<std::int64_t> labels = labels_of(train);
    if (check_label_range(train, labels, task.num_classes, report)) check_imbalance(setup, train, labels, thresholds, report);
    check_unshuffled(setup, train, labels, thresholds, report);
    check_feature_leak(train, labels, thresholds, report);
  }

  if (val && val->features == train.features) {
    check_duplicates(setup, train, *val, thresholds, report);
    check_validation_preprocessing(train_moments, moments(val->inputs), thresholds, report);
  }
}

}  // namespace vigil::doctor
