// Tensor creation: constant fills, ranges, identity matrices, copies from vectors and views of external buffers.
#include "expect_error.hpp"

#include <vigil/tensor/tensor.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

namespace vigil::testing {
namespace {

using Values = std::vector<float>;

TEST(Creation, ZerosOnesFull) {
  const Tensor z = zeros({2, 3});
  EXPECT_EQ(z.shape(), (Shape{2, 3}));
  EXPECT_EQ(z.dtype(), DType::Float32);
  EXPECT_TRUE(z.is_contiguous());
  EXPECT_EQ(z.to_vector(), Values(6, 0.0f));
  EXPECT_EQ(ones({4}).to_vector(), Values(4, 1.0f));
  EXPECT_EQ(full({2, 2}, -1.5f).to_vector(), Values(4, -1.5f));
  EXPECT_FALSE(zeros({2}).requires_grad());
  EXPECT_TRUE(zeros({2}, TensorOptions{DType::Float32, true}).requires_grad());
}

TEST(Creation, FullInEveryDtype) {
  const Tensor d = full({3}, 2.5f, TensorOptions{DType::Float64});
  EXPECT_EQ(d.dtype(), DType::Float64);
  EXPECT_EQ(d.data<double>()[2], 2.5);
  const Tensor i = full({2}, 7.0f, TensorOptions{DType::Int64});
  EXPECT_EQ(i.data<std::int64_t>()[1], 7);
  const Tensor i32 = full({2}, -3.0f, TensorOptions{DType::Int32});
  EXPECT_EQ(i32.data<std::int32_t>()[0], -3);
  const Tensor b = full({2}, 1.0f, TensorOptions{DType::Bool});
  EXPECT_TRUE(b.data<bool>()[0]);
  EXPECT_FALSE(zeros({1}, TensorOptions{DType::Bool}).data<bool>()[0]);
  EXPECT_THROW((void)full({2}, 1.0f, TensorOptions{DType::BFloat16}), DTypeError);
}

TEST(Creation, ScalarTensorHasNoDims) {
  const Tensor s = scalar_tensor(3.25f);
  EXPECT_EQ(s.dim(), 0);
  EXPECT_EQ(s.numel(), 1);
  EXPECT_EQ(s.item(), 3.25f);
}

TEST(Creation, EmptyRejectsNegativeExtents) {
  EXPECT_TRUE(throws_with<ShapeError>([] { (void)empty({2, -1}); }, {"empty", "[2, -1]"}));
  EXPECT_EQ(empty({0, 3}).numel(), 0);
}

TEST(Arange, IntegerSteps) {
  EXPECT_EQ(arange(0, 5).to_vector(), (Values{0, 1, 2, 3, 4}));
  EXPECT_EQ(arange(2, 11, 3).to_vector(), (Values{2, 5, 8}));
  EXPECT_EQ(arange(5, 0, -1).to_vector(), (Values{5, 4, 3, 2, 1}));
  EXPECT_EQ(arange(0, -3, -1).to_vector(), (Values{0, -1, -2}));
  EXPECT_EQ(arange(3, 3).numel(), 0);
}

TEST(Arange, FractionalStepsFollowPyTorchsCount) {
  // The count is ceil((end - start) / step) in double, as torch.arange: 10 values for [0, 1) by 0.1, 3 for [0, 0.3)
  // by 0.1 (0.3 / 0.1 = 2.9999...), and 4 for [1, 1.3) by 0.1 (0.3000...04 / 0.1 > 3): torch gives 1.3 too.
  EXPECT_EQ(arange(0, 1, 0.1).numel(), 10);
  EXPECT_EQ(arange(0, 0.3, 0.1).numel(), 3);
  const Values v = arange(1, 1.3, 0.1).to_vector();
  ASSERT_EQ(v.size(), 4u);
  EXPECT_FLOAT_EQ(v[3], 1.3f);
  EXPECT_EQ(arange(-1.5, 1.0, 0.75).to_vector(), (Values{-1.5f, -0.75f, 0.0f, 0.75f}));
  const Values tenths = arange(0, 1, 0.1).to_vector();
  for (std::size_t i = 0; i < tenths.size(); ++i) EXPECT_FLOAT_EQ(tenths[i], static_cast<float>(0.1 * double(i)));
}

TEST(Arange, OtherDtypes) {
  const Tensor i = arange(0, 4, 1, TensorOptions{DType::Int64});
  EXPECT_EQ(i.dtype(), DType::Int64);
  EXPECT_EQ(std::vector<std::int64_t>(i.data<std::int64_t>(), i.data<std::int64_t>() + 4),
            (std::vector<std::int64_t>{0, 1, 2, 3}));
  const Tensor d = arange(0, 1, 0.25, TensorOptions{DType::Float64});
  EXPECT_EQ(d.dtype(), DType::Float64);
  EXPECT_EQ(d.data<double>()[3], 0.75);
  EXPECT_EQ(arange(0, 3, 1, TensorOptions{DType::Int32}).data<std::int32_t>()[2], 2);
}

TEST(Arange, BadStepsThrow) {
  EXPECT_TRUE(throws_with<Error>([] { (void)arange(0, 1, 0); }, {"arange", "non-zero"}));
  EXPECT_TRUE(throws_with<Error>([] { (void)arange(0, 5, -1); }, {"arange", "-1"}));
}

TEST(Linspace, HitsBothEndpointsExactly) {
  const Values v = linspace(-1.3, 2.7, 7).to_vector();
  ASSERT_EQ(v.size(), 7u);
  EXPECT_EQ(v.front(), -1.3f);
  EXPECT_EQ(v.back(), 2.7f);
  // torch.linspace(-1.3, 2.7, 7)
  const Values torch{-1.2999999523f, -0.6333332658f, 0.0333334208f, 0.6999999881f, 1.3666666746f, 2.0333333015f,
                     2.7000000477f};
  for (std::size_t i = 0; i < v.size(); ++i) EXPECT_NEAR(v[i], torch[i], 1e-6) << i;
  const Values tenths = linspace(0, 1, 11).to_vector();
  EXPECT_EQ(tenths[5], 0.5f);
  EXPECT_EQ(tenths[10], 1.0f);
  EXPECT_EQ(linspace(0.1, 0.7, 4).to_vector().back(), 0.7f);
}

TEST(Linspace, DegenerateCounts) {
  EXPECT_EQ(linspace(3, 9, 1).to_vector(), (Values{3}));
  EXPECT_EQ(linspace(3, 9, 0).numel(), 0);
  EXPECT_EQ(linspace(2, 2, 3).to_vector(), (Values{2, 2, 2}));
  EXPECT_EQ(linspace(1, -1, 3).to_vector(), (Values{1, 0, -1}));
  EXPECT_TRUE(throws_with<Error>([] { (void)linspace(0, 1, -2); }, {"linspace", "-2"}));
  const Tensor d = linspace(0, 1, 3, TensorOptions{DType::Float64});
  EXPECT_EQ(d.data<double>()[1], 0.5);
}

TEST(Eye, SquareAndRectangular) {
  EXPECT_EQ(eye(3).to_vector(), (Values{1, 0, 0, 0, 1, 0, 0, 0, 1}));
  const Tensor wide = eye(2, 4);
  EXPECT_EQ(wide.shape(), (Shape{2, 4}));
  EXPECT_EQ(wide.to_vector(), (Values{1, 0, 0, 0, 0, 1, 0, 0}));
  const Tensor tall = eye(4, 2);
  EXPECT_EQ(tall.shape(), (Shape{4, 2}));
  EXPECT_EQ(tall.to_vector(), (Values{1, 0, 0, 1, 0, 0, 0, 0}));
  const Tensor d = eye(2, -1, TensorOptions{DType::Float64, true});
  EXPECT_EQ(d.dtype(), DType::Float64);
  EXPECT_TRUE(d.requires_grad());
  EXPECT_EQ(d.to_vector(), (Values{1, 0, 0, 1}));
  EXPECT_EQ(eye(0).numel(), 0);
}

TEST(FromVector, CopiesRowMajor) {
  Values values{1, 2, 3, 4, 5, 6};
  const Tensor t = from_vector(values, {2, 3});
  values[0] = 100;  // a copy: the tensor does not see later changes
  EXPECT_EQ(t.shape(), (Shape{2, 3}));
  EXPECT_EQ(t.to_vector(), (Values{1, 2, 3, 4, 5, 6}));
  EXPECT_TRUE(from_vector(values, {6}, TensorOptions{DType::Float32, true}).requires_grad());
}

TEST(FromVector, CountMismatchNamesTheShape) {
  const Values values{1, 2, 3};
  EXPECT_TRUE(throws_with<ShapeError>([&] { (void)from_vector(values, {2, 2}); }, {"from_vector", "3", "[2, 2]"}));
  const std::vector<std::int64_t> ints{1, 2};
  EXPECT_TRUE(throws_with<ShapeError>([&] { (void)from_vector_i64(ints, {3}); }, {"from_vector_i64", "[3]"}));
  const bool bits[] = {true, false};
  EXPECT_TRUE(throws_with<ShapeError>([&] { (void)from_vector_bool(bits, {3}); }, {"from_vector_bool", "[3]"}));
}

TEST(FromVector, IntegerAndBool) {
  const std::vector<std::int64_t> ints{-5, 0, 9};
  const Tensor i = from_vector_i64(ints, {3});
  EXPECT_EQ(i.dtype(), DType::Int64);
  EXPECT_EQ(i.data<std::int64_t>()[0], -5);
  EXPECT_EQ(i.to_vector(), (Values{-5, 0, 9}));
  const bool bits[] = {true, false, true, true};
  const Tensor b = from_vector_bool(bits, {2, 2});
  EXPECT_EQ(b.dtype(), DType::Bool);
  EXPECT_EQ(b.to_vector(), (Values{1, 0, 1, 1}));
}

TEST(FromBlob, ViewsTheBufferWithoutCopying) {
  float buffer[6] = {1, 2, 3, 4, 5, 6};
  const Tensor t = from_blob(buffer, {2, 3}, DType::Float32);
  EXPECT_EQ(t.data<float>(), buffer);
  buffer[4] = 50;
  EXPECT_EQ(t.to_vector(), (Values{1, 2, 3, 4, 50, 6}));
  t.data<float>()[0] = -1;
  EXPECT_EQ(buffer[0], -1);
}

TEST(FromBlob, DeleterRunsExactlyOnceWhenTheLastViewDies) {
  int calls = 0;
  auto* buffer = new double[6]{1, 2, 3, 4, 5, 6};
  {
    Tensor t = from_blob(buffer, {2, 3}, DType::Float64, [&calls](void* p) {
      ++calls;
      delete[] static_cast<double*>(p);
    });
    Tensor handle = t;
    const Tensor view = raw::transpose(t, 0, 1);
    const Tensor copy = raw::clone(t);  // owns its own storage
    t = Tensor();
    handle = Tensor();
    EXPECT_EQ(calls, 0);
    EXPECT_EQ(view.to_vector(), (Values{1, 4, 2, 5, 3, 6}));
    EXPECT_EQ(copy.to_vector(), (Values{1, 2, 3, 4, 5, 6}));
  }
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace vigil::testing
