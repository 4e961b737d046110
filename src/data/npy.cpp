#include <vigil/data/npy.hpp>

#include <fmt/ranges.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <string_view>
#include <vector>

namespace vigil::data {
namespace {

constexpr std::string_view kMagic = "\x93NUMPY";

// The parts of the header dict vigil uses.
struct Header {
  std::string descr;
  bool fortran_order = false;
  Shape shape;
};

// A recursive-descent reader for the one dict literal numpy writes: string keys; values that are strings,
// True/False, or tuples of integers. Errors quote the header.
class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& path) : text_(text), path_(path) {}

  Header parse() {
    Header header;
    bool has_descr = false, has_order = false, has_shape = false;
    expect('{');
    while (!peek('}')) {
      const std::string key = string_literal();
      expect(':');
      if (key == "descr") {
        header.descr = string_literal();
        has_descr = true;
      } else if (key == "fortran_order") {
        header.fortran_order = boolean();
        has_order = true;
      } else if (key == "shape") {
        header.shape = tuple();
        has_shape = true;
      } else {
        fail(fmt::format("unknown key '{}'", key));
      }
      if (!peek('}')) expect(',');
    }
    expect('}');
    if (!has_descr || !has_order || !has_shape) fail("it must have the keys 'descr', 'fortran_order' and 'shape'");
    return header;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw Error(fmt::format("{}: malformed .npy header ({}, at character {}): {}", path_, what, pos_,
                            std::string(trim_end(text_))));
  }
  static std::string_view trim_end(std::string_view s) {
    while (!s.empty() && (s.back() == ' ' || s.back() == '\n')) s.remove_suffix(1);
    return s;
  }
  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' || text_[pos_] == '\t')) ++pos_;
  }
  bool peek(char c) {
    skip_space();
    return pos_ < text_.size() && text_[pos_] == c;
  }
  void expect(char c) {
    if (!peek(c)) fail(fmt::format("expected '{}'", c));
    ++pos_;
  }
  std::string string_literal() {
    skip_space();
    if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"')) fail("expected a quoted string");
    const char quote = text_[pos_++];
    const std::size_t end = text_.find(quote, pos_);
    if (end == std::string_view::npos) fail("unterminated string");
    std::string out(text_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return out;
  }
  bool boolean() {
    skip_space();
    for (const auto& [word, value] : {std::pair{std::string_view("True"), true}, std::pair{std::string_view("False"), false}})
      if (text_.substr(pos_, word.size()) == word) {
        pos_ += word.size();
        return value;
      }
    fail("expected True or False");
  }
  Shape tuple() {
    Shape shape;
    expect('(');
    while (!peek(')')) {
      skip_space();
      std::int64_t extent = 0;
      std::size_t digits = 0;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
        extent = extent * 10 + (text_[pos_++] - '0');
        if (++digits > 15) fail("extent too large");
      }
      if (digits == 0) fail("expected a non-negative integer extent");
      if (shape.size() == kMaxDims) fail(fmt::format("more than {} dims", kMaxDims));
      shape.push_back(extent);
      if (!peek(')')) expect(',');
    }
    expect(')');
    return shape;
  }

  std::string_view text_;
  const std::string& path_;
  std::size_t pos_ = 0;
};

// The element size and the tensor dtype of a supported descr.
struct Layout {
  std::size_t item_size;
  DType dtype;
};

Layout layout_of(const std::string& descr, const std::string& path) {
  VIGIL_CHECK(descr.size() >= 2, Error, "{}: malformed .npy dtype '{}'", path, descr);
  const char order = descr[0];
  VIGIL_CHECK(order != '>', Error,
              "{}: big-endian data ('{}') is not supported; re-save it little-endian, e.g. "
              "np.save(path, a.astype(a.dtype.newbyteorder('<')))",
              path, descr);
  const std::string type = descr.substr(1);
  const bool single_byte = type == "u1" || type == "b1" || type == "i1";
  VIGIL_CHECK(order == '<' || (order == '|' && single_byte) || order == '=', Error,
              "{}: .npy dtype '{}' has an unknown byte-order character '{}'", path, descr, order);
  if (type == "f4") return {4, DType::Float32};
  if (type == "f8") return {8, DType::Float64};
  if (type == "i8") return {8, DType::Int64};
  if (type == "i4") return {4, DType::Int64};
  if (type == "u1") return {1, DType::Int64};
  if (type == "b1") return {1, DType::Bool};
  throw Error(fmt::format("{}: .npy dtype '{}' is not supported (vigil reads <f4, <f8, <i8, <i4, |u1 and |b1)", path,
                          descr));
}

std::vector<char> read_bytes(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  VIGIL_CHECK(file.is_open(), Error, "{}: cannot open the file", path);
  return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

std::uint32_t little_endian(const char* p, int bytes) {
  std::uint32_t value = 0;
  for (int i = bytes - 1; i >= 0; --i) value = (value << 8) | static_cast<unsigned char>(p[i]);
  return value;
}

}  // namespace

Tensor read_npy(const std::string& path) {
  const std::vector<char> bytes = read_bytes(path);
  VIGIL_CHECK(bytes.size() >= kMagic.size() + 2 && std::string_view(bytes.data(), kMagic.size()) == kMagic, Error,
              "{}: not a .npy file (it must start with \\x93NUMPY)", path);
  const int major = static_cast<unsigned char>(bytes[6]);
  VIGIL_CHECK(major >= 1 && major <= 3, Error, "{}: .npy format version {}.{} is not supported (1 to 3 are)", path,
              major, static_cast<int>(static_cast<unsigned char>(bytes[7])));
  const int length_bytes = major == 1 ? 2 : 4;
  const std::size_t prefix = 8 + static_cast<std::size_t>(length_bytes);
  VIGIL_CHECK(bytes.size() >= prefix, Error, "{}: truncated .npy file (no header length)", path);
  const std::size_t header_length = little_endian(bytes.data() + 8, length_bytes);
  VIGIL_CHECK(bytes.size() >= prefix + header_length, Error,
              "{}: truncated .npy header: {} bytes declared, {} present", path, header_length, bytes.size() - prefix);
  const Header header = HeaderParser(std::string_view(bytes.data() + prefix, header_length), path).parse();
  const Layout layout = layout_of(header.descr, path);
  VIGIL_CHECK(!header.fortran_order || header.shape.size() <= 1, Error,
              "{}: the array is in Fortran order; re-save it in C order, e.g. np.save(path, np.ascontiguousarray(a))",
              path);

  const std::size_t offset = prefix + header_length;
  const auto count = static_cast<std::size_t>(header.shape.numel());
  VIGIL_CHECK(bytes.size() - offset >= count * layout.item_size, Error,
              "{}: truncated: shape {} of '{}' needs {} data bytes but {} follow the header", path,
              header.shape.str(), header.descr, count * layout.item_size, bytes.size() - offset);
  Tensor out = empty(header.shape, TensorOptions{layout.dtype});
  const char* data = bytes.data() + offset;
  if (layout.item_size == dtype_size(layout.dtype)) {
    std::memcpy(out.raw_data(), data, count * layout.item_size);  // x86 is little-endian, like the file
  } else if (layout.item_size == 4) {
    std::int64_t* dst = out.data<std::int64_t>();
    for (std::size_t i = 0; i < count; ++i) {
      std::int32_t v;
      std::memcpy(&v, data + 4 * i, 4);
      dst[i] = v;
    }
  } else {
    std::int64_t* dst = out.data<std::int64_t>();
    for (std::size_t i = 0; i < count; ++i) dst[i] = static_cast<unsigned char>(data[i]);
  }
  return out;
}

void write_npy(const std::string& path, const Tensor& x) {
  std::string descr;
  switch (x.dtype()) {
    case DType::Float32: descr = "<f4"; break;
    case DType::Float64: descr = "<f8"; break;
    case DType::Int64: descr = "<i8"; break;
    case DType::Bool: descr = "|b1"; break;
    default: throw DTypeError(fmt::format("write_npy: {} tensors cannot be written", dtype_name(x.dtype())));
  }
  std::string shape = fmt::format("{}", fmt::join(x.shape().span(), ", "));
  if (x.dim() == 1) shape += ",";  // a Python 1-tuple: (3,)
  std::string header = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': ({}), }}", descr, shape);
  // numpy pads so that the data starts at a multiple of 64 bytes; the header ends with a newline.
  const std::size_t total = kMagic.size() + 4 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  std::ofstream file(path, std::ios::binary);
  VIGIL_CHECK(file.is_open(), Error, "{}: cannot open the file for writing", path);
  const auto length = static_cast<std::uint16_t>(header.size());
  const char version_and_length[4] = {1, 0, static_cast<char>(length & 0xff), static_cast<char>(length >> 8)};
  file.write(kMagic.data(), static_cast<std::streamsize>(kMagic.size()));
  file.write(version_and_length, 4);
  file << header;
  const Tensor data = raw::contiguous(x);
  file.write(static_cast<const char*>(data.raw_data()),
             static_cast<std::streamsize>(static_cast<std::size_t>(data.numel()) * dtype_size(data.dtype())));
  VIGIL_CHECK(file.good(), Error, "{}: write failed", path);
}

namespace {

// Both files, checked to hold the same number of examples; integer or bool inputs become float32.
std::pair<Tensor, Tensor> read_pair(const std::string& inputs_path, const std::string& targets_path) {
  Tensor inputs = read_npy(inputs_path), targets = read_npy(targets_path);
  VIGIL_CHECK(inputs.dim() >= 1 && targets.dim() >= 1 && inputs.size(0) == targets.size(0), ShapeError,
              "NumPy pair: {} has shape {} but {} has shape {} (the first extents, the example counts, must match)",
              inputs_path, inputs.shape().str(), targets_path, targets.shape().str());
  if (!is_floating(inputs.dtype())) inputs = raw::to_dtype(inputs, DType::Float32);
  return {inputs, targets};
}

}  // namespace

NpyDataset::NpyDataset(const std::string& inputs_path, const std::string& targets_path)
    : NpyDataset(read_pair(inputs_path, targets_path), inputs_path, targets_path) {}

NpyDataset::NpyDataset(std::pair<Tensor, Tensor> data, const std::string& inputs_path, const std::string& targets_path)
    : TensorDataset(std::move(data.first), std::move(data.second)),
      inputs_path_(inputs_path),
      targets_path_(targets_path) {}

std::string NpyDataset::describe() const { return fmt::format("NumPy {} + {}", inputs_path_, targets_path_); }

}  // namespace vigil::data
