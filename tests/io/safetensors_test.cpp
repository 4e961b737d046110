// safetensors: round trips for every dtype and layout, the numpy cross-check both ways, and a validating reader
// that meets every malformed file (hand-made ones, every truncation, flipped bytes) with a clean Error.
#include "io/temp_dir.hpp"

#include <vigil/io/safetensors.hpp>

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <string>
#include <vector>

namespace vigil::testing {
namespace {

// The tensor's values, row-major, as bytes: compares tensors of any dtype exactly (NaN and -0.0 included).
std::string bytes_of(const Tensor& t) {
  const Tensor c = raw::contiguous(t);
  return {static_cast<const char*>(c.raw_data()), static_cast<std::size_t>(c.numel()) * dtype_size(c.dtype())};
}

template <class T>
Tensor typed(std::initializer_list<T> values, const Shape& shape, DType dtype) {
  Tensor t = empty(shape, TensorOptions{dtype});
  std::memcpy(t.raw_data(), std::data(values), values.size() * sizeof(T));
  return t;
}

void expect_same(const io::NamedTensors& actual, const io::NamedTensors& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (std::size_t i = 0; i < actual.size(); ++i) {
    EXPECT_EQ(actual[i].first, expected[i].first);
    EXPECT_EQ(actual[i].second.dtype(), expected[i].second.dtype()) << expected[i].first;
    EXPECT_EQ(actual[i].second.shape(), expected[i].second.shape()) << expected[i].first;
    EXPECT_EQ(bytes_of(actual[i].second), bytes_of(expected[i].second)) << expected[i].first;
  }
}

// tools/io/safetensors_numpy.py's REFERENCE, in that script's data order (dtype size descending, then name).
// "f32" is built as a transposed view, so writing it exercises the non-contiguous path.
io::NamedTensors reference_tensors() {
  const Tensor f32_t = from_vector(std::vector<float>{0.5f, 1.0e-38f, -1.25f, -0.0f, 3.0e38f, 7.0f}, {3, 2});
  return {
      {"f64", typed<double>({0.1, -2.5e300, 1.0 / 3.0}, {3}, DType::Float64)},
      {"i64", typed<std::int64_t>({0, -1, 9007199254740993LL, INT64_MIN}, {4}, DType::Int64)},
      {"empty", zeros({0, 3})},
      {"f32", raw::transpose(f32_t, 0, 1)},
      {"i32", typed<std::int32_t>({1, -2, INT32_MAX, INT32_MIN}, {2, 2}, DType::Int32)},
      {"scalar", scalar_tensor(42.0f)},
      {"bf16", typed<std::uint16_t>({0x3F80, 0xC040, 0x3F00}, {3}, DType::BFloat16)},
      {"mask", typed<bool>({true, false, true}, {3}, DType::Bool)},
  };
}

std::string source_path(const std::string& relative) { return std::string(VIGIL_SOURCE_DIR) + "/" + relative; }

TEST(Safetensors, RoundTripEveryDTypeAndMetadata) {
  TempDir dir;
  const io::NamedTensors tensors = reference_tensors();
  const io::Metadata metadata{{"step", "1200"}, {"vigil_version", "0.1.0"}};
  io::save_safetensors(dir.file("w.safetensors"), tensors, metadata);
  const io::SafetensorsFile file = io::load_safetensors(dir.file("w.safetensors"));
  expect_same(file.tensors, tensors);
  EXPECT_EQ(file.metadata, metadata);
  EXPECT_TRUE(file.tensors[3].second.is_contiguous());
  EXPECT_FALSE(file.tensors[3].second.requires_grad());
}

TEST(Safetensors, NonContiguousViewsAreWrittenRowMajor) {
  TempDir dir;
  const Tensor base = raw::reshape(arange(0, 24), {2, 3, 4});
  const io::NamedTensors tensors{
      {"permuted", raw::permute(base, std::vector<std::int64_t>{2, 0, 1})},
      {"narrowed", raw::narrow(base, 2, 1, 2)},
      {"strided", raw::slice(base, 2, 0, 4, 3)},
      {"expanded", raw::expand(from_vector(std::vector<float>{1, 2, 3}, {3, 1}), {3, 4})},
  };
  io::save_safetensors(dir.file("v.safetensors"), tensors);
  expect_same(io::load_safetensors(dir.file("v.safetensors")).tensors, tensors);
}

TEST(Safetensors, HeaderIsPaddedToEightBytesWithSpaces) {
  TempDir dir;
  for (const std::string name : {"a", "ab", "abc", "abcd", "abcde", "abcdef", "abcdefg", "abcdefgh"}) {
    io::save_safetensors(dir.file("p.safetensors"), {{name, ones({1})}});
    const std::string bytes = read_text(dir.file("p.safetensors"));
    std::uint64_t n = 0;
    std::memcpy(&n, bytes.data(), 8);
    EXPECT_EQ(n % 8, 0u) << name;
    EXPECT_EQ(bytes.size(), 8 + n + 4) << name;
    EXPECT_EQ(bytes.substr(8, 1), "{");
    EXPECT_EQ(bytes.find_last_not_of(' ', 8 + n - 1), bytes.rfind('}', 8 + n - 1)) << name;
  }
}

TEST(Safetensors, LoadsFileWrittenByNumpy) {
  // tests/io/data/numpy_written.safetensors: written by `tools/io/safetensors_numpy.py write` (header keys sorted
  // alphabetically, data ordered by dtype size: the two orders differ).
  const io::SafetensorsFile file = io::load_safetensors(source_path("tests/io/data/numpy_written.safetensors"));
  expect_same(file.tensors, reference_tensors());
  EXPECT_EQ(file.metadata, (io::Metadata{{"step", "1200"}, {"written_by", "numpy"}}));
}

TEST(Safetensors, NumpyReadsFileWrittenByVigil) {
  if (std::system("/usr/bin/python3 -c 'import numpy' > /dev/null 2>&1") != 0) {
    GTEST_SKIP() << "/usr/bin/python3 with numpy is not available";
  }
  TempDir dir;
  io::save_safetensors(dir.file("vigil.safetensors"), reference_tensors(),
                       {{"step", "1200"}, {"written_by", "vigil"}});
  const std::string command = "/usr/bin/python3 " + source_path("tools/io/safetensors_numpy.py") + " check " +
                              dir.file("vigil.safetensors");
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
}

TEST(Safetensors, SaveRejectsBadNames) {
  TempDir dir;
  const std::string path = dir.file("bad.safetensors");
  EXPECT_THROW(io::save_safetensors(path, {{"a", ones({1})}, {"a", ones({2})}}), Error);
  EXPECT_THROW(io::save_safetensors(path, {{"__metadata__", ones({1})}}), Error);
  EXPECT_THROW(io::save_safetensors(path, {{"", ones({1})}}), Error);
  EXPECT_THROW(io::save_safetensors(path, {{"a", Tensor()}}), Error);
  EXPECT_EQ(dir.entry_count(), 0u);
}

// ---- Malformed files ----

// A file with the given header text (not padded) followed by `data`.
std::string make_file(const std::string& header, const std::string& data = "") {
  std::string bytes(8, '\0');
  const std::uint64_t n = header.size();
  std::memcpy(bytes.data(), &n, 8);
  return bytes + header + data;
}

// Loading `bytes` throws an Error whose message names the file and contains every one of `parts`.
void expect_load_error(const std::string& bytes, std::initializer_list<std::string> parts) {
  TempDir dir;
  const std::string path = dir.file("bad.safetensors");
  write_text(path, bytes);
  try {
    io::load_safetensors(path);
    ADD_FAILURE() << "expected an Error for a file containing " << bytes.substr(8);
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(path), std::string::npos) << message;
    for (const auto& part : parts) EXPECT_NE(message.find(part), std::string::npos) << "'" << part << "' in: " << message;
  }
}

TEST(SafetensorsErrors, TooShortForTheHeaderLength) { expect_load_error("\x01\x02", {"truncated"}); }

TEST(SafetensorsErrors, HeaderLengthBeyondFile) {
  std::string bytes = make_file("{}");
  bytes[0] = 100;
  expect_load_error(bytes, {"header length 100", "beyond the end"});
}

TEST(SafetensorsErrors, BadJson) { expect_load_error(make_file("{\"a\": "), {"not valid JSON"}); }

TEST(SafetensorsErrors, HeaderNotAnObject) { expect_load_error(make_file("[1, 2]"), {"JSON object"}); }

TEST(SafetensorsErrors, UnknownDType) {
  expect_load_error(make_file(R"({"w": {"dtype": "F16", "shape": [1], "data_offsets": [0, 2]}})", "ab"),
                    {"'w'", "'dtype'", "'F16'"});
}

TEST(SafetensorsErrors, MissingField) {
  expect_load_error(make_file(R"({"w": {"dtype": "F32", "data_offsets": [0, 4]}})", "abcd"), {"'w'", "'shape'", "missing"});
}

TEST(SafetensorsErrors, NegativeOrFractionalShape) {
  expect_load_error(make_file(R"({"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}})", "abcd"),
                    {"'w'", "'shape'"});
  expect_load_error(make_file(R"({"w": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}})", "abcd"),
                    {"'w'", "'shape'"});
}

TEST(SafetensorsErrors, TooManyDims) {
  expect_load_error(make_file(R"({"w": {"dtype": "BOOL", "shape": [1,1,1,1,1,1,1,1,1], "data_offsets": [0, 1]}})", "\x01"),
                    {"'w'", "'shape'", "9 dims"});
}

TEST(SafetensorsErrors, OffsetsMalformed) {
  expect_load_error(make_file(R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0]}})", "abcd"),
                    {"'w'", "'data_offsets'"});
  expect_load_error(make_file(R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 0]}})", "abcd"),
                    {"'w'", "'data_offsets'", "out of range"});
}

TEST(SafetensorsErrors, OffsetsOutOfRange) {
  expect_load_error(make_file(R"({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})", "abcd"),
                    {"'w'", "'data_offsets' [0, 8]", "out of range", "4 bytes"});
}

TEST(SafetensorsErrors, OffsetsDisagreeWithShape) {
  expect_load_error(make_file(R"({"w": {"dtype": "F64", "shape": [2, 3], "data_offsets": [0, 8]}})", "abcdefgh"),
                    {"'w'", "[2, 3]", "F64", "needs 48"});
}

TEST(SafetensorsErrors, ShapeOverflow) {
  expect_load_error(
      make_file(R"({"w": {"dtype": "F64", "shape": [4294967296, 4294967296], "data_offsets": [0, 0]}})"),
      {"'w'", "overflows"});
}

TEST(SafetensorsErrors, OverlappingTensors) {
  expect_load_error(make_file(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                  "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})",
                              "abcdefgh"),
                    {"'b'", "overlaps"});
}

TEST(SafetensorsErrors, HoleInData) {
  expect_load_error(make_file(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})", "abcdefgh"),
                    {"'a'", "unused"});
}

TEST(SafetensorsErrors, TrailingBytes) {
  expect_load_error(make_file(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})", "abcdefgh"),
                    {"cover 4 bytes", "holds 8"});
}

TEST(SafetensorsErrors, BadMetadata) {
  expect_load_error(make_file(R"({"__metadata__": {"step": 3}})"), {"'__metadata__'", "'step'"});
  expect_load_error(make_file(R"({"__metadata__": "x"})"), {"'__metadata__'"});
}

TEST(SafetensorsErrors, BoolByteOtherThanZeroOrOne) {
  expect_load_error(make_file(R"({"m": {"dtype": "BOOL", "shape": [2], "data_offsets": [0, 2]}})", std::string("\x01\x02", 2)),
                    {"'m'", "BOOL element 1", "byte 2"});
}

TEST(SafetensorsErrors, MissingFile) {
  EXPECT_THROW(io::load_safetensors("/nonexistent/vigil/w.safetensors"), Error);
}

// Every proper prefix of a valid file, and the file with each byte flipped three ways: loading always ends in a
// clean vigil::Error or a successful load -- never a crash, another exception type, or (under the asan preset)
// an out-of-bounds access.
TEST(SafetensorsFuzz, TruncationsAndByteFlipsFailCleanly) {
  TempDir dir;
  const std::string good_path = dir.file("good.safetensors");
  io::save_safetensors(good_path,
                       {{"w", from_vector(std::vector<float>{1, 2, 3}, {3})},
                        {"m", typed<bool>({true, false}, {2}, DType::Bool)},
                        {"i", typed<std::int64_t>({7}, {1, 1}, DType::Int64)}},
                       {{"k", "v"}});
  const std::string good = read_text(good_path);
  const std::string path = dir.file("mutant.safetensors");
  int loaded = 0;
  int refused = 0;
  auto attempt = [&](const std::string& bytes, const std::string& what) {
    write_text(path, bytes);
    try {
      io::load_safetensors(path);
      ++loaded;
    } catch (const Error&) {
      ++refused;
    } catch (const std::exception& e) {
      ADD_FAILURE() << what << ": non-vigil exception: " << e.what();
    }
  };
  for (std::size_t n = 0; n < good.size(); ++n) {
    write_text(path, good.substr(0, n));
    EXPECT_THROW(io::load_safetensors(path), Error) << "truncated to " << n << " bytes";
  }
  for (std::size_t i = 0; i < good.size(); ++i) {
    for (const unsigned char mask : {0x01, 0x20, 0xff}) {
      std::string mutant = good;
      mutant[i] = static_cast<char>(static_cast<unsigned char>(mutant[i]) ^ mask);
      attempt(mutant, "byte " + std::to_string(i) + " ^ " + std::to_string(mask));
    }
  }
  EXPECT_GT(refused, 0);
  EXPECT_GT(loaded, 0);  // flips inside float data still make a valid file
}

}  // namespace
}  // namespace vigil::testing
