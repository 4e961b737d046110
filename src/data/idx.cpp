#include <vigil/data/idx.hpp>

#include <zlib.h>

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

namespace vigil::data {
namespace {

// Reads the whole file through zlib, which passes uncompressed files through unchanged.
std::vector<unsigned char> read_all(const std::string& path) {
  std::unique_ptr<gzFile_s, int (*)(gzFile)> file(gzopen(path.c_str(), "rb"), gzclose);
  VIGIL_CHECK(file != nullptr, Error, "{}: cannot open the file", path);
  std::vector<unsigned char> bytes;
  std::array<unsigned char, 1 << 16> chunk;
  for (;;) {
    const int n = gzread(file.get(), chunk.data(), chunk.size());
    VIGIL_CHECK(n >= 0, Error, "{}: corrupt gzip data after {} bytes", path, bytes.size());
    if (n == 0) break;
    bytes.insert(bytes.end(), chunk.begin(), chunk.begin() + n);
  }
  return bytes;
}

std::uint32_t big_endian_u32(const unsigned char* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

}  // namespace

Tensor read_idx(const std::string& path, bool as_float) {
  const std::vector<unsigned char> bytes = read_all(path);
  VIGIL_CHECK(bytes.size() >= 4 && bytes[0] == 0 && bytes[1] == 0, Error,
              "{}: not an IDX file (the magic number must start with two zero bytes)", path);
  VIGIL_CHECK(bytes[2] == 0x08, Error, "{}: IDX value type 0x{:02x} is not supported (expected 0x08, unsigned byte)",
              path, bytes[2]);
  const int ndim = bytes[3];
  VIGIL_CHECK(ndim >= 1 && ndim <= kMaxDims, Error, "{}: IDX header declares {} dims (expected 1 to {})", path, ndim,
              kMaxDims);
  VIGIL_CHECK(bytes.size() >= 4 + 4 * static_cast<std::size_t>(ndim), Error, "{}: truncated IDX header", path);
  Shape shape;
  for (int d = 0; d < ndim; ++d) shape.push_back(big_endian_u32(&bytes[4 + 4 * static_cast<std::size_t>(d)]));
  const std::size_t offset = 4 + 4 * static_cast<std::size_t>(ndim);
  const auto count = static_cast<std::size_t>(shape.numel());
  VIGIL_CHECK(bytes.size() - offset >= count, Error,
              "{}: truncated: the header promises shape {} ({} values) but only {} follow", path, shape.str(), count,
              bytes.size() - offset);
  Tensor out = empty(shape, TensorOptions{as_float ? DType::Float32 : DType::Int64});
  for (std::size_t i = 0; i < count; ++i) {
    if (as_float) out.data<float>()[i] = bytes[offset + i];
    else out.data<std::int64_t>()[i] = bytes[offset + i];
  }
  return out;
}

}  // namespace vigil::data
