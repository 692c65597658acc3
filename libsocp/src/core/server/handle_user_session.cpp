// User session family: USER_CHALLENGE_REQUEST, USER_REGISTER, USER_HELLO, KEY_RECOVER,
// PUBKEY_REQUEST (docs/protocol.md §6, docs/protocol-notes.md "Client ↔ server flows", "Logins").
//
// Logins cannot be replayed or forged:
//   * With a challenge (USER_CHALLENGE_REQUEST -> unsigned USER_CHALLENGE {nonce, server_id}),
//     the signed hello carries that server id and nonce: single use, this connection only.
//   * Without one, the signed ts must be within cfg.hello_window_ms of our clock and newer
//     than the newest login of that user this server has seen anywhere (persisted, and
//     learned from other servers' login proofs), and the same signed hello is refused twice.
//   * An unsigned hello (--compat-unsigned-hello) logs in only accounts that were created by
//     an unsigned hello (trust on first use), never one registered with a signed key.
#include <algorithm>
#include <cstdlib>

#include "core/server/core_impl.h"
#include "core/server/login_proof.h"
#include "core/server/public_channel.h"
#include "socp/bytes.h"

namespace socp::core {

namespace {

constexpr int kMaxRecoverAttempts = 3;
constexpr std::size_t kMaxVaultBytes = 64u << 10;
constexpr std::size_t kMaxVerifierBytes = 512;
constexpr const char* kHelloRef = "USER_HELLO";

/// Login failures: ERROR then close (the client shows the error and exits).
void refuse_login(ServerCore::Impl& s, Conn& c, Errc code, const std::string& detail,
                  const std::string& to) {
  s.count(Counter::LoginsRefused);
  s.log(LogLevel::Info, "refused login of " + to + " on " + s.who(c.id) + ": " + detail);
  ErrorOpts o;
  o.msg_ref = kHelloRef;
  o.to = to;
  o.fatal = true;
  o.close_code = 1000;
  o.close_reason = "login refused";
  s.out.error(c.id, code, detail, std::move(o));
}

void refuse(ServerCore::Impl& s, Conn& c, Errc code, const std::string& detail,
            const std::string& ref, const std::string& to) {
  ErrorOpts o;
  o.msg_ref = ref;
  o.to = to;
  s.out.error(c.id, code, detail, std::move(o));
}

/// The proof of possession on a signed USER_HELLO / USER_REGISTER: PSS over the canonical
/// payload, which repeats the envelope ts, within `window_ms` of our clock; never seen before.
Status check_user_sig(ServerCore::Impl& s, const Envelope& env, const PublicKey& key,
                      std::int64_t window_ms) {
  if (env.sig.empty()) return make_error(Errc::InvalidSig, env.type_name + " must be signed");
  if (std::llabs(env.ts - s.now()) > window_ms) {
    return make_error(Errc::InvalidSig, "timestamp too far from the server's clock");
  }
  // The envelope ts is outside the signature: socp clients repeat it inside the payload.
  const std::int64_t* signed_ts = json::get_int(env.payload, "ts");
  if (!signed_ts || *signed_ts != env.ts) {
    return make_error(Errc::InvalidSig,
                      "signed " + env.type_name + " must carry the envelope ts in its payload");
  }
  if (verify_payload(key, env.payload, env.sig) == SigForm::None) {
    return make_error(Errc::InvalidSig, "signature does not verify with the offered key");
  }
  // Keyed on the user and the signed bytes, not on the unsigned envelope: a replay under
  // another `to` or `ts` is the same key.
  if (!s.seen.insert(env.type_name + "|" + env.from + "|" + login_digest(env.payload), s.now())) {
    s.count(Counter::LoginsReplayed);
    return make_error(Errc::InvalidSig, "replayed " + env.type_name);
  }
  return ok_status();
}

/// The account registered here with this id, or with this display name if exactly one does.
/// Names come from the directory (meta already parsed), accounts from the store.
Result<UserRecord> find_account(ServerCore::Impl& s, const std::string& who) {
  if (auto rec = s.store.get_user(who); rec.ok() || rec.code() != Errc::NotFound) return rec;
  std::optional<UserRecord> match;
  bool ambiguous = false;
  s.dir.for_each([&](const UserInfo& u) {
    if (ambiguous) return;
    if (msg::display_name_of(u.meta, u.user_id) != who) return;
    auto rec = s.store.get_user(u.user_id);
    if (!rec) return;
    if (match) ambiguous = true;
    match = std::move(rec).value();
  });
  if (ambiguous) return make_error(Errc::UserNotFound, "name is ambiguous: use the user id");
  if (!match) return make_error(Errc::UserNotFound, "no account " + who + " on this server");
  return std::move(*match);
}

bool queue_full(const ServerCore::Impl& s) {
  return s.password_queue.size() >= s.cfg.max_password_jobs_queued;
}

bool meta_fits(const ServerCore::Impl& s, const json::Value& meta) {
  return json::canonical(meta).size() <= s.cfg.max_meta_bytes;
}

json::Array socp_caps() {
  return json::Array{std::string(kSocpCapability)};
}

/// Checks a signed hello (challenge or not). On success returns the login stamp.
Result<LoginStamp> check_signed_hello(ServerCore::Impl& s, Conn& c, const Envelope& env,
                                      const msg::UserHello& hello, const PublicKey& key) {
  const std::string& uid = env.from;
  if (!hello.nonce.empty() || !hello.server_id.empty()) {
    if (c.challenge.empty() || hello.nonce != c.challenge || hello.server_id != s.self_id) {
      return make_error(Errc::InvalidSig, "hello does not answer this connection's challenge");
    }
    c.challenge.clear();  // single use
    SOCP_TRY(check_user_sig(s, env, key, kHelloClockSkewMs));
  } else {
    SOCP_TRY(check_user_sig(s, env, key, s.cfg.hello_window_ms));
    const UserInfo* u = s.dir.find(uid);
    if (u && *hello.ts <= u->last_login) {
      s.count(Counter::LoginsReplayed);
      return make_error(Errc::InvalidSig,
                        "hello is not newer than the last login of " + uid +
                            " (replayed, or a clock behind: ask for a USER_CHALLENGE)");
    }
  }
  LoginStamp st;
  st.ts = *hello.ts;
  st.digest = login_digest(env.payload);
  st.proof = make_login_proof(env.payload, env.sig);
  return st;
}

}  // namespace

void handle_challenge_request(ServerCore::Impl& s, Conn& c, const Envelope& env) {
  c.challenge = s.new_nonce();
  s.count(Counter::ChallengesIssued);
  msg::UserChallenge ch{c.challenge, s.self_id};
  // Unsigned on purpose: a stranger costs us no signature, and the binding is checked when
  // the signed hello comes back.
  s.out.send_unsigned(c.id, MessageType::UserChallenge, is_uuid(env.from) ? env.from : "*",
                      ch.to_json());
}

void handle_user_hello(ServerCore::Impl& s, Conn& c, const Envelope& env) {
  const std::string& uid = env.from;
  auto hello = msg::UserHello::from_json(env.payload);
  if (!hello) return refuse_login(s, c, Errc::BadFrame, hello.error().detail, uid);
  auto key = s.keys.get(hello->pubkey);
  if (!key) return refuse_login(s, c, Errc::BadKey, key.error().detail, uid);
  if (!meta_fits(s, hello->meta)) {
    return refuse_login(s, c, Errc::TooLarge, "meta is too large", uid);
  }
  LoginStamp stamp;
  const bool unsigned_hello = env.sig.empty() && s.cfg.compat_unsigned_hello;
  if (!unsigned_hello) {
    if (!hello->ts) return refuse_login(s, c, Errc::InvalidSig, "hello has no signed ts", uid);
    auto st = check_signed_hello(s, c, env, *hello, *key);
    if (!st) {
      s.count(Counter::InvalidSigs);
      return refuse_login(s, c, st.code(), st.error().detail, uid);
    }
    stamp = std::move(st).value();
  } else {
    // Compatibility mode: only accounts created by trust on first use log in unsigned.
    if (s.dir.find(uid) != nullptr) {
      auto acc = s.store.get_user(uid);
      if (!acc || !acc->tofu) {
        return refuse_login(s, c, Errc::InvalidSig,
                            "account " + uid + " requires a signed USER_HELLO", uid);
      }
    }
    stamp.ts = s.now();
  }
  Status st = s.dir.check_login(uid, key->b64url());
  if (!st.ok() && st.code() == Errc::UserNotFound && unsigned_hello) {
    // Compatibility mode: trust on first use for other implementations' clients.
    st = s.dir.register_local(uid, key->b64url(), hello->meta);
    if (st.ok()) {
      UserRecord rec;
      rec.user_id = uid;
      rec.pubkey = key->b64url();
      rec.meta_json = json::canonical(hello->meta);
      rec.created_at = s.now();
      rec.tofu = true;
      st = s.store.put_user(rec);
    }
    if (st.ok()) st = s.dir.check_login(uid, key->b64url());
  }
  if (!st.ok()) {
    std::string detail = st.error().detail;
    if (st.code() == Errc::UserNotFound) detail = "no account " + uid + " on this server";
    if (st.code() == Errc::NameInUse) detail = "user " + uid + " is already online";
    if (st.code() == Errc::BadKey) detail = "key does not match the registered key of " + uid;
    return refuse_login(s, c, st.code(), detail, uid);
  }
  c.role = Role::User;
  c.user_id = uid;
  c.acks = std::find(hello->caps.begin(), hello->caps.end(), kSocpCapability) != hello->caps.end();
  s.sessions[uid] = c.id;
  s.out.frame_limit(c.id, s.cfg.limits.max_user_frame);
  const std::int64_t now = s.now();
  c.budget = SignBudget{{{s.cfg.user_sign_rate, s.cfg.user_sign_burst}, now},
                        {{s.cfg.bulk_sign_rate, s.cfg.bulk_sign_burst}, now}};
  msg::Ack ack;
  ack.msg_ref = kHelloRef;
  ack.server_id = s.self_id;
  ack.server_pub = s.self_pub.b64url();
  json::Value ack_json = ack.to_json();
  ack_json.as_object()["caps"] = socp_caps();
  s.out.send(c.id, MessageType::Ack, uid, std::move(ack_json));
  // The new user learns every online user's key: clients of other implementations from one
  // advert per online user; a socp/1 client asks for the paged LIST itself (one signature
  // per page instead of a frame per user; docs/scaling.md "Logins").
  if (!c.acks) s.send_presence(c.id, uid);
  s.count(Counter::Logins);
  s.log(LogLevel::Info, "user " + uid + " logged in on " + s.who(c.id));
  // Public channel: the current PUBLIC_CHANNEL_UPDATED and the key shares stored for the user.
  core::public_on_login(s, c);
  // What was kept for the user while away, in order.
  core::deliver_mailbox(s, c);
  // Receipts that became due while the user was away.
  core::send_kept_receipts(s, c);
  // Emits Online: advertised to every server (with the login proof) and to the local users.
  s.dir.login_local(uid, hello->meta, stamp);
}

void handle_user_register(ServerCore::Impl& s, Conn& c, const Envelope& env) {
  const std::string ref = "USER_REGISTER";
  auto reg = msg::UserRegister::from_json(env.payload);
  if (!reg) return refuse(s, c, Errc::BadFrame, reg.error().detail, ref, env.from);
  if (reg->user_id != env.from || !is_uuid(reg->user_id)) {
    return refuse(s, c, Errc::BadFrame, "user_id must be a UUID equal to `from`", ref, env.from);
  }
  auto key = s.keys.get(reg->pubkey);
  if (!key) return refuse(s, c, Errc::BadKey, key.error().detail, ref, env.from);
  if (reg->pake_password.empty() || reg->privkey_store.empty() ||
      reg->privkey_store.size() > kMaxVaultBytes || reg->pake_password.size() > kMaxVerifierBytes) {
    return refuse(s, c, Errc::BadFrame, "privkey_store and pake_password are required (bounded)",
                  ref, env.from);
  }
  if (!meta_fits(s, reg->meta))
    return refuse(s, c, Errc::TooLarge, "meta too large", ref, env.from);
  if (Status st = check_user_sig(s, env, *key, kHelloClockSkewMs); !st.ok()) {
    s.count(Counter::InvalidSigs);
    return refuse(s, c, st.code(), st.error().detail, ref, env.from);
  }
  if (s.dir.find(reg->user_id) != nullptr) {
    return refuse(s, c, Errc::NameInUse, "user id " + reg->user_id + " is already taken", ref,
                  env.from);
  }
  if (s.dir.owner_of_key(key->b64url()) != nullptr) {
    s.count(Counter::KeyReuseRefused);
    return refuse(s, c, Errc::BadKey, "this key belongs to another user", ref, env.from);
  }
  // Registration policy (set with `socp-server admin registration ...`).
  std::string policy = "open";
  if (auto p = s.store.get_setting(kSettingRegistration)) policy = *p;
  if (policy == "closed" ||
      (policy == "invite" && (reg->invite.empty() || reg->invite.size() > 128 ||
                              !s.store.get_setting(kSettingInvitePrefix + reg->invite).ok()))) {
    s.count(Counter::RegistrationsRefused);
    return refuse(s, c, Errc::NotAdmitted,
                  policy == "closed" ? "registration is closed" : "a valid invitation is needed",
                  ref, env.from);
  }
  if (queue_full(s)) {
    s.count(Counter::Busy);
    return refuse(s, c, Errc::Busy, "too many registrations in progress, retry later", ref,
                  env.from);
  }
  c.auth_in_flight = true;
  Job job;
  job.kind = Job::Kind::HashVerifier;
  job.input = reg->pake_password;
  const ConnId cid = c.id;
  const std::string pubkey = key->b64url();
  s.submit_job(
      std::move(job),
      [&s, cid, r = std::move(reg).value(), pubkey, ref](JobResult&& res) {
        --s.password_in_flight;
        s.pump_password_jobs();
        Conn* cc = s.conn(cid);
        if (cc) cc->auth_in_flight = false;
        auto fail = [&](Errc code, const std::string& detail) {
          if (cc) refuse(s, *cc, code, detail, ref, r.user_id);
        };
        if (!res.status.ok()) return fail(Errc::Internal, "cannot hash the password verifier");
        // Re-check: the id may have been taken (or the invitation used) meanwhile.
        if (!r.invite.empty()) {
          const std::string inv = kSettingInvitePrefix + r.invite;
          std::string policy = "open";
          if (auto p = s.store.get_setting(kSettingRegistration)) policy = *p;
          if (policy == "invite" && !s.store.get_setting(inv).ok()) {
            return fail(Errc::NotAdmitted, "a valid invitation is needed");
          }
          (void)s.store.delete_setting(inv);  // used once
        }
        Status st = s.dir.register_local(r.user_id, pubkey, r.meta);
        if (!st.ok()) return fail(st.code(), "user id or key already taken");
        UserRecord rec;
        rec.user_id = r.user_id;
        rec.pubkey = pubkey;
        rec.privkey_store = r.privkey_store;
        rec.pake_hash = std::move(res.output);
        rec.meta_json = json::canonical(r.meta);
        rec.created_at = s.now();
        // Durable before the ACK says so.
        Status put = s.store.put_user(rec);
        if (put.ok()) put = s.store.commit();
        if (!put.ok()) {
          s.log(LogLevel::Error, "cannot store account " + r.user_id + ": " + put.error().detail);
          return fail(Errc::Internal, "cannot store the account");
        }
        s.count(Counter::Registrations);
        s.log(LogLevel::Info, "registered user " + r.user_id);
        if (cc) {
          msg::Ack ack;
          ack.msg_ref = ref;
          json::Value a = ack.to_json();
          a.as_object()["caps"] = socp_caps();
          s.out.send(cid, MessageType::Ack, r.user_id, std::move(a));
        }
      },
      c.id);
}

void handle_key_recover(ServerCore::Impl& s, Conn& c, const Envelope& env) {
  const std::string ref = "KEY_RECOVER";
  auto kr = msg::KeyRecover::from_json(env.payload);
  if (!kr) return refuse(s, c, Errc::BadFrame, kr.error().detail, ref, env.from);
  if (++c.recover_attempts > kMaxRecoverAttempts) {
    ErrorOpts o;
    o.msg_ref = ref;
    o.fatal = true;
    return s.out.error(c.id, Errc::BadPassword, "too many attempts", std::move(o));
  }
  auto account = find_account(s, kr->user_id);
  if (!account) return refuse(s, c, account.code(), account.error().detail, ref, env.from);
  const UserRecord* found = &*account;
  if (Status st = s.logins.may_try(found->user_id, s.now()); !st.ok()) {
    s.count(Counter::RecoverBackoff);
    return refuse(s, c, st.code(), st.error().detail, ref, env.from);
  }
  if (found->pake_hash.empty()) {
    return refuse(s, c, Errc::UserNotFound, "account has no recovery", ref, env.from);
  }
  if (queue_full(s)) return refuse(s, c, Errc::Busy, "server busy, retry later", ref, env.from);
  c.auth_in_flight = true;
  Job job;
  job.kind = Job::Kind::CheckVerifier;
  job.input = kr->proof;
  job.stored = found->pake_hash;
  const ConnId cid = c.id;
  s.submit_job(
      std::move(job),
      [&s, cid, uid = found->user_id, blob = found->privkey_store, ref](JobResult&& res) {
        --s.password_in_flight;
        s.pump_password_jobs();
        Conn* cc = s.conn(cid);
        if (!res.status.ok()) {
          s.logins.failed(uid, s.now());
          s.count(Counter::RecoveriesRefused);
          if (cc) {
            cc->auth_in_flight = false;
            refuse(s, *cc, Errc::BadPassword, "password does not match", ref, uid);
          }
          return;
        }
        s.logins.succeeded(uid);
        if (!cc) return;
        cc->auth_in_flight = false;
        msg::KeyRecoverResponse out{uid, blob};
        s.count(Counter::Recoveries);
        s.out.send(cid, MessageType::KeyRecoverResponse, uid, out.to_json());
      },
      c.id);
}

void handle_pubkey_request(ServerCore::Impl& s, Conn& c, const Envelope& env) {
  const std::string ref = "PUBKEY_REQUEST";
  auto rq = msg::PubkeyRequest::from_json(env.payload);
  if (!rq) return refuse(s, c, Errc::BadFrame, rq.error().detail, ref, c.user_id);
  const UserInfo* u = s.dir.find(rq->user_id);
  if (!u) return refuse(s, c, Errc::UserNotFound, "unknown user " + rq->user_id, ref, c.user_id);
  // dir_sig = server signature over user_id || pubkey (a raw-bytes signing job).
  Job job;
  job.kind = Job::Kind::Sign;
  job.input = u->user_id + u->pubkey;
  job.salt = s.cfg.salt;
  const ConnId cid = c.id;
  s.submit_job(
      std::move(job),
      [&s, cid, uid = c.user_id, u = *u, ref](JobResult&& res) {
        Conn* cc = s.conn(cid);
        if (!cc) return;
        if (!res.status.ok()) return refuse(s, *cc, Errc::Internal, "signing failed", ref, uid);
        msg::PubkeyResponse out{u.user_id, u.pubkey, u.server_id, res.output};
        s.out.send(cid, MessageType::PubkeyResponse, uid, out.to_json());
      },
      c.id);
}

}  // namespace socp::core
