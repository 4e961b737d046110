// NumPy .npy files (format versions 1.0, 2.0 and 3.0), the way numpy.save writes one array.
//
// Layout: the magic "\x93NUMPY", major and minor version bytes, the header length (2 bytes little-endian in
// version 1, 4 bytes in 2 and 3), then a Python dict literal such as
//   {'descr': '<f4', 'fortran_order': False, 'shape': (60000, 784), }
// padded with spaces and a newline, then the values.
// vigil reads little-endian C-order arrays of '<f4' (float32), '<f8' (float64), '<i8' (int64), '<i4' and '|u1'
// (both widened to int64: vigil has no uint8 tensors; the values are exact) and '|b1' (bool). Big-endian data,
// Fortran order, other types, a malformed header and a truncated file throw an Error that names the file and the
// problem, and says how to re-save the array where that is the fix.
#pragma once

#include <vigil/data/datasets.hpp>

#include <string>
#include <utility>

namespace vigil::data {

Tensor read_npy(const std::string& path);
// Writes x (float32, float64, int64 or bool; any layout) as a version 1.0 C-order little-endian .npy file.
void write_npy(const std::string& path, const Tensor& x);

// Two .npy files as a TensorDataset (ShapeError naming both files unless their first extents match): inputs [N, ...] (integer or bool arrays converted to float32, values kept,
// e.g. 0-255 for uint8 images) and targets [N, ...] (kept as read: int64 [N] gives class labels).
class NpyDataset : public TensorDataset {
 public:
  NpyDataset(const std::string& inputs_path, const std::string& targets_path);
  std::string describe() const override;

 private:
  NpyDataset(std::pair<Tensor, Tensor> data, const std::string& inputs_path, const std::string& targets_path);
  std::string inputs_path_, targets_path_;
};

}  // namespace vigil::data
