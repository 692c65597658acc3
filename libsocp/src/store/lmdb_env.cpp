#include "store/lmdb_env.h"

#include <cstring>

namespace socp::store {

Error lmdb_error(int rc, std::string_view what, const std::string& path) {
  std::string prefix = std::string(what) + ": ";
  switch (rc) {
    case MDB_NOTFOUND:
      return make_error(Errc::NotFound, prefix + "not found");
    case MDB_MAP_FULL:
      // The operator's remedy is the only useful thing to say here.
      return make_error(Errc::StoreFull,
                        prefix + "database full: raise --db-map-size (" + path + ")");
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH:
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
      return make_error(Errc::Corrupt, prefix + "database at " + path +
                                           " is corrupt or not an LMDB database (" +
                                           mdb_strerror(rc) + ")");
    case MDB_BAD_VALSIZE:
      return make_error(Errc::InvalidArgument, prefix + "key or value size not accepted by LMDB");
    default:
      break;
  }
  // Positive codes are errno values; mdb_strerror falls back to strerror for them.
  return make_error(Errc::Io, prefix + path + ": " + mdb_strerror(rc));
}

Env& Env::operator=(Env&& o) noexcept {
  if (this != &o) {
    reset();
    env_ = o.env_;
    o.env_ = nullptr;
  }
  return *this;
}

void Env::reset() noexcept {
  if (env_ != nullptr) mdb_env_close(env_);
  env_ = nullptr;
}

Result<Txn> Txn::begin(MDB_env* env, bool read_only, const std::string& path) {
  MDB_txn* txn = nullptr;
  int rc = mdb_txn_begin(env, nullptr, read_only ? MDB_RDONLY : 0u, &txn);
  if (rc != MDB_SUCCESS) return lmdb_error(rc, "mdb_txn_begin", path);
  return Txn(txn);
}

Txn& Txn::operator=(Txn&& o) noexcept {
  if (this != &o) {
    abort();
    txn_ = o.txn_;
    o.txn_ = nullptr;
  }
  return *this;
}

Status Txn::commit(const std::string& path) {
  MDB_txn* txn = txn_;
  txn_ = nullptr;  // freed by mdb_txn_commit on success and failure alike
  int rc = mdb_txn_commit(txn);
  if (rc != MDB_SUCCESS) return lmdb_error(rc, "mdb_txn_commit", path);
  return ok_status();
}

void Txn::abort() noexcept {
  if (txn_ != nullptr) mdb_txn_abort(txn_);
  txn_ = nullptr;
}

}  // namespace socp::store
