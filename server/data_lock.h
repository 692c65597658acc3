// server/data_lock.h — one socp-server per data directory.
//
// The server holds an exclusive flock(2) on <data-dir>/socp-server.lock (its pid written
// inside) for as long as it runs; the kernel drops the lock when the process dies, so a
// crash never leaves a stale lock. A second server on the same directory refuses to start,
// naming the holder's pid. `socp-server admin` takes the same lock for a moment when it edits
// a stopped server's data directly, and otherwise hands commands to the running server.
// Thread-safety: a DataLock is used by one thread.
#pragma once

#include <sys/types.h>
#include <optional>
#include <string>

#include "socp/result.h"

namespace socp_server {

inline constexpr const char* kLockFileName = "socp-server.lock";

class DataLock {
 public:
  /// Creates `dir` (0700) if missing, then locks it without waiting. Busy with "data directory
  /// D is in use by another socp-server (pid N)" if held; Io for other failures.
  /// `write_pid`: the server records its pid; admin tools do not.
  static socp::Result<DataLock> acquire(const std::string& dir, bool write_pid = true);
  /// The pid recorded by the process holding the lock on `dir`, 0 if held but no pid is
  /// recorded, nullopt if nobody holds it (or there is no lock file).
  static std::optional<pid_t> holder(const std::string& dir);

  DataLock(DataLock&& other) noexcept;
  DataLock& operator=(DataLock&& other) noexcept;
  DataLock(const DataLock&) = delete;
  DataLock& operator=(const DataLock&) = delete;
  ~DataLock();  ///< releases the lock (the file stays: removing it would race)

 private:
  explicit DataLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

/// mkdir -p with mode 0700 for the created components. Io error naming the path.
socp::Status make_dirs(const std::string& dir);

}  // namespace socp_server
