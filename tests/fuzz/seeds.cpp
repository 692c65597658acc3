// Seed corpora recorded from a real conversation: two ServerCores (server_a, server_b, real
// RSA signatures and Argon2id) linked as introducer and newcomer, and three ClientCores
// (alice and bob at A, carol at B) that register, list, message each other, use the public
// channel and send files. Every frame that crosses a connection is recorded and becomes seed
// material for the harness that reads that side (fuzz_harness.h).
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>

#include "core/client/client_files.h"
#include "fuzz_harness.h"
#include "fuzz_world.h"
#include "socp/bytes.h"
#include "socp/client_core.h"
#include "socp/jobs.h"
#include "socp/messages.h"
#include "socp/server_core.h"
#include "socp/store.h"

namespace socp::fuzz {
namespace {

namespace fs = std::filesystem;

struct Net {
  struct Node {
    std::string name, key_name, id;
    std::uint16_t port = 0;
    std::unique_ptr<MemoryStore> store;
    std::unique_ptr<ServerCore> core;
    ConnId next_conn = 1;
  };
  struct Client {
    std::unique_ptr<ClientCore> core;
    std::string node;
    ConnId conn = 0;
    std::vector<std::string> received;  // server → client, in order
    std::vector<std::string> sent;      // client → server
    std::size_t login_index = 0;        // received[0, login_index): before login, ACK last
  };
  // One end of a connection: a node's connection, or a client.
  struct End {
    std::string node;
    ConnId conn = 0;
    std::string client;
  };

  std::int64_t now = kT0;
  std::map<std::string, Node> nodes;
  std::map<std::string, Client> clients;
  std::map<std::pair<std::string, ConnId>, End> peer;  // node end → the other end
  std::vector<std::string> link_to_a, link_to_b;       // frames between the servers
  std::vector<std::string> all;                        // every frame, for the codec

  Node& add_node(const std::string& name, const std::string& key_name, const std::string& id,
                 std::uint16_t port, const std::vector<std::uint16_t>& introducers) {
    Node& n = nodes[name];
    n.name = name;
    n.key_name = key_name;
    n.id = id;
    n.port = port;
    n.store = std::make_unique<MemoryStore>();
    const PrivateKey& k = key(key_name);
    if (!n.store->put_identity(ServerIdentity{id, std::string(k.to_pem().view())})) {
      throw std::runtime_error("put_identity");
    }
    ServerConfig cfg;
    cfg.host = "net";
    cfg.port = port;
    for (std::uint16_t p : introducers) cfg.introducers.push_back(Introducer{"net", p, ""});
    n.core =
        std::make_unique<ServerCore>(cfg, id, k.public_key(), *n.store, [this] { return now; });
    if (!n.core->start()) throw std::runtime_error("start");
    return n;
  }

  Client& add_client(const std::string& name, const std::string& node, ClientConfig cfg) {
    Client& c = clients[name];
    cfg.clock = [this] { return now; };
    c.core = std::make_unique<ClientCore>(std::move(cfg));
    c.node = node;
    Node& n = nodes.at(node);
    c.conn = n.next_conn++;
    peer[{node, c.conn}] = End{"", 0, name};
    n.core->on_open(c.conn);
    c.core->on_connected();
    return c;
  }

  void pump() {
    for (int round = 0; round < 100000; ++round) {
      bool moved = false;
      for (auto& [name, n] : nodes) moved = node_actions(n) || moved;
      for (auto& [name, c] : clients) moved = client_frames(name, c) || moved;
      if (!moved) return;
    }
    throw std::runtime_error("the network does not settle");
  }

  void advance(std::int64_t ms) {
    for (std::int64_t t = 0; t < ms; t += 500) {
      now += 500;
      for (auto& [name, n] : nodes) n.core->on_tick();
      for (auto& [name, c] : clients) c.core->on_tick();
      pump();
    }
  }

  void command(const std::string& client, const std::string& line) {
    clients.at(client).core->command(line);
    pump();
  }

 private:
  bool client_frames(const std::string& name, Client& c) {
    (void)c.core->take_events();
    std::vector<std::string> frames = c.core->take_frames();
    for (std::string& f : frames) {
      c.sent.push_back(f);
      all.push_back(f);
      if (peer.count({c.node, c.conn})) {
        nodes.at(c.node).core->on_frame(c.conn, f);
      }
    }
    (void)name;
    return !frames.empty();
  }

  bool node_actions(Node& n) {
    std::vector<Action> actions = n.core->take_actions();
    for (Action& a : actions) {
      switch (a.kind) {
        case Action::Kind::Send:
          send(n, a.conn, a.text);
          break;
        case Action::Kind::Close:
          close(n, a.conn);
          break;
        case Action::Kind::Commit:
          n.core->on_commit_done(a.epoch, a.store->apply(*a.batch));
          break;
        case Action::Kind::Connect:
          connect(n, a.conn, a.port);
          break;
        case Action::Kind::RunJob:
          n.core->on_job_done(run_job(a.job, key(n.key_name)));
          break;
        case Action::Kind::SetFrameLimit:
          break;
      }
    }
    return !actions.empty();
  }

  void send(Node& n, ConnId conn, const std::string& text) {
    auto it = peer.find({n.name, conn});
    if (it == peer.end()) return;
    all.push_back(text);
    const End to = it->second;
    if (!to.client.empty()) {
      Client& c = clients.at(to.client);
      c.received.push_back(text);
      if (!c.core->logged_in()) c.login_index = c.received.size();
      c.core->on_frame(text);
      return;
    }
    (to.node == "A" ? link_to_a : link_to_b).push_back(text);
    nodes.at(to.node).core->on_frame(to.conn, text);
  }

  void close(Node& n, ConnId conn) {
    auto it = peer.find({n.name, conn});
    if (it == peer.end()) return;
    const End to = it->second;
    peer.erase(it);
    n.core->on_close(conn);
    if (!to.client.empty()) {
      clients.at(to.client).core->on_closed();
    } else {
      peer.erase({to.node, to.conn});
      nodes.at(to.node).core->on_close(to.conn);
    }
  }

  void connect(Node& n, ConnId conn, std::uint16_t port) {
    Node* target = nullptr;
    for (auto& [name, other] : nodes) {
      if (other.port == port && &other != &n) target = &other;
    }
    if (!target) {
      n.core->on_close(conn);
      return;
    }
    const ConnId accepted = target->next_conn++;
    peer[{n.name, conn}] = End{target->name, accepted, ""};
    peer[{target->name, accepted}] = End{n.name, conn, ""};
    target->core->on_open(accepted);
    n.core->on_open(conn);
  }
};

ClientConfig user_config(const std::string& id, const std::string& name,
                         const std::string& key_name, const std::string& downloads) {
  ClientConfig cfg;
  cfg.mode = ClientMode::Register;
  cfg.user_id = id;
  cfg.display_name = name;
  cfg.key = key(key_name);
  cfg.server_label = "net";
  cfg.privkey_store = "{\"v\":1}";
  cfg.pake_password = "verifier-of-" + name;
  cfg.download_dir = downloads;
  cfg.file_chunks_per_second = 0;
  return cfg;
}

// bob → alice "notes.txt" chunks (the client_files world's incoming file, see
// harness_client.cpp), as server_a delivers them: 3 chunks of 1000 'n' bytes, and FILE_END.
std::vector<std::string> incoming_file_chunks() {
  const std::string data(1000, 'n');
  std::vector<std::string> out;
  std::int64_t index = 0;
  for (std::size_t off = 0; off < data.size(); off += kOaepMaxPlaintext, ++index) {
    auto ct = key("alice").public_key().encrypt(data.substr(off, kOaepMaxPlaintext));
    if (!ct) throw std::runtime_error("encrypt");
    json::Object p{{"file_id", kIncomingFile},
                   {"index", index},
                   {"ciphertext", b64url_encode(ct.value())},
                   {"sender", kBob}};
    out.push_back(signed_frame(MessageType::FileChunk, kServerA, kAlice, kT0 + 10 + index,
                               json::Value(std::move(p)), key("server_a")));
  }
  json::Object end{{"file_id", kIncomingFile}, {"chunks", index}, {"sender", kBob}};
  out.push_back(signed_frame(MessageType::FileEnd, kServerA, kAlice, kT0 + 20,
                             json::Value(std::move(end)), key("server_a")));
  return out;
}

class SeedWriter {
 public:
  explicit SeedWriter(std::string dir) : dir_(std::move(dir)) {}
  void add(const std::string& harness, const std::string& data) {
    if (data.empty() || !seen_[harness].insert(data).second) return;
    const fs::path d = fs::path(dir_) / harness;
    fs::create_directories(d);
    char name[32];
    std::snprintf(name, sizeof name, "seed-%03zu", ++count_[harness]);
    std::ofstream out(d / name, std::ios::binary);
    out << data;
    if (!out) throw std::runtime_error("cannot write " + (d / name).string());
    ++total_;
  }
  std::size_t total() const { return total_; }

 private:
  std::string dir_;
  std::map<std::string, std::set<std::string>> seen_;
  std::map<std::string, std::size_t> count_;
  std::size_t total_ = 0;
};

std::string script(std::initializer_list<std::pair<char, std::string>> records) {
  return join_script(records);
}

}  // namespace

std::size_t write_seeds(const std::string& dir) {
  std::string tmpl = (fs::temp_directory_path() / "socp-seeds-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp");
  const std::string tmp = tmpl;
  struct Cleanup {
    std::string path;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(path, ec);
    }
  } cleanup{tmp};
  const std::string file = tmp + "/plan.txt";
  std::ofstream(file, std::ios::binary) << std::string(1200, 'p');

  Net net;
  net.add_node("A", "server_a", kServerA, 9000, {});
  net.add_node("B", "server_b", kServerB, 9001, {9000});
  net.pump();
  net.add_client("alice", "A", user_config(kAlice, "alice", "alice", tmp + "/alice"));
  net.pump();
  net.add_client("bob", "A", user_config(kBob, "bob", "bob", tmp + "/bob"));
  net.pump();
  net.add_client("carol", "B", user_config(kCarol, "carol", "server_b", tmp + "/carol"));
  net.pump();
  for (const char* who : {"alice", "bob", "carol"}) {
    if (!net.clients.at(who).core->logged_in()) {
      throw std::runtime_error(std::string(who) + " did not log in");
    }
  }
  const std::size_t alice_login = net.clients.at("alice").login_index;

  net.command("alice", "/list");
  net.command("alice", "/tell bob lunch at noon?");
  net.command("bob", "/tell alice sure");
  net.command("carol", "/tell alice hello from B");
  net.command("alice", "/tell carol hi carol");
  net.command("bob", "/all hello everyone");
  net.command("carol", "/all hi from carol");
  net.command("alice", "/all hi all");
  net.command("bob", "/file alice " + file);
  net.command("carol", "/file alice " + file);
  net.command("bob", "/file all " + file);
  net.advance(16'000);  // heartbeats on the link
  // bob leaves; alice's next message to him fails at the server.
  net.command("bob", "/quit");
  Net::Client& bob = net.clients.at("bob");
  net.nodes.at("A").core->on_close(bob.conn);
  net.peer.erase({"A", bob.conn});
  bob.core->on_closed();
  net.pump();
  net.command("alice", "/tell bob are you there?");
  net.command("alice", "/file bob " + file);
  // Someone the server does not know, and a second registration of alice's id.
  ClientConfig mallory =
      user_config("3a11047e-0000-4000-8000-00000000000d", "mallory", "bob", tmp + "/m");
  mallory.mode = ClientMode::Login;
  net.add_client("mallory", "A", std::move(mallory));
  net.pump();
  net.add_client("alice2", "A", user_config(kAlice, "alice", "alice", tmp + "/a2"));
  net.pump();
  // A new device recovering alice's sealed key (the fixture vault does not open: fine here).
  ClientConfig rec = user_config("", "alice", "alice", tmp + "/r");
  rec.mode = ClientMode::Recover;
  rec.key.reset();
  rec.user_id = kAlice;
  rec.recover_proof = "verifier-of-alice";
  rec.password = SecretBytes(std::string_view("password"));
  net.add_client("recover", "A", std::move(rec));
  net.pump();
  // A key lookup (socp-cli sends one for a user it knows without a key).
  {
    Net::Client& a = net.clients.at("alice");
    const std::string req = serialize(make_envelope(MessageType::PubkeyRequest, kAlice, kServerA,
                                                    net.now, msg::PubkeyRequest{kCarol}.to_json()));
    a.sent.push_back(req);
    net.all.push_back(req);
    net.nodes.at("A").core->on_frame(a.conn, req);
    net.pump();
  }

  SeedWriter w(dir);
  const Net::Client& alice = net.clients.at("alice");
  // client_login: what a server answers before login (flags byte: 0 login, 1 register).
  {
    std::vector<std::pair<char, std::string>> reg;
    for (std::size_t i = 0; i < alice_login && i < alice.received.size(); ++i) {
      reg.emplace_back('F', alice.received[i]);
      w.add("client_login", std::string(1, '\x01') + script({{'F', alice.received[i]}}));
    }
    w.add("client_login", std::string(1, '\x01') + join_script(reg));
    if (alice_login > 0) {
      w.add("client_login",
            std::string(1, '\x00') + script({{'F', alice.received[alice_login - 1]}}));
    }
    // Challenge-bound login (flags: pinned server_a key with caps socp/1): the challenge
    // (unsigned, as servers send it), then the real ACK.
    Envelope ch;
    ch.type_name = "USER_CHALLENGE";
    ch.from = kServerA;
    ch.to = kAlice;
    ch.ts = kT0;
    ch.payload = json::Object{{"nonce", b64url_encode(Bytes(32, 0x6e))}, {"server_id", kServerA}};
    const std::string challenge = serialize(ch);
    w.add("client_login", std::string(1, '\x06') + script({{'F', challenge}}));
    if (alice_login > 0) {
      w.add("client_login", std::string(1, '\x06') +
                                script({{'F', challenge}, {'F', alice.received[alice_login - 1]}}));
      w.add("client_login", std::string(1, '\x0e') +
                                script({{'F', challenge}, {'F', alice.received[alice_login - 1]}}));
      w.add("client_login",
            std::string(1, '\x17') + script({{'F', alice.received[0]},
                                             {'F', challenge},
                                             {'F', alice.received[alice_login - 1]}}));
    }
    w.add("codec", challenge);
    for (const char* who : {"mallory", "alice2", "recover"}) {
      for (const std::string& f : net.clients.at(who).received) {
        w.add("client_login", std::string(1, '\x00') + script({{'F', f}}));
        w.add("client_login", std::string(1, '\x01') + script({{'F', f}}));
      }
    }
  }
  // client_ready / client_files: what alice received once logged in, alone and in order.
  {
    std::vector<std::pair<char, std::string>> run;
    for (std::size_t i = alice_login; i < alice.received.size(); ++i) {
      const std::string& f = alice.received[i];
      auto env = parse_envelope(f);
      const bool file_frame =
          env && env->type &&
          (*env->type == MessageType::FileStart || *env->type == MessageType::FileChunk ||
           *env->type == MessageType::FileEnd);
      w.add(file_frame ? "client_files" : "client_ready", script({{'F', f}}));
      run.emplace_back('F', f);
      if (run.size() == 12) {
        w.add("client_ready", join_script(run));
        w.add("client_files", join_script(run));
        run.clear();
      }
    }
    w.add("client_ready", join_script(run));
    w.add("client_ready", script({{'C', "/list"}, {'T', "\x08"}, {'C', "/verify bob"}}));
    w.add("client_ready", script({{'C', "/tell bob hi"}, {'C', "/all hello"}, {'T', "\x50"}}));
    w.add("client_ready", script({{'C', "/tell carol hi"}, {'X', ""}}));
    std::vector<std::pair<char, std::string>> chunks;
    for (const std::string& f : incoming_file_chunks()) {
      chunks.emplace_back('F', f);
      w.add("client_files", script({{'F', f}}));
    }
    w.add("client_files", join_script(chunks));
    w.add("client_files", script({{'T', "\x04"}, {'T', "\x04"}, {'T', "\xff"}}));
  }
  // server: frames users sent (before login on a fresh connection, after it on alice's) and
  // frames server_b sent server_a over their link.
  for (const auto& [name, c] : net.clients) {
    for (const std::string& f : c.sent) {
      auto env = parse_envelope(f);
      const bool prelogin =
          env && env->type &&
          (*env->type == MessageType::UserHello || *env->type == MessageType::UserRegister ||
           *env->type == MessageType::KeyRecover);
      if (prelogin) {
        w.add("server", script({{'U', f}}));
      } else if (name == "alice") {
        w.add("server", script({{'A', f}}));
      } else {
        w.add("server", script({{'U', f}}));  // another user's frame: not authenticated here
      }
    }
  }
  for (const std::string& f : net.link_to_a) {
    w.add("server", script({{'S', f}}));
    w.add("server", script({{'s', f}}));
  }
  w.add("server", script({{'O', ""}, {'T', "\x3c"}, {'C', "\x01"}, {'T', "\xff"}}));
  // codec: every frame, raw.
  for (const std::string& f : net.all) w.add("codec", f);
  return w.total();
}

}  // namespace socp::fuzz
