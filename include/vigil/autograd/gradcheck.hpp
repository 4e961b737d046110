// gradcheck: compares the gradients backward() computes with central finite differences, in float64.
//
// For f(inputs) -> y and a fixed random projection u (so one backward pass gives a vector-Jacobian product for
// any output shape), it checks s(x) = sum(u * f(x)):
//   per element:        ds/dx_j  (backward)  vs  (s(x + h e_j) - s(x - h e_j)) / 2h
//   random directions:  <ds/dx, v>           vs  (s(x + h v) - s(x - h v)) / 2h     for random unit v
// Floating inputs are copied to float64 first, so the differences carry ~1e-16 relative error and the default
// tolerances can be tight; the function must therefore accept float64 inputs (every vigil op does).
// An element passes when |analytic - numeric| <= atol + rtol * |numeric|.
// The doctor reuses this checker on the user's layers, custom ones included.
#pragma once

#include <vigil/tensor/tensor.hpp>

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace vigil {

struct GradcheckOptions {
  double step = 1e-6;                      // h
  double atol = 1e-5;
  double rtol = 1e-4;
  int random_directions = 4;               // per input requiring a gradient
  std::int64_t max_elements_per_input = 512;  // larger inputs are checked on a seeded random sample of elements
  std::uint64_t seed = 0;
};

struct GradcheckResult {
  bool passed = true;
  int worst_input = -1;            // index into inputs
  std::int64_t worst_element = -1;  // flat row-major index; -1 for a direction check
  double analytic = 0, numeric = 0;
  double worst_excess = 0;  // |analytic - numeric| / (atol + rtol |numeric|): > 1 fails
  std::string report;       // one line per failure, then a summary naming the worst input and element
};

using TensorFunction = std::function<Tensor(const std::vector<Tensor>& inputs)>;

// Checks every input with requires_grad(); others are passed through (floating ones converted to float64).
GradcheckResult gradcheck(const TensorFunction& f, const std::vector<Tensor>& inputs, const GradcheckOptions& options = {});

}  // namespace vigil
