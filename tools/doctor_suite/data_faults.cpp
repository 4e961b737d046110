// Data faults: the model, loss and optimiser are sound; what they are fed is not.
#include "suite.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace vigil::doctor_suite {

namespace {

constexpr std::int64_t kFeatures = 20;
constexpr std::int64_t kClasses = 4;

// A tabular task (20 features, 4 classes) that an MLP learns to about 90%.
Arrays tabular(std::int64_t n, std::uint64_t seed) { return blobs(n, kFeatures, kClasses, 0.5, 17, seed); }

std::shared_ptr<nn::Sequential> tabular_mlp(Generator& gen) { return mlp({kFeatures, 64, kClasses}, gen, true); }
std::shared_ptr<nn::Sequential> fashion_mlp(Generator& gen) { return mlp({784, 128, 10}, gen, true); }

Case nan_inputs() {
  return {"data_nan_inputs", Category::data,
          "2% of the rows carry a NaN feature (a missing value read as NaN and never imputed)",
          {"data.non_finite_inputs"}, true, [](std::uint64_t seed) {
            Arrays train = tabular(1024, seed);
            float* p = train.x.data<float>();
            for (std::int64_t i = 0; i < train.x.size(0); i += 50) p[i * kFeatures + 7] = std::nanf("");
            Generator gen(seed);
            return classifier(tabular_mlp(gen), train, tabular(256, seed + 1), 1e-3, seed);
          }};
}

Case raw_pixels() {
  return {"data_raw_pixels", Category::data, "Fashion-MNIST bytes fed as 0-255 floats: never divided by 255",
          {"data.raw_pixels", "data.input_scale"}, true, [](std::uint64_t seed) {
            Arrays train = fashion(0, 1024);
            float* p = train.x.data<float>();
            for (std::int64_t i = 0; i < train.x.numel(); ++i) p[i] = std::round(p[i] * 255.0f);
            Generator gen(seed);
            return classifier(fashion_mlp(gen), train, {}, 1e-3, seed);
          }};
}

Case feature_at_1e6() {
  return {"data_feature_scale", Category::data,
          "one tabular feature is in raw units around 1e6 (a price in cents) while the others are standardised",
          {"data.feature_scale", "data.input_scale"}, false, [](std::uint64_t seed) {
            Arrays train = tabular(1024, seed), validation = tabular(256, seed + 1);
            for (Arrays* a : {&train, &validation}) {
              float* p = a->x.data<float>();
              for (std::int64_t i = 0; i < a->x.size(0); ++i) p[i * kFeatures + 3] = 1e6f + 2e5f * p[i * kFeatures + 3];
            }
            Generator gen(seed);
            return classifier(tabular_mlp(gen), train, validation, 1e-3, seed);
          }};
}

Case labels_out_of_range() {
  return {"data_label_range", Category::data,
          "labels numbered 1..4 (from a 1-based source) for a 4-output head: label 4 does not exist",
          {"data.label_range"}, false, [](std::uint64_t seed) {
            Arrays train = tabular(1024, seed);
            std::int64_t* y = train.y.data<std::int64_t>();
            for (std::int64_t i = 0; i < train.y.numel(); ++i) y[i] += 1;
            Generator gen(seed);
            return classifier(tabular_mlp(gen), train, {}, 1e-3, seed);
          }};
}

Case unshuffled() {
  return {"data_unshuffled", Category::data,
          "the training set is stored sorted by class and the loader does not shuffle: every batch is one class",
          {"data.unshuffled"}, true, [](std::uint64_t seed) {
            Arrays all = fashion_train(2048);
            std::vector<std::int64_t> order(2048);
            std::iota(order.begin(), order.end(), 0);
            const std::int64_t* y = all.y.data<std::int64_t>();
            std::stable_sort(order.begin(), order.end(), [y](std::int64_t a, std::int64_t b) { return y[a] < y[b]; });
            Generator gen(seed);
            Built b = classifier(fashion_mlp(gen), take(all, order), fashion_validation(), 1e-3, seed);
            b.train = make_loader(take(all, order), 32, false, seed);
            return b;
          }};
}

Case train_val_duplicates() {
  return {"data_train_val_duplicates", Category::data,
          "the validation set was cut from the same rows as the training set (half of it is training data)",
          {"data.train_val_duplicates"}, false, [](std::uint64_t seed) {
            Arrays train = fashion_train(1024);
            std::vector<std::int64_t> rows(512);
            for (std::int64_t i = 0; i < 512; ++i) rows[static_cast<std::size_t>(i)] = i < 256 ? 4 * i : 1024 + i;
            Arrays pool = fashion_train(1536);
            Generator gen(seed);
            return classifier(fashion_mlp(gen), train, take(pool, rows), 1e-3, seed);
          }};
}

Case validation_preprocessing() {
  return {"data_validation_preprocessing", Category::data,
          "training images are standardised, the validation pipeline only divides by 255",
          {"data.validation_preprocessing"}, false, [](std::uint64_t seed) {
            Generator gen(seed);
            return classifier(fashion_mlp(gen), fashion_train(1024), fashion(9488, 512), 1e-3, seed);
          }};
}

Case leaking_feature() {
  return {"data_feature_leak", Category::data,
          "a column derived from the label (an outcome code recorded after the fact) sits among the features",
          {"data.feature_leak"}, false, [](std::uint64_t seed) {
            Arrays train = blobs(1024, kFeatures, kClasses, 0.2, 17, seed),
                   validation = blobs(256, kFeatures, kClasses, 0.2, 17, seed + 1);
            Generator noise(seed + 2);
            for (Arrays* a : {&train, &validation}) {
              float* p = a->x.data<float>();
              const std::int64_t* y = a->y.data<std::int64_t>();
              for (std::int64_t i = 0; i < a->x.size(0); ++i)
                p[i * kFeatures + 11] = static_cast<float>(y[i]) - 1.5f + 0.05f * noise.normal();
            }
            Generator gen(seed);
            return classifier(tabular_mlp(gen), train, validation, 1e-3, seed);
          }};
}

Case constant_samples() {
  return {"data_constant_samples", Category::data,
          "a fifth of the images failed to decode and were stored as all-zero arrays, with their labels kept",
          {"data.constant_samples"}, false, [](std::uint64_t seed) {
            Arrays train = fashion(0, 1024);
            float* p = train.x.data<float>();
            for (std::int64_t i = 0; i < 1024; i += 5) std::fill(p + i * 784, p + (i + 1) * 784, 0.0f);
            train.x = standardise_pixels(train.x);
            Generator gen(seed);
            return classifier(fashion_mlp(gen), train, fashion_validation(), 1e-3, seed);
          }};
}

Case imbalance() {
  return {"data_class_imbalance", Category::data,
          "a 97:3 binary task trained with plain cross-entropy: predicting the majority already scores 97%",
          {"data.class_imbalance"}, false, [](std::uint64_t seed) {
            Arrays train = blobs(0, kFeatures, 2, 0.3, 17, seed, {1000, 30});
            Arrays validation = blobs(0, kFeatures, 2, 0.3, 17, seed + 1, {300, 10});
            Generator gen(seed);
            return classifier(mlp({kFeatures, 64, 2}, gen, true), train, validation, 1e-3, seed);
          }};
}

}  // namespace

std::vector<Case> data_cases() {
  return {nan_inputs(),           raw_pixels(),           feature_at_1e6(),
          labels_out_of_range(),  unshuffled(),           train_val_duplicates(),
          validation_preprocessing(), leaking_feature(),  constant_samples(),
          imbalance()};
}

}  // namespace vigil::doctor_suite
