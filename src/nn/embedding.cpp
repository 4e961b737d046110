// embedding: rows of the weight gathered by index (kernels::index_select), then its backward right below it, a
// scatter-add of the upstream rows into the weight's gradient (kernels::index_add).
#include <vigil/autograd/function.hpp>
#include <vigil/kernels/indexing.hpp>
#include <vigil/nn/embedding.hpp>

#include <fmt/format.h>

#include <string>
#include <vector>

namespace vigil::nn {

namespace {

// "[1, 2]": the multi-dimensional position of row-major element `flat` in `shape`.
std::string position_of(std::int64_t flat, const Shape& shape) {
  std::vector<std::int64_t> index(static_cast<std::size_t>(shape.size()));
  for (int d = shape.size() - 1; d >= 0; --d) {
    index[static_cast<std::size_t>(d)] = flat % shape[d];
    flat /= shape[d];
  }
  return fmt::format("[{}]", fmt::join(index, ", "));
}

std::int64_t normalize_padding(std::optional<std::int64_t> padding_idx, std::int64_t num, const char* who) {
  const std::int64_t p = *padding_idx;
  VIGIL_CHECK(p >= -num && p < num, Error, "{}: padding_idx {} is outside [-{}, {}) for {} embeddings", who, p, num,
              num, num);
  return p < 0 ? p + num : p;
}

}  // namespace

Tensor embedding(const Tensor& weight, const Tensor& indices, std::optional<std::int64_t> padding_idx) {
  VIGIL_CHECK(weight.dim() == 2, ShapeError,
              "embedding: weight must be 2-D [num_embeddings, embedding_dim], got shape {} (indices of shape {})",
              weight.shape().str(), indices.shape().str());
  VIGIL_CHECK(indices.dtype() == DType::Int64, DTypeError, "embedding: indices must be int64, got {} of shape {}",
              dtype_name(indices.dtype()), indices.shape().str());
  const std::int64_t num = weight.size(0), dim = weight.size(1);
  const std::optional<std::int64_t> pad =
      padding_idx ? std::optional<std::int64_t>(normalize_padding(padding_idx, num, "embedding")) : std::nullopt;
  const std::int64_t count = indices.numel();
  const Tensor flat = raw::reshape(raw::contiguous(indices), Shape{count});
  const std::int64_t* ids = flat.data<std::int64_t>();
  for (std::int64_t k = 0; k < count; ++k) {
    VIGIL_CHECK(ids[k] >= 0 && ids[k] < num, IndexError,
                "embedding: index {} at position {} of indices (shape {}) is outside [0, {}) for weight of shape {}",
                ids[k], position_of(k, indices.shape()), indices.shape().str(), num, weight.shape().str());
  }
  Shape out_shape = indices.shape();
  out_shape.push_back(dim);
  Tensor out = raw::reshape(kernels::index_select(weight, 0, flat), out_shape);
  record<1>("embedding", out, {&weight}, [flat, weight_shape = weight.shape(), pad](const Tensor& g, GradInputs& dx) {
    const std::int64_t rows = flat.numel();
    const Tensor g_rows = raw::reshape(g, Shape{rows, weight_shape[1]});
    Tensor dweight = kernels::index_add(zeros(weight_shape, TensorOptions{g.dtype()}), 0, flat, g_rows);
    if (pad) raw::copy_(raw::narrow(dweight, 0, *pad, 1), zeros(Shape{1, weight_shape[1]}, TensorOptions{g.dtype()}));
    dx[0] = dweight;
  });
  return out;
}

Embedding::Embedding(std::int64_t num_embeddings, std::int64_t embedding_dim, Generator& gen,
                     std::optional<std::int64_t> padding_idx) {
  VIGIL_CHECK(num_embeddings > 0 && embedding_dim > 0, ShapeError,
              "Embedding: num_embeddings and embedding_dim must be positive, got {} and {}", num_embeddings,
              embedding_dim);
  if (padding_idx) padding_idx_ = normalize_padding(padding_idx, num_embeddings, "Embedding");
  Tensor weight = randn(Shape{num_embeddings, embedding_dim}, gen);
  if (padding_idx_) raw::copy_(raw::narrow(weight, 0, *padding_idx_, 1), zeros(Shape{1, embedding_dim}));
  weight_ = register_parameter("weight", weight);
}

Tensor Embedding::forward(const Tensor& indices) { return embedding(weight_, indices, padding_idx_); }

}  // namespace vigil::nn
