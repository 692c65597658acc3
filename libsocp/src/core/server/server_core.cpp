// ServerCore: public API (every entry point is one turn of the applier), the Impl helpers
// shared by all handlers, and the dispatcher.
#include "socp/server_core.h"

#include <sodium.h>

#include <algorithm>

#include "core/server/core_impl.h"
#include "core/server/delivery_coalescing.h"
#include "core/server/error_policy.h"
#include "core/server/login_proof.h"
#include "core/server/public_channel.h"
#include "core/server/signed_context.h"
#include "socp/bytes.h"

namespace socp {

using core::Conn;
using core::Role;

ServerCore::Impl::Impl(ServerConfig c, std::string id, PublicKey pub, Store& st,
                       std::function<std::int64_t()> clk)
    : cfg(std::move(c)),
      self_id(std::move(id)),
      self_pub(std::move(pub)),
      store(st),
      clock(std::move(clk)),
      dir(self_id, &store),
      signer([this](Job j) { return submit_sign(std::move(j)); }, cfg.salt),
      out(*this),
      admission(cfg, keys),
      queues(store),
      rng(cfg.jitter_seed) {
  dir.set_limits(DirectoryLimits{cfg.max_users_per_server});
}

std::uint64_t ServerCore::Impl::submit_sign(Job job) {
  const std::uint64_t id = next_job_id++;
  job.id = id;
  job_conts[id] = [this](JobResult&& r) {
    signer.complete(r);
    if (!r.status.ok()) {
      count(Counter::SignFailures);
      log(LogLevel::Error, "signing failed: " + r.status.error().detail);
    }
    if (!parked_delivery_conns.empty()) core::release_parked_deliveries(*this);
    out.flush_all();
  };
  out.run_job(std::move(job));
  return id;
}

Conn* ServerCore::Impl::conn(ConnId id) {
  auto it = conns.find(id);
  return it == conns.end() ? nullptr : &it->second;
}

std::string ServerCore::Impl::who(ConnId id) const {
  std::string out = "connection " + std::to_string(id & ~kOutgoingBit);
  if (cfg.peer_address) {
    const std::string addr = cfg.peer_address(id);
    if (!addr.empty()) out += (id & kOutgoingBit ? " to " : " from ") + addr;
  }
  return out;
}

std::string ServerCore::Impl::new_nonce() {
  unsigned char buf[32];
  randombytes_buf(buf, sizeof buf);
  return b64url_encode(buf, sizeof buf);
}

void ServerCore::Impl::submit_job(Job job, std::function<void(JobResult&&)> cont, ConnId owner) {
  const std::uint64_t id = next_job_id++;
  job.id = id;
  job.owner = owner;
  job_conts[id] = std::move(cont);
  if (owner != 0) job_owner[id] = owner;
  if (job.is_password_job()) {
    password_queue.push_back(std::move(job));
    pump_password_jobs();
    return;
  }
  if (job.kind == Job::Kind::Sign) out.charge_signature(job.bulk);
  out.run_job(std::move(job));
}

void ServerCore::Impl::pump_password_jobs() {
  while (password_in_flight < cfg.max_password_jobs_in_flight && !password_queue.empty()) {
    Job j = std::move(password_queue.front());
    password_queue.pop_front();
    ++password_in_flight;
    out.run_job(std::move(j));
  }
}

void core::FanOut::send(ConnId conn) {
  Conn* c = s_.conn(conn);
  if (!c || c->closing) return;
  const core::Dialect d = s_.dialect_of(*c);
  auto& sp = sp_[d];
  if (!sp) {  // the first recipient (of a dialect) pays for the context, canonical form, hash
    json::Value p = payload_;
    if (d != core::Dialect::Socp && core::encode_for(d, type_, p, s_.self_id, s_.keys)) {
      s_.count(Counter::DialectOut);
    }
    sp = s_.out.sign(core::with_context(std::move(p), to_string(type_), s_.self_id, to_, ts_),
                     bulk_);
  }
  s_.out.send_signed_payload(conn, type_, to_, ts_, sp, bulk_);
}

void ServerCore::Impl::send_shared(ConnId conn, core::SharedFrame& f) {
  if (!f.sp) {
    f.sp = out.sign(core::with_context(f.payload, to_string(f.type), self_id, f.to, f.ts), false);
  }
  out.send_signed_payload(conn, f.type, f.to, f.ts, f.sp, false);
}

void ServerCore::Impl::send_presence(ConnId conn, const std::string& user_id) {
  dir.for_each([&](const UserInfo& u) {
    if (!u.online || u.user_id == user_id) return;
    auto it = user_adverts.find(u.user_id);
    if (it == user_adverts.end()) {
      core::SharedFrame f;
      f.type = MessageType::UserAdvertise;
      f.to = "*";
      f.ts = next_ts();
      msg::UserAdvertise ad;
      ad.user_id = u.user_id;
      ad.server_id = u.server_id;
      ad.pubkey = u.pubkey;
      ad.meta = u.meta;
      f.payload = ad.to_json();
      it = user_adverts.emplace(u.user_id, std::move(f)).first;
    }
    send_shared(conn, it->second);
  });
}

std::vector<ConnId> ServerCore::Impl::socp_links() const {
  std::vector<ConnId> v;
  for (const auto& [id, p] : peers) {
    if (p.link != 0 && p.socp_caps) v.push_back(p.link);
  }
  return v;
}

std::vector<std::pair<std::string, ConnId>> ServerCore::Impl::live_links() const {
  std::vector<std::pair<std::string, ConnId>> v;
  for (const auto& [id, p] : peers) {
    if (p.link != 0) v.emplace_back(id, p.link);
  }
  return v;
}

void ServerCore::Impl::broadcast_servers(MessageType type, const json::Value& payload,
                                         const std::string& except_server) {
  // One frame, one signed context, one seen-cache key on every server.
  core::FanOut frame(*this, type, "*", payload);
  for (const auto& [sid, link] : live_links()) {
    if (sid != except_server) frame.send(link);
  }
}

void ServerCore::Impl::forward_servers(const Envelope& env, const std::string& except_server) {
  for (const auto& [sid, p] : peers) {
    if (p.link == 0 || sid == except_server || sid == env.from) continue;
    // A socp/1 peer linked to the origin got the frame from it directly (a complete mesh
    // then costs n - 1 frames per change, not n²); one that is not gets it from us.
    if (p.socp_caps && p.links.count(env.from) != 0) {
      count(Counter::GossipNotForwarded);
      continue;
    }
    out.forward(p.link, env);
  }
}

void ServerCore::Impl::broadcast_users(MessageType type, const json::Value& payload,
                                       const std::string& except_user) {
  core::FanOut frame(*this, type, "*", payload);
  for (const auto& [uid, cid] : sessions) {
    if (uid != except_user) frame.send(cid);
  }
}

const PublicKey* ServerCore::Impl::server_key(const std::string& server_id) {
  if (server_id == self_id) return &self_pub;
  auto it = peers.find(server_id);
  if (it == peers.end() || !it->second.key) return nullptr;
  return &*it->second.key;
}

bool ServerCore::Impl::is_socp_server(const std::string& server_id) const {
  auto it = peers.find(server_id);
  return it != peers.end() && it->second.socp_caps;
}

json::Value ServerCore::Impl::hello_payload() const {
  msg::ServerHello h;
  h.host = cfg.host;
  h.port = cfg.port;
  h.pubkey = self_pub.b64url();
  h.caps = {std::string(kSocpCapability), std::string(kDeliverBatchCapability)};
  json::Value p = h.to_json();
  p.as_object()["server_id"] = self_id;  // some implementations learn a key only with the id
  return p;
}

json::Value ServerCore::Impl::advert_payload(const UserInfo& u) const {
  msg::UserAdvertise ad;
  ad.user_id = u.user_id;
  ad.server_id = u.server_id;
  ad.pubkey = u.pubkey;
  ad.meta = u.meta;
  if (u.since != 0) ad.since = u.since;
  ad.proof = u.proof;
  return ad.to_json();
}

void ServerCore::Impl::drop_user_session(Conn& c) {
  if (c.role != Role::User) return;
  auto it = sessions.find(c.user_id);
  if (it != sessions.end() && it->second == c.id) {
    sessions.erase(it);
    count(Counter::Logouts);
    log(LogLevel::Info, "user " + c.user_id + " logged out (" + who(c.id) + ")");
    dir.logout_local(c.user_id);
  }
  c.role = Role::Unknown;
}

void ServerCore::Impl::on_directory_event(const DirectoryEvent& ev) {
  switch (ev.kind) {
    case DirectoryEventKind::Online: {
      const UserInfo* u = dir.find(ev.user_id);
      if (!u) return;
      // To servers: with the login proof. To users: the advert without it, kept to show users
      // who log in later (signed once).
      if (ev.server_id == self_id)
        broadcast_servers(MessageType::UserAdvertise, advert_payload(*u));
      core::SharedFrame f;
      f.type = MessageType::UserAdvertise;
      f.to = "*";
      f.ts = next_ts();
      msg::UserAdvertise ad;
      ad.user_id = u->user_id;
      ad.server_id = u->server_id;
      ad.pubkey = u->pubkey;
      ad.meta = u->meta;
      f.payload = ad.to_json();
      core::SharedFrame& kept = user_adverts[ev.user_id] = std::move(f);
      for (const auto& [uid, cid] : sessions) {
        if (uid != ev.user_id) send_shared(cid, kept);
      }
      break;
    }
    case DirectoryEventKind::Offline: {
      user_adverts.erase(ev.user_id);
      msg::UserRemove rm{ev.user_id, ev.server_id};
      json::Value p = rm.to_json();
      if (ev.server_id == self_id) broadcast_servers(MessageType::UserRemove, p);
      broadcast_users(MessageType::UserRemove, p, ev.user_id);
      break;
    }
    case DirectoryEventKind::Evicted: {
      user_adverts.erase(ev.user_id);
      auto it = sessions.find(ev.user_id);
      if (it == sessions.end()) return;
      const ConnId cid = it->second;
      sessions.erase(it);
      if (Conn* c = conn(cid)) {
        core::ErrorOpts o;
        o.msg_ref = "USER_HELLO";
        o.to = ev.user_id;
        o.fatal = true;
        o.close_code = 1000;
        o.close_reason = "logged in elsewhere";
        out.error(cid, Errc::NameInUse,
                  "logged in on another server (" + ev.detail + ") more recently", std::move(o));
        c->role = Role::Unknown;
      }
      count(Counter::Evictions);
      break;
    }
    case DirectoryEventKind::KeyConflict:
      count(Counter::KeyConflicts);
      log(LogLevel::Warn, "rejected a different key for user " + ev.user_id + ": " + ev.detail);
      break;
    case DirectoryEventKind::Moved:
      break;
  }
}

// ---- dispatcher --------------------------------------------------------------------------------

namespace {

constexpr int kMaxBadFrames = 20;
constexpr std::int64_t kStaleServerFrameMs = kSeenCacheTtlMs - 60'000;

bool is_file_type(MessageType t) {
  return t == MessageType::FileStart || t == MessageType::FileChunk || t == MessageType::FileEnd ||
         t == MessageType::FileBulkStart || t == MessageType::FileBulkChunk ||
         t == MessageType::FileBulkAck;
}

bool proven(const Conn& c) {
  return c.role == Role::User || c.role == Role::Server;
}

void bad_frame(ServerCore::Impl& s, Conn& c, const Error& err) {
  s.count(Counter::BadFrames);
  ++c.bad_frames;
  if (c.role == Role::Server || c.role == Role::Joining || c.role == Role::Dialing) {
    s.log(LogLevel::Warn, "bad frame from server " + c.server_id + ": " + err.detail);
    return;  // never argue with servers
  }
  core::ErrorOpts o;
  o.to = c.user_id;
  // A stranger's malformed first frame: a fixed error, then close.
  o.fatal = !proven(c) || c.bad_frames >= kMaxBadFrames;
  o.close_reason = proven(c) ? "too many bad frames" : "malformed first frame";
  s.out.error(c.id, err.code, err.detail, std::move(o));
}

void dispatch_user(ServerCore::Impl& s, Conn& c, const Envelope& env) {
  switch (*env.type) {
    case MessageType::ListRequest:
      return core::handle_list_request(s, c, env);
    case MessageType::MsgDirect:
      return core::handle_msg_direct(s, c, env);
    case MessageType::PubkeyRequest:
      return core::handle_pubkey_request(s, c, env);
    case MessageType::FileStart:
    case MessageType::FileChunk:
    case MessageType::FileEnd:
      return core::handle_user_file(s, c, env);
    case MessageType::FileBulkStart:
    case MessageType::FileBulkChunk:
    case MessageType::FileBulkAck:
      return core::handle_user_file_bulk(s, c, env);
    case MessageType::MsgPublicChannel:
      return core::handle_public_post(s, c, env);
    case MessageType::PublicChannelKeyShare:
      return core::handle_public_key_share(s, c, env);
    case MessageType::DeliveryAck:
      return core::handle_delivery_ack(s, c, env);
    case MessageType::UserHello:
      return core::user_error(s, c, Errc::NameInUse, "already logged in on this connection",
                              "USER_HELLO");
    case MessageType::Ack:
    case MessageType::Heartbeat:
      return;
    case MessageType::Error:
      s.count(Counter::ErrorsFromUsers);
      return;
    default:
      s.count(Counter::UnknownTypes);
      ++c.bad_frames;
      core::user_error(s, c, Errc::UnknownType,
                       "type " + env.type_name + " is not accepted from users", env.type_name);
      if (c.bad_frames >= kMaxBadFrames) s.out.close(c.id, 1008, "too many bad frames");
      return;
  }
}

/// Signature by the origin's pinned key (unless `sig_checked`: a dialect frame adopted after
/// its own check), signed context, freshness. False = dropped.
bool verify_server_frame(ServerCore::Impl& s, Conn& c, const Envelope& env, bool sig_checked) {
  const PublicKey* key = sig_checked ? nullptr : s.server_key(env.from);
  if (!sig_checked &&
      (!key || env.sig.empty() || verify_payload(*key, env.payload, env.sig) == SigForm::None)) {
    s.count(Counter::InvalidSigs);
    s.log(LogLevel::Warn, "dropped " + env.type_name + " from " + env.from +
                              (key ? ": bad signature" : ": unknown server"));
    if (s.now() - c.last_sig_error >= 60'000 && *env.type != MessageType::Error &&
        *env.type != MessageType::Ack && *env.type != MessageType::Heartbeat &&
        c.role == Role::Server) {
      c.last_sig_error = s.now();
      core::ErrorOpts o;
      o.msg_ref = env.type_name;
      s.out.error(c.id, Errc::InvalidSig, "signature did not verify", std::move(o));
    }
    return false;
  }
  switch (core::check_context(env)) {
    case core::ContextCheck::Mismatch:
      s.count(Counter::ContextMismatch);
      s.log(LogLevel::Warn, "dropped " + env.type_name + " from " + env.from +
                                ": its signed context does not match the envelope");
      return false;
    case core::ContextCheck::Absent:
      if (s.is_socp_server(env.from)) {
        s.count(Counter::ContextMissing);
        s.log(LogLevel::Warn, "dropped " + env.type_name + " from socp/1 server " + env.from +
                                  ": no signed context");
        return false;
      }
      break;
    case core::ContextCheck::Match:
      break;
  }
  if (env.ts < s.now() - kStaleServerFrameMs && *env.type != MessageType::Heartbeat) {
    s.count(Counter::StaleFrames);
    return false;
  }
  return true;
}

void dispatch_server(ServerCore::Impl& s, Conn& c, const Envelope& frame) {
  if (*frame.type == MessageType::ServerWelcome) return core::handle_welcome(s, c, frame);
  if (c.role == Role::Joining) {
    s.count(Counter::UnexpectedWelcomes);
    return;  // nothing but the welcome counts before it
  }
  // The one frame that carries no signature: it is taken only on a socp/1 link (checked
  // there) and refused on any other.
  if (*frame.type == MessageType::FileBulkChunk) {
    return core::handle_server_file_bulk_chunk(s, c, frame);
  }
  // A G56 server's post for its user (signature checked there), else the frame as it came.
  const std::optional<Envelope> adopted = s.adopt_user_frame(c, frame);
  const Envelope& env = adopted ? *adopted : frame;
  if (!verify_server_frame(s, c, env, adopted.has_value())) return;
  switch (*env.type) {
    case MessageType::ServerHelloLink:
    case MessageType::ServerAnnounce:
      return core::handle_hello_link(s, c, env);
    case MessageType::ServerIntroduce:
      return core::handle_introduce(s, c, env);
    case MessageType::UserAdvertise:
      return core::handle_user_advertise(s, c, env);
    case MessageType::UserRemove:
      return core::handle_user_remove(s, c, env);
    case MessageType::DirectorySnapshot:
      return core::handle_directory_snapshot(s, c, env);
    case MessageType::ServerDeliver:
      return core::handle_server_deliver(s, c, env);
    case MessageType::ServerDeliverBatch:
      return core::handle_server_deliver_batch(s, c, env);
    case MessageType::DeliveryReceipts:
      return core::handle_delivery_receipts(s, c, env);
    case MessageType::PubkeyRequest:
      return core::handle_server_pubkey_request(s, c, env);
    case MessageType::PubkeyResponse:
      return core::handle_server_pubkey_response(s, c, env);
    case MessageType::FileStart:
    case MessageType::FileChunk:
    case MessageType::FileEnd:
      return core::handle_server_file(s, c, env);
    case MessageType::MsgPublicChannel:
      return core::handle_server_public_post(s, c, env);
    case MessageType::PublicChannelKeyShare:
      return core::handle_server_public_key_share(s, c, env);
    case MessageType::PublicChannelAdd:
      return core::handle_server_public_add(s, c, env);
    case MessageType::PublicChannelUpdated:
      return;  // servers derive membership from the directory
    case MessageType::Heartbeat:
      return core::handle_server_heartbeat(s, c, env);
    case MessageType::Ack:
      return;
    case MessageType::Error:
      return core::handle_server_error(s, c, env);
    default:
      s.count(Counter::UnknownTypes);
      s.log(LogLevel::Info, "ignored " + env.type_name + " from server " + env.from);
      return;
  }
}

void dispatch_first(ServerCore::Impl& s, Conn& c, const Envelope& env) {
  if (c.auth_in_flight) {
    core::ErrorOpts o;
    o.msg_ref = env.type_name;
    return s.out.error(c.id, Errc::Busy, "previous request still in progress", std::move(o));
  }
  switch (*env.type) {
    case MessageType::UserChallengeRequest:
      return core::handle_challenge_request(s, c, env);
    case MessageType::UserHello:
      return core::handle_user_hello(s, c, env);
    case MessageType::UserRegister:
      return core::handle_user_register(s, c, env);
    case MessageType::KeyRecover:
      return core::handle_key_recover(s, c, env);
    case MessageType::ServerHelloJoin:
      return core::handle_hello_join(s, c, env);
    case MessageType::ServerHelloLink:
    case MessageType::ServerAnnounce:
      return core::handle_hello_link(s, c, env);
    default: {
      // A server without socp/1 writing on a connection it opened, without a hello first
      // (it reads only connections it accepted): its frames are taken if they verify against
      // the key we pinned for it.
      const PublicKey* key = is_server_type(*env.type) ? s.server_key(env.from) : nullptr;
      const bool verified =
          key && !env.sig.empty() && verify_payload(*key, env.payload, env.sig) != SigForm::None;
      if (verified && !s.is_socp_server(env.from)) {
        s.count(Counter::DialectIn);
        s.link_up(c, env.from);  // receive-only: it is not socp/1 and we did not dial it
        return dispatch_server(s, c, env);
      }
      if (verified) {
        // A socp/1 server's frame, forwarded unchanged by whoever opened this connection (G43
        // relays gossip on the sockets it writes): it says nothing about the sender of this
        // connection. Dropped; the connection stays unidentified (closed when idle) until a
        // frame of its own sender identifies it.
        s.count(Counter::UnauthenticatedFrames);
        s.log(LogLevel::Debug, "dropped " + env.type_name + " of " + env.from +
                                   " relayed on unidentified " + s.who(c.id));
        return;
      }
      s.count(Counter::UnauthenticatedFrames);
      core::ErrorOpts o;
      o.msg_ref = env.type_name;
      o.to = env.from;
      o.fatal = true;
      o.close_reason = "not authenticated";
      return s.out.error(c.id, Errc::NotAuthenticated, "", std::move(o));
    }
  }
}

/// A connection over its signature budget has its frames dropped unread; one that keeps
/// sending into its debt is closed. True if the frame may be handled.
bool within_budget(ServerCore::Impl& s, Conn& c, bool bulk) {
  const std::int64_t now = s.now();
  core::TokenBucket& b = bulk ? c.budget.bulk : c.budget.interactive;
  if (b.available(now)) {
    c.budget.dropped = 0;
    return true;
  }
  s.count(Counter::FramesDroppedBudget);
  s.log(LogLevel::Debug, "over its signature budget: dropped a frame on " + s.who(c.id));
  if (++c.budget.dropped >= s.cfg.budget_drops_before_close) {
    s.count(Counter::BudgetCloses);
    s.log(LogLevel::Warn, "closing " + s.who(c.id) +
                              (c.user_id.empty() ? "" : " (user " + c.user_id + ")") +
                              ": over its signature budget");
    s.out.close(c.id, 1008, "signature budget exhausted");
  }
  return false;
}

/// The signing queue is full: a user is told BUSY (a fixed payload, signed once per process),
/// a server's frame is dropped. True if the frame may be handled.
bool sign_queue_ok(ServerCore::Impl& s, Conn& c, const Envelope& env) {
  if (s.signer.in_flight() < s.cfg.max_sign_queue) return true;
  s.count(Counter::SignQueueFull);
  s.log(LogLevel::Warn, "signing queue full: dropped " + env.type_name + " on " + s.who(c.id));
  if (c.role == Role::Server) return false;
  auto sp = s.out.sign(core::fixed_error_payload(Errc::Busy, env.type_name), false, true);
  s.out.send_signed_payload(c.id, MessageType::Error, c.user_id.empty() ? "*" : c.user_id,
                            s.next_ts(), std::move(sp), false);
  return false;
}

/// Runs `fn` as one turn of the applier caused by `cause`.
template <typename Fn>
void turn(ServerCore::Impl& s, ConnId cause, Fn&& fn) {
  s.out.begin_turn(cause);
  fn();
  s.out.end_turn();
}

}  // namespace

// ---- ServerCore public API ---------------------------------------------------------------------

ServerCore::ServerCore(ServerConfig cfg, std::string server_id, PublicKey server_pub, Store& store,
                       std::function<std::int64_t()> clock)
    : impl_(std::make_unique<Impl>(std::move(cfg), std::move(server_id), std::move(server_pub),
                                   store, std::move(clock))) {
  impl_->dir.subscribe([this](const DirectoryEvent& ev) { impl_->on_directory_event(ev); });
  // After the adverts above: a new member first learns the user's key, then the new version.
  impl_->dir.subscribe([this](const DirectoryEvent&) { core::public_sync(*impl_); });
}

ServerCore::~ServerCore() = default;

Status ServerCore::start() {
  Impl& s = *impl_;
  Status result;
  s.started_at = s.now();
  turn(s, 0, [&] {
    if (Status st = s.dir.load(); !st.ok()) {
      result = st;
      return;
    }
    if (Status st = s.queues.load(); !st.ok()) {
      result = st;
      return;
    }
    auto servers = s.store.list_servers();
    if (!servers) {
      result = servers.error();
      return;
    }
    for (const ServerRecord& r : *servers) {
      if (r.server_id == s.self_id) continue;
      core::Peer p;
      p.server_id = r.server_id;
      p.host = r.host;
      p.port = r.port;
      p.pubkey = r.pubkey;
      p.socp_caps = r.socp;
      p.introduced_by = r.introduced_by;
      p.last_seen = r.last_seen;
      if (auto d = core::dialect_from_name(r.dialect)) p.dialect = *d;
      if (auto d = s.configured_dialect(r.server_id, r.host, r.port)) {
        p.dialect = *d;
        p.dialect_set_by_operator = true;
      }
      if (auto k = s.keys.get(r.pubkey)) p.key = *k;
      s.peers[r.server_id] = std::move(p);
    }
    s.joined = s.cfg.introducers.empty();
    // Known peers are redialed right away; the introducer tells us about the rest.
    for (auto& [id, p] : s.peers) s.dial_peer(p);
    if (!s.joined) core::start_join(s);
    s.log(LogLevel::Info, "server " + s.self_id + " started with " + std::to_string(s.dir.size()) +
                              " known users, " + std::to_string(s.peers.size()) + " known servers");
  });
  return result;
}

void ServerCore::on_open(ConnId id) {
  Impl& s = *impl_;
  turn(s, id, [&] {
    const bool outgoing = (id & kOutgoingBit) != 0;
    if (outgoing) {
      Conn* c = s.conn(id);
      if (!c) return;  // we gave up on it meanwhile
      c->opened_at = c->last_rx = s.now();
      core::on_outgoing_open(s, *c);
      return;
    }
    Conn c;
    c.id = id;
    c.opened_at = c.last_rx = s.now();
    c.budget = core::SignBudget{{{s.cfg.user_sign_rate, s.cfg.user_sign_burst}, s.now()},
                                {{s.cfg.bulk_sign_rate, s.cfg.bulk_sign_burst}, s.now()}};
    s.conns[id] = std::move(c);
    s.count(Counter::ConnectionsAccepted);
    s.log(LogLevel::Debug, "accepted " + s.who(id));
    s.claim_back_socket(s.conns[id]);
  });
}

void ServerCore::on_frame(ConnId id, std::string_view frame) {
  Impl& s = *impl_;
  Conn* cp = s.conn(id);
  if (!cp || cp->closing) return;
  turn(s, id, [&] {
    Conn& c = *cp;
    c.last_rx = s.now();
    s.count(Counter::FramesIn);
    const bool server_side =
        c.role == Role::Server || c.role == Role::Joining || c.role == Role::Dialing;
    const std::size_t limit = server_side            ? s.cfg.limits.max_server_frame
                              : c.role == Role::User ? s.cfg.limits.max_user_frame
                                                     : s.cfg.max_frame_unauthenticated;
    if (frame.size() > limit) {
      s.count(Counter::OversizeFrames);
      s.out.close(id, 1009, "frame too large");
      return;
    }
    json::ParseLimits pl;
    pl.max_bytes = limit;
    pl.max_depth = s.cfg.limits.max_json_depth;
    pl.max_string = s.cfg.limits.max_string;
    // The join socket: another implementation's introducer may not name itself with a UUID.
    auto parsed = parse_envelope(frame, pl, /*any_from=*/c.role == Role::Joining);
    if (!parsed) return bad_frame(s, c, parsed.error());
    Envelope& env = *parsed;
    if (s.cfg.log_level == LogLevel::Debug) {
      s.log(LogLevel::Debug, "frame " + env.type_name.substr(0, 64) + " from " + env.from + " to " +
                                 env.to.substr(0, 64) + " on " + s.who(id) + " (" +
                                 std::to_string(frame.size()) + " bytes)");
    }
    ++s.frames_in_by_type[env.type ? std::string(to_string(*env.type)) : "unknown"];
    if (!env.type) {
      s.count(Counter::UnknownTypes);
      if (server_side || c.role == Role::LinkPending) {
        s.log(LogLevel::Info,
              "ignored unknown type " + env.type_name.substr(0, 64) + " from a server");
        return;
      }
      ++c.bad_frames;
      core::ErrorOpts o;
      o.msg_ref = env.type_name.substr(0, 64);
      o.to = c.role == Role::User ? c.user_id : env.from;
      o.fatal = c.role != Role::User || c.bad_frames >= kMaxBadFrames;
      o.close_reason = c.role == Role::User ? "too many bad frames" : "unknown first frame";
      s.out.error(id, Errc::UnknownType, "unknown type " + env.type_name.substr(0, 64),
                  std::move(o));
      return;
    }
    // A bulk chunk costs no signature on any hop, so no signature budget or queue holds it.
    const bool unsigned_chunk = *env.type == MessageType::FileBulkChunk;
    if (!unsigned_chunk && !within_budget(s, c, is_file_type(*env.type))) return;
    if (!unsigned_chunk && !sign_queue_ok(s, c, env)) return;
    switch (c.role) {
      case Role::Unknown:
        return dispatch_first(s, c, env);
      case Role::User:
        return dispatch_user(s, c, env);
      case Role::Server:
      case Role::Joining:
        return dispatch_server(s, c, env);
      case Role::Dialing:
      case Role::LinkPending:
        if (*env.type == MessageType::ServerHelloLink || *env.type == MessageType::ServerAnnounce) {
          return core::handle_hello_link(s, c, env);
        }
        s.count(Counter::UnauthenticatedFrames);
        return;
    }
  });
}

void ServerCore::on_close(ConnId id) {
  Impl& s = *impl_;
  turn(s, 0, [&] {
    auto it = s.conns.find(id);
    if (it == s.conns.end()) return;
    Conn& c = it->second;
    switch (c.role) {
      case Role::User:
        s.drop_user_session(c);
        break;
      case Role::Server: {
        auto p = s.peers.find(c.server_id);
        if (p != s.peers.end() && p->second.link == id) s.link_down(c.server_id);
        break;
      }
      case Role::Joining:
        core::on_join_failed(s, c);
        break;
      case Role::Dialing: {
        auto p = s.peers.find(c.server_id);
        if (p != s.peers.end() && p->second.dialing == id) {
          p->second.dialing = 0;
          p->second.next_dial = s.now() + s.next_backoff(p->second.backoff);
        }
        break;
      }
      case Role::LinkPending:
      case Role::Unknown:
        break;
    }
    s.count(Counter::ConnectionsClosed);
    s.log(LogLevel::Debug, "closed " + s.who(id) +
                               (c.user_id.empty() ? "" : " (user " + c.user_id + ")") +
                               (c.server_id.empty() ? "" : " (server " + c.server_id + ")"));
    s.conns.erase(id);
  });
}

void ServerCore::on_activity(ConnId id) {
  Impl& s = *impl_;
  if (Conn* c = s.conn(id)) c->last_rx = s.now();
}

void ServerCore::on_tick() {
  Impl& s = *impl_;
  if (s.stopping) return;
  turn(s, 0, [&] {
    const std::int64_t now = s.now();
    // Connections that never identified themselves.
    for (auto& [id, c] : s.conns) {
      if (c.role != Role::Unknown || c.outgoing || c.closing || c.auth_in_flight) continue;
      if (s.keeps_back_socket(c)) continue;
      if (now - c.last_rx > s.cfg.unauth_idle_ms || now - c.opened_at > s.cfg.unauth_max_ms) {
        s.count(Counter::IdleUnauthenticatedClosed);
        s.out.close(id, 1008, "no hello");
      }
    }
    core::tick_health(s);
    core::tick_mail(s);
    s.poll_admin();
    core::public_tick(s);  // O(new users), and an UPDATED held back by a burst
    if (!s.joined && s.join_conn == 0 && now >= s.next_join_attempt) core::start_join(s);
  });
}

void ServerCore::on_job_done(JobResult result) {
  Impl& s = *impl_;
  auto it = s.job_conts.find(result.id);
  if (it == s.job_conts.end()) return;
  ConnId owner = 0;
  if (auto o = s.job_owner.find(result.id); o != s.job_owner.end()) {
    owner = o->second;
    s.job_owner.erase(o);
  }
  auto cont = std::move(it->second);
  s.job_conts.erase(it);
  turn(s, owner, [&] { cont(std::move(result)); });
}

void ServerCore::on_commit_done(std::uint64_t epoch, Status status) {
  Impl& s = *impl_;
  turn(s, 0, [&] { s.out.commit_done(epoch, status); });
}

Status ServerCore::commit_pending() {
  Impl& s = *impl_;
  if (s.commit_in_flight) {  // never ran (the runtime said so by not reporting it): redo it
    s.store.requeue(*s.commit_in_flight);
    s.commit_in_flight.reset();
  }
  Status st = s.store.commit();
  if (st.ok()) s.committed_epoch = s.store.open_epoch() - 1;
  return st;
}

void ServerCore::shutdown() {
  Impl& s = *impl_;
  turn(s, 0, [&] {
    s.stopping = true;
    std::vector<ConnId> ids;
    for (auto& [id, c] : s.conns) ids.push_back(id);
    for (ConnId id : ids) s.out.close(id, 1001, "server shutting down");
  });
}

std::vector<Action> ServerCore::take_actions() {
  return impl_->out.take();
}

const std::string& ServerCore::server_id() const noexcept {
  return impl_->self_id;
}
const PublicKey& ServerCore::server_pub() const noexcept {
  return impl_->self_pub;
}
DirectoryService& ServerCore::directory() noexcept {
  return impl_->dir;
}

const std::map<std::string, std::uint64_t>& ServerCore::counters() const noexcept {
  Impl& s = *impl_;
  s.counter_map.clear();
  for (std::size_t i = 0; i < kCounterCount; ++i) {
    if (s.counter_values[i] != 0) {
      s.counter_map.emplace(std::string(counter_name(static_cast<Counter>(i))),
                            s.counter_values[i]);
    }
  }
  s.counter_map["signatures_requested"] = s.signer.requested();
  s.counter_map["signatures_reused"] = s.signer.reused();
  return s.counter_map;
}

std::uint64_t ServerCore::counter(Counter c) const noexcept {
  if (c == Counter::SignaturesRequested) return impl_->signer.requested();
  if (c == Counter::SignaturesReused) return impl_->signer.reused();
  const auto i = static_cast<std::size_t>(c);
  return i < kCounterCount ? impl_->counter_values[i] : 0;
}

std::uint64_t ServerCore::signatures_caused(ConnId conn) const {
  auto it = impl_->conns.find(conn);
  return it == impl_->conns.end() ? 0 : it->second.budget.charged;
}

bool ServerCore::forget_server(const std::string& server_id) {
  Impl& s = *impl_;
  if (s.peers.count(server_id) == 0) return false;
  turn(s, 0, [&] { s.forget_peer(server_id, "operator request"); });
  return true;
}

bool ServerCore::delete_account(const std::string& user_id) {
  Impl& s = *impl_;
  bool done = false;
  turn(s, 0, [&] { done = s.delete_account(user_id); });
  return done;
}

void ServerCore::reload(const ServerConfig& c) {
  Impl& s = *impl_;
  ServerConfig& k = s.cfg;
  k.log = c.log;
  k.log_level = c.log_level;
  k.limits = c.limits;
  k.compat_unsigned_hello = c.compat_unsigned_hello;
  k.max_password_jobs_in_flight = c.max_password_jobs_in_flight;
  k.max_password_jobs_queued = c.max_password_jobs_queued;
  k.join_policy = c.join_policy;
  k.allowed_servers = c.allowed_servers;
  k.trusted_introducers = c.trusted_introducers;
  k.max_peers = c.max_peers;
  k.forget_after_ms = c.forget_after_ms;
  k.max_users_per_server = c.max_users_per_server;
  k.max_frame_unauthenticated = c.max_frame_unauthenticated;
  k.unauth_idle_ms = c.unauth_idle_ms;
  k.unauth_max_ms = c.unauth_max_ms;
  k.link_handshake_ms = c.link_handshake_ms;
  k.hello_window_ms = c.hello_window_ms;
  k.user_sign_rate = c.user_sign_rate;
  k.user_sign_burst = c.user_sign_burst;
  k.bulk_sign_rate = c.bulk_sign_rate;
  k.bulk_sign_burst = c.bulk_sign_burst;
  k.server_sign_rate = c.server_sign_rate;
  k.server_sign_burst = c.server_sign_burst;
  k.budget_drops_before_close = c.budget_drops_before_close;
  k.max_sign_queue = c.max_sign_queue;
  k.max_meta_bytes = c.max_meta_bytes;
  k.admin_poll_ms = c.admin_poll_ms;
  k.mailbox_max_messages = c.mailbox_max_messages;
  k.mailbox_max_bytes = c.mailbox_max_bytes;
  k.message_ttl_ms = c.message_ttl_ms;
  s.dir.set_limits(DirectoryLimits{k.max_users_per_server});
  s.log(LogLevel::Info, "configuration reloaded");
}

ServerCore::Stats ServerCore::stats() const {
  const Impl& s = *impl_;
  Stats st;
  st.users_known = s.dir.size();
  st.users_online = s.dir.online_count();
  st.sessions = s.sessions.size();
  st.servers_known = s.peers.size();
  st.links_up = s.live_links().size();
  st.connections = s.conns.size();
  st.sign_queue = s.signer.in_flight();
  st.password_queue = s.password_queue.size() + s.password_in_flight;
  st.store_ok = s.store_ok;
  st.store_commits = s.commit_count;
  st.store_commit_seconds = s.commit_seconds;
  st.queued_messages = s.queues.total();
  st.started_at = s.started_at;
  return st;
}

ServerCore::LabelledCounts ServerCore::labelled_counts() const {
  return LabelledCounts{impl_->frames_in_by_type, impl_->frames_out_by_type, impl_->errors_by_code};
}

std::vector<std::string> ServerCore::linked_servers() const {
  std::vector<std::string> v;
  for (const auto& [id, link] : impl_->live_links()) v.push_back(id);
  return v;
}

}  // namespace socp
