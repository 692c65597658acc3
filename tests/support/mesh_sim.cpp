#include "mesh_sim.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <mutex>
#include <stdexcept>

#include "fixtures.h"
#include "socp/bytes.h"
#include "socp/messages.h"

namespace socp::test {

const PrivateKey& any_fixture_key(const std::string& name) {
  static std::mutex mu;
  static std::map<std::string, PrivateKey> extra;
  static const json::Value keys = [] {
    json::ParseLimits lim;
    lim.max_bytes = 64u << 20;
    auto r = json::parse(read_vector_file("../fixtures/keys-extra.json"), lim);
    if (!r) throw std::runtime_error("cannot parse keys-extra.json");
    return std::move(r).value();
  }();
  if (name == "alice" || name == "bob" || name == "server_a" || name == "server_b") {
    return fixture_key(name);
  }
  std::lock_guard<std::mutex> lock(mu);
  if (auto it = extra.find(name); it != extra.end()) return it->second;
  const json::Value* k = keys.find("keys");
  const json::Value* pem = k ? k->find(name) : nullptr;
  if (!pem || !pem->is_string()) throw std::runtime_error("no extra fixture key " + name);
  auto r = PrivateKey::from_pem(pem->as_string());
  if (!r) throw std::runtime_error("bad extra fixture key " + name);
  return extra.emplace(name, std::move(r).value()).first->second;
}

MeshSim::MeshSim(std::int64_t start_ms) : now_(start_ms) {}
MeshSim::~MeshSim() = default;

std::string MeshSim::key_of(const End& e) const {
  return e.node.empty() ? "u:" + e.user : e.node + "#" + std::to_string(e.conn);
}

MeshSim::Node& MeshSim::node(const std::string& name) {
  auto it = nodes_.find(name);
  if (it == nodes_.end()) throw std::runtime_error("no node " + name);
  return it->second;
}

MeshSim::User& MeshSim::user(const std::string& name) {
  auto it = users_.find(name);
  if (it == users_.end()) throw std::runtime_error("no user " + name);
  return it->second;
}

std::vector<std::string> MeshSim::node_names() const {
  std::vector<std::string> out;
  for (const auto& [n, _] : nodes_) out.push_back(n);
  return out;
}

MeshSim::Node& MeshSim::add_server(const std::string& name, const std::string& key_name,
                                   const std::vector<std::string>& introducers,
                                   std::function<void(ServerConfig&)> tweak) {
  Node& n = nodes_[name];
  n.name = name;
  n.port = next_port_++;
  n.key_name = key_name;
  n.store = std::make_unique<MemoryStore>();
  const PrivateKey& key = any_fixture_key(key_name);
  ServerIdentity ident{new_uuid_v4(), std::string(key.to_pem().view())};
  REQUIRE(n.store->put_identity(ident).ok());
  n.cfg.host = "sim";
  n.cfg.port = n.port;
  n.cfg.commit_off_loop = true;  // as socp-server runs: commits are events of their own
  for (const std::string& in : introducers) {
    n.cfg.introducers.push_back(Introducer{"sim", node(in).port, ""});
  }
  if (tweak) tweak(n.cfg);
  start_node(n);
  run();
  return n;
}

void MeshSim::start_node(Node& n) {
  auto ident = n.store->get_identity();
  REQUIRE(ident.ok());
  n.core = std::make_unique<ServerCore>(n.cfg, ident->server_id,
                                        any_fixture_key(n.key_name).public_key(), *n.store,
                                        [this] { return now_; });
  n.up = true;
  REQUIRE(n.core->start().ok());
  apply_actions(n.name);
}

void MeshSim::crash(const std::string& name) {
  Node& n = node(name);
  n.up = false;
  std::vector<std::pair<std::string, End>> drop;
  for (const auto& [k, other] : peer_of_) {
    if (k.rfind(name + "#", 0) == 0) drop.emplace_back(k, other);
  }
  for (const auto& [k, other] : drop) {
    peer_of_.erase(k);
    peer_of_.erase(key_of(other));
    if (other.node.empty()) {
      User& u = user(other.user);
      u.node.clear();
      u.logged_in = false;
    } else {
      const std::string on = other.node;
      const ConnId oc = other.conn;
      q_.push_back([this, on, oc] {
        Node& o = node(on);
        if (!o.up) return;
        o.core->on_close(oc);
        apply_actions(on);
      });
    }
  }
  n.core.reset();
  run();
}

void MeshSim::restart(const std::string& name) {
  Node& n = node(name);
  REQUIRE_FALSE(n.up);
  start_node(n);
  run();
}

void MeshSim::reconfigure(const std::string& name,
                          const std::function<void(ServerConfig&)>& tweak) {
  Node& n = node(name);
  tweak(n.cfg);
  if (n.core) n.core->reload(n.cfg);
  run();
}

MeshSim::User& MeshSim::add_user(const std::string& name, const std::string& key_name,
                                 const std::string& home, std::string user_id) {
  User& u = users_[name];
  u.name = name;
  u.key_name = key_name;
  u.user_id = user_id.empty() ? new_uuid_v4() : std::move(user_id);
  Node& n = node(home);
  const std::string pub = any_fixture_key(key_name).public_key().b64url();
  json::Value meta = json::Object{{"display_name", name}};
  UserRecord rec;
  rec.user_id = u.user_id;
  rec.pubkey = pub;
  rec.privkey_store = "sealed";
  rec.pake_hash = "unused";
  rec.meta_json = json::canonical(meta);
  REQUIRE(n.store->put_user(rec).ok());
  REQUIRE(n.core->directory().register_local(u.user_id, pub, meta).ok());
  u.node.clear();
  return u;
}

MeshSim::User& MeshSim::guest(const std::string& name, const std::string& key_name) {
  User& u = users_[name];
  u.name = name;
  u.key_name = key_name;
  u.user_id = new_uuid_v4();
  return u;
}

MeshSim::User& MeshSim::clone_user(const std::string& name, const std::string& of) {
  const User base = user(of);
  User& u = users_[name];
  u.name = name;
  u.user_id = base.user_id;
  u.key_name = base.key_name;
  return u;
}

void MeshSim::connect(const std::string& uname, const std::string& node_name) {
  User& u = user(uname);
  REQUIRE(u.node.empty());
  Node& n = node(node_name);
  REQUIRE(n.up);
  const ConnId conn = n.next_conn++;
  u.node = node_name;
  u.conn = conn;
  u.logged_in = false;
  End server_end{node_name, "", conn};
  End user_end{"", uname, 0};
  peer_of_[key_of(server_end)] = user_end;
  peer_of_[key_of(user_end)] = server_end;
  n.core->on_open(conn);
  apply_actions(node_name);
}

std::string MeshSim::hello_frame(const std::string& uname, std::optional<std::int64_t> ts,
                                 const std::string& key_name) {
  User& u = user(uname);
  const PrivateKey& key = any_fixture_key(key_name.empty() ? u.key_name : key_name);
  msg::UserHello h;
  h.client = "meshsim";
  h.pubkey = key.public_key().b64url();
  h.enc_pubkey = h.pubkey;
  h.meta = json::Object{{"display_name", uname}};
  if (u.claims_bulk) h.meta.as_object()["caps"] = json::Array{"file-bulk/1"};
  // Like a real client: a fresh timestamp per hello (identical hello bytes are a replay).
  h.ts = ts ? *ts : std::max(now_, u.last_hello_ts + 1);
  if (!ts) u.last_hello_ts = *h.ts;
  if (u.socp_client) h.caps = {"socp/1"};
  Envelope env = make_envelope(MessageType::UserHello, u.user_id, "", *h.ts, h.to_json());
  env.sig = *sign_payload(key, env.payload);
  return serialize(env);
}

void MeshSim::login(const std::string& uname, const std::string& node_name) {
  if (node_name.empty()) throw std::runtime_error("login needs a node");
  connect(uname, node_name);
  send_raw(uname, hello_frame(uname));
}

void MeshSim::logout(const std::string& uname) {
  User& u = user(uname);
  if (u.node.empty()) return;
  const std::string nn = u.node;
  const ConnId conn = u.conn;
  End server_end{nn, "", conn};
  peer_of_.erase(key_of(server_end));
  peer_of_.erase("u:" + uname);
  u.node.clear();
  u.logged_in = false;
  Node& n = node(nn);
  if (n.up) {
    n.core->on_close(conn);
    apply_actions(nn);
  }
  run();
}

void MeshSim::send_raw(const std::string& uname, const std::string& text) {
  User& u = user(uname);
  REQUIRE_FALSE(u.node.empty());
  deliver_to(End{u.node, "", u.conn}, text);
  run();
}

void MeshSim::send_dm(const std::string& from, const std::string& to, const std::string& text,
                      std::optional<std::int64_t> ts, const std::string& msg_id) {
  User& a = user(from);
  User& b = user(to);
  const PrivateKey& ak = any_fixture_key(a.key_name);
  const PublicKey& bk = any_fixture_key(b.key_name).public_key();
  const std::int64_t t = ts.value_or(now_);
  Bytes ct = *bk.encrypt(text);
  msg::MsgDirect m;
  m.ciphertext = b64url_encode(ct);
  m.sender_pub = ak.public_key().b64url();
  m.content_sig = *sign_content(ak, ct, a.user_id, b.user_id, t);
  m.msg_id = msg_id;
  Envelope env = make_envelope(MessageType::MsgDirect, a.user_id, b.user_id, t, m.to_json());
  env.sig = *sign_payload(ak, env.payload);
  send_raw(from, serialize(env));
}

std::vector<std::string> MeshSim::received_texts(const std::string& uname) {
  User& u = user(uname);
  std::vector<std::string> out;
  std::set<std::string> seen_ids;
  std::optional<PublicKey> server_pub;
  const PrivateKey& key = any_fixture_key(u.key_name);
  auto open = [&](const msg::UserDeliver& d, std::int64_t ts) {
    if (!d.msg_id.empty() && !seen_ids.insert(d.msg_id).second) return;  // a client keeps one
    auto spub = PublicKey::parse(d.sender_pub);
    if (!spub) return;
    if (!verify_content(*spub, d.ciphertext, d.sender, u.user_id, ts, d.content_sig)) return;
    auto ct = b64_decode(d.ciphertext);
    if (!ct) return;
    auto pt = key.decrypt(*ct);
    if (pt) out.emplace_back(pt->view());
  };
  for (const Envelope& env : u.inbox) {
    if (env.type == MessageType::Ack) {
      auto ack = msg::Ack::from_json(env.payload);
      if (ack && !ack->server_pub.empty()) server_pub = *PublicKey::parse(ack->server_pub);
      continue;
    }
    if (!server_pub) continue;
    if (env.type != MessageType::UserDeliver && env.type != MessageType::UserDeliverBatch) continue;
    if (verify_payload(*server_pub, env.payload, env.sig) == SigForm::None) continue;
    if (env.type == MessageType::UserDeliver) {
      if (auto d = msg::UserDeliver::from_json(env.payload)) open(*d, env.ts);
      continue;
    }
    auto b = msg::UserDeliverBatch::from_json(env.payload);
    if (!b) continue;
    for (const auto& m : b->messages) {
      open(msg::UserDeliver{m.ciphertext, m.sender, m.sender_pub, m.content_sig, m.msg_id, m.parts},
           m.ts);
    }
  }
  return out;
}

std::map<std::string, std::string> MeshSim::receipts(const std::string& uname) {
  std::map<std::string, std::string> out;
  for (const Envelope& env : user(uname).inbox) {
    if (env.type != MessageType::Receipts) continue;
    auto r = msg::Receipts::from_json(env.payload);
    if (!r) continue;
    for (const auto& id : r->queued) {
      if (!out.count(id)) out[id] = "queued";
    }
    for (const auto& id : r->delivered) out[id] = "delivered";
    for (const auto& f : r->failed) out[f.msg_id] = "failed:" + f.code;
  }
  return out;
}

std::size_t MeshSim::ack_deliveries(const std::string& uname) {
  User& u = user(uname);
  msg::DeliveryAck ack;
  for (const Envelope& env : u.inbox) {
    if (env.type == MessageType::UserDeliver) {
      auto d = msg::UserDeliver::from_json(env.payload);
      if (d && !d->msg_id.empty() && u.acked.insert(d->msg_id).second) ack.ids.push_back(d->msg_id);
    } else if (env.type == MessageType::UserDeliverBatch) {
      auto b = msg::UserDeliverBatch::from_json(env.payload);
      if (!b) continue;
      for (const auto& m : b->messages) {
        if (!m.msg_id.empty() && u.acked.insert(m.msg_id).second) ack.ids.push_back(m.msg_id);
      }
    }
  }
  if (ack.ids.empty() || u.node.empty()) return 0;
  send_raw(uname,
           serialize(make_envelope(MessageType::DeliveryAck, u.user_id, "*", now_, ack.to_json())));
  return ack.ids.size();
}

bool MeshSim::inject(const std::string& from, const std::string& to, const std::string& text) {
  for (const auto& [k, other] : peer_of_) {
    if (k.rfind(from + "#", 0) == 0 && other.node == to) {
      deliver_to(other, text);
      run();
      return true;
    }
  }
  return false;
}

std::string MeshSim::signed_frame(MessageType type, const std::string& from, const std::string& to,
                                  std::int64_t ts, const json::Value& payload,
                                  const std::string& key_name, bool with_context) {
  json::Value p = payload;
  if (with_context && p.is_object()) {
    p.as_object()["ctx"] = json::Object{
        {"type", std::string(to_string(type))}, {"from", from}, {"to", to}, {"ts", ts}};
  }
  Envelope env = make_envelope(type, from, to, ts, std::move(p));
  env.sig = *sign_payload(any_fixture_key(key_name), env.payload);
  return serialize(env);
}

Envelope MeshSim::last_tapped(MessageType type, const std::string& from,
                              const std::string& to) const {
  for (auto it = tapped.rbegin(); it != tapped.rend(); ++it) {
    if (it->from != from || it->to != to) continue;
    auto env = parse_envelope(it->text);
    if (env.ok() && env->type == type) return std::move(env).value();
  }
  FAIL("no tapped " << to_string(type) << " from " << from << " to " << to);
  return {};
}

bool MeshSim::reachable(const std::string& a, const std::string& b) const {
  if (!partition_) return true;
  return partition_->count(a) == partition_->count(b);
}

void MeshSim::partition(const std::set<std::string>& a) {
  partition_ = a;
  std::vector<std::pair<std::string, ConnId>> to_close;
  for (const auto& [k, other] : peer_of_) {
    if (other.node.empty()) continue;
    const std::string here = k.substr(0, k.find('#'));
    if (k.rfind("u:", 0) == 0) continue;
    if (!reachable(here, other.node)) {
      to_close.emplace_back(here, static_cast<ConnId>(std::stoull(k.substr(k.find('#') + 1))));
    }
  }
  for (const auto& [n, c] : to_close) close_pair(n, c);
  run();
}

void MeshSim::heal() {
  partition_.reset();
}

void MeshSim::close_pair(const std::string& node_name, ConnId conn) {
  End here{node_name, "", conn};
  auto it = peer_of_.find(key_of(here));
  std::optional<End> other;
  if (it != peer_of_.end()) {
    other = it->second;
    peer_of_.erase(it);
    peer_of_.erase(key_of(*other));
  }
  q_.push_back([this, node_name, conn] {
    Node& n = node(node_name);
    if (!n.up || !n.core) return;
    n.core->on_close(conn);
    apply_actions(node_name);
  });
  if (!other) return;
  if (other->node.empty()) {
    User& u = user(other->user);
    u.node.clear();
    u.logged_in = false;
    return;
  }
  const End o = *other;
  q_.push_back([this, o] {
    Node& n = node(o.node);
    if (!n.up || !n.core) return;
    n.core->on_close(o.conn);
    apply_actions(o.node);
  });
}

void MeshSim::deliver_to(const End& to, std::string text) {
  if (to.node.empty()) {
    User& u = user(to.user);
    auto env = parse_envelope(text);
    REQUIRE(env.ok());
    if (env->type == MessageType::Ack) {
      auto ack = msg::Ack::from_json(env->payload);
      if (ack && ack->msg_ref == "USER_HELLO") u.logged_in = true;
    }
    if (env->type == MessageType::Error) u.errors.push_back(*env);
    u.inbox.push_back(std::move(env).value());
    return;
  }
  const std::string nn = to.node;
  const ConnId c = to.conn;
  q_.push_back([this, nn, c, t = std::move(text)] {
    Node& n = node(nn);
    if (!n.up || !n.core) return;
    n.core->on_frame(c, t);
    apply_actions(nn);
  });
}

void MeshSim::apply_actions(const std::string& node_name) {
  Node& n = node(node_name);
  if (!n.core) return;
  for (Action& a : n.core->take_actions()) {
    switch (a.kind) {
      case Action::Kind::Send: {
        auto it = peer_of_.find(key_of(End{node_name, "", a.conn}));
        if (it == peer_of_.end()) break;
        if (tap_on || mutate) {
          const End& o = it->second;
          const std::string to = o.node.empty() ? "u:" + o.user : o.node;
          if (mutate) mutate(node_name, to, a.text);
          if (a.text.empty()) break;
          if (tap_on) tapped.push_back({node_name, to, a.text});
        }
        deliver_to(it->second, std::move(a.text));
        break;
      }
      case Action::Kind::Close:
        close_pair(node_name, a.conn);
        break;
      case Action::Kind::Connect: {
        Node* target = nullptr;
        for (auto& [nm, other] : nodes_) {
          if (other.port == a.port && other.up) target = &other;
        }
        const ConnId out = a.conn;
        if (!target || !reachable(node_name, target->name)) {
          q_.push_back([this, node_name, out] {
            Node& me = node(node_name);
            if (!me.up || !me.core) return;
            me.core->on_close(out);
            apply_actions(node_name);
          });
          break;
        }
        const ConnId in = target->next_conn++;
        const std::string tn = target->name;
        End a_end{node_name, "", out};
        End b_end{tn, "", in};
        peer_of_[key_of(a_end)] = b_end;
        peer_of_[key_of(b_end)] = a_end;
        q_.push_back([this, tn, in] {
          Node& t = node(tn);
          if (!t.up || !t.core) return;
          t.core->on_open(in);
          apply_actions(tn);
        });
        q_.push_back([this, node_name, out] {
          Node& me = node(node_name);
          if (!me.up || !me.core) return;
          me.core->on_open(out);
          apply_actions(node_name);
        });
        break;
      }
      case Action::Kind::Commit: {
        auto commit = [this, node_name, a = std::move(a)] {
          Node& me = node(node_name);
          if (!me.up || !me.core) return;  // crashed first: the writes never reached the store
          Status st = a.store->apply(*a.batch);
          me.core->on_commit_done(a.epoch, st);
          apply_actions(node_name);
        };
        if (hold_commits) {
          held_commits_.push_back(std::move(commit));
        } else {
          q_.push_back(std::move(commit));
        }
        break;
      }
      case Action::Kind::RunJob: {
        if ((defer_bulk_ && a.job.bulk) || (hold_if && hold_if(node_name, a.job))) {
          held_bulk_.emplace_back(node_name, std::move(a.job));
          break;
        }
        JobResult r = run_job(a.job, any_fixture_key(n.key_name));
        if (a.job.kind == Job::Kind::Sign) ++n.signatures;
        q_.push_back([this, node_name, r = std::move(r)]() mutable {
          Node& me = node(node_name);
          if (!me.up || !me.core) return;
          me.core->on_job_done(std::move(r));
          apply_actions(node_name);
        });
        break;
      }
      case Action::Kind::SetFrameLimit:
        break;  // frames in the simulation are never fragmented or oversized by accident
    }
  }
}

void MeshSim::run() {
  std::size_t steps = 0;
  while (!q_.empty()) {
    auto fn = std::move(q_.front());
    q_.pop_front();
    fn();
    if (++steps > 5'000'000) FAIL("mesh did not settle");
  }
}

void MeshSim::advance(std::int64_t ms, std::int64_t step_ms) {
  const std::int64_t end = now_ + ms;
  while (now_ < end) {
    now_ = std::min(end, now_ + step_ms);
    for (auto& [name, n] : nodes_) {
      if (!n.up || !n.core) continue;
      n.core->on_tick();
      apply_actions(name);
    }
    run();
  }
}

std::size_t MeshSim::release_commits() {
  std::deque<std::function<void()>> batch;
  batch.swap(held_commits_);
  for (auto& c : batch) c();
  run();
  return batch.size();
}

std::size_t MeshSim::release_bulk_jobs(bool newest_first) {
  std::size_t n = 0;
  std::deque<std::pair<std::string, Job>> batch;  // jobs held by now; later ones wait
  batch.swap(held_bulk_);
  if (newest_first) std::reverse(batch.begin(), batch.end());
  while (!batch.empty()) {
    auto [node_name, job] = std::move(batch.front());
    batch.pop_front();
    Node& nd = node(node_name);
    if (!nd.up || !nd.core) continue;
    JobResult r = run_job(job, any_fixture_key(nd.key_name));
    ++nd.signatures;
    ++n;
    nd.core->on_job_done(std::move(r));
    apply_actions(node_name);
  }
  run();
  return n;
}

std::map<std::string, std::pair<std::string, bool>> MeshSim::view(const std::string& node_name) {
  std::map<std::string, std::pair<std::string, bool>> out;
  for (const UserInfo& u : node(node_name).core->directory().list()) {
    out[u.user_id] = {u.server_id, u.online};
  }
  return out;
}

}  // namespace socp::test
