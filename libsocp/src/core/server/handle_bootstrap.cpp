// Bootstrap family: SERVER_HELLO_JOIN -> SERVER_WELCOME -> SERVER_ANNOUNCE, SERVER_HELLO_LINK
// (both directions), SERVER_INTRODUCE, and trying the introducers in order with backoff
// (docs/protocol.md §5, docs/protocol-notes.md "Links" and "Admission").
//
// A link counts as up only after a challenge-response: each side sends a fresh nonce and each
// side's signed hello/announce/welcome carries the other side's nonce (`peer_nonce`) in a
// payload whose signed context names both server ids (from/to). A captured hello is useless:
// it answers a nonce nobody will ask again and names one recipient. Servers without socp/1
// (no nonce in their hello) keep today's rules: their signed hello is enough.
//
//   dialer A                                   accepting B
//   HELLO_LINK {.., nonce: nA}           ->    check sig, ctx.to == B, admission
//                                        <-    HELLO_LINK {.., nonce: nB, peer_nonce: nA}
//   check sig with B's pinned key,
//   peer_nonce == nA: B proven, link up
//   ANNOUNCE {.., peer_nonce: nB}        ->    check sig, peer_nonce == nB: A proven, link up
//
// A join is the same with HELLO_JOIN / WELCOME {.., nonce: nI, peer_nonce: nJ} / ANNOUNCE.
#include <algorithm>
#include <cstdlib>

#include "core/server/core_impl.h"
#include "core/server/login_proof.h"
#include "core/server/signed_context.h"
#include "socp/bytes.h"

namespace socp::core {

namespace {

constexpr const char* kJoinRef = "SERVER_HELLO_JOIN";
constexpr const char* kLinkRef = "SERVER_HELLO_LINK";

bool has_socp_cap(const std::vector<std::string>& caps) {
  return std::find(caps.begin(), caps.end(), kSocpCapability) != caps.end();
}

std::vector<std::string> socp_caps() {
  return {std::string(kSocpCapability), std::string(kDeliverBatchCapability)};
}

/// What the server at the other end of `c` takes besides socp/1 (from its hello or welcome).
void note_link_caps(Conn& c, const std::vector<std::string>& caps) {
  c.deliver_batch = has_socp_cap(caps) &&
                    std::find(caps.begin(), caps.end(), kDeliverBatchCapability) != caps.end();
}

void reject(ServerCore::Impl& s, Conn& c, Errc code, const std::string& detail,
            const std::string& ref) {
  s.count(Counter::RejectedServerHellos);
  s.log(LogLevel::Warn, "refused " + ref + " on " + s.who(c.id) + ": " + detail);
  ErrorOpts o;
  o.msg_ref = ref;
  o.fatal = true;
  o.close_reason = detail.substr(0, 100);
  s.out.error(c.id, code, detail, std::move(o));
}

json::Value hello_with(const ServerCore::Impl& s, const std::string& nonce,
                       const std::string& peer_nonce) {
  json::Value p = s.hello_payload();
  if (!nonce.empty()) p.as_object()["nonce"] = nonce;
  if (!peer_nonce.empty()) p.as_object()["peer_nonce"] = peer_nonce;
  return p;
}

/// Strict parse of a socp hello/announce: no fields beyond these.
Status strict_hello(const Envelope& env) {
  return msg::require_only_fields(
      env.payload, {"host", "port", "pubkey", "caps", "nonce", "peer_nonce", "server_id", "ctx"});
}

/// A signed socp bootstrap frame: signature by `key`, signed context equal to the envelope,
/// addressed to `expected_to` (when not empty), signed recently.
Status check_signed(ServerCore::Impl& s, const Envelope& env, const PublicKey& key,
                    const std::string& expected_to) {
  if (env.sig.empty() || verify_payload(key, env.payload, env.sig) == SigForm::None) {
    s.count(Counter::InvalidSigs);
    return make_error(Errc::InvalidSig, env.type_name + " signature did not verify");
  }
  if (check_context(env) != ContextCheck::Match) {
    s.count(Counter::ContextMismatch);
    return make_error(Errc::InvalidSig, env.type_name + " has no matching signed context");
  }
  if (!expected_to.empty() && env.to != expected_to) {
    s.count(Counter::ContextMismatch);
    return make_error(Errc::InvalidSig, env.type_name + " is addressed to another server");
  }
  if (std::llabs(env.ts - s.now()) > kHelloClockSkewMs) {
    s.count(Counter::StaleFrames);
    return make_error(Errc::InvalidSig, env.type_name + " is not fresh");
  }
  return ok_status();
}

/// The newcomer joined through us: a socp/1 server proved itself, a server without socp/1 had
/// its key pinned from its join hello. Tell the socp servers that may trust us, so they pin it
/// too (if they do trust us) and take its hello: servers without socp/1 never sign theirs.
void introduce(ServerCore::Impl& s, const std::string& server_id) {
  const Peer& p = s.peers[server_id];
  msg::ServerIntroduce in{server_id, p.host, p.port, p.pubkey, {}};
  if (p.socp_caps) {
    in.caps = socp_caps();
  } else if (p.key) {
    in.pubkey = key_as_presented(s.dialect_of_server(server_id), *p.key);
    if (in.pubkey != p.pubkey) s.count(Counter::DialectOut);
  }
  FanOut fan(s, MessageType::ServerIntroduce, "*", in.to_json());
  std::size_t told = 0;
  for (ConnId link : s.socp_links()) {
    if (link != p.link) {
      fan.send(link);
      ++told;
    }
  }
  s.count(Counter::ServersIntroduced);
  s.log(LogLevel::Info, "introduced server " + server_id +
                            (p.socp_caps ? "" : " (without socp/1)") + " to " +
                            std::to_string(told) + " socp servers");
}

void dial_unlinked(ServerCore::Impl& s) {
  for (auto& [sid, p] : s.peers) {
    if (p.link == 0) s.dial_peer(p);
  }
}

}  // namespace

// ---- joining (the newcomer's side) ------------------------------------------------------

void start_join(ServerCore::Impl& s) {
  if (s.joined || s.join_conn != 0 || s.stopping || s.cfg.introducers.empty()) return;
  const Introducer& in = s.cfg.introducers[s.join_index % s.cfg.introducers.size()];
  Conn& c = s.open_outgoing(Role::Joining, in.host, in.port);
  c.introducer_index = s.join_index % s.cfg.introducers.size();
  s.join_conn = c.id;
  s.count(Counter::JoinAttempts);
  s.log(LogLevel::Info, "joining the mesh through " + in.host + ":" + std::to_string(in.port));
}

void on_join_failed(ServerCore::Impl& s, Conn& c) {
  if (s.join_conn != c.id) return;
  s.join_conn = 0;
  if (s.joined) return;
  s.join_index = (c.introducer_index + 1) % std::max<std::size_t>(1, s.cfg.introducers.size());
  if (s.join_index == 0) {
    // Tried every introducer: back off (capped, with jitter) before the next round.
    s.next_join_attempt = s.now() + s.next_backoff(s.join_backoff);
  } else {
    s.next_join_attempt = s.now();
  }
}

void on_outgoing_open(ServerCore::Impl& s, Conn& c) {
  c.link.my_nonce = s.new_nonce();
  c.link.started = s.now();
  if (c.role == Role::Joining) {
    const Introducer& in = s.cfg.introducers[c.introducer_index];
    const std::string to =
        (in.host.find(':') != std::string::npos ? "[" + in.host + "]" : in.host) + ":" +
        std::to_string(in.port);
    s.out.send(c.id, MessageType::ServerHelloJoin, to, hello_with(s, c.link.my_nonce, ""));
    return;
  }
  // A dial to a known peer: our hello with a fresh nonce. A socp peer answers with its own
  // hello carrying our nonce (handle_hello_link); a peer without socp/1 never answers, so for
  // those the link is up now, on today's rules (every frame on it is still verified against
  // the pinned key).
  const std::string peer_id = c.server_id;
  c.link.peer_id = peer_id;
  s.out.send(c.id, MessageType::ServerHelloLink, peer_id, hello_with(s, c.link.my_nonce, ""));
  if (!s.is_socp_server(peer_id)) {
    s.out.send(c.id, MessageType::ServerAnnounce, peer_id, s.hello_payload());
    if (auto p = s.peers.find(peer_id); p != s.peers.end()) s.expect_back_socket(p->second);
    s.link_up(c, peer_id);
  }
}

void handle_welcome(ServerCore::Impl& s, Conn& c, const Envelope& env) {
  if (c.role != Role::Joining) {
    s.count(Counter::UnexpectedWelcomes);
    return;
  }
  auto w = msg::ServerWelcome::from_json(env.payload);
  if (!w) {
    s.log(LogLevel::Warn, "bad SERVER_WELCOME: " + w.error().detail);
    return s.out.close(c.id, 1008, "bad welcome");
  }
  const Introducer& in = s.cfg.introducers[c.introducer_index];
  const std::string where = in.host + ":" + std::to_string(in.port);
  const bool socp = has_socp_cap(w->caps);
  note_link_caps(c, w->caps);
  // Other implementations' introducers may name themselves with something else than a UUID
  // ("introducer-0000-0000", "auto") and give their id in the payload, or not be a server at
  // all (then they are not a peer: we take the list and leave).
  const std::string intro_id = is_uuid(env.from)       ? env.from
                               : is_uuid(w->server_id) ? w->server_id
                                                       : std::string();
  // The key the introducer presents: server_pub, else its own entry in the list.
  std::string presented = w->server_pub;
  for (const msg::ServerEntry& e : w->servers) {
    if (e.server_id == intro_id && presented.empty()) presented = e.pubkey;
  }
  auto presented_key = s.keys.get(presented);
  if (!in.pubkey.empty()) {
    auto pinned = s.keys.get(in.pubkey);
    if (pinned && (!presented_key || *presented_key != *pinned)) {
      s.count(Counter::ServerKeyConflicts);
      s.log(LogLevel::Error,
            "introducer " + where + " presented key " +
                (presented_key ? presented_key->fingerprint_hex().substr(0, 16) : "(none)") +
                " but --introducer pins " + pinned->fingerprint_hex().substr(0, 16) +
                ": refusing to join through it (no link formed)");
      return s.out.close(c.id, 1008, "introducer key does not match the pinned key");
    }
  }
  const PublicKey* key = presented_key ? &*presented_key : nullptr;
  const bool verified =
      key && !env.sig.empty() && verify_payload(*key, env.payload, env.sig) != SigForm::None;
  if (!verified) {
    // socp/1 introducers always sign; an unsigned welcome from another implementation is
    // taken on first use unless the operator pinned the introducer's key.
    const bool tofu = !socp && env.sig.empty() && in.pubkey.empty();
    if (!tofu) {
      s.count(Counter::InvalidSigs);
      s.log(LogLevel::Error, "SERVER_WELCOME from " + where + " failed verification");
      return s.out.close(c.id, 1008, "welcome signature");
    }
    s.count(Counter::DialectIn);
    s.log(LogLevel::Warn, "unsigned SERVER_WELCOME from " + where +
                              " taken on first use (pin the introducer's key to refuse this)");
  }
  if (socp) {
    if (check_context(env) != ContextCheck::Match || env.to != w->assigned_id ||
        w->peer_nonce != c.link.my_nonce || w->nonce.empty()) {
      s.count(Counter::LinkProofsFailed);
      s.log(LogLevel::Error, "SERVER_WELCOME from " + where +
                                 " does not answer our nonce in a matching signed context");
      return s.out.close(c.id, 1008, "welcome proof");
    }
  }
  if (!w->assigned_id.empty() && w->assigned_id != s.self_id && is_uuid(w->assigned_id)) {
    s.log(LogLevel::Warn, "introducer assigned us a new server id " + w->assigned_id);
    s.self_id = w->assigned_id;
    s.dir.set_self_id(s.self_id);
    if (auto ident = s.store.get_identity(); ident.ok()) {
      ServerIdentity updated = std::move(ident).value();
      updated.server_id = s.self_id;
      if (Status st = s.store.put_identity(updated); !st.ok()) {
        s.log(LogLevel::Error, "cannot persist the assigned id: " + st.error().detail);
      }
    }
  }
  // The introducer itself, when it is a server: pinned with the key that verified (or came
  // with) the welcome, at the address we dialed (its own link).
  const bool intro_is_peer = !intro_id.empty() && key != nullptr;
  if (intro_is_peer) {
    if (Status st = s.pin_peer(intro_id, in.host, in.port, key->b64url(), socp, true); !st.ok()) {
      s.log(LogLevel::Error, "introducer " + where + ": " + st.error().detail);
      return s.out.close(c.id, 1008, "introducer refused");
    }
    if (!socp) {
      const bool g17 = env.payload.find("snapshot") != nullptr || w->assigned_id.empty();
      s.note_dialect(intro_id, g17 ? Dialect::G17 : Dialect::Plain);
    }
    s.admission.joined_via(intro_id);
  }
  for (const msg::ServerEntry& e : w->servers) {
    if (e.server_id == s.self_id || e.server_id == intro_id || !is_uuid(e.server_id)) continue;
    if (Status st = s.pin_peer(e.server_id, e.host, static_cast<std::uint16_t>(e.port), e.pubkey,
                               has_socp_cap(e.caps), false, intro_id);
        !st.ok()) {
      s.log(LogLevel::Warn, "welcome lists " + e.server_id + ": " + st.error().detail);
    }
  }
  s.joined = true;
  s.join_conn = 0;
  s.join_backoff = kReconnectMinMs;
  s.count(Counter::Joins);
  s.log(LogLevel::Info, "joined the mesh through " + where + " (" +
                            std::to_string(w->servers.size()) + " servers, " +
                            std::to_string(w->users.size()) + " users)");
  if (!intro_is_peer) {
    // An introducer that is not itself a server: nothing more to say to it.
    s.out.close(c.id, 1000, "joined");
    dial_unlinked(s);
    return;
  }
  s.out.send(c.id, MessageType::ServerAnnounce, intro_id, hello_with(s, "", w->nonce));
  s.link_up(c, intro_id);
  std::vector<std::optional<LoginStamp>> stamps(w->users.size());
  for (std::size_t i = 0; i < w->users.size(); ++i) {
    const msg::DirectoryEntry& e = w->users[i];
    if (!e.online || e.proof.is_null()) continue;
    auto k = s.keys.get(e.pubkey);
    if (!k) continue;
    if (auto st = verify_login_proof(s.keys, e.proof, k->b64url(), e.server_id)) {
      stamps[i] = std::move(st).value();
    }
  }
  if (Status st = s.dir.apply_snapshot(intro_id, w->users, /*trust_third_party=*/true, stamps);
      !st.ok()) {
    s.log(LogLevel::Warn, "welcome snapshot: " + st.error().detail);
  }
  dial_unlinked(s);
}

// ---- the introducer's side of a join --------------------------------------------------------

namespace {

std::vector<msg::DirectoryEntry> welcome_users(const ServerCore::Impl& s) {
  std::vector<msg::DirectoryEntry> all = s.dir.all_entries();
  const std::size_t budget = page_budget(s.cfg.limits.max_server_frame);
  std::size_t bytes = 0, n = 0;
  for (; n < all.size(); ++n) {
    bytes += entry_bytes(all[n]);
    if (bytes > budget) break;
  }
  all.resize(n);
  return all;
}

}  // namespace

void handle_hello_join(ServerCore::Impl& s, Conn& c, const Envelope& env) {
  auto hello = msg::ServerHello::from_json(env.payload);
  if (!hello) return reject(s, c, hello.error().code, hello.error().detail, kJoinRef);
  auto key = s.keys.get(hello->pubkey);
  if (!key) return reject(s, c, Errc::BadKey, key.error().detail, kJoinRef);
  const bool socp = has_socp_cap(hello->caps) && !hello->nonce.empty();
  note_link_caps(c, hello->caps);
  if (socp) {
    if (Status st = strict_hello(env); !st.ok()) {
      s.count(Counter::UnknownFieldsRefused);
      return reject(s, c, st.code(), st.error().detail, kJoinRef);
    }
    if (Status st = check_signed(s, env, *key, ""); !st.ok()) {
      return reject(s, c, st.code(), st.error().detail, kJoinRef);
    }
  } else if (!env.sig.empty() && verify_payload(*key, env.payload, env.sig) == SigForm::None) {
    // The first bootstrap frame may be unsigned (docs/protocol.md §2); if signed, it must verify.
    return reject(s, c, Errc::InvalidSig, "SERVER_HELLO_JOIN signature did not verify", kJoinRef);
  }
  std::string assigned = env.from;
  const PublicKey* pinned = s.server_key(assigned);
  if (assigned == s.self_id || (pinned && *pinned != *key) || !is_uuid(assigned)) {
    assigned = new_uuid_v4();
  }
  if (!socp && s.is_socp_server(assigned)) {
    // A server known to speak socp/1 joins only with a challenge: a hello without one (a
    // replayed or forged old hello) would downgrade it.
    s.count(Counter::LinkProofsFailed);
    return reject(s, c, Errc::InvalidSig, "a socp/1 server must answer a challenge", kJoinRef);
  }
  if (!s.server_key(assigned)) {
    if (Status st = s.admission.may_join(assigned, key->b64url(), s.peers.size()); !st.ok()) {
      s.count(Counter::LinksRefusedAdmission);
      return reject(s, c, Errc::NotAdmitted, st.error().detail, kJoinRef);
    }
  }
  msg::ServerWelcome w;
  w.assigned_id = assigned;
  w.servers.push_back({s.self_id, s.cfg.host, s.cfg.port, s.self_pub.b64url(), socp_caps()});
  for (const auto& [sid, link] : s.live_links()) {
    const Peer& p = s.peers[sid];
    if (sid == assigned) continue;
    msg::ServerEntry e{sid, p.host, p.port, p.pubkey, {}};
    if (p.socp_caps) e.caps = socp_caps();
    w.servers.push_back(std::move(e));
  }
  // A socp/1 joiner learns each server's users from that server's (paged) snapshot when it
  // links to it, so its welcome carries none: a welcome never outgrows a frame, whatever the
  // mesh's size. Others get the users that fit in half a server frame.
  if (!socp) w.users = welcome_users(s);
  w.caps = socp_caps();
  w.server_id = s.self_id;
  w.server_pub = s.self_pub.b64url();
  s.count(Counter::ServersWelcomed);
  if (!socp) {
    // Today's rules for servers without socp/1: the (signed or unsigned) hello is enough.
    if (Status st = s.pin_peer(assigned, hello->host, static_cast<std::uint16_t>(hello->port),
                               hello->pubkey, false, true);
        !st.ok()) {
      return reject(s, c, st.code(), st.error().detail, kJoinRef);
    }
    s.note_dialect(assigned, dialect_of_hello(env.payload, false).value_or(Dialect::Plain));
    // The welcome is encoded for the joiner's dialect (G56: keys in PEM form, or it pins our
    // key from the welcome's list in a form it cannot parse): name the peer before sending.
    c.server_id = assigned;
    s.out.send(c.id, MessageType::ServerWelcome, assigned, w.to_json());
    s.link_up(c, assigned);
    // Our socp peers learn it from us, as they learn socp/1 joiners: it will dial them with an
    // unsigned hello, which they take only with the key we vouch for.
    if (introduced_to_peers(s.dialect_of_server(assigned))) introduce(s, assigned);
    return;
  }
  c.role = Role::LinkPending;
  c.server_id = assigned;
  c.link.peer_id = assigned;
  c.link.my_nonce = s.new_nonce();
  c.link.host = hello->host;
  c.link.port = static_cast<std::uint16_t>(hello->port);
  c.link.pubkey = key->b64url();
  c.link.socp = true;
  c.link.join = true;
  c.link.started = s.now();
  w.nonce = c.link.my_nonce;
  w.peer_nonce = hello->nonce;
  s.out.send(c.id, MessageType::ServerWelcome, assigned, w.to_json());
}

// ---- links ----------------------------------------------------------------------------------

namespace {

/// A hello from a server we dialed (Role::Dialing): it answers our nonce.
void on_answer_hello(ServerCore::Impl& s, Conn& c, const Envelope& env,
                     const msg::ServerHello& hello) {
  const PublicKey* key = s.server_key(c.server_id);
  if (env.from != c.server_id || !key) {
    s.count(Counter::LinkProofsFailed);
    s.log(LogLevel::Warn, "dialed " + c.server_id + " but " + env.from + " answered");
    return s.out.close(c.id, 1008, "wrong server");
  }
  Status st = strict_hello(env);
  if (st.ok()) st = check_signed(s, env, *key, s.self_id);
  if (st.ok() && hello.peer_nonce != c.link.my_nonce) {
    st = make_error(Errc::InvalidSig, "answer does not carry our nonce");
  }
  if (!st.ok()) {
    s.count(Counter::LinkProofsFailed);
    s.log(LogLevel::Warn, "link to " + c.server_id + ": " + st.error().detail);
    return s.out.close(c.id, 1008, "link proof");
  }
  note_link_caps(c, hello.caps);
  // Its own proven link: it may state its address.
  if (Status p = s.pin_peer(env.from, hello.host, static_cast<std::uint16_t>(hello.port),
                            hello.pubkey, true, true);
      !p.ok()) {
    s.log(LogLevel::Warn, "link to " + env.from + ": " + p.error().detail);
    return s.out.close(c.id, 1008, "link refused");
  }
  s.out.send(c.id, MessageType::ServerAnnounce, env.from, hello_with(s, "", hello.nonce));
  s.link_up(c, env.from);
}

/// The dialer's (or joiner's) ANNOUNCE on a connection we accepted: the proof we wait for.
void on_proof(ServerCore::Impl& s, Conn& c, const Envelope& env, const msg::ServerHello& hello) {
  auto key = s.keys.get(c.link.pubkey);
  Status st = env.from == c.link.peer_id ? strict_hello(env)
                                         : make_error(Errc::InvalidSig, "announce from another id");
  if (st.ok() && key) st = check_signed(s, env, *key, s.self_id);
  if (st.ok() && hello.peer_nonce != c.link.my_nonce) {
    st = make_error(Errc::InvalidSig, "announce does not carry our nonce");
  }
  if (!st.ok() || !key) {
    s.count(Counter::LinkProofsFailed);
    return reject(s, c, Errc::InvalidSig, st.ok() ? "bad key" : st.error().detail, kLinkRef);
  }
  if (Status p = s.pin_peer(c.link.peer_id, c.link.host, c.link.port, c.link.pubkey, true, true,
                            c.link.introduced_by);
      !p.ok()) {
    return reject(s, c, p.code(), p.error().detail, kLinkRef);
  }
  const std::string peer = c.link.peer_id;
  const bool join = c.link.join;
  s.link_up(c, peer);
  if (join) introduce(s, peer);
}

/// HELLO_LINK / ANNOUNCE as the first frame of a connection we accepted.
void on_first_hello(ServerCore::Impl& s, Conn& c, const Envelope& env,
                    const msg::ServerHello& hello) {
  auto key = s.keys.get(hello.pubkey);
  if (!key) return reject(s, c, Errc::BadKey, key.error().detail, kLinkRef);
  const PublicKey* pinned = s.server_key(env.from);
  if (pinned && *pinned != *key) {
    s.count(Counter::ServerKeyConflicts);
    return reject(s, c, Errc::BadKey, "server " + env.from + " is pinned with a different key",
                  kLinkRef);
  }
  // The hello must hold before anything else is decided about its sender.
  const bool socp = has_socp_cap(hello.caps) && !hello.nonce.empty();
  note_link_caps(c, hello.caps);
  if (socp) {
    if (*env.type != MessageType::ServerHelloLink) {
      return reject(s, c, Errc::NotAuthenticated, "a socp/1 link starts with SERVER_HELLO_LINK",
                    kLinkRef);
    }
    Status st = strict_hello(env);
    if (st.ok()) st = check_signed(s, env, *key, s.self_id);
    if (!st.ok()) return reject(s, c, st.code(), st.error().detail, kLinkRef);
  } else if (env.sig.empty() && pinned && !s.is_socp_server(env.from)) {
    // Some implementations never sign their hello/announce. Its key is the one we pinned, and
    // a connection it opens to us only ever receives (each frame verified): accept it so.
    s.count(Counter::DialectIn);
    s.note_dialect(env.from, dialect_of_hello(env.payload, false).value_or(Dialect::Plain));
    return s.link_up(c, env.from);
  } else if (env.sig.empty() || verify_payload(*key, env.payload, env.sig) == SigForm::None) {
    s.count(Counter::InvalidSigs);
    return reject(s, c, Errc::InvalidSig, env.type_name + " signature did not verify", kLinkRef);
  }
  if (!pinned && !s.admission.listed(env.from, key->b64url())) {
    if (c.awaiting_intro) {  // held once already: still no introduction
      s.count(Counter::LinksRefusedAdmission);
      return reject(s, c, Errc::NotAdmitted,
                    "server " + env.from + " was not introduced by a trusted introducer", kLinkRef);
    }
    // Its introducer's SERVER_INTRODUCE may still be on its way (the newcomer dials us right
    // after its welcome): hold the hello until it comes or the connection idles out.
    s.log(LogLevel::Debug, "holding the hello of " + env.from + " until it is introduced");
    c.awaiting_intro = env;
    return;
  }
  if (!socp) {
    // Today's rules for servers without socp/1 — but a server we know speaks socp/1 cannot be
    // downgraded by replaying an old hello without a nonce.
    if (s.is_socp_server(env.from)) {
      s.count(Counter::LinkProofsFailed);
      return reject(s, c, Errc::InvalidSig, "a socp/1 server must answer a challenge", kLinkRef);
    }
    if (Status st = s.pin_peer(env.from, hello.host, static_cast<std::uint16_t>(hello.port),
                               hello.pubkey, false, true);
        !st.ok()) {
      return reject(s, c, st.code(), st.error().detail, kLinkRef);
    }
    s.note_dialect(env.from, dialect_of_hello(env.payload, false).value_or(Dialect::Plain));
    return s.link_up(c, env.from);
  }
  c.role = Role::LinkPending;
  c.server_id = env.from;
  c.link.peer_id = env.from;
  c.link.my_nonce = s.new_nonce();
  c.link.host = hello.host;
  c.link.port = static_cast<std::uint16_t>(hello.port);
  c.link.pubkey = key->b64url();
  c.link.socp = true;
  c.link.started = s.now();
  s.out.send(c.id, MessageType::ServerHelloLink, env.from,
             hello_with(s, c.link.my_nonce, hello.nonce));
}

}  // namespace

void handle_hello_link(ServerCore::Impl& s, Conn& c, const Envelope& env) {
  auto hello = msg::ServerHello::from_json(env.payload);
  if (!hello) {
    if (c.role == Role::Unknown || c.role == Role::LinkPending)
      return reject(s, c, Errc::BadFrame, hello.error().detail, kLinkRef);
    s.count(Counter::BadFrames);
    return;
  }
  switch (c.role) {
    case Role::Unknown:
      return on_first_hello(s, c, env, *hello);
    case Role::LinkPending:
      // A dialer that did not know we speak socp/1 sends an announce without our nonce right
      // after its hello; the one that answers our nonce follows.
      if (*env.type == MessageType::ServerAnnounce && hello->peer_nonce.empty()) return;
      if (*env.type == MessageType::ServerAnnounce) return on_proof(s, c, env, *hello);
      return reject(s, c, Errc::NotAuthenticated, "waiting for SERVER_ANNOUNCE", kLinkRef);
    case Role::Dialing:
      if (*env.type == MessageType::ServerHelloLink) return on_answer_hello(s, c, env, *hello);
      return;
    default:
      break;
  }
  // On an authenticated link (signature and context already checked by the dispatcher): a
  // late answer or a re-announce. A server states its own address only on its own link.
  if (env.from != c.server_id) return;
  const bool caps = has_socp_cap(hello->caps);
  if (c.outgoing && caps && !hello->nonce.empty() && !c.link.my_nonce.empty() &&
      hello->peer_nonce == c.link.my_nonce) {
    // We dialed it as a server without socp/1 and it answered our challenge: prove ourselves.
    s.out.send(c.id, MessageType::ServerAnnounce, env.from, hello_with(s, "", hello->nonce));
    c.link.my_nonce.clear();
  }
  if (s.is_socp_server(env.from) && !strict_hello(env).ok()) {
    s.count(Counter::UnknownFieldsRefused);
    return;
  }
  note_link_caps(c, hello->caps);
  const bool learned_caps = caps && !s.peers[c.server_id].socp_caps;
  if (Status st = s.pin_peer(env.from, hello->host, static_cast<std::uint16_t>(hello->port),
                             hello->pubkey, caps, true);
      !st.ok()) {
    s.log(LogLevel::Warn, env.type_name + " from " + env.from + ": " + st.error().detail);
    return;
  }
  if (learned_caps) s.send_sync(c.id, true);
}

void handle_introduce(ServerCore::Impl& s, Conn& c, const Envelope& env) {
  (void)c;
  if (Status st = msg::require_only_fields(env.payload,
                                           {"server_id", "host", "port", "pubkey", "caps", "ctx"});
      !st.ok()) {
    s.count(Counter::UnknownFieldsRefused);
    return;
  }
  auto in = msg::ServerIntroduce::from_json(env.payload);
  if (!in) {
    s.count(Counter::BadFrames);
    return;
  }
  const PublicKey* from_key = s.server_key(env.from);
  if (!from_key || !s.admission.trusts_introducer(env.from, from_key->b64url())) {
    s.count(Counter::LinksRefusedAdmission);
    s.log(LogLevel::Info, "ignored SERVER_INTRODUCE of " + in->server_id + " from " + env.from +
                              ": not a trusted introducer");
    return;
  }
  if (in->server_id == s.self_id || s.server_key(in->server_id)) return;  // nothing new
  const bool socp = has_socp_cap(in->caps);
  if (Status st = s.pin_peer(in->server_id, in->host, static_cast<std::uint16_t>(in->port),
                             in->pubkey, socp, false, env.from);
      !st.ok()) {
    s.log(LogLevel::Warn,
          "introduction of " + in->server_id + " by " + env.from + ": " + st.error().detail);
    return;
  }
  // Its key's form shows its dialect as its own hello would: known before we first dial it.
  if (!socp) {
    s.note_dialect(in->server_id, dialect_of_key(in->pubkey).value_or(Dialect::Plain));
  }
  s.log(LogLevel::Info, "server " + in->server_id + (socp ? "" : " (without socp/1)") +
                            " introduced by " + env.from);
  // Its hello may be waiting here already.
  std::vector<ConnId> waiting;
  for (auto& [id, other] : s.conns) {
    if (other.awaiting_intro && other.awaiting_intro->from == in->server_id) waiting.push_back(id);
  }
  for (ConnId id : waiting) {
    Conn* w = s.conn(id);
    if (!w || w->closing) continue;
    const Envelope held = *w->awaiting_intro;
    handle_hello_link(s, *w, held);
  }
}

}  // namespace socp::core
