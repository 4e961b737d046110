// CRC32C and TFRecord framing (see tfrecord.hpp).
#include <vigil/io/tfrecord.hpp>

#include <vigil/tensor/error.hpp>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

namespace vigil::io {
namespace {

// table[b] is the CRC of the single byte b, so the CRC advances a byte per lookup (Sarwate's algorithm).
constexpr std::array<std::uint32_t, 256> make_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t b = 0; b < 256; ++b) {
    std::uint32_t crc = b;
    for (int bit = 0; bit < 8; ++bit) crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
    table[b] = crc;
  }
  return table;
}
constexpr std::array<std::uint32_t, 256> kTable = make_table();

std::uint32_t read_u32_le(const char* p) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

std::uint64_t read_u64_le(const char* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

void append_le(std::string& out, std::uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

}  // namespace

std::uint32_t crc32c(std::string_view bytes) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (const char c : bytes) crc = kTable[(crc ^ static_cast<unsigned char>(c)) & 0xff] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

std::uint32_t crc32c(std::span<const std::byte> bytes) {
  return crc32c(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

std::uint32_t mask_crc32c(std::uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }

std::string frame_tfrecord(std::string_view data) {
  std::string out;
  out.reserve(data.size() + 16);
  append_le(out, data.size(), 8);
  append_le(out, mask_crc32c(crc32c(std::string_view(out.data(), 8))), 4);
  out.append(data);
  append_le(out, mask_crc32c(crc32c(data)), 4);
  return out;
}

std::vector<std::string> read_tfrecord_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  VIGIL_CHECK(in.is_open(), Error, "{}: cannot open the file: {}", path, std::strerror(errno));
  const std::string bytes{std::istreambuf_iterator<char>(in), {}};
  std::vector<std::string> records;
  std::size_t at = 0;
  while (at < bytes.size()) {
    const std::size_t index = records.size();
    VIGIL_CHECK(bytes.size() - at >= 12, Error, "{}: record {} at byte {}: truncated length header", path, index, at);
    const std::uint64_t length = read_u64_le(&bytes[at]);
    VIGIL_CHECK(read_u32_le(&bytes[at + 8]) == mask_crc32c(crc32c(std::string_view(&bytes[at], 8))), Error,
                "{}: record {} at byte {}: length CRC mismatch", path, index, at);
    VIGIL_CHECK(length <= bytes.size() - at - 12 && bytes.size() - at - 12 - length >= 4, Error,
                "{}: record {} at byte {}: truncated: {} data bytes announced", path, index, at, length);
    const std::string_view data(&bytes[at + 12], length);
    VIGIL_CHECK(read_u32_le(&bytes[at + 12 + length]) == mask_crc32c(crc32c(data)), Error,
                "{}: record {} at byte {}: data CRC mismatch", path, index, at);
    records.emplace_back(data);
    at += 12 + length + 4;
  }
  return records;
}

}  // namespace vigil::io
