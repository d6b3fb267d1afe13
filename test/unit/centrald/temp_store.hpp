#pragma once
// Test helpers shared by the store tests: a scratch directory for one SQLite database,
// removed with everything in it at the end of the test, and a Store opened on it.

#include <catch2/catch.hpp>
#include <filesystem>
#include <random>
#include <string>

#include "centrald/store/store.hpp"

namespace centrald::testing {

class TempDb {
 public:
  TempDb() {
    std::random_device rd;
    dir_ = std::filesystem::temp_directory_path() / ("store_test_" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(dir_);
  }
  ~TempDb() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  TempDb(const TempDb&) = delete;
  TempDb& operator=(const TempDb&) = delete;
  std::string path() const { return (dir_ / "central.db").string(); }

 private:
  std::filesystem::path dir_;
};

inline Store openStore(const std::string& path, StoreOptions options = {}) {
  auto store = Store::open(path, options);
  if (!store) FAIL(store.error().message());
  return std::move(*store);
}

}  // namespace centrald::testing
