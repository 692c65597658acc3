#include "core/server/sign_book.h"

#include "socp/bytes.h"
#include "socp/crypto.h"

namespace socp::core {

SignBook::SignBook(SubmitFn submit, PssSalt salt, std::size_t lru_capacity)
    : submit_(std::move(submit)), salt_(salt), cap_(lru_capacity) {}

std::shared_ptr<SignedPayload> SignBook::get(json::Value payload, bool bulk, bool cacheable,
                                             std::uint64_t owner) {
  fresh_ = false;
  std::string canon = json::canonical(payload);
  const Bytes d = sha256(canon);
  std::string digest = hex_encode(d);
  auto sp = std::make_shared<SignedPayload>();
  sp->payload = std::move(payload);
  if (auto it = lru_idx_.find(digest); it != lru_idx_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second);
    sp->sig = it->second->second;
    sp->ready = true;
    ++reused_;
    return sp;
  }
  if (auto it = inflight_.find(digest); it != inflight_.end()) {
    ++reused_;
    return it->second;
  }
  Job job;
  job.kind = Job::Kind::Sign;
  job.input = std::move(canon);
  job.salt = salt_;
  job.bulk = bulk;
  job.owner = owner;
  ++requested_;
  fresh_ = true;
  inflight_[digest] = sp;
  const std::uint64_t id = submit_(std::move(job));
  jobs_[id] = Pending{digest, sp, cacheable};
  return sp;
}

bool SignBook::complete(const JobResult& r) {
  auto it = jobs_.find(r.id);
  if (it == jobs_.end()) return false;
  Pending p = std::move(it->second);
  jobs_.erase(it);
  inflight_.erase(p.digest);
  if (r.status.ok()) {
    p.sp->sig = r.output;
    p.sp->ready = true;
    if (p.cacheable) remember(p.digest, r.output);
  } else {
    p.sp->failed = true;
  }
  return true;
}

void SignBook::remember(const std::string& digest, const std::string& sig) {
  if (cap_ == 0) return;
  lru_.emplace_front(digest, sig);
  lru_idx_[digest] = lru_.begin();
  while (lru_.size() > cap_) {
    lru_idx_.erase(lru_.back().first);
    lru_.pop_back();
  }
}

}  // namespace socp::core
