// CSV files of numeric features and one label column, loaded into memory.
//
// Format: one example per line, fields split on `delimiter` (no quoting; spaces around a field are ignored; blank
// lines are skipped; \r\n line ends are accepted). Every field but the label must be a number (std::from_chars
// syntax: "1", "-2.5e3", "nan", "inf"). Errors name the file, the 1-based line and column, and the column's header
// name when there is one: a cell that is not a number, a row with a different number of fields than the first
// (a ragged row), an unknown label column, an unknown class name.
#pragma once

#include <vigil/data/dataset.hpp>
#include <vigil/data/label_map.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vigil::data {

enum class CsvTarget {
  ClassIndex,  // the label cells are integers >= 0: target a 0-d int64
  ClassName,   // the label cells are class names mapped through a LabelMap: target a 0-d int64
  Regression,  // the label cells are numbers: target float32 [1] (batches [N, 1], as a 1-output model's)
};

struct CsvOptions {
  char delimiter = ',';
  // The first non-blank line names the columns.
  bool header = true;
  // The label column by header name (requires header); when empty, label_index picks it (negative counts from the
  // end: -1 is the last column).
  std::string label_column = "";
  std::int64_t label_index = -1;
  CsvTarget target = CsvTarget::ClassIndex;
  // ClassName only: the map to use (a validation file must reuse the training file's); unset, the file's distinct
  // names in sorted order.
  std::optional<LabelMap> label_map = std::nullopt;
};

// Example i: input float32 [F] (the row's non-label fields in column order), target as options.target says.
class CsvDataset : public Dataset {
 public:
  explicit CsvDataset(std::string path, CsvOptions options = {});
  std::int64_t size() const override { return features_.size(0); }
  Example get(std::int64_t index) const override;
  std::string describe() const override;

  // [N, F] float32, and [N] int64 or [N, 1] float32.
  const Tensor& features() const { return features_; }
  const Tensor& targets() const { return targets_; }
  // The feature columns' header names (empty without a header).
  const std::vector<std::string>& feature_names() const { return feature_names_; }
  // The map used for ClassName targets (empty otherwise).
  const LabelMap& label_map() const { return label_map_; }

 private:
  std::string path_;
  Tensor features_, targets_;
  std::vector<std::string> feature_names_;
  LabelMap label_map_;
};

}  // namespace vigil::data
