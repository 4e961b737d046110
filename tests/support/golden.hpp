// Golden values from PyTorch (tests/golden/<family>.json, written by tools/golden/<family>.py) and the checks
// that compare vigil with them.
#pragma once

#include <vigil/autograd/autograd.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <vector>

namespace vigil::testing {

struct GoldenCase {
  std::string name;
  nlohmann::json params;
  std::vector<Tensor> inputs;  // in the case's layout; floating ones require_grad when the case says so
  Tensor output;
  Tensor grad_output;          // undefined when the case has no backward
  std::vector<Tensor> grads;   // undefined where the input needs no gradient
};

std::vector<GoldenCase> load_golden(const std::string& family);
Tensor tensor_from_json(const nlohmann::json& entry);

// Same shape and allclose; on failure the message names the worst element and both values.
::testing::AssertionResult tensors_close(const Tensor& actual, const Tensor& expected, double rtol = 1e-5,
                                         double atol = 1e-6);

using OpFunction = std::function<Tensor(const std::vector<Tensor>&, const nlohmann::json& params)>;

// Runs fn on the case's inputs, compares the output, backpropagates the case's grad_output and compares every
// input's gradient. Adds a gtest failure naming the case on any difference.
void check_golden_case(const GoldenCase& c, const OpFunction& fn, double rtol = 1e-5, double atol = 1e-6);

// gradcheck in float64 on fresh random inputs of the given shapes; fails with gradcheck's report.
::testing::AssertionResult passes_gradcheck(const TensorFunction& f, const std::vector<Tensor>& inputs,
                                            const GradcheckOptions& options = {});

}  // namespace vigil::testing
