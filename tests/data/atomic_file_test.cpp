// Atomic file replacement: the target is the old or the new content, never a mix, and failures leave nothing.
#include "io/temp_dir.hpp"

#include <vigil/data/atomic_file.hpp>
#include <vigil/tensor/error.hpp>

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>
#include <string>

namespace vigil::testing {
namespace {

TEST(AtomicFile, WritesNewFile) {
  TempDir dir;
  data::write_file_atomically(dir.file("a.txt"), std::string_view("hello"));
  EXPECT_EQ(read_text(dir.file("a.txt")), "hello");
  EXPECT_EQ(dir.entry_count(), 1u);
}

TEST(AtomicFile, OverwriteKeepsOldContentUntilCommit) {
  TempDir dir;
  const std::string path = dir.file("a.txt");
  write_text(path, "old content");
  {
    data::AtomicFileWriter writer(path);
    writer.write(std::string_view("new "));
    // Larger than the writer's buffer, so bytes reach the temporary file before commit.
    writer.write(std::string(3u << 20, 'x'));
    EXPECT_EQ(read_text(path), "old content");
    EXPECT_EQ(dir.entry_count(), 2u);  // the target and the temporary file
    writer.commit();
  }
  const std::string now = read_text(path);
  EXPECT_EQ(now.size(), 4 + (3u << 20));
  EXPECT_EQ(now.substr(0, 5), "new x");
  EXPECT_EQ(dir.entry_count(), 1u);
}

TEST(AtomicFile, AbandonedWriterLeavesTargetAndNoTemporary) {
  TempDir dir;
  const std::string path = dir.file("a.txt");
  write_text(path, "old content");
  {
    data::AtomicFileWriter writer(path);
    writer.write(std::string_view("partial"));
  }
  EXPECT_EQ(read_text(path), "old content");
  EXPECT_EQ(dir.entry_count(), 1u);
}

TEST(AtomicFile, MissingDirectoryThrowsNamingPathAndReason) {
  TempDir dir;
  const std::string path = dir.file("no/such/dir/a.txt");
  try {
    data::write_file_atomically(path, std::string_view("x"));
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("No such file or directory"), std::string::npos) << e.what();
  }
  EXPECT_EQ(dir.entry_count(), 0u);
}

TEST(AtomicFile, RenameFailureRemovesTemporary) {
  TempDir dir;
  // The target is a non-empty directory: rename(2) over it fails after the data has been written.
  const std::string path = dir.file("target");
  std::filesystem::create_directories(dir.path() / "target" / "inside");
  EXPECT_THROW(data::write_file_atomically(path, std::string_view("x")), Error);
  EXPECT_EQ(dir.entry_count(), 1u);
  EXPECT_TRUE(std::filesystem::is_directory(path));
}

TEST(AtomicFile, ReadOnlyDirectoryLeavesNoFile) {
  if (::geteuid() == 0) GTEST_SKIP() << "root writes into read-only directories";
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "ro");
  std::filesystem::permissions(dir.path() / "ro", std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
  EXPECT_THROW(data::write_file_atomically(dir.file("ro/a.txt"), std::string_view("x")), Error);
  EXPECT_FALSE(std::filesystem::exists(dir.file("ro/a.txt")));
  std::filesystem::permissions(dir.path() / "ro", std::filesystem::perms::owner_all);
}

TEST(AtomicFile, NewFileGetsUmaskPermissions) {
  TempDir dir;
  const mode_t mask = ::umask(022);
  data::write_file_atomically(dir.file("a.txt"), std::string_view("x"));
  ::umask(mask);
  struct stat info {};
  ASSERT_EQ(::stat(dir.file("a.txt").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0644u);
}

TEST(AtomicFile, CommitTwiceThrows) {
  TempDir dir;
  data::AtomicFileWriter writer(dir.file("a.txt"));
  writer.commit();
  EXPECT_THROW(writer.commit(), Error);
  EXPECT_THROW(writer.write(std::string_view("late")), Error);
  EXPECT_EQ(read_text(dir.file("a.txt")), "");
}

}  // namespace
}  // namespace vigil::testing
