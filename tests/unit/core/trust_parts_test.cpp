// The small pieces of the trust work, one by one: signed context, fixed error payloads,
// token buckets, password backoff, login proofs, admission lists.
#include <catch2/catch.hpp>

#include "core/server/admission.h"
#include "core/server/error_policy.h"
#include "core/server/login_guard.h"
#include "core/server/login_proof.h"
#include "core/server/sign_budget.h"
#include "core/server/signed_context.h"
#include "fixtures.h"
#include "mesh_sim.h"
#include "socp/messages.h"

using namespace socp;
using namespace socp::core;

TEST_CASE("signed context: added, matched, mismatched", "[core][trust]") {
  Envelope env =
      make_envelope(MessageType::UserRemove, "S", "*", 42,
                    with_context(json::Object{{"user_id", "u"}}, "USER_REMOVE", "S", "*", 42));
  CHECK(check_context(env) == ContextCheck::Match);
  auto other = env;
  other.ts = 43;
  CHECK(check_context(other) == ContextCheck::Mismatch);
  other = env;
  other.to = "T";
  CHECK(check_context(other) == ContextCheck::Mismatch);
  other = env;
  other.type_name = "USER_ADVERTISE";
  CHECK(check_context(other) == ContextCheck::Mismatch);
  other = env;
  other.payload.as_object()["ctx"].as_object()["extra"] = 1;  // exactly four members
  CHECK(check_context(other) == ContextCheck::Mismatch);
  other = env;
  other.payload.as_object().erase("ctx");
  CHECK(check_context(other) == ContextCheck::Absent);
}

TEST_CASE("error policy: fixed payloads echo nothing, details are clipped", "[core][trust]") {
  auto a = fixed_error_payload(Errc::UserNotFound, "KEY_RECOVER");
  auto b = fixed_error_payload(Errc::UserNotFound, "KEY_RECOVER");
  CHECK(a == b);
  CHECK(*json::get_string(a, "msg_ref") == "KEY_RECOVER");
  CHECK(fixed_error_payload(Errc::UnknownType, "X_ATTACKER_CHOSEN").find("msg_ref") == nullptr);
  CHECK(a.find("ctx") == nullptr);
  const std::string long_detail(1000, 'x');
  CHECK(clip_detail(long_detail).size() <= kMaxDetailBytes + 3);
  const std::string utf8 = std::string(kMaxDetailBytes - 1, 'a') + "\xc3\xa9\xc3\xa9";
  const std::string clipped = clip_detail(utf8);
  CHECK(clipped.substr(0, kMaxDetailBytes - 1) == std::string(kMaxDetailBytes - 1, 'a'));
  CHECK(clipped.find('\xc3') == std::string::npos);  // no half character
}

TEST_CASE("token bucket: burst, debt, refill", "[core][trust]") {
  TokenBucket b({10, 5}, 0);
  CHECK(b.available(0));
  b.charge(8, 0);  // into debt
  CHECK_FALSE(b.available(0));
  CHECK_FALSE(b.available(200));  // +2
  CHECK(b.available(400));        // +4: 1 left
  CHECK(b.available(100'000));    // capped at the burst
  CHECK(b.tokens() == Approx(5));
}

TEST_CASE("login guard: three free failures, then exponential waits", "[core][trust]") {
  LoginGuard g;
  for (int i = 0; i < 3; ++i) {
    CHECK(g.may_try("u", 0).ok());
    g.failed("u", 0);
  }
  CHECK(g.may_try("u", 0).code() == Errc::RateLimited);
  CHECK(g.may_try("u", 999).code() == Errc::RateLimited);
  CHECK(g.may_try("u", 1000).ok());
  g.failed("u", 1000);
  CHECK(g.may_try("u", 2500).code() == Errc::RateLimited);  // 2 s now
  CHECK(g.may_try("u", 3000).ok());
  CHECK(g.may_try("other", 0).ok());
  g.succeeded("u");
  CHECK(g.may_try("u", 3000).ok());
}

TEST_CASE("login proof: only the user's own signature over a hello, at the right server",
          "[core][trust]") {
  PublicKeyCache keys;
  const auto& alice = test::fixture_key("alice");
  const std::string pub = alice.public_key().b64url();
  msg::UserHello h;
  h.pubkey = pub;
  h.ts = 1234;
  json::Value hp = h.to_json();
  auto proof = make_login_proof(hp, *sign_payload(alice, hp));
  auto st = verify_login_proof(keys, proof, pub, "srv");
  REQUIRE(st.ok());
  CHECK(st->ts == 1234);
  CHECK(st->digest == login_digest(hp));
  // Another key, another user's key, a tampered hello, a login bound to another server.
  auto bad_sig = make_login_proof(hp, *sign_payload(test::fixture_key("bob"), hp));
  CHECK_FALSE(verify_login_proof(keys, bad_sig, pub, "srv").ok());
  CHECK_FALSE(
      verify_login_proof(keys, proof, test::fixture_key("bob").public_key().b64url(), "srv").ok());
  json::Value tampered = proof;
  tampered.as_object()["hello"].as_object()["ts"] = std::int64_t{99999};
  CHECK_FALSE(verify_login_proof(keys, tampered, pub, "srv").ok());
  h.server_id = "elsewhere";
  h.nonce = "bg";
  hp = h.to_json();
  auto bound = make_login_proof(hp, *sign_payload(alice, hp));
  CHECK_FALSE(verify_login_proof(keys, bound, pub, "srv").ok());
  CHECK(verify_login_proof(keys, bound, pub, "elsewhere").ok());
  json::Value extra = proof;
  extra.as_object()["more"] = 1;
  CHECK_FALSE(verify_login_proof(keys, extra, pub, "srv").ok());
}

TEST_CASE("admission: policies, lists by key or id, introducers", "[core][trust]") {
  PublicKeyCache keys;
  ServerConfig cfg;
  Admission adm(cfg, keys);
  const std::string kb = test::fixture_key("server_b").public_key().b64url();
  CHECK(adm.may_join("b", kb, 0).ok());
  cfg.join_policy = JoinPolicy::Allowlist;
  CHECK(adm.may_join("b", kb, 0).code() == Errc::NotAdmitted);
  cfg.allowed_servers = {test::fixture_key_field("server_b", "public_pem")};  // PEM works too
  CHECK(adm.may_join("b", kb, 0).ok());
  CHECK(adm.listed("b", kb));
  cfg.allowed_servers = {"b"};
  CHECK(adm.listed("b", "any"));
  cfg.max_peers = 1;
  CHECK(adm.may_join("c", "k", 1).code() == Errc::NotAdmitted);
  cfg.join_policy = JoinPolicy::Closed;
  CHECK(adm.may_join("b", kb, 0).code() == Errc::NotAdmitted);
  CHECK_FALSE(adm.trusts_introducer("i", kb));
  adm.joined_via("i");
  CHECK(adm.trusts_introducer("i", kb));
  cfg.trusted_introducers = {kb};
  CHECK(adm.trusts_introducer("j", kb));
}
