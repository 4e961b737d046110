#include "suite.hpp"

#include <vigil/data/datasets.hpp>
#include <vigil/data/idx.hpp>
#include <vigil/tensor/error.hpp>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace vigil::doctor_suite {

std::string to_string(Category category) {
  switch (category) {
    case Category::data: return "data";
    case Category::model: return "model";
    case Category::loss: return "loss";
    case Category::optimisation: return "optimisation";
    case Category::implementation: return "implementation";
    case Category::healthy: return "healthy";
  }
  return "unknown";
}

std::vector<Case> all_cases() {
  std::vector<Case> out;
  for (auto part : {data_cases, model_cases, training_cases, implementation_cases, healthy_cases})
    for (Case& c : part()) out.push_back(std::move(c));
  return out;
}

namespace {

struct FashionFile {
  Tensor images;  // [10000, 1, 28, 28] in [0, 1]
  Tensor labels;  // [10000] int64
};

const FashionFile& fashion_file() {
  static std::once_flag once;
  static FashionFile file;
  std::call_once(once, [] {
    const char* env = std::getenv("VIGIL_FASHION_DIR");
    const std::string dir = env != nullptr ? env : "/usr/share/datasets/fashion-mnist";
    data::FashionMnist test(dir, false);
    file.images = test.images();
    file.labels = test.labels();
  });
  return file;
}

}  // namespace

Arrays fashion(std::int64_t offset, std::int64_t n) {
  const FashionFile& f = fashion_file();
  VIGIL_CHECK(offset >= 0 && offset + n <= f.images.size(0), Error, "doctor_suite: fashion({}, {}) past {} images",
              offset, n, f.images.size(0));
  return {raw::clone(raw::narrow(f.images, 0, offset, n)), raw::clone(raw::narrow(f.labels, 0, offset, n))};
}

Tensor standardise_pixels(const Tensor& x) {
  Tensor out = raw::clone(x);
  float* p = out.data<float>();
  for (std::int64_t i = 0; i < out.numel(); ++i) p[i] = (p[i] - 0.2860f) / 0.3530f;
  return out;
}

Arrays blobs(std::int64_t n, std::int64_t features, std::int64_t classes, double separation, std::uint64_t task_seed,
             std::uint64_t sample_seed, const std::vector<std::int64_t>& counts) {
  Generator task(task_seed);
  std::vector<float> centres(static_cast<std::size_t>(classes * features));
  for (float& c : centres) c = static_cast<float>(separation) * task.normal();
  Generator gen(sample_seed);
  std::vector<std::int64_t> labels;
  if (counts.empty()) {
    for (std::int64_t i = 0; i < n; ++i) labels.push_back(i % classes);
  } else {
    for (std::int64_t c = 0; c < classes; ++c) labels.insert(labels.end(), static_cast<std::size_t>(counts[c]), c);
    for (std::size_t i = labels.size(); i > 1; --i) std::swap(labels[i - 1], labels[gen.below(i)]);
  }
  const auto rows = static_cast<std::int64_t>(labels.size());
  Tensor x = empty(Shape{rows, features});
  float* p = x.data<float>();
  for (std::int64_t i = 0; i < rows; ++i)
    for (std::int64_t j = 0; j < features; ++j)
      p[i * features + j] = centres[static_cast<std::size_t>(labels[i] * features + j)] + gen.normal();
  return {x, from_vector_i64(labels, Shape{rows})};
}

namespace {

Tensor take_rows(const Tensor& t, const std::vector<std::int64_t>& indices) {
  const Tensor src = raw::contiguous(t);
  Shape shape = src.shape();
  shape[0] = static_cast<std::int64_t>(indices.size());
  Tensor out = empty(shape, TensorOptions{src.dtype()});
  const std::size_t row = dtype_size(src.dtype()) * static_cast<std::size_t>(src.numel() / src.size(0));
  const auto* from = static_cast<const std::byte*>(src.raw_data());
  auto* to = static_cast<std::byte*>(out.raw_data());
  for (std::size_t i = 0; i < indices.size(); ++i)
    std::memcpy(to + i * row, from + static_cast<std::size_t>(indices[i]) * row, row);
  return out;
}

}  // namespace

Arrays take(const Arrays& a, const std::vector<std::int64_t>& indices) {
  return {take_rows(a.x, indices), take_rows(a.y, indices)};
}

std::shared_ptr<data::DataLoader> make_loader(const Arrays& a, std::int64_t batch_size, bool shuffle,
                                              std::uint64_t seed) {
  auto dataset = std::make_shared<data::TensorDataset>(a.x, a.y);
  return std::make_shared<data::DataLoader>(
      dataset, data::LoaderOptions{.batch_size = batch_size, .shuffle = shuffle, .seed = seed});
}

std::shared_ptr<nn::Sequential> mlp(const std::vector<std::int64_t>& widths, Generator& gen, bool flatten) {
  auto model = std::make_shared<nn::Sequential>();
  if (flatten) model->push_back(std::make_shared<nn::Flatten>());
  for (std::size_t i = 0; i + 1 < widths.size(); ++i) {
    model->push_back(std::make_shared<nn::Linear>(widths[i], widths[i + 1], gen));
    if (i + 2 < widths.size()) model->push_back(std::make_shared<nn::ReLU>());
  }
  return model;
}

train::LossFunction cross_entropy(nn::CrossEntropyOptions options) {
  return [options](const Tensor& out, const Tensor& y) { return nn::cross_entropy(out, y, options); };
}

train::LossFunction mse() {
  return [](const Tensor& out, const Tensor& y) { return nn::mse_loss(out, y); };
}

Built classifier(std::shared_ptr<nn::Module> model, const Arrays& train_set, const Arrays& validation_set,
                 double lr, std::uint64_t seed) {
  Built b;
  b.model = std::move(model);
  b.loss = cross_entropy();
  b.optimizer = std::make_unique<optim::Adam>(optim::named_parameters(*b.model), optim::AdamOptions{.lr = lr});
  b.train = make_loader(train_set, 64, true, seed);
  if (validation_set.x.defined()) b.validation = make_loader(validation_set, 256, false, seed);
  b.metrics = {"accuracy"};
  return b;
}

Arrays fashion_train(std::int64_t n) {
  Arrays a = fashion(0, n);
  a.x = standardise_pixels(a.x);
  return a;
}

Arrays fashion_validation() {
  Arrays a = fashion(9488, 512);
  a.x = standardise_pixels(a.x);
  return a;
}

}  // namespace vigil::doctor_suite
