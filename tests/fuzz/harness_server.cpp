// ServerCore harness, through its public API only: server_a with a MemoryStore, an
// unauthenticated connection, alice logged in (registered and hello'd through frames) and a
// socp/1 link from server_b, which joins as a socp server does (docs/protocol-notes.md
// "Server ↔ server"): SERVER_HELLO_JOIN with a nonce, the core's SERVER_WELCOME answers it with
// its own nonce, and server_b's signed SERVER_ANNOUNCE carries that nonce back. Every bootstrap
// frame carries the signed context. Jobs run inline. See fuzz_harness.h.
#include <map>
#include <memory>
#include <set>

#include "fuzz_harness.h"
#include "fuzz_world.h"
#include "socp/bytes.h"
#include "socp/messages.h"
#include "socp/server_core.h"
#include "socp/store.h"

namespace socp::fuzz {
namespace {

constexpr ConnId kUnauth = 1, kAliceConn = 2, kLink = 3;
constexpr const char* kVerifier = "verifier-of-alice";

struct Fixtures {
  std::string reg, hello, join;
  std::string fast_sig;

  Fixtures() {
    const PrivateKey& alice = key("alice");
    msg::UserRegister r;
    r.user_id = kAlice;
    r.pubkey = alice.public_key().b64url();
    r.privkey_store = "{\"v\":1}";
    r.pake_password = kVerifier;
    r.meta = json::Object{{"display_name", "alice"}};
    r.ts = kT0;
    reg = signed_frame(MessageType::UserRegister, kAlice, "*", kT0, r.to_json(), alice);
    msg::UserHello h;
    h.client = "socp-fuzz";
    h.pubkey = r.pubkey;
    h.enc_pubkey = r.pubkey;
    h.meta = json::Object{{"display_name", "alice"}};
    h.ts = kT0 + 1;
    hello = signed_frame(MessageType::UserHello, kAlice, "*", kT0 + 1, h.to_json(), alice);
    msg::ServerHello sh;
    sh.host = "fuzz-b";
    sh.port = 9001;
    sh.pubkey = key("server_b").public_key().b64url();
    sh.caps = {std::string(kSocpCapability)};
    sh.nonce = b64url_encode(Bytes(32, 0x6a));
    join = signed_frame(
        MessageType::ServerHelloJoin, kServerB, "fuzz:9000", kT0,
        with_ctx(MessageType::ServerHelloJoin, kServerB, "fuzz:9000", kT0, sh.to_json()),
        key("server_b"));
    fast_sig = b64url_encode(Bytes(512, 0x5a));
  }
};

const Fixtures& fixtures() {
  static const Fixtures f;
  return f;
}

class World {
 public:
  explicit World(Jobs jobs) : jobs_(jobs) {
    const PrivateKey& sa = key("server_a");
    if (!store_.put_identity(ServerIdentity{kServerA, std::string(sa.to_pem().view())})) {
      finding("cannot store the server identity");
    }
    ServerConfig cfg;
    cfg.host = "fuzz";
    cfg.port = 9000;
    // server_b is admitted whatever the default join policy is.
    cfg.join_policy = JoinPolicy::Allowlist;
    cfg.allowed_servers = {key("server_b").public_key().b64url()};
    core_ = std::make_unique<ServerCore>(cfg, kServerA, sa.public_key(), store_,
                                         [this] { return now_; });
    if (!core_->start()) finding("ServerCore::start failed");
    pump();
    for (ConnId c : {kUnauth, kAliceConn, kLink}) open(c);

    const Fixtures& fx = fixtures();
    deliver(kAliceConn, fx.reg);
    deliver(kAliceConn, fx.hello);
    if (!acked_hello_) finding("setup: alice's hello was not acknowledged");
    deliver(kLink, fx.join);
    if (welcome_nonce_.empty()) finding("setup: server_b's SERVER_HELLO_JOIN got no welcome");
    deliver(kLink, announce(welcome_nonce_));
    bool linked = false;
    for (const std::string& id : core_->linked_servers()) linked = linked || id == kServerB;
    if (!linked) finding("setup: server_b's SERVER_HELLO_JOIN did not make a link");
  }

  void run(std::string_view script) {
    ConnId unauth = kUnauth;
    for (const Record& r : split_script(script)) {
      switch (r.op) {
        case 'U':
          deliver(unauth, r.body);
          break;
        case 'A':
          deliver(kAliceConn, r.body);
          break;
        case 'a':
          deliver(kAliceConn, resign(r.body, key("alice")));
          break;
        case 'S':
          deliver(kLink, r.body);
          break;
        case 's':
          deliver(kLink, resign(r.body, key("server_b"), kServerB, /*context=*/true));
          break;
        case 'O':
          unauth = next_conn_++;
          open(unauth);
          break;
        case 'C': {
          const int which = r.body.empty() ? 0 : static_cast<unsigned char>(r.body[0]) % 3;
          close(which == 0 ? unauth : which == 1 ? kAliceConn : kLink);
          break;
        }
        case 'T':
          now_ += 250 * (r.body.empty() ? 1 : static_cast<unsigned char>(r.body[0]));
          core_->on_tick();
          pump();
          break;
        default:
          break;
      }
    }
    core_->shutdown();
    pump();
  }

 private:
  void open(ConnId c) {
    open_.insert(c);
    core_->on_open(c);
    pump();
  }

  void close(ConnId c) {
    if (!open_.erase(c)) return;
    core_->on_close(c);
    pump();
  }

  // A frame from the peer on `c`, as the runtime would hand it over (nothing on a closed
  // connection; over the connection's frame limit the runtime closes it instead).
  void deliver(ConnId c, std::string_view frame) {
    if (!open_.count(c)) return;
    auto lim = limits_.find(c);
    if (lim != limits_.end() && frame.size() > lim->second) return close(c);
    core_->on_frame(c, frame);
    pump();
  }

  JobResult run_one_job(const Job& job) {
    JobResult r;
    r.id = job.id;
    switch (job.kind) {
      case Job::Kind::Sign:
        if (jobs_ == Jobs::Real) return run_job(job, key("server_a"));
        r.output = fixtures().fast_sig;
        break;
      case Job::Kind::HashVerifier:  // Argon2id is 64 MiB and ~50 ms: faked, same contract
        r.output = "fake-hash:" + job.input;
        break;
      case Job::Kind::CheckVerifier:
        if (job.stored != "fake-hash:" + job.input) {
          r.status = make_error(Errc::BadPassword, "password does not match");
        }
        break;
    }
    return r;
  }

  // Performs the core's actions until it has nothing more to say (bounded).
  void pump() {
    for (int round = 0; round < 1000; ++round) {
      std::vector<Action> actions = core_->take_actions();
      if (actions.empty()) return;
      std::vector<ConnId> to_close;
      std::vector<JobResult> done;
      for (Action& a : actions) {
        switch (a.kind) {
          case Action::Kind::Send:
            check_emitted({a.text}, false);
            note_sent(a.conn, a.text);
            break;
          case Action::Kind::Close:
            to_close.push_back(a.conn);
            break;
          case Action::Kind::Commit:  // in order, on this thread: the fuzzer's store
            core_->on_commit_done(a.epoch, a.store->apply(*a.batch));
            break;
          case Action::Kind::Connect:
            to_close.push_back(a.conn);  // nobody listens: the dial fails
            open_.insert(a.conn);
            break;
          case Action::Kind::RunJob:
            done.push_back(run_one_job(a.job));
            break;
          case Action::Kind::SetFrameLimit:
            limits_[a.conn] = a.limit;
            break;
        }
      }
      for (JobResult& r : done) core_->on_job_done(std::move(r));
      for (ConnId c : to_close) {
        if (open_.erase(c)) core_->on_close(c);
      }
    }
    finding("ServerCore keeps producing actions (1000 rounds)");
  }

  // server_b's proof: its signed announce answers the nonce of the core's welcome (a fresh
  // nonce per world, so one RSA signature per input).
  static std::string announce(const std::string& nonce) {
    msg::ServerHello a;
    a.host = "fuzz-b";
    a.port = 9001;
    a.pubkey = key("server_b").public_key().b64url();
    a.caps = {std::string(kSocpCapability)};
    a.peer_nonce = nonce;
    const std::int64_t ts = kT0 + 2;
    return signed_frame(MessageType::ServerAnnounce, kServerB, kServerA, ts,
                        with_ctx(MessageType::ServerAnnounce, kServerB, kServerA, ts, a.to_json()),
                        key("server_b"));
  }

  void note_sent(ConnId c, const std::string& text) {
    if (c == kLink && welcome_nonce_.empty()) {
      auto env = parse_envelope(text);
      if (!env || env->type != MessageType::ServerWelcome) return;
      auto w = msg::ServerWelcome::from_json(env->payload);
      if (w) welcome_nonce_ = w->nonce;
      return;
    }
    if (c != kAliceConn || acked_hello_) return;
    auto env = parse_envelope(text);
    if (!env || env->type != MessageType::Ack) return;
    const std::string* ref = json::get_string(env->payload, "msg_ref");
    acked_hello_ = ref && *ref == "USER_HELLO";
  }

  Jobs jobs_;
  std::int64_t now_ = kT0 + 1000;
  MemoryStore store_;
  std::unique_ptr<ServerCore> core_;
  std::set<ConnId> open_;
  std::map<ConnId, std::size_t> limits_;
  ConnId next_conn_ = 10;
  bool acked_hello_ = false;
  std::string welcome_nonce_;
};

}  // namespace

void server(std::string_view input, Jobs jobs) {
  World w(jobs);
  w.run(input);
}

}  // namespace socp::fuzz
