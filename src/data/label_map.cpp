#include <vigil/data/label_map.hpp>
#include <vigil/tensor/error.hpp>

#include <algorithm>

namespace vigil::data {

LabelMap::LabelMap(std::vector<std::string> names) : names_(std::move(names)) {
  for (std::size_t i = 0; i < names_.size(); ++i) {
    const bool inserted = index_.emplace(names_[i], static_cast<std::int64_t>(i)).second;
    VIGIL_CHECK(inserted, Error, "LabelMap: the name '{}' appears twice (indices {} and {})", names_[i],
                index_.at(names_[i]), i);
  }
}

LabelMap LabelMap::from_labels(std::span<const std::string> labels) {
  std::vector<std::string> names(labels.begin(), labels.end());
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return LabelMap(std::move(names));
}

std::int64_t LabelMap::index(const std::string& name) const {
  const auto found = find(name);
  if (found) return *found;
  std::string known;
  for (std::size_t i = 0; i < names_.size() && i < 20; ++i) known += (i ? ", '" : "'") + names_[i] + "'";
  if (names_.size() > 20) known += ", ...";
  throw Error(fmt::format("LabelMap: unknown label '{}' (the {} known labels: {})", name, names_.size(), known));
}

std::optional<std::int64_t> LabelMap::find(const std::string& name) const {
  const auto it = index_.find(name);
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

const std::string& LabelMap::name(std::int64_t index) const {
  VIGIL_CHECK(index >= 0 && index < size(), IndexError, "LabelMap: index {} is out of range for {} labels", index,
              size());
  return names_[static_cast<std::size_t>(index)];
}

}  // namespace vigil::data
