// Activation layers: the constructors that check their constants, and PReLU's parameter.
#include <vigil/nn/activation.hpp>

namespace vigil::nn {

PReLU::PReLU(std::int64_t num_parameters, double init) {
  VIGIL_CHECK(num_parameters >= 1, Error, "PReLU: num_parameters must be >= 1 (1 or the channel count), got {}",
              num_parameters);
  weight_ = register_parameter("weight", full(Shape{num_parameters}, static_cast<float>(init)));
}

CELU::CELU(double alpha) : alpha_(alpha) {
  VIGIL_CHECK(alpha != 0.0, Error, "CELU: alpha must not be 0 (x is divided by it), got {}", alpha);
}

Hardtanh::Hardtanh(double min_val, double max_val) : min_val_(min_val), max_val_(max_val) {
  VIGIL_CHECK(min_val <= max_val, Error, "Hardtanh: min_val must be <= max_val, got min_val = {}, max_val = {}",
              min_val, max_val);
}

Softplus::Softplus(double beta, double threshold) : beta_(beta), threshold_(threshold) {
  VIGIL_CHECK(beta != 0.0, Error, "Softplus: beta must not be 0 (the result is divided by it), got {}", beta);
}

Maxout::Maxout(std::int64_t pieces, std::int64_t dim) : pieces_(pieces), dim_(dim) {
  VIGIL_CHECK(pieces >= 1, Error, "Maxout: pieces must be >= 1, got {}", pieces);
}

}  // namespace vigil::nn
