// The PyTorch parameter and buffer lists of the blocks and zoo models (tests/golden/zoo_params.json, written by
// tools/zoo/zoo_params.py from PyTorch mirrors of the same architectures), and the check comparing a vigil module
// with one of them: the same dotted paths, in the same order, with the same shapes, and the same total.
#pragma once

#include "support/golden.hpp"

#include <vigil/nn/module.hpp>

#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace vigil::testing {

inline const nlohmann::json& zoo_params() {
  static const nlohmann::json params = [] {
    std::ifstream in(std::string(VIGIL_GOLDEN_DIR) + "/zoo_params.json");
    return nlohmann::json::parse(in);
  }();
  return params;
}

// (path, shape as "[a, b]") for a list of named tensors, and the same from the JSON.
inline std::vector<std::pair<std::string, std::string>> describe(const std::vector<std::pair<std::string, Tensor>>& named) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [path, t] : named) out.emplace_back(path, t.shape().str());
  return out;
}

inline std::vector<std::pair<std::string, std::string>> describe(const nlohmann::json& named) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& entry : named) {
    Shape shape;
    for (std::int64_t d : entry[1]) shape.push_back(d);
    out.emplace_back(entry[0].get<std::string>(), shape.str());
  }
  return out;
}

inline std::int64_t parameter_count(const nn::Module& m) {
  std::int64_t n = 0;
  for (const Tensor& p : m.parameters()) n += p.numel();
  return n;
}

// Expects module's parameters and buffers to be PyTorch's for the configuration `key`.
inline void expect_matches_torch(const nn::Module& module, const std::string& key) {
  SCOPED_TRACE(key);
  ASSERT_TRUE(zoo_params().contains(key)) << "no entry " << key << " in zoo_params.json";
  const nlohmann::json& expected = zoo_params()[key];
  EXPECT_EQ(describe(module.named_parameters()), describe(expected["parameters"]));
  EXPECT_EQ(describe(module.named_buffers()), describe(expected["buffers"]));
  EXPECT_EQ(parameter_count(module), expected["total"].get<std::int64_t>());
}

}  // namespace vigil::testing
