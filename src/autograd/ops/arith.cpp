// Arithmetic: each op's forward, then its backward right below it.
#include <vigil/autograd/function.hpp>
#include <vigil/autograd/ops/arith.hpp>
#include <vigil/kernels/elementwise.hpp>
#include <vigil/kernels/reduce.hpp>

#include <cmath>

namespace vigil {

using kernels::map_binary;
using kernels::map_ternary;
using kernels::map_unary;
using kernels::sum_to;

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor out = map_binary(a, b, [](auto x, auto y) { return x + y; }, "add");
  record<2>("add", out, {&a, &b}, [sa = a.shape(), sb = b.shape()](const Tensor& g, GradInputs& dx) {
    if (dx.needs(0)) dx[0] = sum_to(g, sa);
    if (dx.needs(1)) dx[1] = sum_to(g, sb);
  });
  return out;
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor out = map_binary(a, b, [](auto x, auto y) { return x - y; }, "sub");
  record<2>("sub", out, {&a, &b}, [sa = a.shape(), sb = b.shape()](const Tensor& g, GradInputs& dx) {
    if (dx.needs(0)) dx[0] = sum_to(g, sa);
    if (dx.needs(1)) dx[1] = sum_to(map_unary(g, [](auto v) { return -v; }, "sub backward"), sb);
  });
  return out;
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor out = map_binary(a, b, [](auto x, auto y) { return x * y; }, "mul");
  record<2>("mul", out, {&a, &b}, [a = saved(a), b = saved(b)](const Tensor& g, GradInputs& dx) {
    auto times = [](auto x, auto y) { return x * y; };
    if (dx.needs(0)) dx[0] = sum_to(map_binary(g, b, times, "mul backward"), a.shape());  // d(ab)/da = b
    if (dx.needs(1)) dx[1] = sum_to(map_binary(g, a, times, "mul backward"), b.shape());  // d(ab)/db = a
  });
  return out;
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor out = map_binary(a, b, [](auto x, auto y) { return x / y; }, "div");
  record<2>("div", out, {&a, &b}, [a = saved(a), b = saved(b)](const Tensor& g, GradInputs& dx) {
    // d(a/b)/da = 1/b;  d(a/b)/db = -a/b^2
    if (dx.needs(0)) dx[0] = sum_to(map_binary(g, b, [](auto gv, auto bv) { return gv / bv; }, "div backward"), a.shape());
    if (dx.needs(1)) {
      dx[1] = sum_to(map_ternary(g, a, b, [](auto gv, auto av, auto bv) { return -gv * av / (bv * bv); }, "div backward"),
                     b.shape());
    }
  });
  return out;
}

Tensor neg(const Tensor& x) {
  Tensor out = map_unary(x, [](auto v) { return -v; }, "neg");
  record<1>("neg", out, {&x}, [](const Tensor& g, GradInputs& dx) {
    dx[0] = map_unary(g, [](auto v) { return -v; }, "neg backward");
  });
  return out;
}

Tensor pow(const Tensor& base, const Tensor& exponent) {
  Tensor out = map_binary(base, exponent, [](auto b, auto e) { return std::pow(b, e); }, "pow");
  record<2>("pow", out, {&base, &exponent},
            [b = saved(base), e = saved(exponent), y = saved(out)](const Tensor& g, GradInputs& dx) {
              // d(b^e)/db = e * b^(e-1);  d(b^e)/de = b^e * ln(b), taken as 0 where b == 0 (PyTorch's convention).
              if (dx.needs(0)) {
                Tensor ge = map_binary(g, e, [](auto gv, auto ev) { return gv * ev; }, "pow backward");
                dx[0] = sum_to(map_binary(ge, map_binary(b, e, [](auto bv, auto ev) {
                                   return ev == 0 ? decltype(bv)(0) : std::pow(bv, ev - 1); }, "pow backward"),
                                          [](auto x, auto z) { return x * z; }, "pow backward"),
                               b.shape());
              }
              if (dx.needs(1)) {
                dx[1] = sum_to(map_ternary(g, y, b, [](auto gv, auto yv, auto bv) {
                                 return bv == 0 ? decltype(gv)(0) : gv * yv * std::log(bv); }, "pow backward"),
                               e.shape());
              }
            });
  return out;
}

Tensor pow(const Tensor& base, double exponent) {
  Tensor out = map_unary(base, [exponent](auto b) { return static_cast<decltype(b)>(std::pow(b, exponent)); }, "pow");
  record<1>("pow", out, {&base}, [b = saved(base), exponent](const Tensor& g, GradInputs& dx) {
    dx[0] = map_binary(g, b, [exponent](auto gv, auto bv) {
      using T = decltype(gv);
      return exponent == 0 ? T(0) : static_cast<T>(gv * exponent * std::pow(bv, exponent - 1));
    }, "pow backward");
  });
  return out;
}

// ---- Tensor-scalar forms: the scalar is a constant, so only the tensor gets a gradient. ----

Tensor add(const Tensor& a, double b) {
  Tensor out = map_unary(a, [b](auto x) { return static_cast<decltype(x)>(x + b); }, "add");
  record<1>("add", out, {&a}, [](const Tensor& g, GradInputs& dx) { dx[0] = g; });
  return out;
}

Tensor sub(const Tensor& a, double b) { return add(a, -b); }

Tensor rsub(double a, const Tensor& b) {
  Tensor out = map_unary(b, [a](auto x) { return static_cast<decltype(x)>(a - x); }, "rsub");
  record<1>("rsub", out, {&b}, [](const Tensor& g, GradInputs& dx) {
    dx[0] = map_unary(g, [](auto v) { return -v; }, "rsub backward");
  });
  return out;
}

Tensor mul(const Tensor& a, double b) {
  Tensor out = map_unary(a, [b](auto x) { return static_cast<decltype(x)>(x * b); }, "mul");
  record<1>("mul", out, {&a}, [b](const Tensor& g, GradInputs& dx) {
    dx[0] = map_unary(g, [b](auto v) { return static_cast<decltype(v)>(v * b); }, "mul backward");
  });
  return out;
}

Tensor div(const Tensor& a, double b) {
  Tensor out = map_unary(a, [b](auto x) { return static_cast<decltype(x)>(x / b); }, "div");
  record<1>("div", out, {&a}, [b](const Tensor& g, GradInputs& dx) {
    dx[0] = map_unary(g, [b](auto v) { return static_cast<decltype(v)>(v / b); }, "div backward");
  });
  return out;
}

Tensor rdiv(double a, const Tensor& b) {
  Tensor out = map_unary(b, [a](auto x) { return static_cast<decltype(x)>(a / x); }, "rdiv");
  record<1>("rdiv", out, {&b}, [a, b = saved(b)](const Tensor& g, GradInputs& dx) {
    dx[0] = map_binary(g, b, [a](auto gv, auto bv) { return static_cast<decltype(gv)>(-gv * a / (bv * bv)); },
                       "rdiv backward");
  });
  return out;
}

}  // namespace vigil
