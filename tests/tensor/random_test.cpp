// Randomness: every value comes from an explicit Generator, so seeds reproduce, states restore and splits are
// deterministic; the distributions have the right moments.
#include "expect_error.hpp"

#include <vigil/tensor/generator.hpp>
#include <vigil/tensor/tensor.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

namespace vigil::testing {
namespace {

struct Moments {
  double mean = 0, std = 0;
};

Moments moments(const std::vector<float>& v) {
  Moments m;
  for (float x : v) m.mean += x;
  m.mean /= static_cast<double>(v.size());
  for (float x : v) m.std += (x - m.mean) * (x - m.mean);
  m.std = std::sqrt(m.std / static_cast<double>(v.size() - 1));
  return m;
}

TEST(Random, SameSeedGivesSameValues) {
  Generator a(42), b(42);
  EXPECT_EQ(rand({100}, a).to_vector(), rand({100}, b).to_vector());
  EXPECT_EQ(randn({3, 33}, a).to_vector(), randn({3, 33}, b).to_vector());
  EXPECT_EQ(randint(0, 1000, {50}, a).to_vector(), randint(0, 1000, {50}, b).to_vector());
}

TEST(Random, DifferentSeedsGiveDifferentValues) {
  Generator a(1), b(2);
  EXPECT_NE(rand({100}, a).to_vector(), rand({100}, b).to_vector());
  EXPECT_NE(randn({100}, a).to_vector(), randn({100}, b).to_vector());
}

TEST(Random, ManualSeedRestarts) {
  Generator g(7);
  const auto first = randn({9}, g).to_vector();
  g.manual_seed(7);
  EXPECT_EQ(randn({9}, g).to_vector(), first);
}

TEST(Random, SuccessiveDrawsDiffer) {
  Generator g(3);
  EXPECT_NE(rand({16}, g).to_vector(), rand({16}, g).to_vector());
}

TEST(Rand, UniformInUnitInterval) {
  Generator g(11);
  const auto v = rand({100000}, g).to_vector();
  EXPECT_GE(*std::min_element(v.begin(), v.end()), 0.0f);
  EXPECT_LT(*std::max_element(v.begin(), v.end()), 1.0f);
  const Moments m = moments(v);
  // U(0, 1): mean 1/2, std 1/sqrt(12); the standard error of the mean over 1e5 draws is ~0.001.
  EXPECT_NEAR(m.mean, 0.5, 0.01);
  EXPECT_NEAR(m.std, 1.0 / std::sqrt(12.0), 0.01);
}

TEST(Randn, StandardNormalMoments) {
  Generator g(12345);
  const auto v = randn({100000}, g).to_vector();
  const Moments m = moments(v);
  // Standard errors over 1e5 draws: ~0.003 for the mean, ~0.002 for the std; 0.02 is far outside chance.
  EXPECT_NEAR(m.mean, 0.0, 0.02);
  EXPECT_NEAR(m.std, 1.0, 0.02);
  const auto within_one = std::count_if(v.begin(), v.end(), [](float x) { return std::abs(x) < 1.0f; });
  EXPECT_NEAR(static_cast<double>(within_one) / 1e5, 0.6827, 0.01);
}

TEST(Random, Float64HoldsTheSameDrawsWidened) {
  Generator a(5), b(5);
  const Tensor f = randn({20}, a);
  const Tensor d = randn({20}, b, TensorOptions{DType::Float64});
  EXPECT_EQ(d.dtype(), DType::Float64);
  EXPECT_EQ(d.to_vector(), f.to_vector());
  const Tensor u = rand({4}, a, TensorOptions{DType::Float64, true});
  EXPECT_TRUE(u.requires_grad());
}

TEST(Random, NonFloatingDtypesThrow) {
  Generator g;
  EXPECT_TRUE(throws_with<DTypeError>([&] { (void)rand({2}, g, TensorOptions{DType::Int64}); }, {"rand", "int64"}));
  EXPECT_TRUE(throws_with<DTypeError>([&] { (void)randn({2}, g, TensorOptions{DType::Bool}); }, {"randn", "bool"}));
}

TEST(Randint, StaysInRangeAndCoversIt) {
  Generator g(9);
  const Tensor t = randint(-3, 4, {2000}, g);
  EXPECT_EQ(t.dtype(), DType::Int64);
  const std::int64_t* p = t.data<std::int64_t>();
  const std::set<std::int64_t> seen(p, p + t.numel());
  EXPECT_EQ(seen, (std::set<std::int64_t>{-3, -2, -1, 0, 1, 2, 3}));
  const Tensor one = randint(5, 6, {10}, g);
  EXPECT_EQ(one.to_vector(), std::vector<float>(10, 5.0f));
}

TEST(Randint, EmptyRangeThrows) {
  Generator g;
  EXPECT_TRUE(throws_with<Error>([&] { (void)randint(5, 5, {2}, g); }, {"randint", "[5, 5)"}));
}

TEST(Generator, BelowIsUnbiasedAndInRange) {
  Generator g(4);
  EXPECT_EQ(g.below(0), 0u);
  EXPECT_EQ(g.below(1), 0u);
  std::vector<int> counts(3, 0);
  for (int i = 0; i < 30000; ++i) ++counts[g.below(3)];
  for (int c : counts) EXPECT_NEAR(c, 10000, 400);  // ~4.9 standard deviations
  for (int i = 0; i < 1000; ++i) {
    const double u = g.uniform_double();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
  }
}

TEST(Generator, StateSavesAndRestoresMidStream) {
  Generator g(77);
  (void)g.next_u64();
  (void)g.normal();  // leaves a spare normal in the state: it must be saved too
  const Generator::State saved = g.state();
  const float n1 = g.normal(), n2 = g.normal();
  const auto u = rand({5}, g).to_vector();
  EXPECT_NE(g.state(), saved);
  g.set_state(saved);
  EXPECT_EQ(g.state(), saved);
  EXPECT_EQ(g.normal(), n1);
  EXPECT_EQ(g.normal(), n2);
  EXPECT_EQ(rand({5}, g).to_vector(), u);
  Generator other(0);
  other.set_state(saved);
  EXPECT_EQ(other.normal(), n1);
}

TEST(Generator, SplitIsDeterministicAndIndependent) {
  Generator a(100), b(100);
  Generator child_a = a.split(), child_b = b.split();
  EXPECT_EQ(child_a.state(), child_b.state());
  EXPECT_EQ(randn({8}, child_a).to_vector(), randn({8}, child_b).to_vector());
  // The parent moved on, and its stream differs from the child's.
  Generator fresh(100);
  EXPECT_NE(a.state(), fresh.state());
  Generator c1 = fresh.split();
  EXPECT_NE(rand({8}, c1).to_vector(), rand({8}, fresh).to_vector());
  // Two splits of one parent differ from each other.
  Generator p(5);
  Generator s1 = p.split(), s2 = p.split();
  EXPECT_NE(s1.state(), s2.state());
}

}  // namespace
}  // namespace vigil::testing
