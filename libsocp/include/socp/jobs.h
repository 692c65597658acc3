// socp/jobs.h — CPU-heavy work the protocol cores hand out instead of doing it themselves.
//
// RSA private-key operations (~3 ms) and Argon2id (~50 ms, 64 MiB) never run on the event-loop
// thread. A core emits a Job (in an Action); the runtime runs it with run_job() on a worker
// thread and feeds the JobResult back into the core on the loop thread. Tests call run_job()
// inline, which keeps in-memory meshes deterministic.
// Thread-safety: run_job is safe to call concurrently (PrivateKey ops are const).
#pragma once

#include <cstdint>
#include <string>

#include "socp/crypto.h"
#include "socp/result.h"

namespace socp {

struct Job {
  enum class Kind {
    Sign,           ///< input = canonical payload bytes; output = base64url PSS signature
    HashVerifier,   ///< input = client password verifier; output = Argon2id string hash
    CheckVerifier,  ///< input = verifier, stored = hash; ok/BadPassword
  };
  std::uint64_t id = 0;
  Kind kind = Kind::Sign;
  std::string input;
  std::string stored;
  PssSalt salt = PssSalt::Max;
  /// Bulk work (file chunks): the runtime runs it at a lower priority than other jobs, so
  /// file transfers never delay interactive traffic (docs/protocol-notes.md, "Files").
  bool bulk = false;
  /// Whom the work is for (a connection id; 0 = the server itself). The runtime schedules
  /// signatures fairly across owners, so one connection's backlog never delays another's.
  std::uint64_t owner = 0;

  /// True for the memory-hard password jobs the runtime must bound (at most a couple at once).
  bool is_password_job() const noexcept { return kind != Kind::Sign; }
};

struct JobResult {
  std::uint64_t id = 0;
  Status status;  ///< error for a failed job (BadPassword, Crypto, Internal)
  std::string output;
};

/// Executes a job. `server_key` is used only for Sign.
JobResult run_job(const Job& job, const PrivateKey& server_key);

}  // namespace socp
