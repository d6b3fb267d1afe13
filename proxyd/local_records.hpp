#pragma once
// proxyd's own records (--db): a database with centrald's schema, read with
// centrald::Store (read-only) into centrald's ZoneSnapshot and kept current by centrald's
// ZoneWatcher (the zones whose version changed are reloaded). Answers come from
// centrald::answerQuery: the same RFC 1034 §4.3.2 logic, not a second copy of it.

#include <memory>
#include <string>

#include "centrald/snapshot_holder.hpp"
#include "centrald/store/store.hpp"
#include "centrald/zone_watcher.hpp"
#include "dnswire/error.hpp"

namespace proxyd {

class LocalRecords {
 public:
  // Opens `path` read-only and loads its zones; fails when the file is missing, not a
  // database of our schema, or its zones cannot be loaded.
  static dnswire::Result<std::unique_ptr<LocalRecords>> open(const std::string& path);
  ~LocalRecords();

  const centrald::SnapshotHolder& snapshots() const { return holder_; }
  // Starts / stops polling the database for changes.
  void start() { watcher_->start(); }
  void stop() { watcher_->stop(); }

 private:
  explicit LocalRecords(centrald::Store store);

  centrald::Store store_;
  centrald::SnapshotHolder holder_;
  std::unique_ptr<centrald::ZoneWatcher> watcher_;
};

}  // namespace proxyd
