// Shape, dim normalisation and broadcasting rules.
#include "expect_error.hpp"

#include <vigil/tensor/error.hpp>
#include <vigil/tensor/shape.hpp>

#include <gtest/gtest.h>

#include <vector>

namespace vigil::testing {
namespace {

TEST(Shape, HoldsExtentsAndCountsElements) {
  const Shape s{2, 3, 4};
  EXPECT_EQ(s.size(), 3);
  EXPECT_FALSE(s.empty());
  EXPECT_EQ(s[0], 2);
  EXPECT_EQ(s.back(), 4);
  EXPECT_EQ(s.numel(), 24);
  EXPECT_EQ(s.str(), "[2, 3, 4]");
  EXPECT_EQ(std::vector<std::int64_t>(s.begin(), s.end()), (std::vector<std::int64_t>{2, 3, 4}));
}

TEST(Shape, ScalarShapeIsEmptyWithOneElement) {
  const Shape s;
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.numel(), 1);
  EXPECT_EQ(s.str(), "[]");
  EXPECT_EQ(s.contiguous_strides(), Shape{});
}

TEST(Shape, ZeroExtentHasNoElements) { EXPECT_EQ((Shape{2, 0, 3}).numel(), 0); }

TEST(Shape, ContiguousStridesAreRowMajor) {
  EXPECT_EQ((Shape{2, 3, 4}).contiguous_strides(), (Shape{12, 4, 1}));
  EXPECT_EQ((Shape{5}).contiguous_strides(), (Shape{1}));
  // A zero extent counts as 1 in the strides of the dims before it, as in PyTorch.
  EXPECT_EQ((Shape{2, 0, 3}).contiguous_strides(), (Shape{3, 3, 1}));
}

TEST(Shape, EditsInPlace) {
  Shape s{2, 3};
  s.push_back(4);
  EXPECT_EQ(s, (Shape{2, 3, 4}));
  s.insert(0, 7);
  EXPECT_EQ(s, (Shape{7, 2, 3, 4}));
  s.insert(2, 1);
  EXPECT_EQ(s, (Shape{7, 2, 1, 3, 4}));
  s.erase(0);
  EXPECT_EQ(s, (Shape{2, 1, 3, 4}));
  s.erase(3);
  EXPECT_EQ(s, (Shape{2, 1, 3}));
  EXPECT_EQ(Shape::filled(3, 5), (Shape{5, 5, 5}));
}

TEST(Shape, EqualityComparesRankAndExtents) {
  EXPECT_EQ((Shape{2, 3}), (Shape{2, 3}));
  EXPECT_NE((Shape{2, 3}), (Shape{3, 2}));
  EXPECT_NE((Shape{2, 3}), (Shape{2, 3, 1}));
  const std::vector<std::int64_t> dims{4, 5};
  EXPECT_EQ(Shape(std::span<const std::int64_t>(dims)), (Shape{4, 5}));
}

TEST(Shape, AtMostMaxDims) {
  const std::vector<std::int64_t> nine(kMaxDims + 1, 1);
  EXPECT_TRUE(throws_with<ShapeError>([&] { (void)Shape(std::span<const std::int64_t>(nine)); }, {"9 dims", "8"}));
  Shape full = Shape::filled(kMaxDims, 1);
  EXPECT_TRUE(throws_with<ShapeError>([&] { full.push_back(2); }, {"[1, 1, 1, 1, 1, 1, 1, 1]"}));
  EXPECT_TRUE(throws_with<ShapeError>([&] { full.insert(0, 2); }, {"at most 8"}));
}

TEST(NormalizeDim, CountsNegativeDimsFromTheEnd) {
  EXPECT_EQ(normalize_dim(0, 3, "op"), 0);
  EXPECT_EQ(normalize_dim(2, 3, "op"), 2);
  EXPECT_EQ(normalize_dim(-1, 3, "op"), 2);
  EXPECT_EQ(normalize_dim(-3, 3, "op"), 0);
  // A scalar accepts 0 and -1, as in PyTorch.
  EXPECT_EQ(normalize_dim(-1, 0, "op"), 0);
}

TEST(NormalizeDim, OutOfRangeNamesTheOpAndTheRange) {
  EXPECT_TRUE(throws_with<IndexError>([] { (void)normalize_dim(3, 3, "my_op"); }, {"my_op", "dim 3", "-3 to 2"}));
  EXPECT_TRUE(throws_with<IndexError>([] { (void)normalize_dim(-4, 3, "my_op"); }, {"my_op", "dim -4"}));
}

TEST(BroadcastShapes, AlignsAtTheRight) {
  EXPECT_EQ(broadcast_shapes(Shape{3, 1, 5}, Shape{4, 1}, "op"), (Shape{3, 4, 5}));
  EXPECT_EQ(broadcast_shapes(Shape{}, Shape{2, 3}, "op"), (Shape{2, 3}));
  EXPECT_EQ(broadcast_shapes(Shape{2, 3}, Shape{}, "op"), (Shape{2, 3}));
  EXPECT_EQ(broadcast_shapes(Shape{1}, Shape{1}, "op"), (Shape{1}));
  EXPECT_EQ(broadcast_shapes(Shape{5, 1, 7}, Shape{1, 6, 1}, "op"), (Shape{5, 6, 7}));
  EXPECT_EQ(broadcast_shapes(Shape{0, 1}, Shape{1, 4}, "op"), (Shape{0, 4}));
}

TEST(BroadcastShapes, MismatchNamesTheOpAndBothShapes) {
  EXPECT_TRUE(throws_with<ShapeError>([] { (void)broadcast_shapes(Shape{2, 3}, Shape{4, 3}, "add"); },
                                      {"add", "[2, 3]", "[4, 3]", "2 vs 4"}));
  EXPECT_TRUE(throws_with<ShapeError>([] { (void)broadcast_shapes(Shape{3}, Shape{2, 4}, "mul"); },
                                      {"mul", "[3]", "[2, 4]"}));
}

}  // namespace
}  // namespace vigil::testing
