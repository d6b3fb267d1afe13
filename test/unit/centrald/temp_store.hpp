#pragma once
// Test helpers shared by the store tests: a scratch directory for one SQLite database,
// removed with everything in it at the end of the test, a Store opened on it, and raw SQL.

#include <sqlite3.h>

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

// Runs `sql` through a connection of its own, as an operator with sqlite3 would.
inline void rawExec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  std::string message = error != nullptr ? error : "";
  sqlite3_free(error);
  sqlite3_close(db);
  INFO(message);
  REQUIRE(rc == SQLITE_OK);
}

}  // namespace centrald::testing
