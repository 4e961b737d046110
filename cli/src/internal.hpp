// Helpers shared by the command implementations (not part of the library's interface).
#pragma once

#include <vigil/data/loader.hpp>

#include <cstdint>
#include <vector>

namespace vigil::cli {

// The values of an int64 tensor in row-major order.
std::vector<std::int64_t> int64_values(const Tensor& t);
// The class label of every example of an evaluation loader (no shuffling), in order.
std::vector<std::int64_t> targets_of(const data::DataLoader& loader);

}  // namespace vigil::cli
