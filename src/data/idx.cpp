#include <vigil/data/idx.hpp>

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <filesystem>
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
  const unsigned char* values = bytes.data() + offset;
  if (as_float) std::copy(values, values + count, out.data<float>());
  else std::copy(values, values + count, out.data<std::int64_t>());
  return out;
}

IdxDataset::IdxDataset(std::string images_path, std::string labels_path)
    : images_path_(std::move(images_path)), labels_path_(std::move(labels_path)) {
  Tensor images = read_idx(images_path_, true);
  labels_ = read_idx(labels_path_, false);
  VIGIL_CHECK(images.dim() == 3, Error, "{}: expected images [N, H, W], found shape {}", images_path_,
              images.shape().str());
  VIGIL_CHECK(labels_.dim() == 1, Error, "{}: expected labels [N], found shape {}", labels_path_, labels_.shape().str());
  VIGIL_CHECK(images.size(0) == labels_.size(0), Error, "IDX pair: {} holds {} images but {} holds {} labels",
              images_path_, images.size(0), labels_path_, labels_.size(0));
  float* pixels = images.data<float>();
  for (std::int64_t i = 0; i < images.numel(); ++i) pixels[i] /= 255.0f;
  images_ = raw::unsqueeze(images, 1);
}

Example IdxDataset::get(std::int64_t index) const {
  check_index(*this, index);
  return {raw::clone(raw::squeeze(raw::narrow(images_, 0, index, 1), 0)),
          raw::clone(raw::squeeze(raw::narrow(labels_, 0, index, 1), 0))};
}

std::string IdxDataset::describe() const { return fmt::format("IDX {} + {}", images_path_, labels_path_); }

FashionMnist::FashionMnist(const std::string& dir, bool train)
    : IdxDataset((std::filesystem::path(dir) / (train ? "train-images-idx3-ubyte.gz" : "t10k-images-idx3-ubyte.gz")).string(),
                 (std::filesystem::path(dir) / (train ? "train-labels-idx1-ubyte.gz" : "t10k-labels-idx1-ubyte.gz")).string()) {}

}  // namespace vigil::data
