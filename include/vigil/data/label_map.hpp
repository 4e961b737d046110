// LabelMap: class names <-> class indices, for data sets whose labels are strings ("cat", "setosa").
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace vigil::data {

class LabelMap {
 public:
  LabelMap() = default;
  // Index i names names[i]; names must be distinct (Error naming the repeat otherwise).
  explicit LabelMap(std::vector<std::string> names);
  // The distinct labels in sorted order: the same map whatever order the examples come in.
  static LabelMap from_labels(std::span<const std::string> labels);

  // Error naming the label and the known names when it is not in the map.
  std::int64_t index(const std::string& name) const;
  std::optional<std::int64_t> find(const std::string& name) const;
  // IndexError unless 0 <= index < size().
  const std::string& name(std::int64_t index) const;
  std::int64_t size() const { return static_cast<std::int64_t>(names_.size()); }
  const std::vector<std::string>& names() const { return names_; }

 private:
  std::vector<std::string> names_;
  std::unordered_map<std::string, std::int64_t> index_;
};

}  // namespace vigil::data
