#include "dnswire/server/huge_page_array.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <utility>

using dnswire::server::HugePageArray;

namespace {

struct Entry {
  uint64_t key = 7;  // value-initialised elements run the member initialisers
  uint32_t value = 0;
};

}  // namespace

TEST_CASE("HugePageArray starts on a 2 MiB boundary with every element initialised", "[unit]") {
  // Three huge pages' worth and a bit: the mapping is rounded up, the count is not.
  const size_t count = (6u << 20) / sizeof(Entry) + 5;
  HugePageArray<Entry> array(count);
  REQUIRE(array);
  CHECK(array.size() == count);
  CHECK(reinterpret_cast<uintptr_t>(array.data()) % (2u << 20) == 0);
  size_t wrong = 0;
  for (size_t i = 0; i < count; ++i) wrong += array[i].key != 7 || array[i].value != 0;
  CHECK(wrong == 0);
  array[count - 1].value = 42;  // the last element is writable
  CHECK(array[count - 1].value == 42);
}

TEST_CASE("HugePageArray moves its mapping and may be empty", "[unit]") {
  HugePageArray<Entry> empty;
  CHECK_FALSE(empty);
  CHECK(empty.size() == 0);
  CHECK_FALSE(HugePageArray<Entry>(0));

  HugePageArray<Entry> a(100);
  a[99].value = 5;
  Entry* data = a.data();
  HugePageArray<Entry> b(std::move(a));
  CHECK_FALSE(a);  // a moved-from array is empty
  CHECK(b.data() == data);
  CHECK(b[99].value == 5);
  a = std::move(b);
  CHECK(a.data() == data);
  CHECK_FALSE(b);
}

TEST_CASE("HugePageVector keeps its elements as it grows onto huge pages and back", "[unit]") {
  dnswire::server::HugePageVector<uint32_t> v;
  const size_t large = dnswire::server::HugePageAllocator<uint32_t>::kThreshold / sizeof(uint32_t) + 1000;
  for (uint32_t i = 0; i < large; ++i) v.push_back(i * 7);
  // A large block is its own mapping, starting on a huge-page boundary.
  CHECK(reinterpret_cast<uintptr_t>(v.data()) % (2u << 20) == 0);
  size_t wrong = 0;
  for (uint32_t i = 0; i < large; ++i) wrong += v[i] != i * 7;
  CHECK(wrong == 0);
  // Shrunk below the threshold it moves back to operator new, contents intact.
  v.resize(100);
  v.shrink_to_fit();
  CHECK(v.capacity() == 100);
  CHECK(v[99] == 99 * 7);
  dnswire::server::HugePageVector<uint32_t> copy = v;
  CHECK(copy == v);
}
