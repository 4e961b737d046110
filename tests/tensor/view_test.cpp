// Raw views: each is checked for its values, its shape and strides, and that it shares storage with its input
// (writing through a view changes the base tensor); reshape and flatten copy only when no view can express them.
#include "expect_error.hpp"

#include <vigil/tensor/tensor.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <initializer_list>
#include <vector>

namespace vigil::testing {
namespace {

using Values = std::vector<float>;

// x = [[[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]], [[12, ...], ...]]: element [a][b][c] is 12a + 4b + c.
Tensor base() { return raw::reshape(arange(0, 24), Shape{2, 3, 4}); }

// The element of t at `index`, read through t's strides and offset (independently of to_vector and copy_).
float at(const Tensor& t, std::initializer_list<std::int64_t> index) {
  std::int64_t offset = 0;
  int d = 0;
  for (std::int64_t i : index) offset += i * t.strides()[d++];
  return t.data<float>()[offset];
}

// Writing through `view` must show in `of`.
void expect_shares(const Tensor& view, const Tensor& of) {
  EXPECT_TRUE(view.shares_storage(of));
  view.data<float>()[0] = -7.0f;
  const Values values = of.to_vector();
  EXPECT_NE(std::find(values.begin(), values.end(), -7.0f), values.end());
}

TEST(View, ResplitsContiguousData) {
  const Tensor x = base();
  const Tensor v = raw::view(x, Shape{6, 4});
  EXPECT_EQ(v.shape(), (Shape{6, 4}));
  EXPECT_EQ(v.strides(), (Shape{4, 1}));
  EXPECT_EQ(v.to_vector(), x.to_vector());
  EXPECT_EQ(at(v, {5, 3}), 23.0f);
  expect_shares(v, x);
}

TEST(View, InfersOneExtent) {
  const Tensor x = base();
  EXPECT_EQ(raw::view(x, Shape{-1, 8}).shape(), (Shape{3, 8}));
  EXPECT_EQ(raw::view(x, Shape{4, -1, 3}).shape(), (Shape{4, 2, 3}));
  EXPECT_EQ(raw::view(x, Shape{2, 1, 3, 4}).strides(), (Shape{12, 12, 4, 1}));
  EXPECT_EQ(raw::view(x, Shape{-1}).shape(), (Shape{24}));
  EXPECT_EQ(raw::view(scalar_tensor(1), Shape{1, 1}).shape(), (Shape{1, 1}));
  EXPECT_EQ(raw::view(ones({1, 1}), Shape{}).shape(), Shape{});
}

TEST(View, NonContiguousButViewable) {
  // The first two dims of a narrowed tensor are still contiguous with each other, so they can be merged.
  const Tensor x = base();
  const Tensor n = raw::narrow(x, 2, 0, 2);  // [2, 3, 2], strides [12, 4, 1]
  const Tensor v = raw::view(n, Shape{6, 2});
  EXPECT_EQ(v.strides(), (Shape{4, 1}));
  EXPECT_EQ(v.to_vector(), (Values{0, 1, 4, 5, 8, 9, 12, 13, 16, 17, 20, 21}));
  EXPECT_TRUE(v.shares_storage(x));
  EXPECT_THROW((void)raw::view(n, Shape{12}), ShapeError);
}

TEST(View, NeedingACopyThrowsAndNamesBothShapes) {
  const Tensor t = raw::transpose(base(), 0, 2);  // [4, 3, 2]
  EXPECT_TRUE(throws_with<ShapeError>([&] { (void)raw::view(t, Shape{24}); }, {"view", "[4, 3, 2]", "[24]", "reshape"}));
}

TEST(View, BadShapesThrow) {
  const Tensor x = base();
  EXPECT_TRUE(throws_with<ShapeError>([&] { (void)raw::view(x, Shape{5, 5}); }, {"view", "[5, 5]", "[2, 3, 4]"}));
  EXPECT_TRUE(throws_with<ShapeError>([&] { (void)raw::view(x, Shape{-1, -1}); }, {"view", "only one", "[-1, -1]"}));
  EXPECT_TRUE(throws_with<ShapeError>([&] { (void)raw::view(x, Shape{-1, 5}); }, {"view", "[-1, 5]", "[2, 3, 4]"}));
  EXPECT_TRUE(throws_with<ShapeError>([&] { (void)raw::view(x, Shape{-2, -12}); }, {"view", "negative"}));
  EXPECT_TRUE(throws_with<ShapeError>([&] { (void)raw::reshape(x, Shape{7}); }, {"reshape", "[7]", "[2, 3, 4]"}));
}

TEST(Reshape, ViewsWhenItCan) {
  const Tensor x = base();
  const Tensor r = raw::reshape(x, Shape{4, -1});
  EXPECT_EQ(r.shape(), (Shape{4, 6}));
  expect_shares(r, x);
}

TEST(Reshape, CopiesWhenItMust) {
  const Tensor x = base();
  const Tensor t = raw::transpose(x, 0, 2);  // t[i][j][k] = x[k][j][i]
  const Tensor r = raw::reshape(t, Shape{-1});
  EXPECT_FALSE(r.shares_storage(x));
  EXPECT_TRUE(r.is_contiguous());
  Values expected;
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 2; ++k) expected.push_back(static_cast<float>(12 * k + 4 * j + i));
  EXPECT_EQ(r.to_vector(), expected);
}

TEST(Permute, ReordersDims) {
  const Tensor x = base();
  const std::int64_t order[] = {2, 0, 1};
  const Tensor p = raw::permute(x, order);  // p[i][j][k] = x[j][k][i]
  EXPECT_EQ(p.shape(), (Shape{4, 2, 3}));
  EXPECT_EQ(p.strides(), (Shape{1, 12, 4}));
  EXPECT_FALSE(p.is_contiguous());
  Values expected;
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 2; ++j)
      for (int k = 0; k < 3; ++k) expected.push_back(static_cast<float>(12 * j + 4 * k + i));
  EXPECT_EQ(p.to_vector(), expected);
  EXPECT_EQ(at(p, {3, 1, 2}), 23.0f);
  const std::int64_t negative[] = {-1, 0, 1};
  EXPECT_EQ(raw::permute(x, negative).to_vector(), expected);
  expect_shares(p, x);
}

TEST(Permute, BadPermutationsThrow) {
  const Tensor x = base();
  const std::int64_t too_short[] = {0, 1};
  const std::int64_t repeated[] = {0, 0, 1};
  const std::int64_t out_of_range[] = {0, 1, 3};
  EXPECT_TRUE(throws_with<ShapeError>([&] { (void)raw::permute(x, too_short); }, {"permute", "[2, 3, 4]"}));
  EXPECT_TRUE(throws_with<ShapeError>([&] { (void)raw::permute(x, repeated); }, {"permute", "repeated"}));
  EXPECT_TRUE(throws_with<IndexError>([&] { (void)raw::permute(x, out_of_range); }, {"permute", "dim 3"}));
}

TEST(Transpose, SwapsTwoDims) {
  const Tensor x = base();
  const Tensor t = raw::transpose(x, 0, -1);
  EXPECT_EQ(t.shape(), (Shape{4, 3, 2}));
  EXPECT_EQ(t.strides(), (Shape{1, 4, 12}));
  EXPECT_EQ(at(t, {3, 2, 1}), 23.0f);
  EXPECT_EQ(at(t, {1, 0, 1}), 13.0f);
  const Tensor back = raw::transpose(t, 2, 0);
  EXPECT_TRUE(back.is_contiguous());
  EXPECT_EQ(back.to_vector(), x.to_vector());
  EXPECT_EQ(raw::transpose(x, 1, 1).strides(), x.strides());
  expect_shares(t, x);
  EXPECT_TRUE(throws_with<IndexError>([&] { (void)raw::transpose(x, 0, 3); }, {"transpose", "dim 3"}));
}

TEST(Narrow, SelectsARange) {
  const Tensor x = base();
  const Tensor n = raw::narrow(x, 1, 1, 2);
  EXPECT_EQ(n.shape(), (Shape{2, 2, 4}));
  EXPECT_EQ(n.offset(), 4);
  EXPECT_EQ(n.strides(), x.strides());
  Values expected;
  for (int a = 0; a < 2; ++a)
    for (int b = 1; b < 3; ++b)
      for (int c = 0; c < 4; ++c) expected.push_back(static_cast<float>(12 * a + 4 * b + c));
  EXPECT_EQ(n.to_vector(), expected);
  EXPECT_EQ(raw::narrow(arange(0, 10), 0, -3, 2).to_vector(), (Values{7, 8}));
  EXPECT_EQ(raw::narrow(x, -1, 3, 0).numel(), 0);
  expect_shares(n, x);
}

TEST(Narrow, OutOfRangeThrows) {
  const Tensor x = base();
  EXPECT_TRUE(throws_with<IndexError>([&] { (void)raw::narrow(x, 1, 2, 2); }, {"narrow", "[2, 4)", "[2, 3, 4]"}));
  EXPECT_TRUE(throws_with<IndexError>([&] { (void)raw::narrow(x, 0, 0, -1); }, {"narrow", "[2, 3, 4]"}));
  EXPECT_TRUE(throws_with<IndexError>([&] { (void)raw::narrow(x, 3, 0, 1); }, {"narrow", "dim 3"}));
}

TEST(Slice, StepsAndClamping) {
  const Tensor r = arange(0, 10);
  const Tensor s = raw::slice(r, 0, 1, 8, 3);
  EXPECT_EQ(s.to_vector(), (Values{1, 4, 7}));
  EXPECT_EQ(s.strides(), (Shape{3}));
  EXPECT_EQ(s.offset(), 1);
  EXPECT_EQ(raw::slice(r, 0, -4, 100, 2).to_vector(), (Values{6, 8}));
  EXPECT_EQ(raw::slice(r, 0, 0, -7).to_vector(), (Values{0, 1, 2}));
  EXPECT_EQ(raw::slice(r, 0, 5, 2).numel(), 0);
  EXPECT_EQ(raw::slice(r, 0, -100, 3).to_vector(), (Values{0, 1, 2}));
  EXPECT_EQ(raw::slice(r, 0, 0, 10, 4).to_vector(), (Values{0, 4, 8}));
  expect_shares(s, r);
}

TEST(Slice, AlongAnInnerDimAndTwice) {
  const Tensor m = raw::reshape(arange(0, 12), Shape{3, 4});
  const Tensor cols = raw::slice(m, 1, 0, 4, 2);
  EXPECT_EQ(cols.shape(), (Shape{3, 2}));
  EXPECT_EQ(cols.strides(), (Shape{4, 2}));
  EXPECT_EQ(cols.to_vector(), (Values{0, 2, 4, 6, 8, 10}));
  const Tensor rows = raw::slice(cols, 0, 1, 3, 1);
  EXPECT_EQ(rows.to_vector(), (Values{4, 6, 8, 10}));
  EXPECT_EQ(at(rows, {1, 1}), 10.0f);
  expect_shares(rows, m);
}

TEST(Slice, NonPositiveStepThrows) {
  const Tensor r = arange(0, 10);
  EXPECT_TRUE(throws_with<IndexError>([&] { (void)raw::slice(r, 0, 0, 5, 0); }, {"slice", "step", "0"}));
  EXPECT_TRUE(throws_with<IndexError>([&] { (void)raw::slice(r, 0, 5, 0, -1); }, {"slice", "-1"}));
  EXPECT_TRUE(throws_with<IndexError>([&] { (void)raw::slice(r, 1, 0, 5); }, {"slice", "dim 1"}));
}

TEST(Expand, RepeatsSizeOneDimsWithZeroStride) {
  const Tensor a = from_vector(Values{1, 2, 3}, {3, 1});
  const Tensor e = raw::expand(a, Shape{3, 4});
  EXPECT_EQ(e.strides(), (Shape{1, 0}));
  EXPECT_EQ(e.to_vector(), (Values{1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3}));
  const Tensor lead = raw::expand(a, Shape{2, 3, 4});
  EXPECT_EQ(lead.strides(), (Shape{0, 1, 0}));
  EXPECT_EQ(at(lead, {1, 2, 3}), 3.0f);
  EXPECT_EQ(raw::expand(a, Shape{-1, 2}).shape(), (Shape{3, 2}));
  EXPECT_EQ(raw::expand(a, Shape{3, 1}).strides(), a.strides());
  EXPECT_EQ(raw::expand(scalar_tensor(5), Shape{2, 2}).to_vector(), (Values{5, 5, 5, 5}));
  expect_shares(e, a);
}

TEST(Expand, ErrorsNameBothShapes) {
  const Tensor a = from_vector(Values{1, 2, 3}, {3, 1});
  EXPECT_TRUE(throws_with<ShapeError>([&] { (void)raw::expand(a, Shape{4}); }, {"expand", "[3, 1]", "[4]"}));
  EXPECT_TRUE(throws_with<ShapeError>([&] { (void)raw::expand(a, Shape{2, 4}); }, {"expand", "[3, 1]", "[2, 4]"}));
  EXPECT_TRUE(throws_with<ShapeError>([&] { (void)raw::expand(a, Shape{-1, 3, 4}); }, {"expand", "-1", "[-1, 3, 4]"}));
}

TEST(Squeeze, DropsSizeOneDims) {
  const Tensor x = zeros({1, 3, 1, 2});
  const Tensor all = raw::squeeze(x);
  EXPECT_EQ(all.shape(), (Shape{3, 2}));
  EXPECT_EQ(all.strides(), (Shape{2, 1}));
  EXPECT_EQ(raw::squeeze(x, 2).shape(), (Shape{1, 3, 2}));
  EXPECT_EQ(raw::squeeze(x, -2).shape(), (Shape{1, 3, 2}));
  EXPECT_EQ(raw::squeeze(x, 1).shape(), (Shape{1, 3, 1, 2}));  // not size 1: unchanged, as torch.squeeze
  EXPECT_EQ(raw::squeeze(scalar_tensor(1), 0).shape(), Shape{});
  EXPECT_EQ(raw::squeeze(ones({1, 1})).shape(), Shape{});
  expect_shares(all, x);
  EXPECT_TRUE(throws_with<IndexError>([&] { (void)raw::squeeze(x, 4); }, {"squeeze", "dim 4"}));
}

TEST(Unsqueeze, InsertsASizeOneDim) {
  const Tensor x = raw::reshape(arange(0, 6), Shape{2, 3});
  EXPECT_EQ(raw::unsqueeze(x, 0).shape(), (Shape{1, 2, 3}));
  const Tensor mid = raw::unsqueeze(x, 1);
  EXPECT_EQ(mid.shape(), (Shape{2, 1, 3}));
  EXPECT_EQ(mid.strides(), (Shape{3, 3, 1}));
  EXPECT_TRUE(mid.is_contiguous());
  const Tensor last = raw::unsqueeze(x, -1);
  EXPECT_EQ(last.shape(), (Shape{2, 3, 1}));
  EXPECT_EQ(last.strides(), (Shape{3, 1, 1}));
  EXPECT_EQ(last.to_vector(), x.to_vector());
  EXPECT_EQ(raw::unsqueeze(scalar_tensor(2), 0).shape(), (Shape{1}));
  expect_shares(mid, x);
  EXPECT_TRUE(throws_with<IndexError>([&] { (void)raw::unsqueeze(x, 3); }, {"unsqueeze", "dim 3"}));
  EXPECT_TRUE(throws_with<IndexError>([&] { (void)raw::unsqueeze(x, -4); }, {"unsqueeze", "dim -4"}));
}

TEST(Flatten, MergesARangeOfDims) {
  const Tensor x = base();
  const Tensor all = raw::flatten(x);
  EXPECT_EQ(all.shape(), (Shape{24}));
  expect_shares(all, x);
  EXPECT_EQ(raw::flatten(x, 1).shape(), (Shape{2, 12}));
  EXPECT_EQ(raw::flatten(x, 0, 1).shape(), (Shape{6, 4}));
  EXPECT_EQ(raw::flatten(x, -2, -1).shape(), (Shape{2, 12}));
  EXPECT_EQ(raw::flatten(x, 1, 1).shape(), x.shape());
  EXPECT_EQ(raw::flatten(scalar_tensor(4)).shape(), (Shape{1}));
}

TEST(Flatten, CopiesNonViewableInput) {
  const Tensor x = base();
  const Tensor t = raw::transpose(x, 1, 2);  // [2, 4, 3]
  const Tensor f = raw::flatten(t, 1);
  EXPECT_EQ(f.shape(), (Shape{2, 12}));
  EXPECT_FALSE(f.shares_storage(x));
  EXPECT_EQ(f.to_vector(), (Values{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11, 12, 16, 20, 13, 17, 21, 14, 18, 22, 15, 19, 23}));
  EXPECT_TRUE(throws_with<ShapeError>([&] { (void)raw::flatten(x, 2, 1); }, {"flatten", "[2, 3, 4]"}));
}

}  // namespace
}  // namespace vigil::testing
