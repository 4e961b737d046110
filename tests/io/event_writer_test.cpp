// CRC32C, TFRecord framing and the TensorBoard event writer, checked by reading the file back and decoding the
// protocol buffers with a small decoder written here (independent of the encoder).
#include "io/event_fixture.hpp"
#include "io/temp_dir.hpp"

#include <vigil/io/event_writer.hpp>
#include <vigil/io/tfrecord.hpp>

#include <gtest/gtest.h>

#include <bit>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace vigil::testing {
namespace {

TEST(Crc32c, KnownVectors) {
  EXPECT_EQ(io::crc32c(std::string_view("123456789")), 0xE3069283u);
  EXPECT_EQ(io::crc32c(std::string_view("")), 0u);
  EXPECT_EQ(io::crc32c(std::string_view("The quick brown fox jumps over the lazy dog")), 0x22620404u);
  // RFC 3720 (iSCSI) B.4: 32 bytes of zeros, and 32 bytes of 0xFF.
  EXPECT_EQ(io::crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(io::crc32c(std::string(32, '\xff')), 0x62A8AB43u);
}

TEST(Crc32c, MaskRotatesAndOffsets) {
  EXPECT_EQ(io::mask_crc32c(0), 0xa282ead8u);
  EXPECT_EQ(io::mask_crc32c(1u << 15), 1u + 0xa282ead8u);
  EXPECT_EQ(io::mask_crc32c(1u), (1u << 17) + 0xa282ead8u);
}

TEST(TFRecord, FrameLayout) {
  const std::string record = io::frame_tfrecord("abc");
  ASSERT_EQ(record.size(), 8u + 4 + 3 + 4);
  EXPECT_EQ(record.substr(0, 8), std::string("\x03\0\0\0\0\0\0\0", 8));
  std::uint32_t length_crc = 0;
  std::uint32_t data_crc = 0;
  std::memcpy(&length_crc, &record[8], 4);
  std::memcpy(&data_crc, &record[15], 4);
  EXPECT_EQ(length_crc, io::mask_crc32c(io::crc32c(record.substr(0, 8))));
  EXPECT_EQ(record.substr(12, 3), "abc");
  EXPECT_EQ(data_crc, io::mask_crc32c(io::crc32c(std::string_view("abc"))));
}

TEST(TFRecord, ReaderChecksCrcsAndTruncation) {
  TempDir dir;
  const std::string path = dir.file("r.tfrecord");
  const std::string good = io::frame_tfrecord("first") + io::frame_tfrecord("") + io::frame_tfrecord("third");
  write_text(path, good);
  EXPECT_EQ(io::read_tfrecord_file(path), (std::vector<std::string>{"first", "", "third"}));
  for (std::size_t n = 1; n < good.size(); ++n) {
    if (n == 21 || n == 37) continue;  // record boundaries: a shorter but valid file
    write_text(path, good.substr(0, n));
    EXPECT_THROW(io::read_tfrecord_file(path), Error) << n;
  }
  for (std::size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ 0x04);
    write_text(path, bad);
    EXPECT_THROW(io::read_tfrecord_file(path), Error) << "flipped byte " << i;
  }
}

// ---- A protobuf decoder, just enough for the fields the writer uses ----

struct Field {
  int wire = 0;
  std::uint64_t number = 0;  // varint value, or the bits of a fixed64/fixed32
  std::string bytes;         // length-delimited payload
};
using Fields = std::multimap<int, Field>;

std::uint64_t read_varint(const std::string& s, std::size_t& at) {
  std::uint64_t v = 0;
  for (int shift = 0;; shift += 7) {
    const auto b = static_cast<unsigned char>(s.at(at++));
    v |= std::uint64_t{b & 0x7fu} << shift;
    if (!(b & 0x80)) return v;
  }
}

Fields decode(const std::string& s) {
  Fields fields;
  for (std::size_t at = 0; at < s.size();) {
    const std::uint64_t key = read_varint(s, at);
    Field f;
    f.wire = static_cast<int>(key & 7);
    if (f.wire == 0) {
      f.number = read_varint(s, at);
    } else if (f.wire == 1 || f.wire == 5) {
      const std::size_t size = f.wire == 1 ? 8 : 4;
      for (std::size_t i = 0; i < size; ++i) f.number |= std::uint64_t{static_cast<unsigned char>(s.at(at + i))} << (8 * i);
      at += size;
    } else {
      EXPECT_EQ(f.wire, 2);
      const std::uint64_t n = read_varint(s, at);
      f.bytes = s.substr(at, n);
      at += n;
    }
    fields.emplace(static_cast<int>(key >> 3), f);
  }
  return fields;
}

const Field& one(const Fields& fields, int number) {
  EXPECT_EQ(fields.count(number), 1u) << "field " << number;
  return fields.find(number)->second;
}
double as_double(const Field& f) { return std::bit_cast<double>(f.number); }
float as_float(const Field& f) { return std::bit_cast<float>(static_cast<std::uint32_t>(f.number)); }
std::vector<double> packed_doubles(const Field& f) {
  std::vector<double> out(f.bytes.size() / 8);
  std::memcpy(out.data(), f.bytes.data(), out.size() * 8);
  return out;
}

// The one Summary.Value of an event, checking the event's step.
Fields summary_value(const std::string& event, std::int64_t step) {
  const Fields e = decode(event);
  EXPECT_EQ(static_cast<std::int64_t>(one(e, 2).number), step);
  return decode(one(decode(one(e, 5).bytes), 1).bytes);
}

TEST(EventWriter, FileNameAndFirstEvent) {
  TempDir dir;
  const std::string sub = dir.file("runs/a");
  std::string path;
  {
    io::EventWriter writer(sub);
    path = writer.path();
    EXPECT_EQ(std::filesystem::path(path).parent_path(), std::filesystem::path(sub));
    EXPECT_EQ(std::filesystem::path(path).filename().string().rfind("events.out.tfevents.", 0), 0u);
    // The file_version event is on disk before any other call.
    const std::vector<std::string> records = io::read_tfrecord_file(path);
    ASSERT_EQ(records.size(), 1u);
    const Fields e = decode(records[0]);
    EXPECT_EQ(one(e, 3).bytes, "brain.Event:2");
    EXPECT_NEAR(as_double(one(e, 1)), static_cast<double>(std::time(nullptr)), 60.0);
  }
  // Two writers in the same directory and second get different files.
  io::EventWriter second(sub);
  io::EventWriter third(sub);
  EXPECT_NE(second.path(), third.path());
}

TEST(EventWriter, ScalarsHistogramAndImageDecode) {
  TempDir dir;
  io::EventWriter writer(dir.path().string());
  write_fixture_events(writer);
  const std::vector<std::string> records = io::read_tfrecord_file(writer.path());
  ASSERT_EQ(records.size(), 7u);

  for (int step = 0; step < 3; ++step) {
    const Fields v = summary_value(records[1 + step], step);
    EXPECT_EQ(one(v, 1).bytes, "loss");
    EXPECT_EQ(one(v, 2).wire, 5);
    EXPECT_EQ(as_float(one(v, 2)), 0.5f / static_cast<float>(1 << step));
  }
  const Fields lr = summary_value(records[4], 300);
  EXPECT_EQ(one(lr, 1).bytes, "lr");
  EXPECT_EQ(as_float(one(lr, 2)), 0.001f);

  const Fields hv = summary_value(records[5], 2);
  EXPECT_EQ(one(hv, 1).bytes, "weights");
  const Fields h = decode(one(hv, 5).bytes);
  EXPECT_EQ(as_double(one(h, 1)), -1.0);
  EXPECT_EQ(as_double(one(h, 2)), 2.0);
  EXPECT_EQ(as_double(one(h, 3)), 5.0);
  EXPECT_EQ(as_double(one(h, 4)), 2.0);
  EXPECT_EQ(as_double(one(h, 5)), 5.5);
  const std::vector<double> limits = packed_doubles(one(h, 6));
  const std::vector<double> counts = packed_doubles(one(h, 7));
  ASSERT_EQ(limits.size(), counts.size());
  double total = 0;
  for (const double c : counts) total += c;
  EXPECT_EQ(total, 5.0);
  EXPECT_EQ(limits.back(), DBL_MAX);

  const Fields iv = summary_value(records[6], 2);
  EXPECT_EQ(one(iv, 1).bytes, "sample");
  const Fields im = decode(one(iv, 4).bytes);
  EXPECT_EQ(one(im, 1).number, 1u);
  EXPECT_EQ(one(im, 2).number, 1u);
  EXPECT_EQ(one(im, 3).number, 3u);
  EXPECT_EQ(one(im, 4).bytes, std::string(kTinyPng));
}

TEST(EventWriter, NegativeStepRoundTrips) {
  TempDir dir;
  io::EventWriter writer(dir.path().string());
  writer.add_scalar("x", 1.0, -5);
  writer.flush();
  const std::vector<std::string> records = io::read_tfrecord_file(writer.path());
  EXPECT_EQ(static_cast<std::int64_t>(one(decode(records[1]), 2).number), -5);
}

TEST(EventWriter, ImageArgumentsAreChecked) {
  TempDir dir;
  io::EventWriter writer(dir.path().string());
  EXPECT_THROW(writer.add_image_png("raw", std::string(12, '\0'), 2, 2, 3, 0), Error);
  EXPECT_THROW(writer.add_image_png("c5", kTinyPng, 1, 1, 5, 0), Error);
  EXPECT_THROW(writer.add_image_png("h0", kTinyPng, 0, 1, 3, 0), Error);
}

TEST(EventWriter, UnwritableDirectoryThrows) {
  TempDir dir;
  write_text(dir.file("file"), "x");
  EXPECT_THROW(io::EventWriter(dir.file("file/sub")), Error);
}

TEST(Histogram, TensorFlowDefaultBuckets) {
  // 0 falls in the bucket whose limit is the first positive one (values v with 0 <= v < 1e-12); 1.0 in the bucket
  // ending at the first limit above 1.
  const io::Histogram h = io::histogram_of(from_vector(std::vector<float>{0.0f, 1.0f, 1.0f}, {3}));
  EXPECT_EQ(h.min, 0.0);
  EXPECT_EQ(h.max, 1.0);
  EXPECT_EQ(h.num, 3.0);
  EXPECT_EQ(h.sum, 2.0);
  EXPECT_EQ(h.sum_squares, 2.0);
  // Non-empty buckets with the merged empty runs between them: [run], [0], [run], [1, 1], [run to DBL_MAX].
  ASSERT_EQ(h.bucket.size(), 5u);
  EXPECT_EQ(h.bucket, (std::vector<double>{0, 1, 0, 2, 0}));
  EXPECT_EQ(h.bucket_limit[0], 0.0);  // the run of negative buckets ends at the limit 0
  EXPECT_EQ(h.bucket_limit[1], 1.0e-12);
  EXPECT_GT(h.bucket_limit[3], 1.0);
  EXPECT_LT(h.bucket_limit[3], 1.1);
  EXPECT_LE(h.bucket_limit[2], 1.0);
  EXPECT_EQ(h.bucket_limit[4], DBL_MAX);
}

TEST(Histogram, NaNLeftOutInfinityInOutermostBuckets) {
  const float inf = INFINITY;
  const io::Histogram h = io::histogram_of(from_vector(std::vector<float>{NAN, inf, -inf, 3.0f}, {2, 2}));
  EXPECT_EQ(h.num, 3.0);
  EXPECT_EQ(h.bucket.front(), 1.0);
  EXPECT_EQ(h.bucket_limit.front(), -DBL_MAX);
  EXPECT_EQ(h.bucket.back(), 1.0);
  EXPECT_EQ(h.bucket_limit.back(), DBL_MAX);
  EXPECT_THROW(io::histogram_of(from_vector(std::vector<float>{NAN}, {1})), Error);
  EXPECT_THROW(io::histogram_of(zeros({0})), Error);
}

TEST(Histogram, IntegerAndFloat64Inputs) {
  const io::Histogram a = io::histogram_of(arange(0, 10, 1, TensorOptions{DType::Int64}));
  const io::Histogram b = io::histogram_of(arange(0, 10, 1, TensorOptions{DType::Float64}));
  EXPECT_EQ(a.bucket, b.bucket);
  EXPECT_EQ(a.sum, 45.0);
}

}  // namespace
}  // namespace vigil::testing
