// User session family: USER_REGISTER, USER_HELLO, KEY_RECOVER, PUBKEY_REQUEST
// (PROTOCOL.md §6, docs/protocol-notes.md "Client ↔ server flows").
#include <cstdlib>

#include "core/server/core_impl.h"
#include "core/server/public_channel.h"
#include "socp/bytes.h"

namespace socp::core {

namespace {

constexpr int kMaxRecoverAttempts = 3;

/// Login failures: ERROR then close (the client shows the error and exits).
void refuse_login(ServerCore::Impl& s, Conn& c, Errc code, const std::string& detail,
                  const std::string& ref) {
  s.count("logins_refused");
  s.send_error(c.id, code, detail, ref);
  s.close_conn(c.id, 1000, "login refused");
}

/// Checks the user's proof of possession: PSS over the canonical payload, fresh `ts`.
Status check_user_sig(ServerCore::Impl& s, const Envelope& env, const PublicKey& key) {
  if (env.sig.empty()) return make_error(Errc::InvalidSig, env.type_name + " must be signed");
  if (std::llabs(env.ts - s.now()) > kHelloClockSkewMs) {
    return make_error(Errc::InvalidSig, "timestamp more than 5 minutes off");
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
  if (!s.seen.insert(SeenCache::key_of(env), s.now())) {
    s.count("duplicates");
    return make_error(Errc::InvalidSig, "replayed " + env.type_name);
  }
  return ok_status();
}

/// The account registered here with this id, or with this display name if exactly one does.
/// Names come from the directory (meta already parsed), accounts from the store.
Result<UserRecord> find_account(ServerCore::Impl& s, const std::string& who) {
  if (auto rec = s.store.get_user(who); rec.ok() || rec.code() != Errc::NotFound) return rec;
  std::optional<UserRecord> match;
  for (const UserInfo& u : s.dir.list()) {
    if (msg::display_name_of(u.meta, u.user_id) != who) continue;
    auto rec = s.store.get_user(u.user_id);
    if (!rec) continue;  // a user of another server
    if (match) return make_error(Errc::UserNotFound, "name is ambiguous: use the user id");
    match = std::move(rec).value();
  }
  if (!match) return make_error(Errc::UserNotFound, "no account " + who + " on this server");
  return std::move(*match);
}

bool queue_full(const ServerCore::Impl& s) {
  return s.password_queue.size() >= s.cfg.max_password_jobs_queued;
}

}  // namespace

void handle_user_hello(ServerCore::Impl& s, Conn& c, const Envelope& env) {
  const std::string ref = "USER_HELLO";
  auto hello = msg::UserHello::from_json(env.payload);
  if (!hello) return refuse_login(s, c, Errc::BadFrame, hello.error().detail, ref);
  auto key = s.keys.get(hello->pubkey);
  if (!key) return refuse_login(s, c, Errc::BadKey, key.error().detail, ref);
  const std::string& uid = env.from;
  if (!(env.sig.empty() && s.cfg.compat_unsigned_hello)) {
    if (Status st = check_user_sig(s, env, *key); !st.ok()) {
      s.count("invalid_sigs");
      return refuse_login(s, c, st.code(), st.error().detail, ref);
    }
  }
  Status st = s.dir.check_login(uid, key->b64url());
  if (!st.ok() && st.code() == Errc::UserNotFound && s.cfg.compat_unsigned_hello) {
    // Compatibility mode: trust on first use for other implementations' clients.
    st = s.dir.register_local(uid, key->b64url(), hello->meta);
    if (st.ok()) st = s.dir.check_login(uid, key->b64url());
  }
  if (!st.ok()) {
    std::string detail = st.error().detail;
    if (st.code() == Errc::UserNotFound) detail = "no account " + uid + " on this server";
    if (st.code() == Errc::NameInUse) detail = "user " + uid + " is already online";
    if (st.code() == Errc::BadKey) detail = "key does not match the registered key of " + uid;
    return refuse_login(s, c, st.code(), detail, ref);
  }
  c.role = Role::User;
  c.user_id = uid;
  s.sessions[uid] = c.id;
  msg::Ack ack;
  ack.msg_ref = ref;
  ack.server_id = s.self_id;
  ack.server_pub = s.self_pub.b64url();
  s.send_signed(c.id, MessageType::Ack, uid, ack.to_json());
  // The new user learns every online user's key (peer clients learn keys this way).
  for (const UserInfo& u : s.dir.list()) {
    if (u.online && u.user_id != uid) {
      s.send_signed(c.id, MessageType::UserAdvertise, uid, s.advert_payload(u));
    }
  }
  s.count("logins");
  s.log(LogLevel::Info, "user " + uid + " logged in");
  // Public channel: the current PUBLIC_CHANNEL_UPDATED and the key shares stored for the user.
  core::public_on_login(s, c);
  // Emits Online: advertised to every server and pushed to the other local users.
  s.dir.login_local(uid, hello->meta, s.now());
}

void handle_user_register(ServerCore::Impl& s, Conn& c, const Envelope& env) {
  const std::string ref = "USER_REGISTER";
  auto reg = msg::UserRegister::from_json(env.payload);
  if (!reg) return s.send_error(c.id, Errc::BadFrame, reg.error().detail, ref);
  if (reg->user_id != env.from || !is_uuid(reg->user_id)) {
    return s.send_error(c.id, Errc::BadFrame, "user_id must be a UUID equal to `from`", ref);
  }
  auto key = s.keys.get(reg->pubkey);
  if (!key) return s.send_error(c.id, Errc::BadKey, key.error().detail, ref);
  if (Status st = check_user_sig(s, env, *key); !st.ok()) {
    s.count("invalid_sigs");
    return s.send_error(c.id, st.code(), st.error().detail, ref);
  }
  if (reg->pake_password.empty() || reg->privkey_store.empty()) {
    return s.send_error(c.id, Errc::BadFrame, "privkey_store and pake_password are required", ref);
  }
  if (s.dir.find(reg->user_id) != nullptr) {
    return s.send_error(c.id, Errc::NameInUse, "user id " + reg->user_id + " is already taken",
                        ref);
  }
  if (queue_full(s)) {
    s.count("busy");
    return s.send_error(c.id, Errc::Busy, "too many registrations in progress, retry later", ref);
  }
  c.auth_in_flight = true;
  Job job;
  job.kind = Job::Kind::HashVerifier;
  job.input = reg->pake_password;
  const ConnId cid = c.id;
  const std::string pubkey = key->b64url();
  s.submit_job(std::move(job), [&s, cid, r = std::move(reg).value(), pubkey, ref](JobResult&& res) {
    --s.password_in_flight;
    s.pump_password_jobs();
    Conn* cc = s.conn(cid);
    if (cc) cc->auth_in_flight = false;
    if (!res.status.ok()) {
      if (cc) s.send_error(cid, Errc::Internal, "cannot hash the password verifier", ref);
      return;
    }
    // Re-check: the id may have been taken while the hash was computed.
    Status st = s.dir.register_local(r.user_id, pubkey, r.meta);
    if (!st.ok()) {
      if (cc) s.send_error(cid, st.code(), "user id " + r.user_id + " is already taken", ref);
      return;
    }
    UserRecord rec;
    rec.user_id = r.user_id;
    rec.pubkey = pubkey;
    rec.privkey_store = r.privkey_store;
    rec.pake_hash = std::move(res.output);
    rec.meta_json = json::canonical(r.meta);
    rec.created_at = s.now();
    if (Status put = s.store.put_user(rec); !put.ok()) {
      s.log(LogLevel::Error, "cannot store account " + r.user_id + ": " + put.error().detail);
      if (cc)
        s.send_error(cid, Errc::Internal, "cannot store the account: " + put.error().detail, ref);
      return;
    }
    s.count("registrations");
    s.log(LogLevel::Info, "registered user " + r.user_id);
    if (cc) {
      msg::Ack ack;
      ack.msg_ref = ref;
      s.send_signed(cid, MessageType::Ack, r.user_id, ack.to_json());
    }
  });
}

void handle_key_recover(ServerCore::Impl& s, Conn& c, const Envelope& env) {
  const std::string ref = "KEY_RECOVER";
  auto kr = msg::KeyRecover::from_json(env.payload);
  if (!kr) return s.send_error(c.id, Errc::BadFrame, kr.error().detail, ref);
  if (++c.recover_attempts > kMaxRecoverAttempts) {
    s.send_error(c.id, Errc::BadPassword, "too many attempts", ref);
    return s.close_conn(c.id, 1008, "too many recovery attempts");
  }
  auto account = find_account(s, kr->user_id);
  if (!account) return s.send_error(c.id, account.code(), account.error().detail, ref);
  const UserRecord* found = &*account;
  if (queue_full(s)) return s.send_error(c.id, Errc::Busy, "server busy, retry later", ref);
  c.auth_in_flight = true;
  Job job;
  job.kind = Job::Kind::CheckVerifier;
  job.input = kr->proof;
  job.stored = found->pake_hash;
  const ConnId cid = c.id;
  s.submit_job(std::move(job),
               [&s, cid, uid = found->user_id, blob = found->privkey_store, ref](JobResult&& res) {
                 --s.password_in_flight;
                 s.pump_password_jobs();
                 Conn* cc = s.conn(cid);
                 if (!cc) return;
                 cc->auth_in_flight = false;
                 if (!res.status.ok()) {
                   s.count("recoveries_refused");
                   return s.send_error(cid, Errc::BadPassword, "password does not match", ref);
                 }
                 msg::KeyRecoverResponse out{uid, blob};
                 s.count("recoveries");
                 s.send_signed(cid, MessageType::KeyRecoverResponse, uid, out.to_json());
               });
}

void handle_pubkey_request(ServerCore::Impl& s, Conn& c, const Envelope& env) {
  const std::string ref = "PUBKEY_REQUEST";
  auto rq = msg::PubkeyRequest::from_json(env.payload);
  if (!rq) return s.send_error(c.id, Errc::BadFrame, rq.error().detail, ref, c.user_id);
  const UserInfo* u = s.dir.find(rq->user_id);
  if (!u) {
    return s.send_error(c.id, Errc::UserNotFound, "unknown user " + rq->user_id, ref, c.user_id);
  }
  // dir_sig = server signature over user_id || pubkey (a raw-bytes signing job).
  Job job;
  job.kind = Job::Kind::Sign;
  job.input = u->user_id + u->pubkey;
  job.salt = s.cfg.salt;
  const ConnId cid = c.id;
  s.submit_job(std::move(job), [&s, cid, uid = c.user_id, u = *u](JobResult&& res) {
    if (!s.conn(cid)) return;
    if (!res.status.ok())
      return s.send_error(cid, Errc::Internal, "signing failed", "PUBKEY_REQUEST", uid);
    msg::PubkeyResponse out{u.user_id, u.pubkey, u.server_id, res.output};
    s.send_signed(cid, MessageType::PubkeyResponse, uid, out.to_json());
  });
}

}  // namespace socp::core
