// TFRecord framing, the container of TensorBoard event files, and the CRC32C it checks records with.
//
// Each record is
//   uint64 length | uint32 masked_crc32c(length bytes) | data[length] | uint32 masked_crc32c(data)
// all little-endian. The mask, ((crc >> 15) | (crc << 17)) + 0xa282ead8 (mod 2^32), keeps a CRC of data that
// itself contains CRCs from being degenerate (TensorFlow's crc32c::Mask).
//
// Debian 12 packages no C/C++ CRC32C library, so the CRC is a small table-driven one: Castagnoli polynomial
// 0x1EDC6F41, reflected (0x82F63B78), initial value and final xor 0xFFFFFFFF -- crc32c("123456789") = 0xE3069283.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::io {

std::uint32_t crc32c(std::span<const std::byte> bytes);
std::uint32_t crc32c(std::string_view bytes);
std::uint32_t mask_crc32c(std::uint32_t crc);

// `data` framed as one TFRecord record.
std::string frame_tfrecord(std::string_view data);

// Every record of a TFRecord file, with both CRCs of each checked. Throws Error naming the file, the record's
// index and byte offset on a truncated record or a CRC mismatch.
std::vector<std::string> read_tfrecord_file(const std::string& path);

}  // namespace vigil::io
