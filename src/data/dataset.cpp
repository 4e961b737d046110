#include <vigil/data/dataset.hpp>

namespace vigil::data {

void check_index(const Dataset& dataset, std::int64_t index) {
  VIGIL_CHECK(index >= 0 && index < dataset.size(), IndexError, "{}: index {} is out of range for size {}",
              dataset.describe(), index, dataset.size());
}

}  // namespace vigil::data
