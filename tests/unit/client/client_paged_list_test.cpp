// ClientCore and the server's paged answers: a LIST_RESPONSE with `next` is followed by a
// LIST_REQUEST {after: next}, and /list shows one list when the last page came. A user whose
// home server speaks the G43 dialect gets the SHA-256 form of content_sig.
#include "client_fake_server.h"

using namespace socp;
using namespace socp::test;

namespace {

msg::ListEntry entry(const std::string& id, const std::string& name, const PrivateKey& key,
                     const std::string& dialect = {}) {
  msg::ListEntry e;
  e.user_id = id;
  e.display_name = name;
  e.server_id = kServerA;
  e.online = true;
  e.pubkey = key.public_key().b64url();
  e.server_dialect = dialect;
  return e;
}

const std::string kU1 = "10000000-0000-4000-8000-000000000001";
const std::string kU2 = "10000000-0000-4000-8000-000000000002";

}  // namespace

TEST_CASE("list: pages are followed with `after`, one list event at the end", "[client]") {
  FakeClock clock;
  ClientCore c(alice_login_config(clock));
  log_in(c, clock);
  c.command("/list");
  REQUIRE(c.take_frames().size() == 1);

  msg::ListResponse first;
  first.users = {entry(kU1, "u1", fixture_key("bob"))};
  first.next = kU1;
  c.on_frame(server_frame(MessageType::ListResponse, kAlice, clock.ms, first.to_json()));
  CHECK_FALSE(find_event(c.take_events(), "list"));
  auto asks = parse_all(c.take_frames());
  REQUIRE(asks.size() == 1);
  CHECK(asks[0].type == MessageType::ListRequest);
  CHECK(str(asks[0].payload, "after") == kU1);

  msg::ListResponse last;
  last.users = {entry(kU2, "u2", fixture_key("server_b"))};
  c.on_frame(server_frame(MessageType::ListResponse, kAlice, clock.ms, last.to_json()));
  auto events = c.take_events();
  const json::Value* list = find_event(events, "list");
  REQUIRE(list);
  CHECK(list->find("users")->as_array().size() == 2);
  CHECK(c.take_frames().empty());
}

TEST_CASE("list: a page whose `next` does not advance ends the list", "[client]") {
  FakeClock clock;
  ClientCore c(alice_login_config(clock));
  log_in(c, clock);
  c.command("/list");
  (void)c.take_frames();
  msg::ListResponse page;
  page.users = {entry(kU2, "u2", fixture_key("bob"))};
  page.next = kU2;
  c.on_frame(server_frame(MessageType::ListResponse, kAlice, clock.ms, page.to_json()));
  REQUIRE(parse_all(c.take_frames()).size() == 1);
  page.next = kU1;  // backwards: a hostile or broken server cannot make the client loop
  c.on_frame(server_frame(MessageType::ListResponse, kAlice, clock.ms, page.to_json()));
  CHECK(find_event(c.take_events(), "list"));
  CHECK(c.take_frames().empty());
}

TEST_CASE("dialects: a DM to a user of a G43 server carries the SHA-256 content_sig form",
          "[client][interop]") {
  FakeClock clock;
  ClientCore c(alice_login_config(clock));
  log_in(c, clock);
  c.command("/list");
  (void)c.take_frames();
  msg::ListResponse lr;
  lr.users = {entry(kU1, "g43user", fixture_key("bob"), "g43"),
              entry(kU2, "socpuser", fixture_key("server_b"))};
  c.on_frame(server_frame(MessageType::ListResponse, kAlice, clock.ms, lr.to_json()));
  (void)c.take_events();
  const PublicKey alice_pub = fixture_key("alice").public_key();
  for (const auto& [name, id, form] : {std::tuple{"g43user", kU1, ContentSigForm::Sha256},
                                       std::tuple{"socpuser", kU2, ContentSigForm::Raw}}) {
    c.command(std::string("/tell ") + name + " hi");
    auto out = parse_all(c.take_frames());
    REQUIRE(out.size() == 1);
    auto dm = msg::MsgDirect::from_json(out[0].payload);
    REQUIRE(dm.ok());
    const Bytes ct = *b64_decode(dm->ciphertext);
    Bytes m = content_message(ct, kAlice, id, out[0].ts);
    if (form == ContentSigForm::Sha256) m = sha256(m.data(), m.size());
    CHECK(alice_pub.verify(m.data(), m.size(), *b64_decode(dm->content_sig)));
    CHECK(verify_content(alice_pub, dm->ciphertext, kAlice, id, out[0].ts, dm->content_sig));
  }
}
