// CIFAR-10 in its binary form (cifar-10-batches-bin): files of 3073-byte records, one label byte (0-9) then the
// 32x32 image as 1024 red, 1024 green and 1024 blue bytes, rows top to bottom. Loaded into memory.
// Errors name the file and the record: a missing file, a truncated last record, a label outside 0-9.
#pragma once

#include <vigil/data/dataset.hpp>

#include <string>
#include <vector>

namespace vigil::data {

class Cifar10 : public Dataset {
 public:
  // The records of `files`, in order.
  explicit Cifar10(std::vector<std::string> files);
  // data_batch_1.bin ... data_batch_5.bin (50000 examples) when train, else test_batch.bin (10000), from `dir`.
  Cifar10(const std::string& dir, bool train);

  std::int64_t size() const override { return images_.size(0); }
  // input [3, 32, 32] float32 in [0, 1] (the bytes / 255), target the 0-d int64 label.
  Example get(std::int64_t index) const override;
  std::string describe() const override;
  const Tensor& images() const { return images_; }  // [N, 3, 32, 32]
  const Tensor& labels() const { return labels_; }  // [N] int64

 private:
  std::vector<std::string> files_;
  Tensor images_, labels_;
};

}  // namespace vigil::data
