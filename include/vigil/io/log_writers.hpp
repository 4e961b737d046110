// Plain-text training logs: one JSON object per line (JSONL) or comma-separated rows (CSV), each line flushed as
// it is written, so that a crash loses at most the line being written and `tail -f` shows progress.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace vigil::io {

using LogValue = std::variant<std::int64_t, double, std::string, bool>;
using LogRow = std::vector<std::pair<std::string, LogValue>>;

// Appends {"key": value, ...} lines to a file (created if absent), keys in the row's order. NaN and +-inf, which
// JSON cannot express, are written as null.
class JsonlWriter {
 public:
  explicit JsonlWriter(const std::string& path);
  ~JsonlWriter();
  JsonlWriter(const JsonlWriter&) = delete;
  JsonlWriter& operator=(const JsonlWriter&) = delete;

  void write(const LogRow& row);

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
};

// Appends rows to a CSV file (RFC 4180: fields holding a comma, quote or line break are quoted, quotes doubled).
// A new or empty file gets the header line of `columns` first; an existing file must begin with that same
// header (Error naming both otherwise), so that resumed runs append to a consistent table.
class CsvWriter {
 public:
  CsvWriter(const std::string& path, std::vector<std::string> columns);
  ~CsvWriter();
  CsvWriter(const CsvWriter&) = delete;
  CsvWriter& operator=(const CsvWriter&) = delete;

  // One value per column, in the columns' order; throws Error on a count mismatch.
  void write(const std::vector<LogValue>& values);

 private:
  void write_line(const std::string& line);

  std::string path_;
  std::vector<std::string> columns_;
  std::FILE* file_ = nullptr;
};

}  // namespace vigil::io
