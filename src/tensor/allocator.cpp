#include <vigil/tensor/allocator.hpp>

#include <bit>
#include <cstdlib>
#include <map>
#include <mutex>
#include <new>
#include <vector>

namespace vigil {

struct CachingAllocator::Impl {
  mutable std::mutex mutex;
  std::map<std::size_t, std::vector<void*>> free_blocks;  // size class -> blocks ready for reuse
  AllocatorStats stats;
};

CachingAllocator& CachingAllocator::instance() {
  static CachingAllocator allocator;
  return allocator;
}

CachingAllocator::Impl& CachingAllocator::impl() const {
  // Never destroyed: storage may be freed during static destruction (a function-local static object would be
  // destroyed first, and its free lists would drop the cached blocks on the floor).
  static Impl* state = new Impl();
  return *state;
}

std::size_t CachingAllocator::size_class(std::size_t nbytes) {
  constexpr std::size_t kSmallStep = 512, kSmallLimit = std::size_t{1} << 20;
  if (nbytes == 0) return kAlignment;
  if (nbytes <= kSmallLimit) return (nbytes + kSmallStep - 1) / kSmallStep * kSmallStep;
  // Eighths of the power of two at or above nbytes: at most 12.5% wasted.
  const std::size_t step = std::bit_ceil(nbytes) / 8;
  return (nbytes + step - 1) / step * step;
}

void* CachingAllocator::allocate(std::size_t nbytes) {
  const std::size_t cls = size_class(nbytes);
  Impl& s = impl();
  {
    std::lock_guard lock(s.mutex);
    ++s.stats.requests;
    s.stats.bytes_in_use += cls;
    if (s.stats.bytes_in_use > s.stats.peak_bytes_in_use) s.stats.peak_bytes_in_use = s.stats.bytes_in_use;
    auto it = s.free_blocks.find(cls);
    if (it != s.free_blocks.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      s.stats.bytes_cached -= cls;
      return p;
    }
    ++s.stats.system_allocations;
  }
  void* p = std::aligned_alloc(kAlignment, cls);
  if (p == nullptr) {  // out of memory: give the cache back and try once more
    empty_cache();
    p = std::aligned_alloc(kAlignment, cls);
  }
  if (p == nullptr) {
    std::lock_guard lock(s.mutex);
    s.stats.bytes_in_use -= cls;
    throw std::bad_alloc();
  }
  return p;
}

void CachingAllocator::deallocate(void* ptr, std::size_t nbytes) {
  if (ptr == nullptr) return;
  const std::size_t cls = size_class(nbytes);
  Impl& s = impl();
  std::lock_guard lock(s.mutex);
  s.stats.bytes_in_use -= cls;
  s.stats.bytes_cached += cls;
  s.free_blocks[cls].push_back(ptr);
}

void CachingAllocator::empty_cache() {
  Impl& s = impl();
  std::lock_guard lock(s.mutex);
  for (auto& [cls, blocks] : s.free_blocks) {
    for (void* p : blocks) std::free(p);
    s.stats.bytes_cached -= cls * blocks.size();
    blocks.clear();
  }
}

AllocatorStats CachingAllocator::stats() const {
  Impl& s = impl();
  std::lock_guard lock(s.mutex);
  return s.stats;
}

}  // namespace vigil
