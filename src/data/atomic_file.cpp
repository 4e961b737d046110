// Atomic replacement through temp file + fsync + rename + directory fsync (see atomic_file.hpp).
#include <vigil/data/atomic_file.hpp>

#include <vigil/tensor/error.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace vigil::data {
namespace {

// Buffered bytes are handed to write(2) once this many have gathered.
constexpr std::size_t kBufferBytes = std::size_t{1} << 20;

std::string errno_text(int err) { return std::strerror(err); }

// The directory holding `path` ("." for a bare file name), for the temporary file and the final fsync.
std::string directory_of(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  return parent.empty() ? std::string(".") : parent.string();
}

}  // namespace

AtomicFileWriter::AtomicFileWriter(std::string path) : path_(std::move(path)) {
  VIGIL_CHECK(!path_.empty(), Error, "atomic write: empty path");
  // open(O_EXCL) with mode 0666 rather than mkstemp: the file gets the permissions the umask gives any new file
  // (mkstemp's 0600 would make every checkpoint private). The pid and a process-wide counter make the name unique
  // among writers; O_EXCL guards against a stale leftover of a crashed run with the same pid.
  static std::atomic<std::uint64_t> counter{0};
  for (int attempt = 0; fd_ < 0; ++attempt) {
    temp_path_ = fmt::format("{}.tmp.{}.{}", path_, ::getpid(), counter.fetch_add(1));
    fd_ = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd_ < 0 && (errno != EEXIST || attempt == 100)) {
      const int err = errno;
      temp_path_.clear();
      throw Error(fmt::format("{}: cannot create a temporary file beside it: {}", path_, errno_text(err)));
    }
  }
  buffer_.reserve(kBufferBytes);
}

AtomicFileWriter::~AtomicFileWriter() {
  if (!committed_) discard();
}

void AtomicFileWriter::discard() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (!temp_path_.empty()) ::unlink(temp_path_.c_str());
  temp_path_.clear();
}

void AtomicFileWriter::write(std::span<const std::byte> bytes) {
  write(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

void AtomicFileWriter::write(std::string_view text) {
  VIGIL_CHECK(!committed_ && fd_ >= 0, Error, "{}: write after commit or after a failure", path_);
  if (buffer_.size() + text.size() > kBufferBytes) flush_buffer();
  // Large pieces (a tensor's data) go straight to the file rather than through the buffer.
  if (text.size() >= kBufferBytes) write_all(text);
  else buffer_.append(text);
}

void AtomicFileWriter::flush_buffer() {
  write_all(buffer_);
  buffer_.clear();
}

void AtomicFileWriter::write_all(std::string_view bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      discard();
      throw Error(fmt::format("{}: write failed: {}", path_, errno_text(err)));
    }
    done += static_cast<std::size_t>(n);
  }
}

void AtomicFileWriter::commit() {
  VIGIL_CHECK(!committed_ && fd_ >= 0, Error, "{}: commit twice or after a failure", path_);
  flush_buffer();
  // Data first: the rename must not become durable before the bytes it points at.
  if (::fsync(fd_) != 0) {
    const int err = errno;
    discard();
    throw Error(fmt::format("{}: fsync failed: {}", path_, errno_text(err)));
  }
  const int close_result = ::close(fd_);
  fd_ = -1;
  if (close_result != 0) {
    const int err = errno;
    discard();
    throw Error(fmt::format("{}: close failed: {}", path_, errno_text(err)));
  }
  if (::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    const int err = errno;
    discard();
    throw Error(fmt::format("{}: cannot rename the temporary file over it: {}", path_, errno_text(err)));
  }
  temp_path_.clear();
  committed_ = true;
  // The rename lives in the directory: fsync it so that the new name survives a crash.
  const std::string dir = directory_of(path_);
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) {
    const int err = errno;
    throw Error(fmt::format("{}: written, but its directory {} cannot be opened to fsync: {}", path_, dir,
                            errno_text(err)));
  }
  const int sync_result = ::fsync(dir_fd);
  const int err = errno;
  ::close(dir_fd);
  VIGIL_CHECK(sync_result == 0, Error, "{}: written, but fsync of its directory {} failed: {}", path_, dir,
              errno_text(err));
}

void write_file_atomically(const std::string& path, std::span<const std::byte> bytes) {
  AtomicFileWriter writer(path);
  writer.write(bytes);
  writer.commit();
}

void write_file_atomically(const std::string& path, std::string_view text) {
  AtomicFileWriter writer(path);
  writer.write(text);
  writer.commit();
}

}  // namespace vigil::data
