// Differentiable pointwise math, matched to PyTorch 1.13: elementary functions, clamp, elementwise min/max,
// where, and the (non-differentiable) comparisons.
//
// Shapes: unary ops return x's shape. Binary ops (minimum, maximum, comparisons) and where broadcast their
// tensor operands with NumPy rules (see broadcast_shapes); each input's gradient is summed back to its own
// shape. Floating operands of one op must share a dtype (float32 or float64), else DTypeError; shapes that do
// not broadcast throw ShapeError naming the op and both shapes.
//
// Gradients at points where the function is not differentiable follow PyTorch:
//   abs:       d|x|/dx = sign(x), 0 at x == 0
//   clamp:     1 where min <= x <= max (bounds included), else 0
//   min/max:   where a == b the gradient is split, g/2 to each input
//   sign:      0 everywhere (the output still requires a gradient, as in PyTorch)
#pragma once

#include <vigil/tensor/tensor.hpp>

#include <optional>

namespace vigil {

Tensor exp(const Tensor& x);    // e^x;              d/dx = e^x
Tensor log(const Tensor& x);    // ln x;             d/dx = 1/x
Tensor log1p(const Tensor& x);  // ln(1 + x), accurate for small |x|;  d/dx = 1/(1 + x)
Tensor sqrt(const Tensor& x);   // x^(1/2);          d/dx = 1/(2 sqrt x)  (inf at 0, as PyTorch)
Tensor rsqrt(const Tensor& x);  // x^(-1/2);         d/dx = -1/2 x^(-3/2)
Tensor abs(const Tensor& x);    // |x|;              d/dx = sign(x)
Tensor sign(const Tensor& x);   // -1, 0 or +1 (0 for NaN, as PyTorch 1.13); gradient 0

// min(max(x, min), max) with either bound optional (at least one must be given, else Error): clamp(x, 0.0) is
// max(x, 0), clamp(x, std::nullopt, 1.0) is min(x, 1). When min > max every element becomes max, as in PyTorch.
// NaN stays NaN. Bounds are rounded to x's dtype first.
Tensor clamp(const Tensor& x, std::optional<double> min, std::optional<double> max = std::nullopt);

// Elementwise min/max of a and b (broadcast). NaN in either operand gives NaN. Ties split the gradient.
Tensor minimum(const Tensor& a, const Tensor& b);
Tensor maximum(const Tensor& a, const Tensor& b);

// cond ? a : b elementwise; cond is a Bool tensor (DTypeError otherwise), and cond, a, b broadcast together.
// The gradient goes to a where cond holds and to b elsewhere; cond gets none.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);

// Comparisons: Bool tensors of the broadcast shape; never recorded (no gradient). NaN compares unequal to
// everything, itself included (so ne is true for it). The double overloads compare with a constant, rounded to
// x's dtype first.
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
Tensor eq(const Tensor& x, double value);
Tensor ne(const Tensor& x, double value);
Tensor lt(const Tensor& x, double value);
Tensor le(const Tensor& x, double value);
Tensor gt(const Tensor& x, double value);
Tensor ge(const Tensor& x, double value);

}  // namespace vigil
