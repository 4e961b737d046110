// IDX files (the MNIST / Fashion-MNIST format), raw or gzip-compressed.
//
// Layout: a 4-byte magic [0, 0, type, ndim], ndim big-endian uint32 extents, then the values row-major.
// vigil reads type 0x08 (unsigned byte), the type every MNIST-family file uses.
// Errors name the file and what was wrong: a missing file, a bad magic, an unsupported type, or fewer bytes than
// the header promises (a truncated download).
#pragma once

#include <vigil/tensor/tensor.hpp>

#include <string>

namespace vigil::data {

// The file's values as a tensor of its own shape: images [N, 28, 28] or labels [N], as float32 (scale 0-255) when
// as_float, else int64 (labels).
Tensor read_idx(const std::string& path, bool as_float);

}  // namespace vigil::data
