// Pooling ops: forward through the pooling kernels, backward right below each.
#include <vigil/autograd/function.hpp>
#include <vigil/autograd/ops/join.hpp>
#include <vigil/autograd/ops/pool.hpp>
#include <vigil/autograd/ops/reduce.hpp>
#include <vigil/autograd/ops/shape.hpp>
#include <vigil/kernels/pool.hpp>

namespace vigil {

namespace {

kernels::Window2d window(Size2 kernel, Size2 stride, Size2 padding) {
  // stride 0 in both dims: PyTorch's default, the kernel itself.
  const bool default_stride = stride.h == 0 && stride.w == 0;
  return {kernel.h, kernel.w, default_stride ? kernel.h : stride.h, default_stride ? kernel.w : stride.w,
          padding.h, padding.w};
}

// Max pooling of either kind: dy goes to the saved argmax of each window.
Tensor record_max_pool(kernels::MaxPoolResult r, const Tensor& x, const char* name) {
  record<1>(name, r.y, {&x}, [at = saved(r.indices), s = x.shape()](const Tensor& g, GradInputs& dx) {
    dx[0] = kernels::max_pool2d_backward(g, at, s);
  });
  return r.y;
}

}  // namespace

Tensor max_pool2d(const Tensor& x, Size2 kernel, Size2 stride, Size2 padding) {
  return record_max_pool(kernels::max_pool2d_forward(x, window(kernel, stride, padding)), x, "max_pool2d");
}

Tensor avg_pool2d(const Tensor& x, Size2 kernel, Size2 stride, Size2 padding, bool count_include_pad) {
  const kernels::Window2d w = window(kernel, stride, padding);
  Tensor out = kernels::avg_pool2d_forward(x, w, count_include_pad);
  record<1>("avg_pool2d", out, {&x}, [w, s = x.shape(), count_include_pad](const Tensor& g, GradInputs& dx) {
    dx[0] = kernels::avg_pool2d_backward(g, s, w, count_include_pad);
  });
  return out;
}

Tensor global_avg_pool2d(const Tensor& x, bool keepdim) {
  VIGIL_CHECK(x.dim() == 4, ShapeError, "global_avg_pool2d: expected a 4-D input [N, C, H, W], got shape {}",
              x.shape().str());
  return mean(x, {2, 3}, keepdim);
}

Tensor adaptive_avg_pool2d(const Tensor& x, Size2 output_size) {
  Tensor out = kernels::adaptive_avg_pool2d_forward(x, output_size.h, output_size.w);
  record<1>("adaptive_avg_pool2d", out, {&x}, [s = x.shape()](const Tensor& g, GradInputs& dx) {
    dx[0] = kernels::adaptive_avg_pool2d_backward(g, s);
  });
  return out;
}

Tensor adaptive_max_pool2d(const Tensor& x, Size2 output_size) {
  return record_max_pool(kernels::adaptive_max_pool2d_forward(x, output_size.h, output_size.w), x,
                         "adaptive_max_pool2d");
}

Tensor spatial_pyramid_pool(const Tensor& x, const std::vector<std::int64_t>& levels) {
  VIGIL_CHECK(!levels.empty(), ShapeError, "spatial_pyramid_pool: no levels given (input of shape {})",
              x.shape().str());
  std::vector<Tensor> parts;
  parts.reserve(levels.size());
  for (std::int64_t l : levels) {
    VIGIL_CHECK(l > 0, ShapeError, "spatial_pyramid_pool: levels must be positive, got {} (input of shape {})", l,
                x.shape().str());
    parts.push_back(flatten(adaptive_max_pool2d(x, {l, l}), 1));
  }
  return parts.size() == 1 ? parts[0] : cat(parts, 1);
}

}  // namespace vigil
