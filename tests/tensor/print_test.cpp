// Printing: exact strings for small tensors, and "..." summaries beyond 1000 elements.
#include <vigil/tensor/tensor.hpp>

#include <gtest/gtest.h>

#include <limits>
#include <sstream>
#include <vector>

namespace vigil::testing {
namespace {

using Values = std::vector<float>;

TEST(Print, SmallMatrix) {
  EXPECT_EQ(to_string(from_vector(Values{1, 2, 3, 4}, {2, 2})), "tensor([[1., 2.],\n        [3., 4.]], shape=[2, 2])");
}

TEST(Print, DecimalsAndScientific) {
  EXPECT_EQ(to_string(from_vector(Values{1.5f, -2.25f, 3.0f}, {3})), "tensor([1.5000, -2.2500, 3.0000], shape=[3])");
  EXPECT_EQ(to_string(from_vector(Values{1e-5f, 1.0f}, {2})), "tensor([1.0000e-05, 1.0000e+00], shape=[2])");
  EXPECT_EQ(to_string(from_vector(Values{0.001f, 10.5f}, {2})), "tensor([1.0000e-03, 1.0500e+01], shape=[2])");
  EXPECT_EQ(to_string(scalar_tensor(3.5f)), "tensor(3.5000, shape=[])");
}

TEST(Print, NonFiniteValues) {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(to_string(from_vector(Values{nan, inf, -inf, 1.5f}, {4})), "tensor([nan, inf, -inf, 1.5000], shape=[4])");
}

TEST(Print, ThreeDims) {
  EXPECT_EQ(to_string(raw::reshape(arange(0, 8), Shape{2, 2, 2})),
            "tensor([[[0., 1.],\n"
            "         [2., 3.]],\n"
            "        [[4., 5.],\n"
            "         [6., 7.]]], shape=[2, 2, 2])");
}

TEST(Print, StridedViewsPrintTheirLogicalOrder) {
  EXPECT_EQ(to_string(raw::transpose(from_vector(Values{1, 2, 3, 4}, {2, 2}), 0, 1)),
            "tensor([[1., 3.],\n        [2., 4.]], shape=[2, 2])");
}

TEST(Print, DtypesAndRequiresGrad) {
  EXPECT_EQ(to_string(from_vector_i64(std::vector<std::int64_t>{-1, 20, 3}, {3})),
            "tensor([-1, 20, 3], shape=[3], dtype=int64)");
  EXPECT_EQ(to_string(from_vector_i64(std::vector<std::int64_t>{16777217}, {1})),
            "tensor([16777217], shape=[1], dtype=int64)");
  const bool bits[] = {true, false};
  EXPECT_EQ(to_string(from_vector_bool(bits, {2})), "tensor([true, false], shape=[2], dtype=bool)");
  EXPECT_EQ(to_string(full({1}, 0.25f, TensorOptions{DType::Float64})), "tensor([0.2500], shape=[1], dtype=float64)");
  EXPECT_EQ(to_string(ones({2}, TensorOptions{DType::Float32, true})), "tensor([1., 1.], shape=[2], requires_grad=true)");
}

TEST(Print, EmptyAndUndefined) {
  EXPECT_EQ(to_string(zeros({0})), "tensor([], shape=[0])");
  EXPECT_EQ(to_string(zeros({2, 0})), "tensor([[],\n        []], shape=[2, 0])");
  EXPECT_EQ(to_string(Tensor()), "tensor(undefined)");
}

TEST(Print, StreamOperatorMatchesToString) {
  const Tensor x = arange(0, 3);
  std::ostringstream os;
  os << x;
  EXPECT_EQ(os.str(), to_string(x));
}

TEST(Print, SummarisesBeyondAThousandElements) {
  EXPECT_EQ(to_string(arange(0, 2000)), "tensor([0., 1., 2., ..., 1997., 1998., 1999.], shape=[2000])");
  EXPECT_EQ(to_string(arange(0, 1000)).find("..."), std::string::npos);
  EXPECT_NE(to_string(arange(0, 1001)).find("..., 998., 999., 1000.]"), std::string::npos);
}

TEST(Print, SummarisesEveryDim) {
  EXPECT_EQ(to_string(raw::reshape(arange(0, 2000), Shape{100, 20})),
            "tensor([[0., 1., 2., ..., 17., 18., 19.],\n"
            "        [20., 21., 22., ..., 37., 38., 39.],\n"
            "        [40., 41., 42., ..., 57., 58., 59.],\n"
            "        ...,\n"
            "        [1940., 1941., 1942., ..., 1957., 1958., 1959.],\n"
            "        [1960., 1961., 1962., ..., 1977., 1978., 1979.],\n"
            "        [1980., 1981., 1982., ..., 1997., 1998., 1999.]], shape=[100, 20])");
}

}  // namespace
}  // namespace vigil::testing
