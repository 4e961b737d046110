#include <vigil/data/csv.hpp>

#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <string_view>

namespace vigil::data {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split(std::string_view line, char delimiter) {
  std::vector<std::string_view> fields;
  for (;;) {
    const std::size_t at = line.find(delimiter);
    fields.push_back(trim(line.substr(0, at)));
    if (at == std::string_view::npos) return fields;
    line.remove_prefix(at + 1);
  }
}

// The whole cell as a T, or nothing. A leading '+' is accepted (from_chars alone rejects it).
template <class T>
std::optional<T> parse(std::string_view cell) {
  if (cell.size() > 1 && cell.front() == '+') cell.remove_prefix(1);
  T value{};
  const auto [end, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), value);
  if (ec != std::errc() || end != cell.data() + cell.size() || cell.empty()) return std::nullopt;
  return value;
}

// One parsed row waiting to become tensors.
struct Row {
  std::size_t line;
  std::vector<std::string_view> fields;
};

}  // namespace

CsvDataset::CsvDataset(std::string path, CsvOptions options) : path_(std::move(path)) {
  std::ifstream file(path_, std::ios::binary);
  VIGIL_CHECK(file.is_open(), Error, "{}: cannot open the file", path_);
  std::vector<std::string> lines;
  for (std::string line; std::getline(file, line);) lines.push_back(std::move(line));

  std::vector<Row> rows;
  std::vector<std::string> header;
  std::size_t header_line = 0;
  for (std::size_t l = 0; l < lines.size(); ++l) {
    if (trim(lines[l]).empty()) continue;
    auto fields = split(lines[l], options.delimiter);
    if (options.header && header.empty() && header_line == 0) {
      header_line = l + 1;
      header.assign(fields.begin(), fields.end());
      continue;
    }
    rows.push_back({l + 1, std::move(fields)});
  }
  VIGIL_CHECK(!options.header || header_line != 0, Error, "{}: the file is empty (expected a header line)", path_);

  // The column count comes from the header, or else the first row; every row must match it.
  const std::size_t columns = options.header ? header.size() : (rows.empty() ? 0 : rows[0].fields.size());
  const std::size_t reference_line = options.header ? header_line : (rows.empty() ? 0 : rows[0].line);
  for (const Row& row : rows)
    VIGIL_CHECK(row.fields.size() == columns, Error, "{}:{}: a ragged row of {} fields; line {} has {}", path_,
                row.line, row.fields.size(), reference_line, columns);

  std::size_t label = 0;
  if (!options.label_column.empty()) {
    VIGIL_CHECK(options.header, Error, "{}: label column '{}' is named but the options say the file has no header",
                path_, options.label_column);
    const auto it = std::find(header.begin(), header.end(), options.label_column);
    VIGIL_CHECK(it != header.end(), Error, "{}: no column named '{}' in the header (line {}): {}", path_,
                options.label_column, header_line, fmt::join(header, ", "));
    label = static_cast<std::size_t>(it - header.begin());
  } else if (columns > 0) {
    const auto n = static_cast<std::int64_t>(columns);
    const std::int64_t resolved = options.label_index < 0 ? options.label_index + n : options.label_index;
    VIGIL_CHECK(resolved >= 0 && resolved < n, Error, "{}: label column index {} is out of range for {} columns",
                path_, options.label_index, n);
    label = static_cast<std::size_t>(resolved);
  }
  // A column name for messages: " ('name')" with a header, else nothing.
  auto column_name = [&](std::size_t c) { return options.header ? fmt::format(" ('{}')", header[c]) : std::string(); };
  for (std::size_t c = 0; c < header.size(); ++c)
    if (c != label) feature_names_.push_back(header[c]);

  const auto n = static_cast<std::int64_t>(rows.size());
  const auto f = static_cast<std::int64_t>(columns == 0 ? 0 : columns - 1);
  VIGIL_CHECK(columns >= 1 || rows.empty(), Error, "{}: no columns", path_);
  features_ = empty({n, f});
  float* x = features_.data<float>();
  for (const Row& row : rows)
    for (std::size_t c = 0; c < columns; ++c) {
      if (c == label) continue;
      const auto value = parse<float>(row.fields[c]);
      VIGIL_CHECK(value.has_value(), Error, "{}:{}: column {}{}: '{}' is not a number", path_, row.line, c + 1,
                  column_name(c), row.fields[c]);
      *x++ = *value;
    }

  if (options.target == CsvTarget::Regression) {
    targets_ = empty({n, 1});
    float* y = targets_.data<float>();
    for (const Row& row : rows) {
      const auto value = parse<float>(row.fields[label]);
      VIGIL_CHECK(value.has_value(), Error, "{}:{}: label column {}{}: '{}' is not a number", path_, row.line,
                  label + 1, column_name(label), row.fields[label]);
      *y++ = *value;
    }
    return;
  }
  targets_ = empty({n}, TensorOptions{DType::Int64});
  std::int64_t* y = targets_.data<std::int64_t>();
  if (options.target == CsvTarget::ClassIndex) {
    for (const Row& row : rows) {
      const auto value = parse<std::int64_t>(row.fields[label]);
      VIGIL_CHECK(value.has_value() && *value >= 0, Error,
                  "{}:{}: label column {}{}: '{}' is not a class index (an integer >= 0)", path_, row.line, label + 1,
                  column_name(label), row.fields[label]);
      *y++ = *value;
    }
    return;
  }
  if (options.label_map) {
    label_map_ = *options.label_map;
  } else {
    std::vector<std::string> names;
    for (const Row& row : rows) names.emplace_back(row.fields[label]);
    label_map_ = LabelMap::from_labels(names);
  }
  for (const Row& row : rows) {
    const auto index = label_map_.find(std::string(row.fields[label]));
    VIGIL_CHECK(index.has_value(), Error, "{}:{}: label column {}{}: '{}' is not one of the {} known class names",
                path_, row.line, label + 1, column_name(label), row.fields[label], label_map_.size());
    *y++ = *index;
  }
}

Example CsvDataset::get(std::int64_t index) const {
  check_index(*this, index);
  return {raw::clone(raw::squeeze(raw::narrow(features_, 0, index, 1), 0)),
          raw::clone(raw::squeeze(raw::narrow(targets_, 0, index, 1), 0))};
}

std::string CsvDataset::describe() const { return "CSV " + path_; }

}  // namespace vigil::data
