// Indexing along a dim with int64 index tensors, as torch.gather / scatter_add / index_select / index_add and
// torch.nn.functional.one_hot. Index values must lie in [0, extent) of the dim they index (no negative wrap, as
// torch): a value outside throws IndexError naming the op, the value and the extent. Additions run in row-major
// order on one thread, so repeated indices accumulate in the same order every run.
#pragma once

#include <vigil/tensor/tensor.hpp>

namespace vigil::kernels {

// out[i][j][k] = x[index[i][j][k]][j][k] for dim 0 (likewise for the other dims). index has x's rank and
// index.size(d) <= x.size(d) for every d != dim; out has index's shape.
Tensor gather(const Tensor& x, std::int64_t dim, const Tensor& index);

// A copy of x with out[index[i][j][k]][j][k] += src[i][j][k] for dim 0 (likewise for the other dims). index, src
// and x have one rank; index.size(d) <= src.size(d) for every d and <= x.size(d) for d != dim. Elements of src
// outside index's extents are not used.
Tensor scatter_add(const Tensor& x, std::int64_t dim, const Tensor& index, const Tensor& src);

// x with dim's extent replaced by index.numel(): out[..., i, ...] = x[..., index[i], ...]. index is 1-D or 0-D.
// index_select copies whole runs of the dims after `dim` when x is contiguous; index_select_reference is its naive
// element-by-element twin (any layout), which the tests compare it with.
Tensor index_select(const Tensor& x, std::int64_t dim, const Tensor& index);
Tensor index_select_reference(const Tensor& x, std::int64_t dim, const Tensor& index);

// A copy of x with out[..., index[i], ...] += src[..., i, ...]; src is x's shape with dim's extent index.numel()
// (the adjoint of index_select).
Tensor index_add(const Tensor& x, std::int64_t dim, const Tensor& index, const Tensor& src);

// labels (int64, any shape) -> float32 of shape labels.shape + [num_classes], 1 at each label, 0 elsewhere.
Tensor one_hot(const Tensor& labels, std::int64_t num_classes);

}  // namespace vigil::kernels
