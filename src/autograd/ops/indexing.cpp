// Indexing ops: forward through kernels/indexing, backward right below each (each op's adjoint is its partner:
// gather <-> scatter_add, index_select <-> index_add).
#include <vigil/autograd/function.hpp>
#include <vigil/autograd/ops/indexing.hpp>
#include <vigil/kernels/indexing.hpp>

namespace vigil {

Tensor gather(const Tensor& x, std::int64_t dim, const Tensor& index) {
  Tensor out = kernels::gather(x, dim, index);
  record<1>("gather", out, {&x}, [s = x.shape(), dim, index = saved(index)](const Tensor& g, GradInputs& dx) {
    dx[0] = kernels::scatter_add(zeros(s, TensorOptions{g.dtype()}), dim, index, g);
  });
  return out;
}

Tensor scatter_add(const Tensor& x, std::int64_t dim, const Tensor& index, const Tensor& src) {
  Tensor out = kernels::scatter_add(x, dim, index, src);
  record<2>("scatter_add", out, {&x, &src},
            [src_shape = src.shape(), dim, index = saved(index)](const Tensor& g, GradInputs& dx) {
              if (dx.needs(0)) dx[0] = g;  // out = x + (terms independent of x)
              if (dx.needs(1)) {
                // src[i][j][k] landed at out[index[i][j][k]][j][k]; src elements beyond index's extents are unused.
                const Tensor picked = kernels::gather(g, dim, index);
                if (src_shape == index.shape()) {
                  dx[1] = picked;
                } else {
                  dx[1] = zeros(src_shape, TensorOptions{g.dtype()});
                  Tensor region = dx[1];
                  for (int d = 0; d < index.dim(); ++d) region = raw::narrow(region, d, 0, index.shape()[d]);
                  raw::copy_(region, picked);
                }
              }
            });
  return out;
}

Tensor index_select(const Tensor& x, std::int64_t dim, const Tensor& index) {
  Tensor out = kernels::index_select(x, dim, index);
  record<1>("index_select", out, {&x}, [s = x.shape(), dim, index = saved(index)](const Tensor& g, GradInputs& dx) {
    dx[0] = kernels::index_add(zeros(s, TensorOptions{g.dtype()}), dim, index, g);
  });
  return out;
}

Tensor one_hot(const Tensor& labels, std::int64_t num_classes) { return kernels::one_hot(labels, num_classes); }

}  // namespace vigil
