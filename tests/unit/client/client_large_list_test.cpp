// ClientCore: a directory as large as a real 10,000-user mesh. Every LIST_RESPONSE entry
// carries an RSA-4096 public key (~740 base64url characters), so the frame is ~9 MB — more
// than the 8 MiB the client used to accept (socp-cli aborted on such a /list).
#include "client_fake_server.h"

using namespace socp;
using namespace socp::test;

namespace {

constexpr std::size_t kUsers = 10'000;

// user ids 10000000-0000-4000-8000-00000000NNNN, keys cycling through the fixture keys.
std::string big_list_frame(const std::string& to, std::int64_t ts) {
  const std::vector<std::string> keys = {fixture_key("bob").public_key().b64url(),
                                         fixture_key("server_b").public_key().b64url(),
                                         fixture_key("server_a").public_key().b64url()};
  msg::ListResponse lr;
  lr.users.reserve(kUsers);
  for (std::size_t i = 0; i < kUsers; ++i) {
    char id[40];
    std::snprintf(id, sizeof id, "10000000-0000-4000-8000-%012zu", i);
    msg::ListEntry e;
    e.user_id = id;
    e.display_name = "user" + std::to_string(i);
    e.server_id = kServerA;
    e.online = i % 2 == 0;
    e.pubkey = keys[i % keys.size()];
    if (e.online) lr.online_users.push_back(e.user_id);
    lr.users.push_back(std::move(e));
  }
  return server_frame(MessageType::ListResponse, to, ts, lr.to_json());
}

}  // namespace

TEST_CASE("list: a 10,000-user LIST_RESPONSE (~9 MB) is shown in full", "[client][regression]") {
  FakeClock clock;
  ClientCore c(alice_login_config(clock));
  log_in(c, clock);
  c.command("/list");
  REQUIRE(c.take_frames().size() == 1);

  const std::string frame = big_list_frame(kAlice, clock.ms);
  REQUIRE(frame.size() > (8u << 20));  // the size that used to be refused
  REQUIRE(frame.size() <= ClientConfig{}.max_frame_bytes);
  c.on_frame(frame);

  auto events = c.take_events();
  CHECK(count_events(events, "warning") == 0);
  const json::Value* list = find_event(events, "list");
  REQUIRE(list);
  const json::Value* users = list->find("users");
  REQUIRE(users);
  REQUIRE(users->is_array());
  CHECK(users->as_array().size() == kUsers);
  CHECK(c.known_users().size() == kUsers + 1);  // and alice herself
  // Their keys are pinned: a message to one of them goes out without a PUBKEY_REQUEST.
  c.command("/tell user9999 hello");
  auto out = parse_all(c.take_frames());
  REQUIRE(out.size() == 1);
  CHECK(out[0].type == MessageType::MsgDirect);
}

TEST_CASE("list: a frame over max_frame_bytes is dropped with a warning, not parsed", "[client]") {
  FakeClock clock;
  ClientConfig cfg = alice_login_config(clock);
  cfg.max_frame_bytes = 64 * 1024;
  ClientCore c(std::move(cfg));
  log_in(c, clock);
  c.command("/list");
  (void)c.take_frames();
  c.on_frame(big_list_frame(kAlice, clock.ms));
  auto events = c.take_events();
  CHECK_FALSE(find_event(events, "list"));
  const json::Value* w = find_event(events, "warning");
  REQUIRE(w);
  CHECK(str(*w, "detail").find("exceeds") != std::string::npos);
  CHECK(c.logged_in());
}
