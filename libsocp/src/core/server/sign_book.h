// SignBook: sign each distinct payload once.
//
// Frames a server originates are signed over their canonical payload. Identical payloads
// (an advert sent to every server and every client, heartbeats, a public-channel post fanned
// out to all members, a list response while the directory is unchanged) share one signature:
// in flight they share one job; once signed they stay in a small LRU keyed by SHA-256 of the
// canonical bytes.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>

#include "socp/jobs.h"
#include "socp/json.h"

namespace socp::core {

/// A payload with its canonical bytes and (once ready) its signature.
struct SignedPayload {
  json::Value payload;
  std::string sig;  ///< base64url; valid when ready
  bool ready = false;
  bool failed = false;
};

class SignBook {
 public:
  /// submit(job) hands a Sign job to the runtime; the book calls back through complete().
  using SubmitFn = std::function<std::uint64_t(Job)>;

  SignBook(SubmitFn submit, PssSalt salt, std::size_t lru_capacity = 2048);

  /// Returns the shared signed payload (maybe not ready yet). `bulk` marks a new Sign job as
  /// bulk work (Job::bulk: file chunks, signed at a lower priority). Only `cacheable` payloads
  /// (fixed ones, without a signed context) are kept in the LRU once signed: a payload with a
  /// signed context never repeats. `owner` tags a new job with whom it is signed for (fair
  /// scheduling in the runtime). fresh() tells whether the last get() created a new job.
  std::shared_ptr<SignedPayload> get(json::Value payload, bool bulk = false, bool cacheable = false,
                                     std::uint64_t owner = 0);
  bool fresh() const noexcept { return fresh_; }
  /// Signatures requested and not finished yet.
  std::size_t in_flight() const noexcept { return jobs_.size(); }
  /// Feeds a finished Sign job back. Returns false if the job was not ours.
  bool complete(const JobResult& r);

  std::uint64_t requested() const noexcept { return requested_; }
  std::uint64_t reused() const noexcept { return reused_; }

 private:
  struct Pending {
    std::string digest;
    std::shared_ptr<SignedPayload> sp;
    bool cacheable = false;
  };
  void remember(const std::string& digest, const std::string& sig);

  SubmitFn submit_;
  PssSalt salt_;
  std::size_t cap_;
  std::unordered_map<std::string, std::shared_ptr<SignedPayload>> inflight_;  // by digest
  std::unordered_map<std::uint64_t, Pending> jobs_;
  std::list<std::pair<std::string, std::string>> lru_;  // (digest, sig), most recent first
  std::unordered_map<std::string, std::list<std::pair<std::string, std::string>>::iterator>
      lru_idx_;
  std::uint64_t requested_ = 0, reused_ = 0;
  bool fresh_ = false;
};

}  // namespace socp::core
