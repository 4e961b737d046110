// Helpers shared by the command implementations (not part of the library's interface).
#pragma once

#include <vigil/cli/config.hpp>
#include <vigil/data/loader.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::cli {

// The edit (Levenshtein) distance between two words: how "did you mean" suggestions pick the nearest key.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The values of an int64 tensor in row-major order.
std::vector<std::int64_t> int64_values(const Tensor& t);
// The class label of every example of an evaluation loader (no shuffling), in order.
std::vector<std::int64_t> targets_of(const data::DataLoader& loader);

// A config for a new run directory: the file with its --set overrides, --name and --runs-dir applied, data paths
// made absolute and run.threads made concrete (and set for OpenMP), so that its config.toml rebuilds the run
// from anywhere.
Config load_run_config(const std::string& path, const std::vector<std::string>& overrides, const std::string& name,
                       const std::string& runs_dir);

}  // namespace vigil::cli
