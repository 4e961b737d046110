// The caching allocator and the small-object pool: blocks come back from the cache, so that steady-state work
// makes no system allocations, and the statistics say so.
#include <vigil/tensor/allocator.hpp>
#include <vigil/tensor/pool.hpp>
#include <vigil/tensor/tensor.hpp>

#include <gtest/gtest.h>

#include <cstdint>

namespace vigil::testing {
namespace {

TEST(CachingAllocator, SizeClasses) {
  EXPECT_EQ(CachingAllocator::size_class(0), 64u);
  EXPECT_EQ(CachingAllocator::size_class(1), 512u);
  EXPECT_EQ(CachingAllocator::size_class(512), 512u);
  EXPECT_EQ(CachingAllocator::size_class(513), 1024u);
  EXPECT_EQ(CachingAllocator::size_class(std::size_t{1} << 20), std::size_t{1} << 20);
  // Above 1 MiB: eighths of the next power of two, so at most 12.5% is wasted.
  EXPECT_EQ(CachingAllocator::size_class((std::size_t{1} << 20) + 1), (std::size_t{1} << 20) + (std::size_t{1} << 18));
  EXPECT_EQ(CachingAllocator::size_class(std::size_t{3} << 20), std::size_t{3} << 20);
  for (std::size_t n : {std::size_t{1} << 21, std::size_t{5'000'000}, std::size_t{123'456'789}}) {
    const std::size_t cls = CachingAllocator::size_class(n);
    EXPECT_GE(cls, n);
    EXPECT_LE(static_cast<double>(cls), 1.125 * static_cast<double>(n));
  }
}

TEST(CachingAllocator, BlocksAre64ByteAligned) {
  CachingAllocator& a = CachingAllocator::instance();
  for (std::size_t n : {std::size_t{0}, std::size_t{3}, std::size_t{1000}, std::size_t{3} << 20}) {
    void* p = a.allocate(n);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % CachingAllocator::kAlignment, 0u) << n;
    a.deallocate(p, n);
  }
}

TEST(CachingAllocator, FreedBlockIsReusedForTheSameClass) {
  CachingAllocator& a = CachingAllocator::instance();
  void* p = a.allocate(3000);
  const AllocatorStats held = a.stats();
  a.deallocate(p, 3000);
  const AllocatorStats freed = a.stats();
  EXPECT_EQ(freed.bytes_in_use, held.bytes_in_use - 3072);
  EXPECT_EQ(freed.bytes_cached, held.bytes_cached + 3072);
  void* q = a.allocate(2900);  // another size in the same 3072-byte class
  const AllocatorStats again = a.stats();
  EXPECT_EQ(q, p);
  EXPECT_EQ(again.requests, freed.requests + 1);
  EXPECT_EQ(again.system_allocations, freed.system_allocations);
  EXPECT_EQ(again.bytes_cached, freed.bytes_cached - 3072);
  EXPECT_EQ(again.bytes_in_use, held.bytes_in_use);
  EXPECT_GE(again.peak_bytes_in_use, again.bytes_in_use);
  a.deallocate(q, 2900);
}

TEST(CachingAllocator, EmptyCacheReturnsEverything) {
  CachingAllocator& a = CachingAllocator::instance();
  a.deallocate(a.allocate(5000), 5000);
  EXPECT_GT(a.stats().bytes_cached, 0u);
  a.empty_cache();
  EXPECT_EQ(a.stats().bytes_cached, 0u);
  const AllocatorStats before = a.stats();
  a.deallocate(a.allocate(5000), 5000);
  EXPECT_EQ(a.stats().system_allocations, before.system_allocations + 1);  // the cache was empty
}

TEST(CachingAllocator, TensorsInSteadyStateMakeNoSystemAllocations) {
  const auto step = [] {
    const Tensor a = ones({37, 41});
    const Tensor b = raw::clone(raw::transpose(a, 0, 1));
    return b.numel();
  };
  (void)step();  // warm up
  const AllocatorStats before = CachingAllocator::instance().stats();
  for (int i = 0; i < 10; ++i) (void)step();
  const AllocatorStats after = CachingAllocator::instance().stats();
  EXPECT_EQ(after.system_allocations, before.system_allocations);
  EXPECT_EQ(after.requests, before.requests + 20);
  EXPECT_EQ(after.bytes_in_use, before.bytes_in_use);
}

TEST(Pool, ReusesFreedObjectsOfTheSameClass) {
  void* p = pool_allocate(48);
  pool_deallocate(p, 48);
  const std::uint64_t before = pool_system_allocations();
  void* q = pool_allocate(40);  // the same 64-byte class
  EXPECT_EQ(q, p);
  EXPECT_EQ(pool_system_allocations(), before);
  pool_deallocate(q, 40);
}

TEST(Pool, LargeObjectsBypassThePool) {
  const std::uint64_t before = pool_system_allocations();
  void* p = pool_allocate(4096);
  pool_deallocate(p, 4096);
  void* q = pool_allocate(4096);
  pool_deallocate(q, 4096);
  EXPECT_EQ(pool_system_allocations(), before + 2);
}

TEST(Pool, ViewsInSteadyStateMakeNoSystemAllocations) {
  const Tensor x = zeros({4, 5});
  const auto step = [&] {
    const Tensor v = raw::unsqueeze(raw::transpose(raw::narrow(x, 0, 1, 2), 0, 1), 0);
    return v.numel();
  };
  (void)step();
  const std::uint64_t before = pool_system_allocations();
  for (int i = 0; i < 10; ++i) (void)step();
  EXPECT_EQ(pool_system_allocations(), before);
}

}  // namespace
}  // namespace vigil::testing
