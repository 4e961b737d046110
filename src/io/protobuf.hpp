// A minimal protocol-buffers encoder: just the wire types TensorBoard's Event and Summary messages need.
//
// A message is a sequence of fields, each a key varint (field_number << 3 | wire_type) and a payload:
//   wire type 0  varint           int32/int64/bool (negative numbers as their 64-bit two's complement)
//   wire type 1  8 bytes LE       double
//   wire type 2  varint length    string, bytes, nested message, packed repeated scalars
//   wire type 5  4 bytes LE       float
// Private to src/io: the encoder is an implementation detail of the event writer.
#pragma once

#include <bit>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace vigil::io::proto {

class Message {
 public:
  void add_varint(int field, std::uint64_t value) {
    key(field, 0);
    varint(value);
  }
  void add_int64(int field, std::int64_t value) { add_varint(field, static_cast<std::uint64_t>(value)); }
  void add_double(int field, double value) {
    key(field, 1);
    fixed(std::bit_cast<std::uint64_t>(value), 8);
  }
  void add_float(int field, float value) {
    key(field, 5);
    fixed(std::bit_cast<std::uint32_t>(value), 4);
  }
  void add_bytes(int field, std::string_view bytes) {
    key(field, 2);
    varint(bytes.size());
    bytes_.append(bytes);
  }
  void add_message(int field, const Message& message) { add_bytes(field, message.bytes()); }
  void add_packed_doubles(int field, std::span<const double> values) {
    Message packed;
    for (const double v : values) packed.fixed(std::bit_cast<std::uint64_t>(v), 8);
    add_bytes(field, packed.bytes());
  }

  const std::string& bytes() const { return bytes_; }

 private:
  void key(int field, int wire_type) { varint((static_cast<std::uint64_t>(field) << 3) | static_cast<std::uint64_t>(wire_type)); }
  void varint(std::uint64_t value) {
    while (value >= 0x80) {
      bytes_.push_back(static_cast<char>((value & 0x7f) | 0x80));
      value >>= 7;
    }
    bytes_.push_back(static_cast<char>(value));
  }
  void fixed(std::uint64_t value, int size) {
    for (int i = 0; i < size; ++i) bytes_.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
  }

  std::string bytes_;
};

}  // namespace vigil::io::proto
