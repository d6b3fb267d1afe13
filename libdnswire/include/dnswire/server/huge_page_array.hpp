#pragma once
// A fixed array for a large table that the query path reads at random (centrald's answer
// cache). It is mapped on its own and marked for transparent huge pages (madvise; Debian's
// default THP mode): on 4 KiB pages a 12 MB table spans 3,000 pages, more than the TLB
// holds, so almost every lookup also walks the page tables, and in a virtual machine each
// walk is two-dimensional. With 2 MiB pages the table takes a handful of TLB entries.
// Where huge pages are unavailable it is an ordinary zeroed mapping.

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace dnswire::server {

template <class T>
class HugePageArray {
 public:
  HugePageArray() = default;
  // `count` value-initialised elements; throws std::bad_alloc when the mapping fails.
  explicit HugePageArray(size_t count) : count_(count) {
    static_assert(std::is_trivially_destructible_v<T>, "the mapping is released without destructors");
    if (count == 0) return;
    bytes_ = roundUp(count * sizeof(T), kHugePage);
    // Over-map by one huge page so that the array can start on a huge-page boundary.
    void* raw = ::mmap(nullptr, bytes_ + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) throw std::bad_alloc();
    auto start = reinterpret_cast<uintptr_t>(raw);
    auto aligned = roundUp(start, kHugePage);
    if (aligned > start) ::munmap(raw, aligned - start);
    if (size_t tail = kHugePage - (aligned - start); tail > 0) ::munmap(reinterpret_cast<void*>(aligned + bytes_), tail);
    data_ = reinterpret_cast<T*>(aligned);
    (void)::madvise(data_, bytes_, MADV_HUGEPAGE);  // a hint: fine if refused
    std::uninitialized_value_construct_n(data_, count);
  }
  ~HugePageArray() {
    if (data_ != nullptr) ::munmap(data_, bytes_);
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
  static constexpr size_t kHugePage = size_t{2} << 20;
  static constexpr size_t roundUp(size_t n, size_t to) { return (n + to - 1) / to * to; }
  void swap(HugePageArray& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(count_, other.count_);
    std::swap(bytes_, other.bytes_);
  }

  T* data_ = nullptr;
  size_t count_ = 0;
  size_t bytes_ = 0;  // mapped, a multiple of the huge page size
};

}  // namespace dnswire::server
