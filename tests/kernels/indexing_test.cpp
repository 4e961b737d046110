// index_select's run-copying fast path against its element-by-element twin: every dim of contiguous inputs, a
// strided index, a 0-d index, a non-contiguous input (which takes the twin's path), and the bounds check.
#include "support/golden.hpp"

#include <vigil/kernels/indexing.hpp>

namespace vigil::testing {
namespace {

Tensor indices(std::vector<std::int64_t> values, const Shape& shape) { return from_vector_i64(values, shape); }

TEST(IndexingKernels, IndexSelectMatchesReference) {
  Generator gen(5);
  const Tensor picks = indices({4, 0, 6, 4, 1, 2, 0}, Shape{7});
  const Tensor every_other = raw::slice(indices({3, 9, 0, 9, 5, 9}, Shape{6}), 0, 0, 6, 2);  // [3, 0, 5]
  for (DType dtype : {DType::Float32, DType::Float64}) {
    const Tensor x = raw::to_dtype(randn(Shape{7, 8, 7}, gen), dtype);
    const std::vector<std::pair<std::string, Tensor>> inputs{
        {"contiguous [7, 8, 7]", x},
        {"permuted [7, 7, 8]", raw::transpose(x, 1, 2)},
    };
    for (const auto& [label, in] : inputs) {
      for (std::int64_t dim : {0, 1, 2, -1}) {
        const Tensor index = dim == 1 ? every_other : picks;
        SCOPED_TRACE(fmt::format("{} {} dim {}", dtype_name(dtype), label, dim));
        EXPECT_TRUE(tensors_close(kernels::index_select(in, dim, index),
                                  kernels::index_select_reference(in, dim, index), 0.0, 0.0));
      }
    }
    const Tensor scalar_index = indices({2}, Shape{});
    EXPECT_TRUE(tensors_close(kernels::index_select(x, 1, scalar_index),
                              kernels::index_select_reference(x, 1, scalar_index), 0.0, 0.0));
  }
}

TEST(IndexingKernels, IndexSelectFastPathChecksEveryIndex) {
  const Tensor x = zeros(Shape{3, 4});
  EXPECT_THROW((void)kernels::index_select(x, 0, indices({0, 3}, Shape{2})), IndexError);
  EXPECT_THROW((void)kernels::index_select(x, 1, indices({-1}, Shape{1})), IndexError);
}

}  // namespace
}  // namespace vigil::testing
