// Differentiable indexing along a dim with int64 index tensors, matched to PyTorch 1.13. Index values must lie in
// [0, extent) of the dim they index; a value outside throws IndexError naming the op, the value and the extent.
// Index tensors never carry a gradient.
#pragma once

#include <vigil/tensor/tensor.hpp>

namespace vigil {

// out[i][j][k] = x[index[i][j][k]][j][k] for dim 0 (likewise for the other dims), as torch.gather.
// Shapes: index has x's rank, index.size(d) <= x.size(d) for d != dim; out has index's shape.
// Backward: dx = scatter_add(zeros_like(x), dim, index, g).
Tensor gather(const Tensor& x, std::int64_t dim, const Tensor& index);

// x with out[index[i][j][k]][j][k] += src[i][j][k] for dim 0 (likewise for the other dims), as torch.scatter_add.
// Shapes: x, index, src of one rank; index.size(d) <= src.size(d) for all d and <= x.size(d) for d != dim; out has
// x's shape. Backward: dx = g; dsrc = gather(g, dim, index) on index's extents, 0 on src elements index does not
// reach (torch 1.13 rejects a src larger than index in backward; here it gets its exact gradient).
Tensor scatter_add(const Tensor& x, std::int64_t dim, const Tensor& index, const Tensor& src);

// The slices of x along dim at the positions in index (1-D or 0-D), as torch.index_select.
// Shapes: out is x's shape with dim's extent index.numel(). Backward: dx = index_add(zeros_like(x), dim, index, g)
// (repeated indices accumulate).
Tensor index_select(const Tensor& x, std::int64_t dim, const Tensor& index);

// labels (int64, any shape) -> float32 of shape labels.shape + [num_classes] with a 1 at each label, as
// torch.nn.functional.one_hot but float. No gradient. Throws IndexError naming the label outside [0, num_classes).
Tensor one_hot(const Tensor& labels, std::int64_t num_classes);

}  // namespace vigil
