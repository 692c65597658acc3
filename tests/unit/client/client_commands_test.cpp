// Command-line parsing (private header core/client/client_commands.h).
#include <catch2/catch.hpp>

#include "core/client/client_commands.h"

using socp::client::Command;
using socp::client::parse_command;
using K = Command::Kind;

TEST_CASE("parse_command: the command set", "[client]") {
  CHECK(parse_command("").kind == K::Empty);
  CHECK(parse_command("   \r\n").kind == K::Empty);
  CHECK(parse_command("/list").kind == K::List);
  CHECK(parse_command("/list\r\n").kind == K::List);
  CHECK(parse_command("/whoami").kind == K::WhoAmI);
  CHECK(parse_command("/help").kind == K::Help);
  CHECK(parse_command("/quit").kind == K::Quit);
  CHECK(parse_command("/exit").kind == K::Quit);

  Command t = parse_command("/tell bob  hello   world ");
  CHECK(t.kind == K::Tell);
  CHECK(t.target == "bob");
  CHECK(t.text == "hello   world ");  // verbatim after the separator
  CHECK(parse_command("/msg bob hi").kind == K::Tell);
  CHECK(parse_command("/tell bob").kind == K::Usage);
  CHECK(parse_command("/tell").kind == K::Usage);
  CHECK(parse_command("/tell bob   ").kind == K::Usage);
  CHECK(parse_command("/list  ").kind == K::List);

  Command a = parse_command("/all hi there");
  CHECK(a.kind == K::All);
  CHECK(a.text == "hi there");
  CHECK(parse_command("/all").kind == K::Usage);

  Command v = parse_command("/verify bob");
  CHECK(v.kind == K::Verify);
  CHECK(v.target == "bob");
  CHECK(parse_command("/verify").kind == K::Usage);
  CHECK(parse_command("/verify bob extra").kind == K::Usage);

  CHECK(parse_command("/LIST").kind == K::Unknown);  // case-sensitive
  CHECK(parse_command("/nope").kind == K::Unknown);
  CHECK(parse_command("hello").kind == K::Unknown);
  CHECK_FALSE(parse_command("hello").error.empty());
}
