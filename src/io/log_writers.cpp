// JSONL and CSV log writers (see log_writers.hpp).
#include <vigil/io/log_writers.hpp>

#include <vigil/tensor/error.hpp>

#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>

namespace vigil::io {
namespace {

std::FILE* open_append(const std::string& path, const char* who) {
  std::FILE* file = std::fopen(path.c_str(), "ab");
  VIGIL_CHECK(file != nullptr, Error, "{}: cannot open {} for appending: {}", who, path, std::strerror(errno));
  return file;
}

void append_line(std::FILE* file, const std::string& path, const std::string& line, const char* who) {
  const bool ok = std::fwrite(line.data(), 1, line.size(), file) == line.size() && std::fputc('\n', file) != EOF &&
                  std::fflush(file) == 0;
  VIGIL_CHECK(ok, Error, "{}: write to {} failed: {}", who, path, std::strerror(errno));
}

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (const char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + '"';
}

std::string csv_value(const LogValue& value) {
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) return csv_field(v);
        else if constexpr (std::is_same_v<T, bool>) return v ? "true" : "false";
        else return fmt::format("{}", v);  // shortest text that reads back to the same double
      },
      value);
}

}  // namespace

JsonlWriter::JsonlWriter(const std::string& path) : path_(path), file_(open_append(path, "JsonlWriter")) {}

JsonlWriter::~JsonlWriter() { std::fclose(file_); }

void JsonlWriter::write(const LogRow& row) {
  nlohmann::ordered_json object = nlohmann::ordered_json::object();
  for (const auto& [key, value] : row) {
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, double>) {
            if (std::isfinite(v)) object[key] = v;
            else object[key] = nullptr;
          } else {
            object[key] = v;
          }
        },
        value);
  }
  std::string line;
  try {
    line = object.dump();
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("JsonlWriter: {}: a key or string is not valid UTF-8 ({})", path_, e.what()));
  }
  append_line(file_, path_, line, "JsonlWriter");
}

CsvWriter::CsvWriter(const std::string& path, std::vector<std::string> columns)
    : path_(path), columns_(std::move(columns)) {
  VIGIL_CHECK(!columns_.empty(), Error, "CsvWriter: {}: no columns", path_);
  std::vector<std::string> fields;
  for (const auto& c : columns_) fields.push_back(csv_field(c));
  const std::string header = fmt::format("{}", fmt::join(fields, ","));
  std::string existing;
  {
    std::ifstream in(path_);
    std::getline(in, existing);
  }
  VIGIL_CHECK(existing.empty() || existing == header, Error,
              "CsvWriter: {} begins with the header '{}' but this writer's columns are '{}'", path_, existing, header);
  file_ = open_append(path_, "CsvWriter");
  if (existing.empty()) append_line(file_, path_, header, "CsvWriter");
}

CsvWriter::~CsvWriter() { std::fclose(file_); }

void CsvWriter::write(const std::vector<LogValue>& values) {
  VIGIL_CHECK(values.size() == columns_.size(), Error, "CsvWriter: {}: a row of {} values for {} columns", path_,
              values.size(), columns_.size());
  std::vector<std::string> fields;
  for (const auto& v : values) fields.push_back(csv_value(v));
  append_line(file_, path_, fmt::format("{}", fmt::join(fields, ",")), "CsvWriter");
}

}  // namespace vigil::io
