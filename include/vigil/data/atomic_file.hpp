// Atomic file replacement: a file is either its old content or its complete new content, never half-written.
//
// The bytes go to a temporary file in the target's directory (same file system, so the final rename is atomic),
// which is fsync'ed, renamed over the target, and then the directory is fsync'ed so that the rename itself
// survives a power cut. On any failure the temporary file is removed and an Error names the path and the
// system's reason (errno text); the target keeps its old content, or stays absent.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace vigil::data {

// A streaming writer for one atomic replacement of `path`. Write the content in pieces, then commit(); a writer
// destroyed without commit() (an exception unwinding past it, say) removes its temporary file and leaves the
// target untouched.
class AtomicFileWriter {
 public:
  // Creates the temporary file "<path>.tmp.<pid>.<n>" beside `path`; throws Error when the directory does not exist
  // or is not writable.
  explicit AtomicFileWriter(std::string path);
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  // Appends bytes (buffered). Throws Error on a failed write (a full disk, say).
  void write(std::span<const std::byte> bytes);
  void write(std::string_view text);
  // Flushes, fsyncs, renames the temporary file over the target and fsyncs the directory. Requires: not yet
  // committed. After a throw the temporary file is gone and the target is as it was.
  void commit();

  const std::string& path() const { return path_; }

 private:
  void flush_buffer();
  void write_all(std::string_view bytes);
  void discard() noexcept;

  std::string path_;
  std::string temp_path_;
  int fd_ = -1;
  std::string buffer_;
  bool committed_ = false;
};

// Replaces the file at `path` by `bytes` atomically (see above).
void write_file_atomically(const std::string& path, std::span<const std::byte> bytes);
void write_file_atomically(const std::string& path, std::string_view text);

}  // namespace vigil::data
