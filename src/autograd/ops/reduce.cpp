// Reductions: forward through kernels, backward right below each.
#include <vigil/autograd/function.hpp>
#include <vigil/autograd/ops/reduce.hpp>
#include <vigil/kernels/reduce.hpp>

namespace vigil {

Tensor sum(const Tensor& x, std::span<const std::int64_t> dims, bool keepdim) {
  Tensor out = kernels::sum(x, dims, keepdim);
  const auto plan = kernels::plan_reduction(x.shape(), dims, keepdim, "sum");
  // d(sum)/dx = 1 everywhere: the gradient, reshaped to keep the reduced dims, broadcast back to x's shape.
  record<1>("sum", out, {&x}, [kept = plan.kept_shape, s = x.shape()](const Tensor& g, GradInputs& dx) {
    dx[0] = raw::contiguous(raw::expand(raw::reshape(g, kept), s));
  });
  return out;
}

}  // namespace vigil
