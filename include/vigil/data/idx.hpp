// IDX files (the MNIST / Fashion-MNIST format), raw or gzip-compressed.
//
// Layout: a 4-byte magic [0, 0, type, ndim], ndim big-endian uint32 extents, then the values row-major.
// vigil reads type 0x08 (unsigned byte), the type every MNIST-family file uses.
// Errors name the file and what was wrong: a missing file, a bad magic, an unsupported type, or fewer bytes than
// the header promises (a truncated download).
#pragma once

#include <vigil/data/dataset.hpp>
#include <vigil/tensor/tensor.hpp>

#include <string>

namespace vigil::data {

// The file's values as a tensor of its own shape: images [N, 28, 28] or labels [N], as float32 (scale 0-255) when
// as_float, else int64 (labels).
Tensor read_idx(const std::string& path, bool as_float);

// An image file [N, H, W] and a label file [N], loaded into memory. Example i: input [1, H, W] float32 in [0, 1]
// (the bytes / 255), target the 0-d int64 label. The files must agree on N: an Error names both files and both
// counts otherwise (a train image file paired with a test label file, say).
class IdxDataset : public Dataset {
 public:
  IdxDataset(std::string images_path, std::string labels_path);
  std::int64_t size() const override { return images_.size(0); }
  Example get(std::int64_t index) const override;
  std::string describe() const override;
  // [N, 1, H, W] float32 in [0, 1] and [N] int64.
  const Tensor& images() const { return images_; }
  const Tensor& labels() const { return labels_; }

 private:
  std::string images_path_, labels_path_;
  Tensor images_, labels_;
};

// Fashion-MNIST (or MNIST: same file names) from `dir`: train-images-idx3-ubyte.gz + train-labels-idx1-ubyte.gz
// (60000 examples) when train, else the t10k-* pair (10000). Classes 0-9.
class FashionMnist : public IdxDataset {
 public:
  FashionMnist(const std::string& dir, bool train);
};

}  // namespace vigil::data
