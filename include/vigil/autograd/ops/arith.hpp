// Differentiable arithmetic with NumPy broadcasting: shapes of a and b broadcast (see broadcast_shapes), and each
// input's gradient is summed back to its own shape. Scalars convert to the tensor's dtype.
#pragma once

#include <vigil/tensor/tensor.hpp>

namespace vigil {

Tensor add(const Tensor& a, const Tensor& b);        // a + b
Tensor sub(const Tensor& a, const Tensor& b);        // a - b
Tensor mul(const Tensor& a, const Tensor& b);        // a * b
Tensor div(const Tensor& a, const Tensor& b);        // a / b
Tensor neg(const Tensor& x);                         // -x
Tensor pow(const Tensor& base, const Tensor& exponent);  // base^exponent; d/dexponent = base^e * ln(base)
Tensor pow(const Tensor& base, double exponent);

Tensor add(const Tensor& a, double b);
Tensor sub(const Tensor& a, double b);
Tensor rsub(double a, const Tensor& b);  // a - b
Tensor mul(const Tensor& a, double b);
Tensor div(const Tensor& a, double b);
Tensor rdiv(double a, const Tensor& b);  // a / b

inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
inline Tensor operator-(const Tensor& x) { return neg(x); }
inline Tensor operator+(const Tensor& a, double b) { return add(a, b); }
inline Tensor operator+(double a, const Tensor& b) { return add(b, a); }
inline Tensor operator-(const Tensor& a, double b) { return sub(a, b); }
inline Tensor operator-(double a, const Tensor& b) { return rsub(a, b); }
inline Tensor operator*(const Tensor& a, double b) { return mul(a, b); }
inline Tensor operator*(double a, const Tensor& b) { return mul(b, a); }
inline Tensor operator/(const Tensor& a, double b) { return div(a, b); }
inline Tensor operator/(double a, const Tensor& b) { return rdiv(a, b); }

}  // namespace vigil
