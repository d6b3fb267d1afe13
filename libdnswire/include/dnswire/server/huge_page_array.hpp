#pragma once
// Memory on transparent huge pages (madvise; Debian's default THP mode), for the large
// tables of a server: centrald's answer cache, read at random on the query path, and its
// zones, millions of records built at start-up. On 4 KiB pages a 12 MB table spans 3,000
// pages, more than the TLB holds, so almost every lookup also walks the page tables (in a
// virtual machine, a two-dimensional walk); and building a 1M-record zone took 24,000
// page faults, a fifth of centrald's start-up on these machines. With 2 MiB pages both
// take a handful. Where huge pages are unavailable the memory is an ordinary mapping.

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

namespace dnswire::server {

namespace hugepages {

inline constexpr size_t kSize = size_t{2} << 20;
inline constexpr size_t roundUp(size_t n) { return (n + kSize - 1) / kSize * kSize; }

// A fresh zeroed mapping of roundUp(bytes) bytes starting on a huge-page boundary, marked
// for huge pages; throws std::bad_alloc when the system refuses.
inline void* map(size_t bytes) {
  const size_t length = roundUp(bytes);
  // Over-map by one huge page so that the block can start on a boundary; trim the rest.
  void* raw = ::mmap(nullptr, length + kSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  const auto start = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t aligned = (start + kSize - 1) / kSize * kSize;
  if (aligned > start) ::munmap(raw, aligned - start);
  if (const size_t tail = kSize - (aligned - start); tail > 0) ::munmap(reinterpret_cast<void*>(aligned + length), tail);
  void* block = reinterpret_cast<void*>(aligned);
  (void)::madvise(block, length, MADV_HUGEPAGE);  // a hint: fine if refused
  return block;
}

inline void unmap(void* block, size_t bytes) { ::munmap(block, roundUp(bytes)); }

}  // namespace hugepages

// A fixed array, value-initialised, on huge pages.
template <class T>
class HugePageArray {
 public:
  HugePageArray() = default;
  // `count` value-initialised elements; throws std::bad_alloc when the mapping fails.
  explicit HugePageArray(size_t count) : count_(count) {
    static_assert(std::is_trivially_destructible_v<T>, "the mapping is released without destructors");
    if (count == 0) return;
    data_ = static_cast<T*>(hugepages::map(count * sizeof(T)));
    std::uninitialized_value_construct_n(data_, count);
  }
  ~HugePageArray() {
    if (data_ != nullptr) hugepages::unmap(data_, count_ * sizeof(T));
  }
  HugePageArray(HugePageArray&& other) noexcept { swap(other); }
  HugePageArray& operator=(HugePageArray&& other) noexcept {
    HugePageArray(std::move(other)).swap(*this);
    return *this;
  }
  HugePageArray(const HugePageArray&) = delete;
  HugePageArray& operator=(const HugePageArray&) = delete;

  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }
  T* data() const { return data_; }
  size_t size() const { return count_; }
  explicit operator bool() const { return data_ != nullptr; }

 private:
  void swap(HugePageArray& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(count_, other.count_);
  }

  T* data_ = nullptr;
  size_t count_ = 0;
};

// An allocator for containers that may grow large (a zone's arrays): blocks of 2 MiB and
// more are their own huge-page mappings, returned to the system when freed; smaller ones
// come from operator new as usual.
template <class T>
struct HugePageAllocator {
  using value_type = T;
  static constexpr size_t kThreshold = hugepages::kSize;

  HugePageAllocator() = default;
  template <class U>
  HugePageAllocator(const HugePageAllocator<U>&) noexcept {}  // rebinding, implicit as std::allocator

  T* allocate(size_t n) {
    const size_t bytes = n * sizeof(T);
    if (bytes >= kThreshold) return static_cast<T*>(hugepages::map(bytes));
    return static_cast<T*>(::operator new(bytes, std::align_val_t{alignof(T)}));
  }
  void deallocate(T* p, size_t n) noexcept {
    const size_t bytes = n * sizeof(T);
    if (bytes >= kThreshold)
      hugepages::unmap(p, bytes);
    else
      ::operator delete(p, std::align_val_t{alignof(T)});
  }
  friend bool operator==(const HugePageAllocator&, const HugePageAllocator&) { return true; }
};

// A vector whose storage is on huge pages once it is large.
template <class T>
using HugePageVector = std::vector<T, HugePageAllocator<T>>;

}  // namespace dnswire::server
