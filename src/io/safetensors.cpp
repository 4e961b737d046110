// safetensors writer and validating reader (format in safetensors.hpp).
#include <vigil/io/safetensors.hpp>

#include <vigil/data/atomic_file.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <set>

namespace vigil::io {

// Tensor bytes go to and from the file as they are in memory, which is right only on a little-endian machine.
static_assert(std::endian::native == std::endian::little, "safetensors I/O assumes a little-endian host");

namespace {

using Json = nlohmann::ordered_json;  // keeps the header's key order

constexpr std::array<std::pair<DType, std::string_view>, 6> kDTypeCodes = {{
    {DType::Float32, "F32"},
    {DType::Float64, "F64"},
    {DType::BFloat16, "BF16"},
    {DType::Int32, "I32"},
    {DType::Int64, "I64"},
    {DType::Bool, "BOOL"},
}};

std::string_view dtype_code(DType dtype) {
  for (const auto& [d, code] : kDTypeCodes) {
    if (d == dtype) return code;
  }
  throw DTypeError(fmt::format("save_safetensors: no safetensors code for dtype {}", dtype_name(dtype)));
}

// One tensor's header entry, validated.
struct Entry {
  std::string name;
  DType dtype;
  Shape shape;
  std::uint64_t begin;
  std::uint64_t end;
};

std::uint64_t read_u64_le(const unsigned char* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// Reads exactly `size` bytes at `offset`, or throws naming what was being read.
void read_exact(std::ifstream& in, const std::string& path, std::uint64_t offset, char* out, std::uint64_t size,
                const std::string& what) {
  in.seekg(static_cast<std::streamoff>(offset));
  in.read(out, static_cast<std::streamsize>(size));
  VIGIL_CHECK(in && static_cast<std::uint64_t>(in.gcount()) == size, Error,
              "{}: truncated: cannot read {} ({} bytes at offset {})", path, what, size, offset);
}

DType parse_dtype(const Json& value, const std::string& path, const std::string& name) {
  VIGIL_CHECK(value.is_string(), Error, "{}: tensor '{}': field 'dtype' must be a string, got {}", path, name,
              value.dump());
  const auto& code = value.get_ref<const std::string&>();
  for (const auto& [d, c] : kDTypeCodes) {
    if (c == code) return d;
  }
  throw Error(fmt::format("{}: tensor '{}': field 'dtype': unknown or unsupported dtype '{}' (vigil reads F32, F64, "
                          "BF16, I32, I64, BOOL)",
                          path, name, code));
}

Shape parse_shape(const Json& value, const std::string& path, const std::string& name) {
  VIGIL_CHECK(value.is_array(), Error, "{}: tensor '{}': field 'shape' must be an array, got {}", path, name,
              value.dump());
  VIGIL_CHECK(value.size() <= static_cast<std::size_t>(kMaxDims), Error,
              "{}: tensor '{}': field 'shape' has {} dims; vigil tensors have at most {}", path, name, value.size(),
              kMaxDims);
  Shape shape;
  for (const Json& d : value) {
    VIGIL_CHECK(d.is_number_unsigned() && d.get<std::uint64_t>() <= static_cast<std::uint64_t>(INT64_MAX), Error,
                "{}: tensor '{}': field 'shape' must hold non-negative integers, got {}", path, name, value.dump());
    shape.push_back(static_cast<std::int64_t>(d.get<std::uint64_t>()));
  }
  return shape;
}

Entry parse_entry(const std::string& name, const Json& info, const std::string& path) {
  VIGIL_CHECK(info.is_object(), Error, "{}: tensor '{}': header entry must be an object, got {}", path, name,
              info.dump());
  for (const char* field : {"dtype", "shape", "data_offsets"}) {
    VIGIL_CHECK(info.contains(field), Error, "{}: tensor '{}': field '{}' is missing", path, name, field);
  }
  Entry entry{name, parse_dtype(info["dtype"], path, name), parse_shape(info["shape"], path, name), 0, 0};
  const Json& offsets = info["data_offsets"];
  VIGIL_CHECK(offsets.is_array() && offsets.size() == 2 && offsets[0].is_number_unsigned() &&
                  offsets[1].is_number_unsigned(),
              Error, "{}: tensor '{}': field 'data_offsets' must be [begin, end] with non-negative integers, got {}",
              path, name, offsets.dump());
  entry.begin = offsets[0].get<std::uint64_t>();
  entry.end = offsets[1].get<std::uint64_t>();
  return entry;
}

// Checks one entry's byte range against the data section and against shape x dtype size.
void check_extent(const Entry& e, std::uint64_t data_size, const std::string& path) {
  VIGIL_CHECK(e.begin <= e.end && e.end <= data_size, Error,
              "{}: tensor '{}': field 'data_offsets' [{}, {}] is out of range: the data section holds {} bytes{}",
              path, e.name, e.begin, e.end, data_size, data_size == 0 ? "" : " (is the file truncated?)");
  // numel x element size, with overflow caught: a huge shape must not wrap around to a small number.
  std::uint64_t bytes = dtype_size(e.dtype);
  for (const std::int64_t d : e.shape) {
    VIGIL_CHECK(!__builtin_mul_overflow(bytes, static_cast<std::uint64_t>(d), &bytes), Error,
                "{}: tensor '{}': field 'shape' {} overflows a 64-bit byte count", path, e.name, e.shape.str());
  }
  VIGIL_CHECK(bytes == e.end - e.begin, Error,
              "{}: tensor '{}': field 'data_offsets' [{}, {}] spans {} bytes but shape {} of {} needs {}", path,
              e.name, e.begin, e.end, e.end - e.begin, e.shape.str(), dtype_code(e.dtype), bytes);
}

Metadata parse_metadata(const Json& value, const std::string& path) {
  VIGIL_CHECK(value.is_object(), Error, "{}: field '__metadata__' must be an object of strings, got {}", path,
              value.dump());
  Metadata metadata;
  for (const auto& [key, v] : value.items()) {
    VIGIL_CHECK(v.is_string(), Error, "{}: field '__metadata__': value of '{}' must be a string, got {}", path, key,
                v.dump());
    metadata[key] = v.get<std::string>();
  }
  return metadata;
}

}  // namespace

void save_safetensors(const std::string& path, const NamedTensors& tensors, const Metadata& metadata) {
  Json header = Json::object();
  if (!metadata.empty()) {
    Json meta = Json::object();
    for (const auto& [key, value] : metadata) meta[key] = value;
    header["__metadata__"] = std::move(meta);
  }
  std::set<std::string> seen;
  std::uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    VIGIL_CHECK(!name.empty() && name != "__metadata__", Error, "save_safetensors: {}: invalid tensor name '{}'",
                path, name);
    VIGIL_CHECK(seen.insert(name).second, Error, "save_safetensors: {}: tensor name '{}' appears twice", path, name);
    VIGIL_CHECK(tensor.defined(), Error, "save_safetensors: {}: tensor '{}' is undefined", path, name);
    const std::uint64_t bytes = static_cast<std::uint64_t>(tensor.numel()) * dtype_size(tensor.dtype());
    header[name] = Json{{"dtype", dtype_code(tensor.dtype())},
                        {"shape", std::vector<std::int64_t>(tensor.shape().begin(), tensor.shape().end())},
                        {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("save_safetensors: {}: a name or metadata string is not valid UTF-8 ({})", path,
                            e.what()));
  }
  // Spaces pad the header so that the data starts 8-byte aligned, as the reference implementation does.
  text.append((8 - text.size() % 8) % 8, ' ');

  data::AtomicFileWriter writer(path);
  std::array<std::byte, 8> length{};
  for (std::size_t i = 0; i < 8; ++i) length[i] = static_cast<std::byte>((text.size() >> (8 * i)) & 0xff);
  writer.write(length);
  writer.write(text);
  for (const auto& entry : tensors) {
    const Tensor data = raw::contiguous(entry.second);
    writer.write(std::span(static_cast<const std::byte*>(data.raw_data()),
                           static_cast<std::size_t>(data.numel()) * dtype_size(data.dtype())));
  }
  writer.commit();
}

SafetensorsFile load_safetensors(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  VIGIL_CHECK(in.is_open(), Error, "{}: cannot open the file: {}", path, std::strerror(errno));
  in.seekg(0, std::ios::end);
  const auto file_size = static_cast<std::uint64_t>(in.tellg());
  VIGIL_CHECK(file_size >= 8, Error, "{}: truncated: {} bytes, but a safetensors file starts with an 8-byte header "
              "length", path, file_size);
  std::array<unsigned char, 8> length_bytes{};
  read_exact(in, path, 0, reinterpret_cast<char*>(length_bytes.data()), 8, "the header length");
  const std::uint64_t header_size = read_u64_le(length_bytes.data());
  VIGIL_CHECK(header_size <= file_size - 8, Error,
              "{}: header length {} goes beyond the end of the file ({} bytes): truncated or not a safetensors file",
              path, header_size, file_size);
  std::string header_text(header_size, '\0');
  read_exact(in, path, 8, header_text.data(), header_size, "the header");
  const Json header = Json::parse(header_text, nullptr, /*allow_exceptions=*/false);
  VIGIL_CHECK(!header.is_discarded(), Error, "{}: the header is not valid JSON", path);
  VIGIL_CHECK(header.is_object(), Error, "{}: the header must be a JSON object", path);

  const std::uint64_t data_start = 8 + header_size;
  const std::uint64_t data_size = file_size - data_start;
  SafetensorsFile file;
  std::vector<Entry> entries;
  for (const auto& [key, value] : header.items()) {
    if (key == "__metadata__") {
      file.metadata = parse_metadata(value, path);
      continue;
    }
    entries.push_back(parse_entry(key, value, path));
    check_extent(entries.back(), data_size, path);
  }
  // The data must be packed: sorted by offset, each tensor starts where the previous ended, and the last one ends
  // at the end of the file. This rules out overlaps (two tensors sharing bytes) and trailing garbage alike.
  std::stable_sort(entries.begin(), entries.end(),
                   [](const Entry& a, const Entry& b) { return a.begin < b.begin || (a.begin == b.begin && a.end < b.end); });
  std::uint64_t expected = 0;
  for (const Entry& e : entries) {
    VIGIL_CHECK(e.begin >= expected, Error,
                "{}: tensor '{}': field 'data_offsets' [{}, {}] overlaps the previous tensor, which ends at {}", path,
                e.name, e.begin, e.end, expected);
    VIGIL_CHECK(e.begin == expected, Error,
                "{}: tensor '{}': field 'data_offsets' [{}, {}] leaves bytes [{}, {}) unused (the data must be packed)",
                path, e.name, e.begin, e.end, expected, e.begin);
    expected = e.end;
  }
  VIGIL_CHECK(expected == data_size, Error,
              "{}: the tensors cover {} bytes of data but the file holds {} after the header", path, expected,
              data_size);

  for (const Entry& e : entries) {
    Tensor t = empty(e.shape, TensorOptions{e.dtype});
    read_exact(in, path, data_start + e.begin, static_cast<char*>(t.raw_data()), e.end - e.begin,
               fmt::format("the data of tensor '{}'", e.name));
    if (e.dtype == DType::Bool) {
      // A byte other than 0 or 1 is not a valid bool; reading one as bool would be undefined behaviour.
      const auto* bytes = static_cast<const unsigned char*>(t.raw_data());
      for (std::int64_t i = 0; i < t.numel(); ++i) {
        VIGIL_CHECK(bytes[i] <= 1, Error, "{}: tensor '{}': BOOL element {} holds byte {} (expected 0 or 1)", path,
                    e.name, i, bytes[i]);
      }
    }
    file.tensors.emplace_back(e.name, std::move(t));
  }
  return file;
}

}  // namespace vigil::io
