// Shape checks shared by the fast convolution kernels (conv.cpp) and their reference twins (conv_reference.cpp).
#pragma once

#include <vigil/kernels/conv.hpp>

namespace vigil::kernels::detail {

// Same dtype for x and weight (and bias when defined), bias [O] when defined. `op` names the caller.
void check_conv_operands(const Tensor& x, const Tensor& weight, const Tensor& bias, std::int64_t out_channels,
                         const char* op);

// dy's shape must be `expected` (the forward output shape the pass is the gradient of).
void check_grad_output(const Tensor& dy, const Shape& expected, const char* op);

}  // namespace vigil::kernels::detail
