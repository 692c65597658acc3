// Payload structs: a round trip for every struct, strict decoding, and the documented quirks.
#include <catch2/catch.hpp>

#include <string>
#include <tuple>

#include "socp/envelope.h"
#include "socp/messages.h"

using namespace socp;
using namespace socp::msg;
using json::Value;

namespace socp::msg {
// Field-wise equality, for the round-trip checks only.
#define SOCP_TEST_EQ(T, ...)                                   \
  bool operator==(const T& a, const T& b) {                    \
    auto f = [](const T& x) { return std::tie(__VA_ARGS__); }; \
    return f(a) == f(b);                                       \
  }
SOCP_TEST_EQ(ServerEntry, x.server_id, x.host, x.port, x.pubkey, x.caps)
SOCP_TEST_EQ(DirectoryEntry, x.user_id, x.server_id, x.pubkey, x.meta, x.online, x.since, x.proof)
SOCP_TEST_EQ(ServerHello, x.host, x.port, x.pubkey, x.caps, x.nonce, x.peer_nonce)
SOCP_TEST_EQ(ServerWelcome, x.assigned_id, x.servers, x.users, x.caps, x.server_id, x.server_pub,
             x.nonce, x.peer_nonce)
SOCP_TEST_EQ(UserAdvertise, x.user_id, x.server_id, x.pubkey, x.meta, x.since, x.proof)
SOCP_TEST_EQ(UserRemove, x.user_id, x.server_id)
SOCP_TEST_EQ(DirectorySnapshot, x.server_id, x.users)
SOCP_TEST_EQ(ServerDeliver, x.user_id, x.sender, x.ciphertext, x.sender_pub, x.content_sig,
             x.orig_ts, x.inner_type, x.msg_id, x.parts, x.extra)
SOCP_TEST_EQ(UserHello, x.client, x.pubkey, x.enc_pubkey, x.meta, x.ts, x.server_id, x.nonce,
             x.caps)
SOCP_TEST_EQ(UserRegister, x.user_id, x.pubkey, x.privkey_store, x.pake_password, x.meta, x.invite)
SOCP_TEST_EQ(KeyRecover, x.user_id, x.proof)
SOCP_TEST_EQ(KeyRecoverResponse, x.user_id, x.privkey_store)
SOCP_TEST_EQ(PubkeyRequest, x.user_id)
SOCP_TEST_EQ(PubkeyResponse, x.user_id, x.pubkey, x.server_id, x.dir_sig)
SOCP_TEST_EQ(ListEntry, x.user_id, x.display_name, x.server_id, x.pubkey, x.online)
SOCP_TEST_EQ(ListResponse, x.users, x.online_users)
SOCP_TEST_EQ(MsgDirect, x.ciphertext, x.sender_pub, x.content_sig, x.msg_id, x.parts)
SOCP_TEST_EQ(UserDeliver, x.ciphertext, x.sender, x.sender_pub, x.content_sig, x.msg_id, x.parts)
SOCP_TEST_EQ(DeliveredMessage, x.msg_id, x.sender, x.sender_pub, x.ciphertext, x.content_sig, x.ts,
             x.parts)
SOCP_TEST_EQ(UserDeliverBatch, x.messages)
SOCP_TEST_EQ(DeliveryAck, x.ids)
SOCP_TEST_EQ(FailedReceipt, x.msg_id, x.sender, x.code, x.reason)
SOCP_TEST_EQ(Receipts, x.queued, x.delivered, x.failed)
SOCP_TEST_EQ(MessageRef, x.sender, x.msg_id)
SOCP_TEST_EQ(DeliveryReceipts, x.acked, x.delivered, x.failed)
SOCP_TEST_EQ(FileStart, x.file_id, x.name, x.sha256, x.mode, x.size)
SOCP_TEST_EQ(FileChunk, x.file_id, x.ciphertext, x.index)
SOCP_TEST_EQ(FileEnd, x.file_id)
SOCP_TEST_EQ(Ack, x.msg_ref, x.server_id, x.server_pub)
SOCP_TEST_EQ(ErrorMsg, x.code, x.detail, x.msg_ref)
#undef SOCP_TEST_EQ
}  // namespace socp::msg

namespace {

const std::string kA = "6f1c0e1a-3a0e-4c1b-9d0a-2b1b7a1f2c3d";
const std::string kB = "0a2b4c6d-8e0f-4a1b-8c2d-3e4f5a6b7c8d";
const std::string kS = "11111111-2222-4333-8444-555555555555";

// to_json -> canonical bytes -> parse -> from_json; the result must equal the input and
// re-encode to the same bytes.
template <typename T>
void check_round_trip(const T& x) {
  const Value j = x.to_json();
  REQUIRE(j.is_object());
  const std::string text = json::canonical(j);
  auto parsed = json::parse(text);
  REQUIRE(parsed.ok());
  CHECK(*parsed == j);
  auto back = T::from_json(*parsed);
  REQUIRE(back.ok());
  CHECK(*back == x);
  CHECK(json::canonical(back->to_json()) == text);
}

Value obj(const std::string& text) {
  auto r = json::parse(text);
  REQUIRE(r.ok());
  return std::move(r).value();
}

template <typename T>
Error decode_error(const std::string& text) {
  auto r = T::from_json(obj(text));
  REQUIRE_FALSE(r.ok());
  CHECK(r.code() == Errc::BadFrame);
  return r.error();
}

DirectoryEntry dir_entry(const std::string& id, bool online) {
  DirectoryEntry d;
  d.user_id = id;
  d.server_id = kS;
  d.pubkey = "PUB-" + id;
  d.meta = json::Object{{"display_name", Value("Zo\xc3\xab")}, {"pubkey", Value("PUB-" + id)}};
  d.online = online;
  if (online) d.since = 1700000000000;
  return d;
}

}  // namespace

TEST_CASE("round trip: server-to-server payloads", "[codec][messages]") {
  ServerEntry se{kS, "127.0.0.1", 8765, "SPUB", {}};
  check_round_trip(se);

  check_round_trip(dir_entry(kA, true));
  check_round_trip(dir_entry(kB, false));

  ServerHello hello{"10.0.0.2", 65535, "SPUB", {"socp/1"}, "bm9uY2U", ""};
  check_round_trip(hello);
  check_round_trip(ServerHello{"h", 1, "K", {}, "", ""});

  ServerWelcome w;
  w.assigned_id = kS;
  w.servers = {se, ServerEntry{kA, "::1", 1, "K2", {"socp/1"}}};
  w.users = {dir_entry(kA, true), dir_entry(kB, false)};
  w.caps = {"socp/1", "x/2"};
  check_round_trip(w);
  check_round_trip(ServerWelcome{kS, {}, {}, {}, "", "", "", ""});

  UserAdvertise ad;
  ad.user_id = kA;
  ad.server_id = kS;
  ad.pubkey = "UPUB";
  ad.meta = json::Object{{"display_name", Value("Alice")}, {"pubkey", Value("UPUB")}};
  ad.since = 1700000000000;
  check_round_trip(ad);
  ad.since.reset();
  check_round_trip(ad);

  check_round_trip(UserRemove{kA, kS});
  check_round_trip(DirectorySnapshot{kS, {dir_entry(kA, true), dir_entry(kB, true)}});
  check_round_trip(DirectorySnapshot{kS, {}});

  ServerDeliver d;
  d.user_id = kB;
  d.sender = kA;
  d.ciphertext = "CT";
  d.sender_pub = "SP";
  d.content_sig = "CS";
  d.orig_ts = 1700000000001;
  check_round_trip(d);
  d.inner_type = "FILE_CHUNK";
  d.extra = json::Object{{"file_id", Value("f1")}, {"index", Value(3)}};
  check_round_trip(d);
  d.orig_ts.reset();
  check_round_trip(d);
}

TEST_CASE("round trip: user-to-server payloads", "[codec][messages]") {
  check_round_trip(UserHello{"socp-cli/0.1",
                             "UPUB",
                             "EPUB",
                             json::Object{{"display_name", Value("Al")}},
                             1700000000000,
                             "",
                             "",
                             {}});
  check_round_trip(
      UserHello{"", "UPUB", "", json::Object{}, std::nullopt, kS, "bm9uY2U", {"socp/1"}});
  check_round_trip(UserRegister{kA, "UPUB", "SEALED", "VERIFIER",
                                json::Object{{"display_name", Value("Al")}}, 1700000000000, ""});
  check_round_trip(
      UserRegister{kA, "UPUB", "SEALED", "VERIFIER", json::Object{}, std::nullopt, "invite-token"});
  check_round_trip(KeyRecover{kA, "PROOF"});
  check_round_trip(KeyRecoverResponse{kA, "SEALED"});
  check_round_trip(PubkeyRequest{kA});
  check_round_trip(PubkeyResponse{kA, "UPUB", kS, "DIRSIG"});
  check_round_trip(ListEntry{kA, "Alice", kS, "UPUB", true, "", {}});
  ListResponse lr;
  lr.users = {ListEntry{kA, "Alice", kS, "P1", true, "", {}},
              ListEntry{kB, "Bob", kS, "P2", false, "", {}}};
  lr.online_users = {kA};
  // to_json sorts users by id: kB < kA here, so compare after sorting the input the same way.
  std::swap(lr.users[0], lr.users[1]);
  check_round_trip(lr);
  check_round_trip(MsgDirect{"CT", "SP", "CS", "", json::Value()});
  const json::Value parts = json::Object{{"id", "m1"}, {"index", 1}, {"count", 3}};
  check_round_trip(MsgDirect{"CT", "SP", "CS", "m1/1", parts});
  check_round_trip(UserDeliver{"CT", kA, "SP", "CS", "", json::Value()});
  check_round_trip(UserDeliver{"CT", kA, "SP", "CS", "m1/1", parts});
}

TEST_CASE("round trip and limits: store-and-forward and receipt payloads", "[codec][messages]") {
  const json::Value parts = json::Object{{"id", "m1"}, {"index", 0}, {"count", 2}};
  UserDeliverBatch b;
  b.messages = {DeliveredMessage{"m1", kA, "SP", "CT", "CS", 5, parts},
                DeliveredMessage{"m2", kB, "SP", "CT", "CS", 6, json::Value()}};
  check_round_trip(b);
  check_round_trip(DeliveryAck{{"m1", "m2"}});
  check_round_trip(Receipts{{"q1"}, {"d1", "d2"}, {FailedReceipt{"f1", "", "TIMEOUT", "late"}}});
  check_round_trip(DeliveryReceipts{{MessageRef{kA, "a1"}},
                                    {MessageRef{kB, "d1"}},
                                    {FailedReceipt{"f1", kA, "TOO_LARGE", "full"}}});
  // Bad parts and ids are refused.
  for (
      const char* bad :
      {R"({"ciphertext":"C","sender_pub":"S","content_sig":"X","parts":{"id":"m","index":2,"count":2}})",
       R"({"ciphertext":"C","sender_pub":"S","content_sig":"X","parts":{"id":"","index":0,"count":1}})",
       R"({"ciphertext":"C","sender_pub":"S","content_sig":"X","parts":{"id":"m","index":0,"count":1,"x":1}})"}) {
    INFO(bad);
    CHECK_FALSE(MsgDirect::from_json(*json::parse(bad)).ok());
  }
  CHECK_FALSE(DeliveryAck::from_json(*json::parse(R"({"ids":[""]})")).ok());
}

TEST_CASE("round trip: file and control payloads", "[codec][messages]") {
  FileStart fs;
  fs.file_id = "f-1";
  fs.name = "r\xc3\xa9sum\xc3\xa9.pdf";
  fs.sha256 = std::string(64, 'a');
  fs.mode = "public";
  fs.size = 64 << 20;
  check_round_trip(fs);
  fs.size = 0;
  fs.mode = "dm";
  check_round_trip(fs);
  FileChunk fc;
  fc.file_id = "f-1";
  fc.ciphertext = "CT";
  fc.index = 0;
  check_round_trip(fc);
  fc.index = 150000;
  check_round_trip(fc);
  check_round_trip(FileEnd{"f-1"});
  check_round_trip(Ack{"USER_HELLO", kS, "SPUB"});
  check_round_trip(Ack{"MSG_DIRECT", "", ""});
  check_round_trip(ErrorMsg{"USER_NOT_FOUND", "no such user", "MSG_DIRECT"});
  check_round_trip(ErrorMsg{"SOMETHING_NEW", "", ""});
}

TEST_CASE("every type name and alias survives an envelope round trip", "[codec][messages]") {
  for (int i = 0; i <= static_cast<int>(MessageType::Error); ++i) {
    const auto t = static_cast<MessageType>(i);
    CAPTURE(to_string(t));
    auto r = parse_envelope(serialize(make_envelope(t, kA, "*", 1, json::Object{})));
    REQUIRE(r.ok());
    CHECK(r->type == t);
    CHECK(r->type_name == to_string(t));
  }
  for (const char* alias : {"CMD_LIST", "USER_LIST_REQ", "CTRL_LIST", "LIST", "MSG_PRIVATE",
                            "USER_FILE_START", "USER_FILE_CHUNK", "USER_FILE_END"}) {
    CAPTURE(alias);
    Envelope e = make_envelope(MessageType::Ack, kA, "*", 1, json::Object{});
    e.type = message_type_from_string(alias);
    e.type_name = alias;
    auto r = parse_envelope(serialize(e));
    REQUIRE(r.ok());
    CHECK(r->type == message_type_from_string(alias));
    CHECK(r->type_name == alias);
  }
}

TEST_CASE("missing and mistyped fields are BadFrame naming the field", "[codec][messages]") {
  CHECK(decode_error<UserRemove>(R"({"server_id":"s"})").detail == "missing field 'user_id'");
  CHECK(decode_error<UserRemove>(R"({"user_id":1,"server_id":"s"})").detail ==
        "field 'user_id' must be a string");
  CHECK(decode_error<UserRemove>(R"({"user_id":null,"server_id":"s"})").detail ==
        "field 'user_id' must be a string");
  CHECK(decode_error<MsgDirect>(R"({"ciphertext":"a","sender_pub":"b"})").detail ==
        "missing field 'content_sig'");
  CHECK(decode_error<UserDeliver>(R"({"ciphertext":"a","sender_pub":"b","content_sig":"c"})")
            .detail == "missing field 'sender'");
  CHECK(decode_error<PubkeyRequest>("{}").detail == "missing field 'user_id'");
  // Servers without socp/1 answer PUBKEY_REQUEST with the key alone.
  CHECK(PubkeyResponse::from_json(obj(R"({"user_id":"u","pubkey":"p"})")).ok());
  CHECK(decode_error<PubkeyResponse>(R"({"user_id":"u"})").detail == "missing field 'pubkey'");
  CHECK(decode_error<KeyRecover>(R"({"user_id":"u"})").detail == "missing field 'proof'");
  CHECK(decode_error<KeyRecoverResponse>(R"({"user_id":"u"})").detail ==
        "missing field 'privkey_store'");
  CHECK(decode_error<UserRegister>(R"({"user_id":"u","pubkey":"p","privkey_store":"x"})").detail ==
        "missing field 'pake_password'");
  CHECK(decode_error<UserHello>(R"({"client":"c"})").detail == "missing field 'pubkey'");
  CHECK(decode_error<UserHello>(R"({"pubkey":"p","meta":[]})").detail ==
        "field 'meta' must be an object");
  CHECK(decode_error<UserHello>(R"({"pubkey":"p","meta":"x"})").detail ==
        "field 'meta' must be an object");
  CHECK(decode_error<FileEnd>(R"({"file_id":7})").detail == "field 'file_id' must be a string");
  CHECK(decode_error<Ack>("{}").detail == "missing field 'msg_ref'");
  CHECK(decode_error<Ack>(R"({"msg_ref":"x","server_id":5})").detail ==
        "field 'server_id' must be a string");
  CHECK(decode_error<ErrorMsg>(R"({"detail":"x"})").detail == "missing field 'code'");
  CHECK(decode_error<ErrorMsg>(R"({"code":"X","detail":1})").detail ==
        "field 'detail' must be a string");
  // A payload that is not an object.
  for (const char* text : {"[]", "\"x\"", "1", "null", "true"}) {
    CAPTURE(text);
    auto r = Ack::from_json(obj(text));
    REQUIRE_FALSE(r.ok());
    CHECK(r.code() == Errc::BadFrame);
  }
}

TEST_CASE("integer fields: ports, sizes and indexes are range-checked", "[codec][messages]") {
  const char* base = R"({"host":"h","pubkey":"k","port":)";
  CHECK(ServerHello::from_json(obj(std::string(base) + "1}")).ok());
  CHECK(ServerHello::from_json(obj(std::string(base) + "65535}")).ok());
  for (const char* bad : {"0", "65536", "-1", "\"8765\"", "true", "null"}) {
    CAPTURE(bad);
    decode_error<ServerHello>(std::string(base) + bad + "}");
  }
  CHECK(decode_error<ServerHello>(R"({"host":"h","pubkey":"k"})").detail == "missing field 'port'");
  decode_error<ServerEntry>(R"({"server_id":"s","host":"h","port":70000,"pubkey":"k"})");
  decode_error<FileStart>(R"({"file_id":"f","name":"n","size":-1,"sha256":"x"})");
  decode_error<FileStart>(R"({"file_id":"f","name":"n","size":"10","sha256":"x"})");
  CHECK(decode_error<FileStart>(R"({"file_id":"f","name":"n","sha256":"x"})").detail ==
        "missing field 'size'");
  decode_error<FileChunk>(R"({"file_id":"f","index":-1,"ciphertext":"c"})");
  CHECK(decode_error<FileChunk>(R"({"file_id":"f","ciphertext":"c"})").detail ==
        "missing field 'index'");
  // mode is optional and defaults to "dm".
  auto fs = FileStart::from_json(obj(R"({"file_id":"f","name":"n","size":0,"sha256":"x"})"));
  REQUIRE(fs.ok());
  CHECK(fs->mode == "dm");
}

TEST_CASE("booleans, arrays and nested entries are strict", "[codec][messages]") {
  decode_error<DirectoryEntry>(R"({"user_id":"u","server_id":"s","pubkey":"p","online":1})");
  decode_error<DirectoryEntry>(R"({"user_id":"u","server_id":"s","pubkey":"p","meta":5})");
  decode_error<DirectoryEntry>(R"({"user_id":"u","server_id":"s","pubkey":"p","since":"1"})");
  CHECK(decode_error<DirectoryEntry>(R"({"user_id":"u","pubkey":"p"})").detail ==
        "missing field 'server_id'");
  auto de = DirectoryEntry::from_json(obj(R"({"user_id":"u","server_id":"s","pubkey":"p"})"));
  REQUIRE(de.ok());
  CHECK_FALSE(de->online);
  CHECK_FALSE(de->since.has_value());
  CHECK(de->meta == Value(json::Object{}));
  CHECK(json::canonical(de->to_json()) ==
        R"({"meta":{},"online":false,"pubkey":"p","server_id":"s","user_id":"u"})");
  decode_error<ListEntry>(R"({"user_id":"u","online":"yes"})");
  decode_error<ServerHello>(R"({"host":"h","port":1,"pubkey":"k","caps":"socp/1"})");
  decode_error<ServerHello>(R"({"host":"h","port":1,"pubkey":"k","caps":["socp/1",2]})");
  decode_error<ListResponse>(R"({"online_users":[]})");
  decode_error<ListResponse>(R"({"users":{}})");
  decode_error<ListResponse>(R"({"users":[],"online_users":[1]})");
  CHECK(decode_error<DirectorySnapshot>(R"({"server_id":"s","users":[{"user_id":"u"}]})").detail ==
        "users[0]: missing field 'server_id'");
  // A welcome entry that is not a server is skipped (other implementations send partial ones).
  auto skipped = ServerWelcome::from_json(obj(
      R"({"assigned_id":"a","servers":[{"server_id":"s","host":"h","port":1,"pubkey":"k"},1]})"));
  REQUIRE(skipped.ok());
  CHECK(skipped->servers.size() == 1);
  // Optional fields given as null count as absent.
  auto le = ListEntry::from_json(obj(R"({"user_id":"u","display_name":null,"online":null})"));
  REQUIRE(le.ok());
  CHECK(le->display_name.empty());
  CHECK_FALSE(le->online);
  // Unknown payload fields are ignored.
  CHECK(UserRemove::from_json(obj(R"({"user_id":"u","server_id":"s","future":[1]})")).ok());
}

TEST_CASE("USER_ADVERTISE reads pubkey top-level or meta.pubkey and emits both",
          "[codec][messages]") {
  auto top = UserAdvertise::from_json(obj(R"({"user_id":"u","server_id":"s","pubkey":"K"})"));
  REQUIRE(top.ok());
  CHECK(top->pubkey == "K");
  CHECK(top->meta == Value(json::Object{}));
  CHECK_FALSE(top->since.has_value());
  const Value out = top->to_json();
  CHECK(*json::get_string(out, "pubkey") == "K");
  REQUIRE(out.find("meta"));
  CHECK(*json::get_string(*out.find("meta"), "pubkey") == "K");
  CHECK(out.find("since") == nullptr);

  auto meta_only = UserAdvertise::from_json(
      obj(R"({"user_id":"u","server_id":"s","meta":{"pubkey":"M","display_name":"Al"}})"));
  REQUIRE(meta_only.ok());
  CHECK(meta_only->pubkey == "M");
  CHECK(display_name_of(meta_only->meta, "u") == "Al");
  CHECK(*json::get_string(meta_only->to_json(), "pubkey") == "M");

  auto both = UserAdvertise::from_json(
      obj(R"({"user_id":"u","server_id":"s","pubkey":"T","meta":{"pubkey":"M"},"since":42})"));
  REQUIRE(both.ok());
  CHECK(both->pubkey == "T");  // top-level wins
  CHECK(both->since == 42);
  CHECK(*json::get_string(*both->to_json().find("meta"), "pubkey") == "T");

  // A keyless advert parses (the key is then asked from the home server with PUBKEY_REQUEST).
  auto keyless = UserAdvertise::from_json(obj(R"({"user_id":"u","server_id":"s","meta":{}})"));
  REQUIRE(keyless.ok());
  CHECK(keyless->pubkey.empty());
  decode_error<UserAdvertise>(R"({"user_id":"u","server_id":"s","meta":{"pubkey":1}})");
  decode_error<UserAdvertise>(R"({"user_id":"u","server_id":"s","pubkey":1})");
  decode_error<UserAdvertise>(R"({"user_id":"u","server_id":"s","pubkey":"K","since":"1"})");
  decode_error<UserAdvertise>(R"({"server_id":"s","pubkey":"K"})");
}

TEST_CASE("SERVER_WELCOME reads servers or clients and emits both", "[codec][messages]") {
  const std::string entry = R"([{"server_id":"s1","host":"h","port":9,"pubkey":"k"}])";
  auto from_clients =
      ServerWelcome::from_json(obj(R"({"assigned_id":"a","clients":)" + entry + "}"));
  REQUIRE(from_clients.ok());
  REQUIRE(from_clients->servers.size() == 1);
  CHECK(from_clients->servers[0].server_id == "s1");
  CHECK(from_clients->users.empty());
  auto from_servers =
      ServerWelcome::from_json(obj(R"({"assigned_id":"a","servers":)" + entry + "}"));
  REQUIRE(from_servers.ok());
  CHECK(from_servers->servers == from_clients->servers);
  const Value out = from_servers->to_json();
  REQUIRE(out.find("servers"));
  REQUIRE(out.find("clients"));
  CHECK(*out.find("servers") == *out.find("clients"));
  CHECK(*out.find("servers") == obj(entry));
  CHECK(ServerWelcome::from_json(obj(R"({"assigned_id":"a"})")).ok());  // list optional
  decode_error<ServerWelcome>(R"({"assigned_id":"a","servers":{}})");
  CHECK(ServerWelcome::from_json(obj(R"({"servers":[],"assigned_id":null})")).ok());
  decode_error<ServerWelcome>(R"({"assigned_id":"a","servers":[],"users":{}})");
}

TEST_CASE("SERVER_DELIVER keeps unknown fields in extra and merges them back",
          "[codec][messages]") {
  auto d = ServerDeliver::from_json(obj(
      R"({"user_id":"u","sender":"s","file_id":"f","index":2,"inner_type":"FILE_CHUNK","ciphertext":"c"})"));
  REQUIRE(d.ok());
  CHECK(d->inner_type == "FILE_CHUNK");
  CHECK(d->ciphertext == "c");
  CHECK(d->sender_pub.empty());
  CHECK(d->content_sig.empty());
  CHECK_FALSE(d->orig_ts.has_value());
  REQUIRE(d->extra.size() == 2);
  CHECK(d->extra.at("file_id") == Value("f"));
  const Value out = d->to_json();
  CHECK(*json::get_string(out, "file_id") == "f");
  CHECK(*json::get_int(out, "index") == 2);
  CHECK(*json::get_string(out, "inner_type") == "FILE_CHUNK");

  // A plain DM: inner_type omitted, orig_ts kept.
  auto dm = ServerDeliver::from_json(obj(
      R"({"user_id":"u","sender":"s","ciphertext":"c","sender_pub":"p","content_sig":"g","orig_ts":5})"));
  REQUIRE(dm.ok());
  CHECK(dm->extra.empty());
  CHECK(dm->orig_ts == 5);
  CHECK(
      json::canonical(dm->to_json()) ==
      R"({"ciphertext":"c","content_sig":"g","orig_ts":5,"sender":"s","sender_pub":"p","user_id":"u"})");

  // Standard fields always win over same-named entries put in extra by code.
  ServerDeliver x;
  x.user_id = "u";
  x.sender = "s";
  x.extra = json::Object{{"user_id", Value("evil")}, {"orig_ts", Value(9)}};
  const Value xo = x.to_json();
  CHECK(*json::get_string(xo, "user_id") == "u");
  CHECK(xo.find("orig_ts") == nullptr);

  decode_error<ServerDeliver>(R"({"user_id":"u"})");
  decode_error<ServerDeliver>(R"({"sender":"s"})");
  decode_error<ServerDeliver>(R"({"user_id":"u","sender":"s","orig_ts":"5"})");
  decode_error<ServerDeliver>(R"({"user_id":"u","sender":"s","ciphertext":5})");
}

TEST_CASE("ACK and ERROR emit optional fields only when set", "[codec][messages]") {
  CHECK(json::canonical(Ack{"MSG_DIRECT", "", ""}.to_json()) == R"({"msg_ref":"MSG_DIRECT"})");
  CHECK(json::canonical(Ack{"USER_HELLO", "S", "P"}.to_json()) ==
        R"({"msg_ref":"USER_HELLO","server_id":"S","server_pub":"P"})");
  CHECK(json::canonical(ErrorMsg{"BAD_KEY", "", ""}.to_json()) ==
        R"({"code":"BAD_KEY","detail":""})");
  CHECK(json::canonical(ErrorMsg{"BAD_KEY", "d", "USER_HELLO"}.to_json()) ==
        R"({"code":"BAD_KEY","detail":"d","msg_ref":"USER_HELLO"})");
  auto e = ErrorMsg::from_json(obj(R"({"code":"WHATEVER"})"));
  REQUIRE(e.ok());
  CHECK(e->code == "WHATEVER");
  CHECK(e->detail.empty());
}

TEST_CASE("LIST_RESPONSE is emitted sorted", "[codec][messages]") {
  ListResponse lr;
  lr.users = {ListEntry{"c", "C", "s", "p", true, "", {}},
              ListEntry{"a", "A", "s", "p", false, "", {}},
              ListEntry{"b", "B", "s", "p", true, "", {}}};
  lr.online_users = {"c", "b"};
  CHECK(json::canonical(lr.to_json()) ==
        R"({"online_users":["b","c"],"users":[)"
        R"({"display_name":"A","online":false,"pubkey":"p","server_id":"s","user_id":"a"},)"
        R"({"display_name":"B","online":true,"pubkey":"p","server_id":"s","user_id":"b"},)"
        R"({"display_name":"C","online":true,"pubkey":"p","server_id":"s","user_id":"c"}]})");
  auto back = ListResponse::from_json(lr.to_json());
  REQUIRE(back.ok());
  CHECK(back->users[0].user_id == "a");
  CHECK(back->online_users == std::vector<std::string>{"b", "c"});
}

TEST_CASE("display_name_of falls back to the id", "[codec][messages]") {
  CHECK(display_name_of(obj(R"({"display_name":"Alice"})"), "id") == "Alice");
  CHECK(display_name_of(obj(R"({"display_name":""})"), "id") == "id");
  CHECK(display_name_of(obj(R"({"display_name":5})"), "id") == "id");
  CHECK(display_name_of(obj("{}"), "id") == "id");
  CHECK(display_name_of(Value(nullptr), "id") == "id");
}
