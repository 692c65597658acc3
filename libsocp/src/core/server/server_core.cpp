// ServerCore: public API, the Impl helpers shared by all handlers, and the dispatcher.
#include "socp/server_core.h"

#include <algorithm>

#include "core/server/core_impl.h"
#include "core/server/public_channel.h"
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
      dir(self_id, &st),
      signer([this](Job j) { return submit_sign(std::move(j)); }, cfg.salt),
      rng(cfg.jitter_seed) {}

std::uint64_t ServerCore::Impl::submit_sign(Job job) {
  const std::uint64_t id = next_job_id++;
  job.id = id;
  job_conts[id] = [this](JobResult&& r) {
    signer.complete(r);
    if (!r.status.ok()) {
      count("sign_failures");
      log(LogLevel::Error, "signing failed: " + r.status.error().detail);
    }
    flush_all();
  };
  Action a;
  a.kind = Action::Kind::RunJob;
  a.job = std::move(job);
  actions.push_back(std::move(a));
  return id;
}

Conn* ServerCore::Impl::conn(ConnId id) {
  auto it = conns.find(id);
  return it == conns.end() ? nullptr : &it->second;
}

void ServerCore::Impl::send_signed(ConnId to_conn, MessageType type, const std::string& to,
                                   json::Value payload, std::optional<std::int64_t> ts, bool bulk) {
  if (Conn* c = conn(to_conn); !c || c->closing) return;
  send_signed(to_conn, type, to, sign(std::move(payload), bulk), ts, bulk);
}

void ServerCore::Impl::send_signed(ConnId to_conn, MessageType type, const std::string& to,
                                   std::shared_ptr<core::SignedPayload> sp,
                                   std::optional<std::int64_t> ts, bool bulk) {
  Conn* c = conn(to_conn);
  if (!c || c->closing) return;
  core::OutFrame f;
  f.header.type = type;
  f.header.type_name = std::string(to_string(type));
  f.header.from = self_id;
  f.header.to = to;
  f.header.ts = ts ? *ts : next_ts();
  f.sp = std::move(sp);
  f.bulk = bulk;
  if (bulk) ++c->bulk_queued;
  c->outbox.push_back(std::move(f));
  flush(to_conn);
}

void ServerCore::Impl::forward(ConnId to_conn, const Envelope& env) {
  Conn* c = conn(to_conn);
  if (!c || c->closing) return;
  core::OutFrame f;
  f.header = env;
  f.header.payload = json::Object{};
  f.sp = std::make_shared<core::SignedPayload>();
  f.sp->payload = env.payload;
  f.sp->sig = env.sig;
  f.sp->ready = true;
  c->outbox.push_back(std::move(f));
  count("frames_forwarded");
  flush(to_conn);
}

void ServerCore::Impl::send_error(ConnId to_conn, Errc code, const std::string& detail,
                                  const std::string& msg_ref, const std::string& to) {
  msg::ErrorMsg e;
  e.code = std::string(wire_code(code));
  e.detail = detail;
  e.msg_ref = msg_ref;
  count("errors_sent");
  send_signed(to_conn, MessageType::Error, to, e.to_json());
}

void ServerCore::Impl::close_conn(ConnId id, int code, const std::string& reason) {
  Conn* c = conn(id);
  if (!c || c->closing) return;
  c->closing = true;
  c->close_code = code;
  c->close_reason = reason;
  flush(id);  // emits the Close once frames already queued (e.g. an ERROR) are written
}

void ServerCore::Impl::flush(ConnId id) {
  Conn* c = conn(id);
  if (!c || c->close_emitted) return;
  // Queue order, except that a bulk frame (file traffic) still waiting for its signature does
  // not hold back the non-bulk frames behind it; bulk frames keep their own order. Once
  // blocked, the scan stops as soon as only bulk frames are left.
  bool bulk_blocked = false;
  for (auto it = c->outbox.begin(); it != c->outbox.end();) {
    if (bulk_blocked && c->bulk_queued == c->outbox.size()) break;
    core::OutFrame& f = *it;
    if (f.sp->failed) {
      if (f.bulk) --c->bulk_queued;
      it = c->outbox.erase(it);
      continue;
    }
    if (f.bulk && (bulk_blocked || !f.sp->ready)) {
      bulk_blocked = true;
      ++it;
      continue;
    }
    if (!f.sp->ready) break;
    Envelope env = std::move(f.header);
    env.payload = f.sp->payload;
    env.sig = f.sp->sig;
    Action a;
    a.kind = Action::Kind::Send;
    a.conn = id;
    a.text = serialize(env);
    actions.push_back(std::move(a));
    if (f.bulk) --c->bulk_queued;
    it = c->outbox.erase(it);
    count("frames_out");
  }
  if (c->closing && !c->close_emitted && c->outbox.empty()) {
    c->close_emitted = true;
    Action a;
    a.kind = Action::Kind::Close;
    a.conn = id;
    a.close_code = c->close_code;
    a.text = c->close_reason;
    actions.push_back(std::move(a));
  }
}

void ServerCore::Impl::flush_all() {
  for (auto& [id, c] : conns) {
    if (!c.outbox.empty()) flush(id);
  }
}

void ServerCore::Impl::submit_job(Job job, std::function<void(JobResult&&)> cont) {
  const std::uint64_t id = next_job_id++;
  job.id = id;
  job_conts[id] = std::move(cont);
  if (job.is_password_job()) {
    password_queue.push_back(std::move(job));
    pump_password_jobs();
    return;
  }
  Action a;
  a.kind = Action::Kind::RunJob;
  a.job = std::move(job);
  actions.push_back(std::move(a));
}

void ServerCore::Impl::pump_password_jobs() {
  while (password_in_flight < cfg.max_password_jobs_in_flight && !password_queue.empty()) {
    Action a;
    a.kind = Action::Kind::RunJob;
    a.job = std::move(password_queue.front());
    password_queue.pop_front();
    ++password_in_flight;
    actions.push_back(std::move(a));
  }
}

const std::shared_ptr<core::SignedPayload>& core::SharedPayload::get() {
  if (!sp_) sp_ = s_.sign(payload_, bulk_);  // the first recipient pays for canonical + hash
  return sp_;
}

std::vector<ConnId> ServerCore::Impl::socp_links() const {
  std::vector<ConnId> out;
  for (const auto& [id, p] : peers) {
    if (p.link != 0 && p.socp_caps) out.push_back(p.link);
  }
  return out;
}

std::vector<std::pair<std::string, ConnId>> ServerCore::Impl::live_links() const {
  std::vector<std::pair<std::string, ConnId>> out;
  for (const auto& [id, p] : peers) {
    if (p.link != 0) out.emplace_back(id, p.link);
  }
  return out;
}

void ServerCore::Impl::broadcast_servers(MessageType type, const json::Value& payload,
                                         const std::string& except_server) {
  const std::int64_t ts = next_ts();  // one frame, one seen-cache key on every server
  core::SharedPayload shared(*this, payload);
  for (const auto& [sid, link] : live_links()) {
    if (sid == except_server) continue;
    send_signed(link, type, "*", shared.get(), ts);
  }
}

void ServerCore::Impl::forward_servers(const Envelope& env, const std::string& except_server) {
  for (const auto& [sid, link] : live_links()) {
    if (sid == except_server || sid == env.from) continue;
    forward(link, env);
  }
}

void ServerCore::Impl::broadcast_users(MessageType type, const json::Value& payload,
                                       const std::string& except_user) {
  core::SharedPayload shared(*this, payload);
  for (const auto& [uid, cid] : sessions) {
    if (uid == except_user) continue;
    send_signed(cid, type, uid, shared.get());
  }
}

const PublicKey* ServerCore::Impl::server_key(const std::string& server_id) {
  if (server_id == self_id) return &self_pub;
  auto it = peers.find(server_id);
  if (it == peers.end() || !it->second.key) return nullptr;
  return &*it->second.key;
}

json::Value ServerCore::Impl::hello_payload() const {
  msg::ServerHello h;
  h.host = cfg.host;
  h.port = cfg.port;
  h.pubkey = self_pub.b64url();
  h.caps = {std::string(kSocpCapability)};
  return h.to_json();
}

json::Value ServerCore::Impl::advert_payload(const UserInfo& u) const {
  msg::UserAdvertise ad;
  ad.user_id = u.user_id;
  ad.server_id = u.server_id;
  ad.pubkey = u.pubkey;
  ad.meta = u.meta;
  ad.since = u.since;
  return ad.to_json();
}

void ServerCore::Impl::drop_user_session(Conn& c) {
  if (c.role != Role::User) return;
  auto it = sessions.find(c.user_id);
  if (it != sessions.end() && it->second == c.id) {
    sessions.erase(it);
    dir.logout_local(c.user_id);
  }
  c.role = Role::Unknown;
}

void ServerCore::Impl::on_directory_event(const DirectoryEvent& ev) {
  switch (ev.kind) {
    case DirectoryEventKind::Online: {
      const UserInfo* u = dir.find(ev.user_id);
      if (!u) return;
      json::Value ad = advert_payload(*u);
      if (ev.server_id == self_id) broadcast_servers(MessageType::UserAdvertise, ad);
      broadcast_users(MessageType::UserAdvertise, ad, ev.user_id);
      break;
    }
    case DirectoryEventKind::Offline: {
      msg::UserRemove rm{ev.user_id, ev.server_id};
      json::Value p = rm.to_json();
      if (ev.server_id == self_id) broadcast_servers(MessageType::UserRemove, p);
      broadcast_users(MessageType::UserRemove, p, ev.user_id);
      break;
    }
    case DirectoryEventKind::Evicted: {
      auto it = sessions.find(ev.user_id);
      if (it == sessions.end()) return;
      const ConnId cid = it->second;
      sessions.erase(it);
      if (Conn* c = conn(cid)) {
        c->role = Role::Unknown;
        send_error(cid, Errc::NameInUse,
                   "logged in on another server (" + ev.server_id + ") at the same time",
                   "USER_HELLO", ev.user_id);
        close_conn(cid);
      }
      count("evictions");
      break;
    }
    case DirectoryEventKind::KeyConflict:
      count("key_conflicts");
      log(LogLevel::Warn, "rejected a different key for user " + ev.user_id + ": " + ev.detail);
      break;
    case DirectoryEventKind::Moved:
      break;
  }
}

// ---- dispatcher --------------------------------------------------------------------------------

namespace {

constexpr int kMaxBadFrames = 20;
constexpr std::int64_t kUnauthIdleMs = 60'000;
constexpr std::int64_t kStaleServerFrameMs = kSeenCacheTtlMs - 60'000;

void bad_frame(ServerCore::Impl& s, Conn& c, const Error& err, const std::string& ref) {
  s.count("bad_frames");
  ++c.bad_frames;
  if (c.role == Role::Server || c.role == Role::Joining) {
    s.log(LogLevel::Warn, "bad frame from server " + c.server_id + ": " + err.detail);
    return;  // never argue with servers
  }
  if (c.role == Role::Unknown) {
    // Before login the answer is one of a few fixed payloads, so its signature comes from
    // the SignBook cache: a stranger cannot make us sign attacker-chosen bytes.
    s.send_error(c.id, err.code, "malformed first frame: " + std::string(wire_code(err.code)));
  } else {
    s.send_error(c.id, err.code, err.detail, ref);
  }
  if (c.role == Role::Unknown && c.bad_frames >= 3) s.close_conn(c.id, 1008, "too many bad frames");
  if (c.bad_frames >= kMaxBadFrames) s.close_conn(c.id, 1008, "too many bad frames");
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
    case MessageType::MsgPublicChannel:
      return core::handle_public_post(s, c, env);
    case MessageType::PublicChannelKeyShare:
      return core::handle_public_key_share(s, c, env);
    case MessageType::UserHello:
      return s.send_error(c.id, Errc::NameInUse, "already logged in on this connection",
                          "USER_HELLO", c.user_id);
    case MessageType::Ack:
    case MessageType::Heartbeat:
      return;
    case MessageType::Error:
      s.count("errors_from_users");
      return;
    default:
      s.count("unknown_types");
      return s.send_error(c.id, Errc::UnknownType,
                          "type " + env.type_name + " is not accepted from users", env.type_name,
                          c.user_id);
  }
}

void dispatch_server(ServerCore::Impl& s, Conn& c, const Envelope& env) {
  // Every server frame is signed by its origin (`from`), which must be pinned.
  const PublicKey* key = s.server_key(env.from);
  if (*env.type != MessageType::ServerWelcome) {
    if (!key || env.sig.empty() || verify_payload(*key, env.payload, env.sig) == SigForm::None) {
      s.count("invalid_sigs");
      s.log(LogLevel::Warn, "dropped " + env.type_name + " from " + env.from +
                                (key ? ": bad signature" : ": unknown server"));
      if (s.now() - c.last_sig_error >= 60'000 && *env.type != MessageType::Error &&
          *env.type != MessageType::Ack && *env.type != MessageType::Heartbeat) {
        c.last_sig_error = s.now();
        s.send_error(c.id, Errc::InvalidSig, "signature did not verify", env.type_name);
      }
      return;
    }
    if (env.ts < s.now() - kStaleServerFrameMs && *env.type != MessageType::Heartbeat) {
      s.count("stale_frames");
      return;
    }
  }
  switch (*env.type) {
    case MessageType::ServerWelcome:
      return core::handle_welcome(s, c, env);
    case MessageType::ServerHelloLink:
    case MessageType::ServerAnnounce:
      return core::handle_hello_link(s, c, env);
    case MessageType::UserAdvertise:
      return core::handle_user_advertise(s, c, env);
    case MessageType::UserRemove:
      return core::handle_user_remove(s, c, env);
    case MessageType::DirectorySnapshot:
      return core::handle_directory_snapshot(s, c, env);
    case MessageType::ServerDeliver:
      return core::handle_server_deliver(s, c, env);
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
    case MessageType::Ack:
      return;
    case MessageType::Error:
      return core::handle_server_error(s, c, env);
    default:
      s.count("unknown_types");
      s.log(LogLevel::Info, "ignored " + env.type_name + " from server " + env.from);
      return;
  }
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
  SOCP_TRY(s.dir.load());
  auto servers = s.store.list_servers();
  if (!servers) return servers.error();
  for (const ServerRecord& r : *servers) {
    if (r.server_id == s.self_id) continue;
    core::Peer p;
    p.server_id = r.server_id;
    p.host = r.host;
    p.port = r.port;
    p.pubkey = r.pubkey;
    if (auto k = s.keys.get(r.pubkey)) p.key = *k;
    s.peers[r.server_id] = std::move(p);
  }
  s.joined = s.cfg.introducers.empty();
  // Known peers are redialed right away; the introducer tells us about the rest.
  for (auto& [id, p] : s.peers) s.dial_peer(p);
  if (!s.joined) core::start_join(s);
  s.log(LogLevel::Info, "server " + s.self_id + " started with " + std::to_string(s.dir.size()) +
                            " known users, " + std::to_string(s.peers.size()) + " known servers");
  return ok_status();
}

void ServerCore::on_open(ConnId id) {
  Impl& s = *impl_;
  const bool outgoing = (id & kOutgoingBit) != 0;
  if (outgoing) {
    Conn* c = s.conn(id);
    if (!c) return;  // we gave up on it meanwhile
    c->opened_at = c->last_rx = s.now();
    if (c->role == Role::Joining) {
      s.send_signed(id, MessageType::ServerHelloJoin, "", s.hello_payload());
      return;
    }
    // A dial to a known peer: introduce ourselves; the link is up (we know whom we dialed,
    // and every frame on it is verified against the pinned key anyway).
    const std::string peer_id = c->server_id;
    s.send_signed(id, MessageType::ServerHelloLink, peer_id, s.hello_payload());
    s.send_signed(id, MessageType::ServerAnnounce, peer_id, s.hello_payload());
    s.link_up(*c, peer_id);
    return;
  }
  Conn c;
  c.id = id;
  c.opened_at = c.last_rx = s.now();
  s.conns[id] = std::move(c);
  s.count("connections_accepted");
}

void ServerCore::on_frame(ConnId id, std::string_view frame) {
  Impl& s = *impl_;
  Conn* cp = s.conn(id);
  if (!cp || cp->closing) return;
  Conn& c = *cp;
  c.last_rx = s.now();
  s.count("frames_in");
  const bool server_side = c.role == Role::Server || c.role == Role::Joining;
  const std::size_t limit =
      server_side ? s.cfg.limits.max_server_frame : s.cfg.limits.max_user_frame;
  if (frame.size() > limit) {
    s.count("oversize_frames");
    s.close_conn(id, 1009, "frame too large");
    return;
  }
  json::ParseLimits pl;
  pl.max_bytes = limit;
  pl.max_depth = s.cfg.limits.max_json_depth;
  pl.max_string = s.cfg.limits.max_string;
  auto parsed = parse_envelope(frame, pl);
  if (!parsed) {
    bad_frame(s, c, parsed.error(), "");
    if (c.role == Role::Unknown) s.close_conn(id, 1008, "malformed first frame");
    return;
  }
  Envelope& env = *parsed;
  if (!env.type) {
    if (server_side) {
      s.count("unknown_types");
      s.log(LogLevel::Info, "ignored unknown type " + env.type_name + " from a server");
      return;
    }
    s.count("unknown_types");
    if (c.role == Role::Unknown) {  // fixed payload before login (see bad_frame)
      s.send_error(id, Errc::UnknownType, "unknown first frame: send USER_HELLO first");
      s.close_conn(id, 1008, "unknown first frame");
      return;
    }
    s.send_error(id, Errc::UnknownType, "unknown type " + env.type_name.substr(0, 64),
                 env.type_name.substr(0, 64), c.user_id);
    return;
  }
  switch (c.role) {
    case Role::Unknown:
      if (c.auth_in_flight) {
        s.send_error(id, Errc::Busy, "previous request still in progress", env.type_name);
        return;
      }
      switch (*env.type) {
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
        default:
          s.count("unauthenticated_frames");
          s.send_error(id, Errc::NotAuthenticated,
                       "send USER_HELLO (or a server hello) first, not " + env.type_name,
                       env.type_name);
          s.close_conn(id, 1008, "not authenticated");
          return;
      }
    case Role::User:
      return dispatch_user(s, c, env);
    case Role::Server:
    case Role::Joining:
      return dispatch_server(s, c, env);
    case Role::Dialing:
      return;
  }
}

void ServerCore::on_close(ConnId id) {
  Impl& s = *impl_;
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
    case Role::Unknown:
      break;
  }
  s.conns.erase(id);
}

void ServerCore::on_tick() {
  Impl& s = *impl_;
  if (s.stopping) return;
  const std::int64_t now = s.now();
  // Connections that never identified themselves.
  for (auto& [id, c] : s.conns) {
    if (c.role == Role::Unknown && !c.outgoing && !c.closing && !c.auth_in_flight &&
        now - c.opened_at > kUnauthIdleMs) {
      s.count("idle_unauthenticated_closed");
      s.close_conn(id, 1008, "no hello");
    }
  }
  core::tick_health(s);
  core::public_sync(s);  // O(1) unless the directory grew (registrations, snapshots)
  if (!s.joined && s.join_conn == 0 && now >= s.next_join_attempt) core::start_join(s);
}

void ServerCore::on_job_done(JobResult result) {
  Impl& s = *impl_;
  auto it = s.job_conts.find(result.id);
  if (it == s.job_conts.end()) return;
  auto cont = std::move(it->second);
  s.job_conts.erase(it);
  cont(std::move(result));
}

void ServerCore::shutdown() {
  Impl& s = *impl_;
  s.stopping = true;
  std::vector<ConnId> ids;
  for (auto& [id, c] : s.conns) ids.push_back(id);
  for (ConnId id : ids) s.close_conn(id, 1001, "server shutting down");
}

std::vector<Action> ServerCore::take_actions() {
  std::vector<Action> out;
  out.swap(impl_->actions);
  return out;
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
  impl_->counters["signatures_requested"] = impl_->signer.requested();
  impl_->counters["signatures_reused"] = impl_->signer.reused();
  return impl_->counters;
}

std::vector<std::string> ServerCore::linked_servers() const {
  std::vector<std::string> out;
  for (const auto& [id, link] : impl_->live_links()) out.push_back(id);
  return out;
}

}  // namespace socp
