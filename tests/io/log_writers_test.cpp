// JSONL and CSV log writers: line format, appending, flushing per line, header checks.
#include "io/temp_dir.hpp"

#include <vigil/io/log_writers.hpp>
#include <vigil/tensor/error.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace vigil::testing {
namespace {

TEST(JsonlWriter, OneObjectPerLineFlushedAndAppended) {
  TempDir dir;
  const std::string path = dir.file("log.jsonl");
  {
    io::JsonlWriter log(path);
    log.write({{"step", std::int64_t{1}}, {"loss", 0.5}, {"phase", std::string("train")}, {"best", true}});
    // Flushed per line: readable while the writer is still open.
    EXPECT_EQ(read_text(path), "{\"step\":1,\"loss\":0.5,\"phase\":\"train\",\"best\":true}\n");
  }
  io::JsonlWriter again(path);
  again.write({{"loss", NAN}, {"note", std::string("a \"quoted\"\nline")}});
  EXPECT_EQ(read_text(path), "{\"step\":1,\"loss\":0.5,\"phase\":\"train\",\"best\":true}\n"
                             "{\"loss\":null,\"note\":\"a \\\"quoted\\\"\\nline\"}\n");
}

TEST(CsvWriter, HeaderOnceQuotingAndAppend) {
  TempDir dir;
  const std::string path = dir.file("log.csv");
  {
    io::CsvWriter log(path, {"step", "loss", "note"});
    log.write({std::int64_t{1}, 0.1, std::string("plain")});
    EXPECT_EQ(read_text(path), "step,loss,note\n1,0.1,plain\n");
  }
  io::CsvWriter resumed(path, {"step", "loss", "note"});
  resumed.write({std::int64_t{2}, 1e-7, std::string("a, \"b\"")});
  EXPECT_EQ(read_text(path), "step,loss,note\n1,0.1,plain\n2,1e-07,\"a, \"\"b\"\"\"\n");
}

TEST(CsvWriter, Errors) {
  TempDir dir;
  const std::string path = dir.file("log.csv");
  io::CsvWriter log(path, {"a", "b"});
  EXPECT_THROW(log.write({std::int64_t{1}}), Error);
  EXPECT_THROW(io::CsvWriter(path, {"a", "c"}), Error);
  EXPECT_THROW(io::CsvWriter(dir.file("no/such/dir.csv"), {"a"}), Error);
  EXPECT_THROW(io::JsonlWriter(dir.file("no/such/dir.jsonl")), Error);
}

}  // namespace
}  // namespace vigil::testing
