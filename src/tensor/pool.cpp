#include <vigil/tensor/pool.hpp>

#include <array>
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <new>

namespace vigil {
namespace {

constexpr std::size_t kClassBytes = 32;
constexpr std::size_t kClasses = 32;  // objects up to 1 KiB are pooled; larger ones go to malloc directly

struct FreeBlock {
  FreeBlock* next;
};

struct Pool {
  std::mutex mutex;
  std::array<FreeBlock*, kClasses> heads{};
  std::atomic<std::uint64_t> system_allocations{0};
};

Pool& pool() {
  static Pool* p = new Pool();  // never destroyed: objects may be freed during static destruction
  return *p;
}

std::size_t class_of(std::size_t nbytes) { return (nbytes + kClassBytes - 1) / kClassBytes - 1; }

}  // namespace

void* pool_allocate(std::size_t nbytes) {
  Pool& p = pool();
  const std::size_t cls = class_of(nbytes);
  if (cls < kClasses) {
    std::lock_guard lock(p.mutex);
    if (FreeBlock* b = p.heads[cls]) {
      p.heads[cls] = b->next;
      return b;
    }
  }
  p.system_allocations.fetch_add(1, std::memory_order_relaxed);
  const std::size_t bytes = cls < kClasses ? (cls + 1) * kClassBytes : nbytes;
  void* mem = std::malloc(bytes);
  if (mem == nullptr) throw std::bad_alloc();
  return mem;
}

void pool_deallocate(void* ptr, std::size_t nbytes) {
  const std::size_t cls = class_of(nbytes);
  if (cls >= kClasses) {
    std::free(ptr);
    return;
  }
  Pool& p = pool();
  std::lock_guard lock(p.mutex);
  auto* b = static_cast<FreeBlock*>(ptr);
  b->next = p.heads[cls];
  p.heads[cls] = b;
}

std::uint64_t pool_system_allocations() { return pool().system_allocations.load(std::memory_order_relaxed); }

}  // namespace vigil
