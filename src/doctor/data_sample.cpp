#include "data_sample.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <map>

#include "vigil/autograd/autograd.hpp"

namespace vigil::doctor::detail {

namespace {

// FNV-1a over a byte range: a stable, dependency-free hash for exact-duplicate detection.
std::uint64_t fnv1a(const unsigned char* bytes, std::size_t n) {
  std::uint64_t h = 1469598103934665603ULL;
  for (std::size_t i = 0; i < n; ++i) {
    h ^= bytes[i];
    h *= 1099511628211ULL;
  }
  return h;
}

}  // namespace

std::string DataSample::describe_row(const std::string& split, std::int64_t row) const {
  return fmt::format("{} batch {}, sample {} (dataset index {})", split, batch_of_row[row], row_in_batch[row],
                     dataset_index[row]);
}

std::vector<double> values(const Tensor& t) {
  const Tensor c = raw::contiguous(raw::to_dtype(t, DType::Float64));
  const double* p = c.data<double>();
  return std::vector<double>(p, p + c.numel());
}

bool all_finite(const Tensor& t) {
  const std::vector<double> v = values(t);
  return std::all_of(v.begin(), v.end(), [](double x) { return std::isfinite(x); });
}

DataSample read_sample(const data::DataLoader& loader, std::int64_t max_batches) {
  DataSample s;
  std::int64_t b = 0;
  for (const data::Batch& batch : loader.epoch(0)) {
    if (b >= max_batches) break;
    const std::int64_t n = batch.inputs.size(0);
    const std::int64_t features = n > 0 ? batch.inputs.numel() / n : 0;
    const std::int64_t width = n > 0 ? batch.targets.numel() / n : 0;
    if (b == 0) {
      s.features = features;
      s.target_width = width;
      s.integer_targets = batch.targets.dtype() == DType::Int64 || batch.targets.dtype() == DType::Int32;
    }
    const std::vector<double> in = values(batch.inputs);
    const std::vector<double> tg = values(batch.targets);
    s.inputs.insert(s.inputs.end(), in.begin(), in.end());
    s.targets.insert(s.targets.end(), tg.begin(), tg.end());
    const Tensor bytes = raw::contiguous(batch.inputs);
    const auto* base = static_cast<const unsigned char*>(bytes.raw_data());
    const std::size_t row_bytes = static_cast<std::size_t>(features) * dtype_size(bytes.dtype());
    for (std::int64_t i = 0; i < n; ++i) {
      s.batch_of_row.push_back(b);
      s.row_in_batch.push_back(i);
      s.dataset_index.push_back(i < batch.size() ? batch.indices[i] : -1);
      s.input_hash.push_back(fnv1a(base + i * row_bytes, row_bytes));
    }
    s.rows += n;
    s.batches.push_back(batch);
    ++b;
  }
  return s;
}

data::Batch gather_rows(const DataSample& sample, const std::vector<std::int64_t>& rows) {
  std::vector<Tensor> inputs, targets;
  data::Batch out;
  for (std::int64_t r : rows) {
    const data::Batch& b = sample.batches[sample.batch_of_row[r]];
    const std::int64_t i = sample.row_in_batch[r];
    inputs.push_back(raw::narrow(b.inputs, 0, i, 1));
    targets.push_back(raw::narrow(b.targets, 0, i, 1));
    out.indices.push_back(sample.dataset_index[r]);
  }
  NoGradGuard no_grad;
  out.inputs = cat(inputs, 0);
  out.targets = cat(targets, 0);
  return out;
}

data::Batch probe_batch(const DataSample& sample, std::int64_t max_rows) {
  std::vector<std::int64_t> rows;
  if (sample.integer_targets && sample.target_width == 1) {
    std::map<std::int64_t, std::vector<std::int64_t>> by_class;
    for (std::int64_t r = 0; r < sample.rows; ++r) by_class[std::llround(sample.targets[r])].push_back(r);
    const std::int64_t per_class =
        std::max<std::int64_t>(1, max_rows / std::max<std::int64_t>(1, static_cast<std::int64_t>(by_class.size())));
    for (const auto& [label, members] : by_class)
      for (std::int64_t k = 0; k < std::min<std::int64_t>(per_class, members.size()); ++k) rows.push_back(members[k]);
    std::sort(rows.begin(), rows.end());
  } else {
    for (std::int64_t r = 0; r < std::min(sample.rows, max_rows); ++r) rows.push_back(r);
  }
  return gather_rows(sample, rows);
}

Tensor eval_forward(nn::Module& model, const Tensor& inputs) {
  const bool was_training = model.training();
  model.eval();
  Tensor out;
  try {
    NoGradGuard no_grad;
    out = model(inputs);
  } catch (...) {
    if (was_training) model.train();
    throw;
  }
  if (was_training) model.train();
  return out;
}

double loss_value(const train::LossFunction& loss, const Tensor& outputs, const Tensor& targets) {
  try {
    NoGradGuard no_grad;
    const Tensor l = loss(outputs, targets);
    if (l.numel() != 1) return std::nan("");
    return values(l)[0];
  } catch (const std::exception&) {
    return std::nan("");
  }
}

bool same_value(double a, double b) {
  if (!std::isfinite(a) || !std::isfinite(b)) return false;
  return std::abs(a - b) <= 1e-5 * std::max({1.0, std::abs(a), std::abs(b)});
}

}  // namespace vigil::doctor::detail
