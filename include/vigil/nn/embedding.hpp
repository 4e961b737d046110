// Embedding: a lookup table of learned vectors, one row per token id.
//
//   out[i_1, ..., i_k, :] = weight[indices[i_1, ..., i_k], :]
//
// Shapes: weight [num_embeddings, embedding_dim]; indices int64 of any shape (0-d included) -> out
// [*indices.shape, embedding_dim]. Backward: dweight[r] = sum of dy over the positions whose index is r (a
// scatter-add: repeated indices accumulate, in row-major order of indices, so the sum is deterministic); the
// padding_idx row, when given, gets no gradient. Indices get none.
#pragma once

#include <vigil/nn/module.hpp>

#include <cstdint>
#include <optional>

namespace vigil::nn {

// padding_idx may be negative (counts from the end, as torch) and must lie in [-num_embeddings, num_embeddings)
// (Error otherwise). Throws ShapeError unless weight is 2-D, DTypeError unless indices are int64, and IndexError
// naming the index, its position in indices and num_embeddings for an index outside [0, num_embeddings).
Tensor embedding(const Tensor& weight, const Tensor& indices, std::optional<std::int64_t> padding_idx = std::nullopt);

// torch.nn.Embedding: "weight" [num_embeddings, embedding_dim] initialised N(0, 1) from `gen`, with the
// padding_idx row (if any) then set to zeros, so padding tokens embed to the zero vector and, getting no
// gradient, stay there. forward(indices) = embedding(weight, indices, padding_idx).
class Embedding : public Module {
 public:
  Embedding(std::int64_t num_embeddings, std::int64_t embedding_dim, Generator& gen,
            std::optional<std::int64_t> padding_idx = std::nullopt);
  Tensor forward(const Tensor& indices) override;

  const Tensor& weight() const { return weight_; }
  std::int64_t num_embeddings() const { return weight_.size(0); }
  std::int64_t embedding_dim() const { return weight_.size(1); }
  std::optional<std::int64_t> padding_idx() const { return padding_idx_; }  // normalised to [0, num_embeddings)

 private:
  Tensor weight_;
  std::optional<std::int64_t> padding_idx_;
};

}  // namespace vigil::nn
