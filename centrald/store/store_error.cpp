#include "centrald/store/store_error.hpp"

#include <string>

namespace centrald {
namespace {

class StoreCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "store"; }
  std::string message(int value) const override {
    switch (static_cast<StoreError>(value)) {
      case StoreError::Ok:
        return "no error";
      case StoreError::Sqlite:
        return "database error";
      case StoreError::Busy:
        return "database is locked by another process";
      case StoreError::SchemaTooNew:
        return "database schema is newer than this program";
      case StoreError::SchemaTooOld:
        return "database schema needs migrating";
      case StoreError::ZoneExists:
        return "zone already exists";
      case StoreError::NoSuchZone:
        return "no such zone";
      case StoreError::OutsideZone:
        return "record outside its zone";
      case StoreError::BadPool:
        return "bad address pool";
      case StoreError::PoolExhausted:
        return "address pool exhausted";
      case StoreError::BadData:
        return "stored data does not decode";
      case StoreError::ReadOnly:
        return "database opened read-only";
    }
    return "unknown store error";
  }
};

}  // namespace

const std::error_category& storeCategory() noexcept {
  static const StoreCategory category;
  return category;
}

std::error_code make_error_code(StoreError e) noexcept { return {static_cast<int>(e), storeCategory()}; }

}  // namespace centrald
