// A pool for the small objects every op creates (TensorImpl, autograd nodes), used through std::allocate_shared.
// Freed objects go to a free list per 32-byte size class and are handed out again, so a training step in steady
// state makes no call to the system allocator for them either. The pool never shrinks; it holds at most what the
// largest step needed.
#pragma once

#include <cstddef>
#include <cstdint>

namespace vigil {

void* pool_allocate(std::size_t nbytes);
void pool_deallocate(void* ptr, std::size_t nbytes);
// Blocks obtained from the system so far (grows only while the pool warms up).
std::uint64_t pool_system_allocations();

template <class T>
struct PoolAllocator {
  using value_type = T;
  PoolAllocator() = default;
  template <class U>
  PoolAllocator(const PoolAllocator<U>&) {}  // NOLINT: rebinding, as std::allocator_traits needs
  T* allocate(std::size_t n) { return static_cast<T*>(pool_allocate(n * sizeof(T))); }
  void deallocate(T* p, std::size_t n) { pool_deallocate(p, n * sizeof(T)); }
  template <class U>
  bool operator==(const PoolAllocator<U>&) const { return true; }
};

}  // namespace vigil
