#include <vigil/data/cifar.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>

namespace vigil::data {
namespace {

constexpr std::int64_t kImageBytes = 3 * 32 * 32;
constexpr std::int64_t kRecordBytes = 1 + kImageBytes;

std::vector<std::string> standard_files(const std::string& dir, bool train) {
  const std::filesystem::path root(dir);
  if (!train) return {(root / "test_batch.bin").string()};
  std::vector<std::string> files;
  for (int i = 1; i <= 5; ++i) files.push_back((root / fmt::format("data_batch_{}.bin", i)).string());
  return files;
}

}  // namespace

Cifar10::Cifar10(const std::string& dir, bool train) : Cifar10(standard_files(dir, train)) {}

Cifar10::Cifar10(std::vector<std::string> files) : files_(std::move(files)) {
  VIGIL_CHECK(!files_.empty(), Error, "Cifar10: no files given");
  std::vector<std::vector<unsigned char>> contents;
  std::int64_t total = 0;
  for (const std::string& path : files_) {
    std::ifstream file(path, std::ios::binary);
    VIGIL_CHECK(file.is_open(), Error, "{}: cannot open the file", path);
    std::vector<unsigned char> bytes{std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
    const auto size = static_cast<std::int64_t>(bytes.size());
    VIGIL_CHECK(size > 0, Error, "{}: empty file (expected records of {} bytes)", path, kRecordBytes);
    VIGIL_CHECK(size % kRecordBytes == 0, Error,
                "{}: truncated: record {} (0-based) has {} of its {} bytes; the file holds {} complete records",
                path, size / kRecordBytes, size % kRecordBytes, kRecordBytes, size / kRecordBytes);
    for (std::int64_t r = 0; r < size / kRecordBytes; ++r) {
      const int label = bytes[static_cast<std::size_t>(r * kRecordBytes)];
      VIGIL_CHECK(label <= 9, Error, "{}: record {} has label {} (CIFAR-10 labels are 0 to 9)", path, r, label);
    }
    total += size / kRecordBytes;
    contents.push_back(std::move(bytes));
  }
  images_ = empty({total, 3, 32, 32});
  labels_ = empty({total}, TensorOptions{DType::Int64});
  float* x = images_.data<float>();
  std::int64_t* y = labels_.data<std::int64_t>();
  for (const auto& bytes : contents)
    for (std::size_t at = 0; at < bytes.size(); at += kRecordBytes) {
      *y++ = bytes[at];
      for (std::int64_t i = 1; i <= kImageBytes; ++i) *x++ = static_cast<float>(bytes[at + static_cast<std::size_t>(i)]) / 255.0f;
    }
}

Example Cifar10::get(std::int64_t index) const {
  check_index(*this, index);
  return {raw::clone(raw::squeeze(raw::narrow(images_, 0, index, 1), 0)),
          raw::clone(raw::squeeze(raw::narrow(labels_, 0, index, 1), 0))};
}

std::string Cifar10::describe() const {
  return files_.size() == 1 ? "CIFAR-10 " + files_[0] : fmt::format("CIFAR-10 {} (+{} more files)", files_[0], files_.size() - 1);
}

}  // namespace vigil::data
