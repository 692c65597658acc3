// ServerCore handlers on one server with fake connections (MeshSim with a single node):
// success and error paths of each message family.
#include <catch2/catch.hpp>

#include "mesh_sim.h"
#include "socp/bytes.h"
#include "socp/messages.h"

using socp::MessageType;
using socp::test::MeshSim;
namespace msg = socp::msg;

namespace {

std::string last_error_code(MeshSim& sim, const std::string& user) {
  auto& errs = sim.user(user).errors;
  if (errs.empty()) return "";
  return msg::ErrorMsg::from_json(errs.back().payload)->code;
}

std::size_t count_type(MeshSim& sim, const std::string& user, MessageType t) {
  std::size_t n = 0;
  for (const auto& e : sim.user(user).inbox) n += e.type == t;
  return n;
}

/// A signed USER_REGISTER frame for `user` with the key `key_name`.
std::string register_frame(MeshSim& sim, const std::string& user, const std::string& key_name,
                           const std::string& verifier = "verifier-of-alice") {
  const auto& key = socp::test::any_fixture_key(key_name);
  msg::UserRegister r;
  r.user_id = sim.user(user).user_id;
  r.pubkey = key.public_key().b64url();
  r.privkey_store = "{\"v\":1}";
  r.pake_password = verifier;
  r.meta = socp::json::Object{{"display_name", user}};
  r.ts = sim.now();
  return MeshSim::signed_frame(MessageType::UserRegister, r.user_id, "", sim.now(), r.to_json(),
                               key_name);
}

struct OneServer {
  MeshSim sim;
  OneServer() {
    sim.add_server("A", "server_a");
    sim.add_user("alice", "alice", "A");
    sim.add_user("bob", "bob", "A");
  }
};

}  // namespace

TEST_CASE_METHOD(OneServer, "hello: success gives a signed ACK with the server key", "[core]") {
  sim.login("alice", "A");
  REQUIRE(sim.user("alice").logged_in);
  const auto& ack = sim.user("alice").inbox.front();
  REQUIRE(ack.type == MessageType::Ack);
  const auto a = msg::Ack::from_json(ack.payload);
  REQUIRE(a->server_id == sim.server_id("A"));
  auto pub = socp::PublicKey::parse(a->server_pub);
  REQUIRE(pub.ok());
  REQUIRE(socp::verify_payload(*pub, ack.payload, ack.sig) == socp::SigForm::Canonical);
}

TEST_CASE_METHOD(OneServer, "hello: error paths", "[core]") {
  SECTION("unknown id -> USER_NOT_FOUND and close") {
    sim.guest("mallory", "alice");
    sim.login("mallory", "A");
    REQUIRE(last_error_code(sim, "mallory") == "USER_NOT_FOUND");
    REQUIRE_FALSE(sim.connected("mallory"));
  }
  SECTION("other key than registered -> BAD_KEY") {
    sim.connect("alice", "A");
    sim.send_raw("alice", sim.hello_frame("alice", std::nullopt, "bob"));
    REQUIRE(last_error_code(sim, "alice") == "BAD_KEY");
  }
  SECTION("unsigned -> INVALID_SIG") {
    sim.connect("alice", "A");
    auto env = *socp::parse_envelope(sim.hello_frame("alice"));
    env.sig.clear();
    sim.send_raw("alice", socp::serialize(env));
    REQUIRE(last_error_code(sim, "alice") == "INVALID_SIG");
  }
  SECTION("signature by another key -> INVALID_SIG") {
    sim.connect("alice", "A");
    auto env = *socp::parse_envelope(sim.hello_frame("alice"));
    env.sig = *socp::sign_payload(socp::test::any_fixture_key("bob"), env.payload);
    sim.send_raw("alice", socp::serialize(env));
    REQUIRE(last_error_code(sim, "alice") == "INVALID_SIG");
  }
  SECTION("stale timestamp -> INVALID_SIG") {
    sim.connect("alice", "A");
    sim.send_raw("alice", sim.hello_frame("alice", sim.now() - 10 * 60'000));
    REQUIRE(last_error_code(sim, "alice") == "INVALID_SIG");
  }
  SECTION("a captured hello with a fresh envelope ts -> INVALID_SIG") {
    const std::string old = sim.hello_frame("alice", sim.now() - 60 * 60'000);
    auto env = *socp::parse_envelope(old);
    env.ts = sim.now();  // the payload still says an hour ago
    sim.connect("alice", "A");
    sim.send_raw("alice", socp::serialize(env));
    REQUIRE(last_error_code(sim, "alice") == "INVALID_SIG");
  }
  SECTION("the same hello frame replayed after logout -> INVALID_SIG") {
    const std::string hello = sim.hello_frame("alice");
    sim.connect("alice", "A");
    sim.send_raw("alice", hello);
    REQUIRE(sim.user("alice").logged_in);
    sim.logout("alice");
    sim.connect("alice", "A");
    sim.send_raw("alice", hello);
    REQUIRE(last_error_code(sim, "alice") == "INVALID_SIG");
    REQUIRE_FALSE(sim.user("alice").logged_in);
  }
  SECTION("second login of the same user -> NAME_IN_USE, first session unaffected") {
    sim.login("alice", "A");
    sim.clone_user("alice2", "alice");
    sim.advance(1);  // another device signs another hello
    sim.login("alice2", "A");
    REQUIRE(last_error_code(sim, "alice2") == "NAME_IN_USE");
    REQUIRE(sim.user("alice").logged_in);
  }
}

TEST_CASE_METHOD(OneServer, "compat mode accepts unsigned hellos and registers on first use",
                 "[core]") {
  MeshSim s2;
  s2.add_server("X", "server_b", {}, [](socp::ServerConfig& c) { c.compat_unsigned_hello = true; });
  s2.guest("carol", "carol");  // not registered on X
  s2.connect("carol", "X");
  auto env = *socp::parse_envelope(s2.hello_frame("carol"));
  env.sig.clear();
  s2.send_raw("carol", socp::serialize(env));
  REQUIRE(s2.user("carol").logged_in);
}

TEST_CASE_METHOD(OneServer, "frames before hello get NOT_AUTHENTICATED and a close", "[core]") {
  sim.connect("alice", "A");
  const auto f = MeshSim::signed_frame(MessageType::ListRequest, sim.user("alice").user_id, "",
                                       sim.now(), socp::json::Object{}, "alice");
  sim.send_raw("alice", f);
  REQUIRE(last_error_code(sim, "alice") == "NOT_AUTHENTICATED");
  REQUIRE_FALSE(sim.connected("alice"));
}

TEST_CASE_METHOD(OneServer, "malformed and unknown frames from users", "[core]") {
  sim.login("alice", "A");
  SECTION("not JSON -> BAD_FRAME, session stays") {
    sim.send_raw("alice", "{nope");
    REQUIRE(last_error_code(sim, "alice") == "BAD_FRAME");
    REQUIRE(sim.connected("alice"));
  }
  SECTION("unknown type -> UNKNOWN_TYPE") {
    sim.send_raw("alice", MeshSim::signed_frame(MessageType::Ack, sim.user("alice").user_id, "",
                                                sim.now(), socp::json::Object{}, "alice"));
    auto env = *socp::parse_envelope(sim.hello_frame("alice"));
    env.type.reset();
    env.type_name = "FROBNICATE";
    sim.send_raw("alice", socp::serialize(env));
    REQUIRE(last_error_code(sim, "alice") == "UNKNOWN_TYPE");
  }
  SECTION("too deep -> TOO_DEEP") {
    std::string deep(40, '[');
    deep += std::string(40, ']');
    sim.send_raw("alice", "{\"type\":\"LIST_REQUEST\",\"from\":\"" + sim.user("alice").user_id +
                              "\",\"to\":\"\",\"ts\":1,\"payload\":{\"x\":" + deep + "}}");
    REQUIRE(last_error_code(sim, "alice") == "TOO_DEEP");
  }
  SECTION("oversize frame -> close") {
    sim.send_raw("alice", std::string((1u << 20) + 10, ' '));
    REQUIRE_FALSE(sim.connected("alice"));
  }
  SECTION("20 bad frames close the connection") {
    for (int i = 0; i < 20 && sim.connected("alice"); ++i) sim.send_raw("alice", "garbage");
    REQUIRE_FALSE(sim.connected("alice"));
  }
}

TEST_CASE_METHOD(OneServer, "register: success, duplicate id, bad signature", "[core]") {
  sim.guest("carol", "carol");
  sim.connect("carol", "A");
  sim.send_raw("carol", register_frame(sim, "carol", "carol"));
  REQUIRE(count_type(sim, "carol", MessageType::Ack) == 1);
  REQUIRE(msg::Ack::from_json(sim.user("carol").inbox.back().payload)->msg_ref == "USER_REGISTER");
  auto rec = sim.node("A").store->get_user(sim.user("carol").user_id);
  REQUIRE(rec.ok());
  REQUIRE(rec->pake_hash.rfind("$argon2id$", 0) == 0);  // stored only as a hash
  // Same connection can log in now.
  sim.send_raw("carol", sim.hello_frame("carol"));
  REQUIRE(sim.user("carol").logged_in);

  SECTION("duplicate id -> NAME_IN_USE") {
    sim.clone_user("carol2", "carol");
    sim.connect("carol2", "A");
    sim.send_raw("carol2", register_frame(sim, "carol2", "carol"));
    REQUIRE(last_error_code(sim, "carol2") == "NAME_IN_USE");
  }
  SECTION("signed by another key -> INVALID_SIG") {
    sim.guest("dave", "dave");
    sim.connect("dave", "A");
    auto env = *socp::parse_envelope(register_frame(sim, "dave", "dave"));
    env.sig = *socp::sign_payload(socp::test::any_fixture_key("erin"), env.payload);
    sim.send_raw("dave", socp::serialize(env));
    REQUIRE(last_error_code(sim, "dave") == "INVALID_SIG");
  }
}

TEST_CASE_METHOD(OneServer, "key recovery returns the sealed key only for the right proof",
                 "[core]") {
  sim.guest("carol", "carol");
  sim.connect("carol", "A");
  sim.send_raw("carol", register_frame(sim, "carol", "carol", "right-proof"));
  sim.logout("carol");
  sim.clone_user("newdevice", "carol");
  sim.connect("newdevice", "A");
  auto recover = [&](const std::string& id, const std::string& proof) {
    msg::KeyRecover kr{id, proof};
    sim.send_raw("newdevice", socp::serialize(socp::make_envelope(MessageType::KeyRecover,
                                                                  sim.user("carol").user_id, "",
                                                                  sim.now(), kr.to_json())));
  };
  recover(sim.user("carol").user_id, "wrong-proof");
  REQUIRE(last_error_code(sim, "newdevice") == "BAD_PASSWORD");
  recover("carol", "right-proof");  // by display name
  REQUIRE(count_type(sim, "newdevice", MessageType::KeyRecoverResponse) == 1);
  auto r = msg::KeyRecoverResponse::from_json(sim.user("newdevice").inbox.back().payload);
  REQUIRE(r->privkey_store == "{\"v\":1}");
}

TEST_CASE_METHOD(OneServer, "list, pubkey lookup and local direct messages", "[core]") {
  sim.login("alice", "A");
  sim.login("bob", "A");
  const auto f = MeshSim::signed_frame(MessageType::ListRequest, sim.user("alice").user_id, "",
                                       sim.now(), socp::json::Object{}, "alice");
  sim.send_raw("alice", f);
  const auto& last = sim.user("alice").inbox.back();
  REQUIRE(last.type == MessageType::ListResponse);
  auto list = msg::ListResponse::from_json(last.payload);
  REQUIRE(list->users.size() == 2);
  REQUIRE(list->users[0].user_id < list->users[1].user_id);
  REQUIRE(list->online_users.size() == 2);

  msg::PubkeyRequest pr{sim.user("bob").user_id};
  sim.send_raw("alice", MeshSim::signed_frame(MessageType::PubkeyRequest, sim.user("alice").user_id,
                                              "", sim.now(), pr.to_json(), "alice"));
  auto resp = msg::PubkeyResponse::from_json(sim.user("alice").inbox.back().payload);
  REQUIRE(resp.ok());
  REQUIRE(resp->pubkey == socp::test::any_fixture_key("bob").public_key().b64url());
  const auto& spub = socp::test::any_fixture_key("server_a").public_key();
  REQUIRE(spub.verify(resp->user_id + resp->pubkey, *socp::b64_decode(resp->dir_sig)));

  sim.send_dm("alice", "bob", "hi bob");
  REQUIRE(sim.received_texts("bob") == std::vector<std::string>{"hi bob"});
  SECTION("sender_pub that is not the sender's key -> BAD_KEY") {
    const auto& ak = socp::test::any_fixture_key("alice");
    socp::Bytes ct = *socp::test::any_fixture_key("bob").public_key().encrypt(std::string("x"));
    msg::MsgDirect m{
        socp::b64url_encode(ct), socp::test::any_fixture_key("erin").public_key().b64url(),
        *socp::sign_content(ak, ct, sim.user("alice").user_id, sim.user("bob").user_id, sim.now()),
        "", socp::json::Value()};
    sim.send_raw("alice",
                 MeshSim::signed_frame(MessageType::MsgDirect, sim.user("alice").user_id,
                                       sim.user("bob").user_id, sim.now(), m.to_json(), "alice"));
    REQUIRE(last_error_code(sim, "alice") == "BAD_KEY");
  }
}

TEST_CASE_METHOD(OneServer, "a fan-out is signed once, every answer is bound to its frame",
                 "[core][perf]") {
  sim.login("alice", "A");
  sim.login("bob", "A");
  auto before = sim.node("A").signatures;
  for (int i = 0; i < 5; ++i) {
    sim.send_raw("alice", MeshSim::signed_frame(MessageType::ListRequest, sim.user("alice").user_id,
                                                "", sim.now() + i, socp::json::Object{}, "alice"));
  }
  // Each LIST_RESPONSE carries its own signed context (type, from, to, ts): five signatures.
  REQUIRE(sim.node("A").signatures - before == 5);
  // A login fans out one advert to every local user, and the newcomer gets the adverts of
  // the users already online from their one signature each: a few signatures in all.
  sim.add_user("carol", "carol", "A");
  sim.login("carol", "A");
  before = sim.node("A").signatures;
  sim.add_user("dave", "dave", "A");
  sim.login("dave", "A");
  // ACK + one advert to the three others + the channel version to everyone + dave's copy.
  REQUIRE(sim.node("A").signatures - before <= 4);
}

TEST_CASE_METHOD(OneServer, "strangers cannot make the server sign chosen bytes",
                 "[core][security]") {
  // Differently malformed first frames (other offsets, other unknown types) all get one of a
  // few fixed ERROR payloads, so the SignBook answers them from one cached signature each.
  const auto before = sim.node("A").signatures;
  for (int i = 0; i < 6; ++i) {
    const std::string name = "stranger" + std::to_string(i);
    sim.guest(name, "alice");
    sim.connect(name, "A");
    sim.send_raw(name, std::string(static_cast<std::size_t>(i + 1), '{') + "nope");
    REQUIRE(last_error_code(sim, name) == "BAD_FRAME");
    const std::string other = "odd" + std::to_string(i);
    sim.guest(other, "alice");
    sim.connect(other, "A");
    auto env = *socp::parse_envelope(sim.hello_frame(other));
    env.type.reset();
    env.type_name = "ODD_TYPE_" + std::to_string(i);
    sim.send_raw(other, socp::serialize(env));
    REQUIRE(last_error_code(sim, other) == "UNKNOWN_TYPE");
  }
  REQUIRE(sim.node("A").signatures - before <= 2);
}
