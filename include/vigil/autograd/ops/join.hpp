// Differentiable joining and splitting, matched to PyTorch 1.13: cat, stack, split, chunk and pad.
// Negative dims count from the end. Tensors joined together must share a dtype (DTypeError otherwise; no type
// promotion).
#pragma once

#include <vigil/tensor/tensor.hpp>

#include <initializer_list>
#include <span>
#include <vector>

namespace vigil {

// Concatenation along dim, as torch.cat. Shapes: every tensor has the same rank and the same extents except
// along dim; out's extent along dim is the sum of theirs. Backward: each input gets its slice of g.
// Throws ShapeError for an empty list or mismatched shapes (naming the first tensor's shape and the offender's).
Tensor cat(const std::vector<Tensor>& tensors, std::int64_t dim = 0);

// Joins same-shaped tensors along a new dim (0 <= dim <= rank after normalisation), as torch.stack:
// K tensors of shape [a, b] stacked at dim 1 give [a, K, b]. Backward: each input gets its slice of g.
Tensor stack(const std::vector<Tensor>& tensors, std::int64_t dim = 0);

// Parts of x along dim, as torch.split: views (narrow), each its own node so each part backpropagates alone.
// With split_size: parts of split_size elements, the last one smaller when the extent does not divide.
// With sizes: one part per entry; the sizes must sum to x's extent along dim.
std::vector<Tensor> split(const Tensor& x, std::int64_t split_size, std::int64_t dim = 0);
std::vector<Tensor> split(const Tensor& x, std::span<const std::int64_t> sizes, std::int64_t dim = 0);
inline std::vector<Tensor> split(const Tensor& x, std::initializer_list<std::int64_t> sizes, std::int64_t dim = 0) {
  return split(x, std::span<const std::int64_t>(sizes.begin(), sizes.size()), dim);
}

// At most `chunks` parts of ceil(extent / chunks) elements along dim (the last may be smaller, and fewer parts
// come back when the extent runs out), as torch.chunk.
std::vector<Tensor> chunk(const Tensor& x, std::int64_t chunks, std::int64_t dim = 0);

// How pad fills the new border, as torch.nn.functional.pad's modes.
enum class PadMode {
  Constant,   // `value` everywhere in the border; a negative pad crops instead
  Reflect,    // mirror without repeating the edge: [1, 2, 3] padded by 2 on the left -> [3, 2, 1, 2, 3]
  Replicate,  // repeat the edge: [1, 2, 3] padded by 2 on the left -> [1, 1, 1, 2, 3]
};

// Pads the trailing dims of x. `pads` holds (left, right) pairs, last dim first, as torch.nn.functional.pad:
// {l, r} pads dim -1, {l, r, t, b} pads dim -1 by (l, r) and dim -2 by (t, b). Its length must be even and at
// most 2 * rank. Shapes: dim -1-k grows by pads[2k] + pads[2k+1]. Reflect needs 0 <= pad < extent and Replicate
// 0 <= pad with extent > 0 (ShapeError otherwise); unlike torch, any trailing dims may be padded in every mode.
// Backward: the gradient of the kept region (Constant); the border's gradient folded back onto the elements it
// copies (Reflect, Replicate).
Tensor pad(const Tensor& x, std::span<const std::int64_t> pads, PadMode mode = PadMode::Constant, double value = 0.0);
inline Tensor pad(const Tensor& x, std::initializer_list<std::int64_t> pads, PadMode mode = PadMode::Constant,
                  double value = 0.0) {
  return pad(x, std::span<const std::int64_t>(pads.begin(), pads.size()), mode, value);
}

}  // namespace vigil
