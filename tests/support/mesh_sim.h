// MeshSim: an in-memory, deterministic network of sans-I/O ServerCores and simple users.
//
// Every action a core emits is turned into an event on one FIFO queue: frames travel to the
// other end of a simulated connection, connects reach the node listening on that port (unless
// partitioned or down), jobs run inline with the node's key. A fake clock only moves when the
// test calls advance(). Nothing sleeps; run() processes events until the queue is empty.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "socp/crypto.h"
#include "socp/envelope.h"
#include "socp/server_core.h"
#include "socp/store.h"

namespace socp::test {

/// Extra fixture keys (tests/fixtures/keys-extra.json): "server1".."server12", "carol", "dave",
/// "erin", "frank". Plus the vector keys "alice", "bob", "server_a", "server_b".
const PrivateKey& any_fixture_key(const std::string& name);

class MeshSim {
 public:
  struct User;

  struct Node {
    std::string name;
    std::uint16_t port = 0;
    std::string key_name;
    std::unique_ptr<MemoryStore> store;
    std::unique_ptr<ServerCore> core;
    ServerConfig cfg;
    bool up = false;
    std::uint64_t signatures = 0;  ///< Sign jobs run for this node
    std::uint64_t next_conn = 1;
  };

  struct User {
    std::string name;
    std::string user_id;
    std::string key_name;
    std::string node;  ///< server it is connected to ("" when disconnected)
    ConnId conn = 0;
    bool logged_in = false;
    std::vector<Envelope> inbox;  ///< every frame the server sent, in order
    std::vector<Envelope> errors;
    std::int64_t last_hello_ts = 0;
    /// A socp client: its hello announces caps ["socp/1"] (it takes receipts and batches and
    /// acknowledges deliveries with ack_deliveries()).
    bool socp_client = false;
    /// The hello's meta claims the bulk file capability ("caps": ["file-bulk/1"]) although
    /// this raw client does not take FILE_BULK_* frames (a misconfigured or lying client).
    bool claims_bulk = false;
    std::set<std::string> acked;  ///< msg ids already acknowledged
  };

  /// What RECEIPTS told a sender, by msg id: "queued", "delivered" or "failed:<code>".
  std::map<std::string, std::string> receipts(const std::string& user);
  /// Sends one DELIVERY_ACK for every message the user received and did not acknowledge yet.
  /// Returns how many.
  std::size_t ack_deliveries(const std::string& user);

  explicit MeshSim(std::int64_t start_ms = 1'700'000'000'000);
  ~MeshSim();

  std::int64_t now() const noexcept { return now_; }

  /// Adds and starts a server. `introducers` are names of existing nodes.
  Node& add_server(const std::string& name, const std::string& key_name,
                   const std::vector<std::string>& introducers = {},
                   std::function<void(ServerConfig&)> tweak = {});
  Node& node(const std::string& name);
  std::string server_id(const std::string& name) { return node(name).core->server_id(); }

  /// Stops a server abruptly (SIGKILL): its connections drop, its store survives.
  void crash(const std::string& name);
  /// Starts a crashed server again from its store.
  void restart(const std::string& name);
  /// Changes a running server's configuration (ServerCore::reload, as on SIGHUP).
  void reconfigure(const std::string& name, const std::function<void(ServerConfig&)>& tweak);

  /// Registers a user account directly in a node's store+directory (as USER_REGISTER would).
  User& add_user(const std::string& name, const std::string& key_name, const std::string& home,
                 std::string user_id = {});
  User& user(const std::string& name);
  /// A user the servers do not know (no account anywhere): for registration and TOFU tests.
  User& guest(const std::string& name, const std::string& key_name);
  /// Another device of an existing user: same id and key, separate connection.
  User& clone_user(const std::string& name, const std::string& of);
  /// Opens a connection for the user without sending anything (raw-frame tests).
  void connect(const std::string& user, const std::string& node_name);
  /// True if the user's connection is still open.
  bool connected(const std::string& user) { return !user_(user).node.empty(); }
  /// The signed USER_HELLO frame of a user (ts = now unless given; key = the user's key).
  std::string hello_frame(const std::string& user, std::optional<std::int64_t> ts = std::nullopt,
                          const std::string& key_name = {});
  /// Connects the user to `node_name` and sends a signed USER_HELLO.
  void login(const std::string& user, const std::string& node_name = {});
  /// Closes the user's connection.
  void logout(const std::string& user);
  /// Sends a MSG_DIRECT (encrypted + content-signed for real) from one user to another.
  void send_dm(const std::string& from, const std::string& to, const std::string& text,
               std::optional<std::int64_t> ts = std::nullopt, const std::string& msg_id = {});
  /// Sends any raw frame text on the user's connection.
  void send_raw(const std::string& user, const std::string& text);
  /// Decrypted texts of USER_DELIVER frames and USER_DELIVER_BATCH entries the user received
  /// (verifying sig + content_sig), each msg id once (as a client keeps them).
  std::vector<std::string> received_texts(const std::string& user);

  /// Sends `text` on the link from node `from` to node `to`, as if `from` had sent it.
  /// Returns false if there is no such link.
  bool inject(const std::string& from, const std::string& to, const std::string& text);
  /// Builds a frame signed with a fixture key (for forged/crafted server frames). Like every
  /// frame a socp server signs, its payload carries the signed context {type, from, to, ts}
  /// of the envelope unless `with_context` is false.
  static std::string signed_frame(MessageType type, const std::string& from, const std::string& to,
                                  std::int64_t ts, const json::Value& payload,
                                  const std::string& key_name, bool with_context = true);

  /// Splits the mesh: nodes in `a` cannot talk to nodes outside `a` (links drop now).
  void partition(const std::set<std::string>& a);
  void heal();

  /// Runs queued events until none remain (bounded; fails the test if it does not settle).
  void run();
  /// Moves the clock forward in steps of `step_ms`, ticking every node and running events.
  void advance(std::int64_t ms, std::int64_t step_ms = 500);

  /// The directory view (user_id -> (server_id, online)) of a node.
  std::map<std::string, std::pair<std::string, bool>> view(const std::string& node_name);
  std::vector<std::string> node_names() const;

  /// Bulk lane (file chunks): while on, Sign jobs marked Job::bulk are held instead of run,
  /// as a busy signing pool would hold its low-priority work; release_bulk_jobs() runs every
  /// job held at the time of the call (oldest first, or newest first as a multi-threaded
  /// pool may finish them) and lets the mesh settle; jobs held meanwhile wait for the next
  /// call. Returns how many ran.
  void defer_bulk_jobs(bool on) { defer_bulk_ = on; }
  /// More held jobs: while set, every job for which hold_if(node, job) is true is held like a
  /// deferred bulk job (release_bulk_jobs() runs them), as a signing pool busy with someone
  /// else's backlog would hold them.
  std::function<bool(const std::string& node, const Job& job)> hold_if;
  /// Store commits (nodes run with ServerConfig::commit_off_loop, as socp-server does) are
  /// events; while hold_commits is on they wait, as a slow disk would make them, until
  /// release_commits() (returns how many ran). A crash loses the writes of held commits.
  bool hold_commits = false;
  std::size_t release_commits();

  /// A wire tap: while `tap_on`, every frame a node sends is recorded (from = node name,
  /// to = node name or "u:<user>"), so tests can capture and replay real frames.
  struct Tapped {
    std::string from, to, text;
  };
  bool tap_on = false;
  std::vector<Tapped> tapped;
  /// A hostile wire: when set, every frame a node sends passes through it first (from = node
  /// name, to = node name or "u:<user>"); it may change the text (or empty it to drop it).
  std::function<void(const std::string& from, const std::string& to, std::string& text)> mutate;
  /// The last tapped frame of `type` from node `from` to `to` (node name or "u:<user>");
  /// fails the test if there is none.
  Envelope last_tapped(MessageType type, const std::string& from, const std::string& to) const;
  std::size_t release_bulk_jobs(bool newest_first = false);
  std::size_t held_bulk_jobs() const noexcept { return held_bulk_.size(); }

 private:
  struct End {
    std::string node;  // "" for a user end
    std::string user;  // user name for a user end
    ConnId conn = 0;
  };
  void apply_actions(const std::string& node_name);
  void deliver_to(const End& to, std::string text);
  void close_pair(const std::string& node_name, ConnId conn);
  bool reachable(const std::string& a, const std::string& b) const;
  std::string key_of(const End& e) const;
  User& user_(const std::string& name) { return user(name); }
  void start_node(Node& n);

  std::int64_t now_;
  std::map<std::string, Node> nodes_;
  std::map<std::string, User> users_;
  std::map<std::string, End> peer_of_;  // key_of(end) -> other end
  std::deque<std::function<void()>> q_;
  std::optional<std::set<std::string>> partition_;
  std::uint16_t next_port_ = 9001;
  bool defer_bulk_ = false;
  std::deque<std::function<void()>> held_commits_;
  std::deque<std::pair<std::string, Job>> held_bulk_;  // (node, job)
};

}  // namespace socp::test
