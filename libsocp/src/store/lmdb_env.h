// Private RAII wrappers over the LMDB C API and the mapping of LMDB return codes to socp errors.
//
// Env owns an MDB_env (closed on destruction). Txn owns an MDB_txn and aborts it on destruction
// unless commit() was called, so an early `return error` never leaks a transaction or leaves
// the writer lock held. The env is opened with MDB_NOTLS, so read transactions are not bound to
// the thread's TLS slot and several threads may each run their own transaction concurrently.
#pragma once

#include <lmdb.h>

#include <string>
#include <string_view>

#include "socp/result.h"

namespace socp::store {

/// Maps an LMDB return code (or errno) to an Error:
/// MDB_NOTFOUND → NotFound; MDB_MAP_FULL → StoreFull; MDB_INVALID / MDB_VERSION_MISMATCH /
/// MDB_CORRUPTED / MDB_PAGE_NOTFOUND → Corrupt (detail names `path`); MDB_BAD_VALSIZE →
/// InvalidArgument; anything else → Io with the strerror text. `what` names the operation.
Error lmdb_error(int rc, std::string_view what, const std::string& path);

/// An MDB_env handle.
class Env {
 public:
  Env() = default;
  explicit Env(MDB_env* env) noexcept : env_(env) {}
  ~Env() { reset(); }
  Env(Env&& o) noexcept : env_(o.env_) { o.env_ = nullptr; }
  Env& operator=(Env&& o) noexcept;
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;

  MDB_env* get() const noexcept { return env_; }
  void reset() noexcept;

 private:
  MDB_env* env_ = nullptr;
};

/// An MDB_txn handle: aborted on destruction unless committed.
class Txn {
 public:
  /// Begins a transaction (read-only if `read_only`).
  static Result<Txn> begin(MDB_env* env, bool read_only, const std::string& path);

  Txn() = default;
  ~Txn() { abort(); }
  Txn(Txn&& o) noexcept : txn_(o.txn_) { o.txn_ = nullptr; }
  Txn& operator=(Txn&& o) noexcept;
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;

  MDB_txn* get() const noexcept { return txn_; }
  /// Commits (durably: the env is never opened with MDB_NOSYNC). The handle is released
  /// whatever the outcome, as LMDB frees the txn on a failed commit too.
  Status commit(const std::string& path);
  void abort() noexcept;

 private:
  explicit Txn(MDB_txn* txn) noexcept : txn_(txn) {}
  MDB_txn* txn_ = nullptr;
};

/// Views over LMDB values; the bytes stay valid only until the transaction ends.
inline MDB_val to_val(std::string_view s) noexcept {
  return MDB_val{s.size(), const_cast<char*>(s.data())};
}
inline std::string_view from_val(const MDB_val& v) noexcept {
  return std::string_view(static_cast<const char*>(v.mv_data), v.mv_size);
}

}  // namespace socp::store
