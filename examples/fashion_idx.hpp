// Shared by the Fashion-MNIST benchmark examples (fashion_mlp, fashion_cnn): the IDX files loaded whole into
// tensors and standardised as ../shared/bench/torch_reference.py does, so that both run the reference's recipe.
#pragma once

#include <vigil/data/idx.hpp>
#include <vigil/tensor/error.hpp>
#include <vigil/tensor/tensor.hpp>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <string>

namespace vigil::examples {

struct FashionSplit {
  Tensor images;  // [N, 28, 28] float32, 0-255 until standardise()
  Tensor labels;  // [N] int64
};

// `prefix` is "train" or "t10k". Throws naming the files when image and label counts differ.
inline FashionSplit load_fashion_split(const std::string& dir, const std::string& prefix) {
  Tensor images = data::read_idx(dir + "/" + prefix + "-images-idx3-ubyte.gz", true);
  Tensor labels = data::read_idx(dir + "/" + prefix + "-labels-idx1-ubyte.gz", false);
  VIGIL_CHECK(images.size(0) == labels.size(0), Error, "{}: {} images but {} labels", dir + "/" + prefix,
              images.size(0), labels.size(0));
  return {images, labels};
}

// Both splits' pixels become (x / 255 - mean) / std in place, with the single mean and (population) standard
// deviation of the training images, as the reference does.
inline void standardise_with_training_statistics(FashionSplit& train, FashionSplit& test) {
  const float* p = train.images.data<float>();
  double s = 0, s2 = 0;
  for (std::int64_t i = 0; i < train.images.numel(); ++i) s += p[i] / 255.0, s2 += (p[i] / 255.0) * (p[i] / 255.0);
  const double count = static_cast<double>(train.images.numel());
  const double mean = s / count, stddev = std::sqrt(s2 / count - mean * mean);
  for (Tensor* x : {&train.images, &test.images}) {
    float* q = x->data<float>();
    for (std::int64_t i = 0; i < x->numel(); ++i) q[i] = static_cast<float>((q[i] / 255.0 - mean) / stddev);
  }
}

inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace vigil::examples
