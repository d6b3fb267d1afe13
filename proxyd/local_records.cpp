#include "proxyd/local_records.hpp"

#include <fmt/format.h>

#include <filesystem>

#include "dnswire/server/log.hpp"

namespace proxyd {

LocalRecords::LocalRecords(centrald::Store store) : store_(std::move(store)), holder_(nullptr) {
  watcher_ = std::make_unique<centrald::ZoneWatcher>(
      holder_, centrald::ZoneWatcher::fromStore(store_),
      [](const std::string& line) { dnswire::server::logInfo("local records: {}", line); });
}

LocalRecords::~LocalRecords() { watcher_->stop(); }

dnswire::Result<std::unique_ptr<LocalRecords>> LocalRecords::open(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    return dnswire::Error(dnswire::WireError::BadText, fmt::format("{}: no such file", path));
  centrald::StoreOptions options;
  options.readOnly = true;
  auto store = centrald::Store::open(path, options);
  if (!store) return store.error();
  std::unique_ptr<LocalRecords> records(new LocalRecords(std::move(*store)));
  if (auto loaded = records->watcher_->reload(); !loaded) return loaded.error();
  return records;
}

}  // namespace proxyd
