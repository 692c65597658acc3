#include "socp/jobs.h"

namespace socp {

JobResult run_job(const Job& job, const PrivateKey& server_key) {
  JobResult r;
  r.id = job.id;
  switch (job.kind) {
    case Job::Kind::Sign: {
      auto sig = sign_canonical(server_key, job.input, job.salt);
      if (sig) {
        r.output = std::move(sig).value();
      } else {
        r.status = sig.error();
      }
      break;
    }
    case Job::Kind::HashVerifier: {
      auto h = hash_verifier(job.input);
      if (h) {
        r.output = std::move(h).value();
      } else {
        r.status = h.error();
      }
      break;
    }
    case Job::Kind::CheckVerifier:
      if (!check_verifier(job.stored, job.input)) {
        r.status = make_error(Errc::BadPassword, "password does not match");
      }
      break;
  }
  return r;
}

}  // namespace socp
