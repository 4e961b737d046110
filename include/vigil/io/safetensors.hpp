// safetensors: the weight file format PyTorch, JAX and the Hugging Face tools share.
//
// Layout (all integers little-endian):
//   bytes [0, 8)        N, the length of the JSON header, as a uint64
//   bytes [8, 8 + N)    the JSON header, padded with spaces to a multiple of 8 bytes so that the data is aligned:
//                         {"__metadata__": {"key": "value", ...},            (optional; strings only)
//                          "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...}
//   bytes [8 + N, ...)  the data: each tensor's values row-major, at [begin, end) counted from the data's start.
// dtypes: F32, F64, BF16, I32, I64, BOOL (one byte, 0 or 1) -- vigil's six. A file with another dtype (F16, U8,
// ...) is refused with an Error naming it.
//
// Loading trusts nothing: every field is checked before any data is read, and a malformed file (header length
// past the end, bad JSON, an unknown dtype, offsets out of range, overlapping, leaving holes or disagreeing with
// shape x dtype size, a truncated file, a bool byte other than 0 or 1) throws Error naming the file, the tensor
// and the field. It never crashes or reads out of bounds.
//
// PyTorch users read and write these files with `safetensors.torch`, or with a few lines of numpy:
// tools/io/safetensors_numpy.py shows how.
#pragma once

#include <vigil/tensor/tensor.hpp>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace vigil::io {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;
using Metadata = std::map<std::string, std::string>;

struct SafetensorsFile {
  NamedTensors tensors;  // in the order of their data in the file (for files vigil wrote: the order saved)
  Metadata metadata;     // the "__metadata__" entries; empty when the file has none
};

// Writes `tensors` (any dtype, any layout: non-contiguous tensors are written row-major) and `metadata` to
// `path`, atomically (see vigil/data/atomic_file.hpp). Header entries and data follow the order of `tensors`.
// Requires: names non-empty, distinct and not "__metadata__"; throws Error otherwise.
void save_safetensors(const std::string& path, const NamedTensors& tensors, const Metadata& metadata = {});

// Reads every tensor (as new contiguous tensors that require no gradient) and the metadata of `path`.
SafetensorsFile load_safetensors(const std::string& path);

}  // namespace vigil::io
