// ClientCore::known_users(): the snapshot socp-cli completes user names from.
#include "client_fake_server.h"

using namespace socp;
using namespace socp::test;

TEST_CASE("cli: known_users lists the directory by display name", "[cli]") {
  FakeClock clock;
  ClientCore c{alice_login_config(clock)};
  CHECK(c.known_users().empty());
  log_in(c, clock);
  c.on_frame(advertise(kAlice, kBob, "bob", fixture_key("bob"), clock.ms));
  const auto users = c.known_users();
  REQUIRE(users.size() == 2);
  CHECK(users[0] == std::make_pair(kAlice, std::string("alice")));
  CHECK(users[1] == std::make_pair(kBob, std::string("bob")));
}
