// The caching allocator behind every tensor's storage.
//
// Why: a training step makes the same tensors in the same sizes every iteration. Returning freed blocks to a
// per-size free list and handing them out again means that, after the first step, no storage request reaches the
// system allocator: no page faults on fresh memory, no malloc lock contention, and a counter proves it
// (Stats::system_allocations stops growing). Blocks are 64-byte aligned (a cache line and an AVX-512 vector).
//
// Sizes are rounded up to a size class (multiples of 512 bytes up to 1 MiB, then eighths of a power of two) so that
// slightly different requests share blocks while wasting at most 12.5%.
#pragma once

#include <cstddef>
#include <cstdint>

namespace vigil {

struct AllocatorStats {
  std::uint64_t requests = 0;            // allocate() calls
  std::uint64_t system_allocations = 0;  // requests that the cache could not serve
  std::uint64_t bytes_in_use = 0;        // handed out and not yet returned
  std::uint64_t bytes_cached = 0;        // returned and kept for reuse
  std::uint64_t peak_bytes_in_use = 0;
};

class CachingAllocator {
 public:
  static constexpr std::size_t kAlignment = 64;

  // The process-wide allocator (storage may be freed on any thread, so one shared, locked cache).
  static CachingAllocator& instance();

  // Returns a 64-byte aligned block of at least `nbytes` (nbytes may be 0). Throws std::bad_alloc when the system
  // is out of memory even after the cache was emptied.
  void* allocate(std::size_t nbytes);
  // Returns a block obtained from allocate(nbytes) with the same nbytes.
  void deallocate(void* ptr, std::size_t nbytes);
  // Gives every cached block back to the system.
  void empty_cache();
  AllocatorStats stats() const;

  static std::size_t size_class(std::size_t nbytes);

 private:
  CachingAllocator() = default;
  struct Impl;
  Impl& impl() const;
};

}  // namespace vigil
