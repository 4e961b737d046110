// Copies and conversions (contiguous, clone, copy_, to_dtype), allclose, and the Tensor handle's accessors.
#include "expect_error.hpp"

#include <vigil/tensor/tensor.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace vigil::testing {
namespace {

using Values = std::vector<float>;

Tensor matrix() { return from_vector(Values{1, 2, 3, 4, 5, 6}, {2, 3}); }

TEST(Contiguous, ReturnsTheSameTensorWhenAlreadyContiguous) {
  const Tensor x = matrix();
  EXPECT_EQ(raw::contiguous(x).impl_ptr(), x.impl_ptr());
  const Tensor rows = raw::narrow(x, 0, 1, 1);  // offset, but row-major
  EXPECT_TRUE(rows.is_contiguous());
  EXPECT_EQ(raw::contiguous(rows).impl_ptr(), rows.impl_ptr());
}

TEST(Contiguous, CopiesStridedViewsInRowMajorOrder) {
  const Tensor t = raw::transpose(matrix(), 0, 1);
  EXPECT_FALSE(t.is_contiguous());
  const Tensor c = raw::contiguous(t);
  EXPECT_TRUE(c.is_contiguous());
  EXPECT_FALSE(c.shares_storage(t));
  EXPECT_EQ(c.strides(), (Shape{2, 1}));
  EXPECT_EQ(c.to_vector(), (Values{1, 4, 2, 5, 3, 6}));
}

TEST(IsContiguous, IgnoresStridesOfSizeOneDims) {
  const Tensor x = matrix();
  EXPECT_FALSE(raw::narrow(x, 1, 0, 2).is_contiguous());
  EXPECT_TRUE(raw::unsqueeze(x, 1).is_contiguous());
  EXPECT_TRUE(raw::transpose(raw::unsqueeze(x, 0), 0, 1).is_contiguous());  // [2, 1, 3] with strides [3, 6, 1]
  EXPECT_FALSE(raw::narrow(x, 1, 1, 1).is_contiguous());
  EXPECT_FALSE(raw::slice(x, 1, 0, 3, 3).is_contiguous());
  EXPECT_TRUE(raw::expand(scalar_tensor(1), Shape{1, 1}).is_contiguous());
  EXPECT_FALSE(raw::expand(scalar_tensor(1), Shape{3}).is_contiguous());
}

TEST(Clone, CopiesTheData) {
  const Tensor x = matrix();
  const Tensor c = raw::clone(x);
  EXPECT_FALSE(c.shares_storage(x));
  EXPECT_EQ(c.to_vector(), x.to_vector());
  c.data<float>()[0] = 100;
  EXPECT_EQ(x.to_vector()[0], 1.0f);
  const Tensor expanded = raw::clone(raw::expand(from_vector(Values{1, 2}, {2, 1}), Shape{2, 3}));
  EXPECT_EQ(expanded.strides(), (Shape{3, 1}));
  EXPECT_EQ(expanded.to_vector(), (Values{1, 1, 1, 2, 2, 2}));
  const Tensor i = raw::clone(from_vector_i64(std::vector<std::int64_t>{3, 4}, {2}));
  EXPECT_EQ(i.dtype(), DType::Int64);
  EXPECT_EQ(i.data<std::int64_t>()[1], 4);
}

TEST(Copy, IntoEveryOtherColumn) {
  const Tensor dst = zeros({3, 4});
  raw::copy_(raw::slice(dst, 1, 0, 4, 2), from_vector(Values{1, 2, 3, 4, 5, 6}, {3, 2}));
  EXPECT_EQ(dst.to_vector(), (Values{1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0}));
}

TEST(Copy, IntoATransposedView) {
  const Tensor dst = zeros({2, 3});
  raw::copy_(raw::transpose(dst, 0, 1), from_vector(Values{1, 2, 3, 4, 5, 6}, {3, 2}));
  EXPECT_EQ(dst.to_vector(), (Values{1, 3, 5, 2, 4, 6}));
}

TEST(Copy, FromAStridedSourceIntoANarrowedDestination) {
  const Tensor dst = zeros({4, 3});
  const Tensor src = raw::transpose(matrix(), 0, 1);  // [[1, 4], [2, 5], [3, 6]]
  raw::copy_(raw::narrow(raw::transpose(dst, 0, 1), 1, 1, 2), src);
  // dst^T[:, 1:3] = src, so dst rows 1 and 2 take src's columns.
  EXPECT_EQ(dst.to_vector(), (Values{0, 0, 0, 1, 2, 3, 4, 5, 6, 0, 0, 0}));
}

TEST(Copy, FromAnExpandedSource) {
  const Tensor dst = zeros({2, 3});
  raw::copy_(dst, raw::expand(from_vector(Values{7, 8, 9}, {3}), Shape{2, 3}));
  EXPECT_EQ(dst.to_vector(), (Values{7, 8, 9, 7, 8, 9}));
}

TEST(Copy, MismatchesThrow) {
  EXPECT_TRUE(throws_with<ShapeError>([] { raw::copy_(zeros({2, 3}), zeros({3, 2})); }, {"copy_", "[2, 3]", "[3, 2]"}));
  EXPECT_TRUE(throws_with<DTypeError>([] { raw::copy_(zeros({2}), zeros({2}, TensorOptions{DType::Float64})); },
                                      {"copy_", "float32", "float64"}));
}

TEST(ToDtype, ConvertsLikeACast) {
  const Tensor x = from_vector(Values{2.7f, -2.7f, 0.0f, 1.5f}, {4});
  const Tensor i = raw::to_dtype(x, DType::Int64);
  EXPECT_EQ(i.dtype(), DType::Int64);
  EXPECT_EQ(std::vector<std::int64_t>(i.data<std::int64_t>(), i.data<std::int64_t>() + 4),
            (std::vector<std::int64_t>{2, -2, 0, 1}));
  const Tensor b = raw::to_dtype(x, DType::Bool);
  EXPECT_EQ(b.to_vector(), (Values{1, 1, 0, 1}));
  const Tensor d = raw::to_dtype(x, DType::Float64);
  EXPECT_EQ(d.data<double>()[0], static_cast<double>(2.7f));
  EXPECT_EQ(raw::to_dtype(x, DType::Int32).data<std::int32_t>()[1], -2);
  EXPECT_EQ(raw::to_dtype(b, DType::Float32).to_vector(), (Values{1, 1, 0, 1}));
  EXPECT_EQ(raw::to_dtype(i, DType::Float64).to_vector(), (Values{2, -2, 0, 1}));
}

TEST(ToDtype, SameDtypeCopiesAndStridedInputsComeOutRowMajor) {
  const Tensor x = matrix();
  const Tensor same = raw::to_dtype(x, DType::Float32);
  EXPECT_FALSE(same.shares_storage(x));
  EXPECT_EQ(same.to_vector(), x.to_vector());
  const Tensor t = raw::to_dtype(raw::transpose(x, 0, 1), DType::Float64);
  EXPECT_TRUE(t.is_contiguous());
  EXPECT_EQ(t.to_vector(), (Values{1, 4, 2, 5, 3, 6}));
}

TEST(ToDtype, BFloat16HasNoConversion) {
  EXPECT_TRUE(throws_with<DTypeError>([] { (void)raw::to_dtype(zeros({2}), DType::BFloat16); }, {"bfloat16"}));
  EXPECT_TRUE(throws_with<DTypeError>([] { (void)raw::to_dtype(empty({2}, TensorOptions{DType::BFloat16}), DType::Float32); },
                                      {"bfloat16"}));
}

TEST(Allclose, Tolerances) {
  const Tensor a = from_vector(Values{1.0f, 2.0f, 100.0f}, {3});
  EXPECT_TRUE(allclose(a, a));
  EXPECT_TRUE(allclose(a, from_vector(Values{1.0f, 2.0f, 100.0005f}, {3})));  // within rtol * |b|
  EXPECT_FALSE(allclose(a, from_vector(Values{1.0f, 2.0f, 100.1f}, {3})));
  EXPECT_TRUE(allclose(a, from_vector(Values{1.0f, 2.0f, 100.1f}, {3}), 1e-3));
  EXPECT_TRUE(allclose(zeros({2}), full({2}, 1e-9f)));  // within atol
  EXPECT_FALSE(allclose(zeros({2}), full({2}, 1e-7f)));
  EXPECT_FALSE(allclose(a, from_vector(Values{1, 2, 100}, {3, 1})));  // shapes differ
  EXPECT_TRUE(allclose(raw::transpose(matrix(), 0, 1), from_vector(Values{1, 4, 2, 5, 3, 6}, {3, 2})));
}

TEST(Allclose, NaNAndInfinity) {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  const Tensor a = from_vector(Values{nan, inf, -inf}, {3});
  EXPECT_FALSE(allclose(a, a));
  EXPECT_TRUE(allclose(a, a, 1e-5, 1e-8, true));
  EXPECT_FALSE(allclose(from_vector(Values{inf}, {1}), from_vector(Values{-inf}, {1})));
  EXPECT_FALSE(allclose(from_vector(Values{1}, {1}), from_vector(Values{inf}, {1})));
  EXPECT_FALSE(allclose(from_vector(Values{inf}, {1}), from_vector(Values{1}, {1})));
  EXPECT_FALSE(allclose(from_vector(Values{nan}, {1}), from_vector(Values{1}, {1}), 1e-5, 1e-8, true));
}

TEST(Allclose, Float64KeepsItsPrecision) {
  const Tensor a = full({2}, 1.0f, TensorOptions{DType::Float64});
  Tensor b = raw::clone(a);
  b.data<double>()[1] = 1.0 + 1e-9;  // the same float32, but not within rtol 1e-12
  EXPECT_FALSE(allclose(a, b, 1e-12, 0));
  EXPECT_TRUE(allclose(a, b, 1e-8, 0));
}

TEST(TensorHandle, Accessors) {
  const Tensor x = matrix();
  EXPECT_TRUE(x.defined());
  EXPECT_EQ(x.dim(), 2);
  EXPECT_EQ(x.size(0), 2);
  EXPECT_EQ(x.size(-1), 3);
  EXPECT_EQ(x.numel(), 6);
  EXPECT_EQ(x.offset(), 0);
  EXPECT_EQ(static_cast<float*>(x.raw_data()), x.data<float>());
  EXPECT_EQ(raw::narrow(x, 1, 2, 1).data<float>(), x.data<float>() + 2);
  EXPECT_TRUE(throws_with<IndexError>([&] { (void)x.size(2); }, {"size", "dim 2"}));
}

TEST(TensorHandle, ItemReadsOneElement) {
  EXPECT_EQ(scalar_tensor(2.5f).item(), 2.5f);
  EXPECT_EQ(ones({1, 1}).item(), 1.0f);
  EXPECT_EQ(full({1}, 3, TensorOptions{DType::Int64}).item(), 3.0f);
  EXPECT_EQ(full({1}, 0.5f, TensorOptions{DType::Float64}).item(), 0.5f);
  EXPECT_EQ(full({1}, 1, TensorOptions{DType::Bool}).item(), 1.0f);
  EXPECT_TRUE(throws_with<ShapeError>([] { (void)zeros({2}).item(); }, {"item", "[2]"}));
}

TEST(TensorHandle, TypedAccessChecksTheDtype) {
  EXPECT_TRUE(throws_with<DTypeError>([] { (void)zeros({2}).data<double>(); }, {"data", "float64", "float32", "[2]"}));
}

TEST(TensorHandle, UndefinedTensorsThrowOnUse) {
  const Tensor u;
  EXPECT_FALSE(u.defined());
  EXPECT_TRUE(throws_with<Error>([&] { (void)u.shape(); }, {"undefined"}));
}

TEST(TensorHandle, RequiresGradOnlyOnFloatingLeaves) {
  Tensor x = zeros({2});
  x.set_requires_grad();
  EXPECT_TRUE(x.requires_grad());
  EXPECT_TRUE(x.is_leaf());
  x.set_requires_grad(false);
  EXPECT_FALSE(x.requires_grad());
  Tensor i = zeros({2}, TensorOptions{DType::Int64});
  EXPECT_TRUE(throws_with<DTypeError>([&] { i.set_requires_grad(); }, {"set_requires_grad", "int64"}));
}

TEST(TensorHandle, GradMustMatchTheShape) {
  Tensor x = zeros({2, 3}, TensorOptions{DType::Float32, true});
  EXPECT_FALSE(x.grad().defined());
  x.set_grad(ones({2, 3}));
  EXPECT_EQ(x.grad().to_vector(), Values(6, 1.0f));
  EXPECT_TRUE(throws_with<ShapeError>([&] { x.set_grad(ones({3, 2})); }, {"set_grad", "[3, 2]", "[2, 3]"}));
  x.set_grad(Tensor());
  EXPECT_FALSE(x.grad().defined());
}

TEST(TensorHandle, DetachSharesStorageWithoutGraph) {
  const Tensor x = zeros({2, 2}, TensorOptions{DType::Float32, true});
  const Tensor d = x.detach();
  EXPECT_TRUE(d.shares_storage(x));
  EXPECT_FALSE(d.requires_grad());
  EXPECT_NE(d.impl_ptr(), x.impl_ptr());
  const Tensor t = raw::transpose(matrix(), 0, 1).detach();
  EXPECT_EQ(t.strides(), (Shape{1, 3}));
}

}  // namespace
}  // namespace vigil::testing
