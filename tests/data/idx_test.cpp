// The IDX reader on files written here: raw and gzipped, and each malformed case naming the file.
#include <vigil/data/idx.hpp>

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace vigil::data {
namespace {

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("vigil_idx_test_" + name)).string();
}

void write_raw(const std::string& path, const std::vector<unsigned char>& bytes) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

void write_gz(const std::string& path, const std::vector<unsigned char>& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
}

// A 2 x 3 image file holding 0..5.
std::vector<unsigned char> small_images() { return {0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 3, 0, 1, 2, 3, 4, 255}; }

std::string error_of(const std::string& path) {
  try {
    (void)read_idx(path, true);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(Idx, ReadsRawAndGzippedFiles) {
  const std::string raw = temp_path("raw"), gz = temp_path("gz");
  write_raw(raw, small_images());
  write_gz(gz, small_images());
  for (const auto& path : {raw, gz}) {
    const Tensor t = read_idx(path, true);
    EXPECT_EQ(t.shape(), (Shape{2, 3}));
    EXPECT_EQ(t.to_vector(), (std::vector<float>{0, 1, 2, 3, 4, 255}));
    EXPECT_EQ(read_idx(path, false).dtype(), DType::Int64);
  }
}

TEST(Idx, MalformedFilesNameTheFileAndTheProblem) {
  const std::string missing = temp_path("missing");
  std::filesystem::remove(missing);
  EXPECT_NE(error_of(missing).find(missing), std::string::npos);

  const std::string magic = temp_path("magic");
  auto bad = small_images();
  bad[0] = 7;
  write_raw(magic, bad);
  EXPECT_NE(error_of(magic).find("not an IDX file"), std::string::npos) << error_of(magic);

  const std::string truncated = temp_path("truncated");
  auto cut = small_images();
  cut.erase(cut.end() - 2, cut.end());
  write_gz(truncated, cut);
  const std::string msg = error_of(truncated);
  EXPECT_NE(msg.find(truncated), std::string::npos) << msg;
  EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[2, 3]"), std::string::npos) << msg;
}

}  // namespace
}  // namespace vigil::data
