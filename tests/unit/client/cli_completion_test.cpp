// socp-cli tab completion (client/completion.h).
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "completion.h"
#include "core/client/client_commands.h"

using namespace socp::cli;
using Strings = std::vector<std::string>;

namespace {

const std::string kAlice = "a11ce000-0000-4000-8000-000000000001";
const std::string kBob = "b0b00000-0000-4000-8000-000000000002";
const std::string kBobby = "b0bb0000-0000-4000-8000-000000000003";
const std::string kCarol = "ca201000-0000-4000-8000-000000000004";
const std::string kDup1 = "d0001000-0000-4000-8000-000000000005";
const std::string kDup2 = "d0002000-0000-4000-8000-000000000006";

const UserList kUsers = {{kAlice, "alice"},       {kBob, "bob"},  {kBobby, "bobby"},
                         {kCarol, "carol smith"}, {kDup1, "dup"}, {kDup2, "dup"}};

std::vector<DirEntry> fake_dir(const std::string& dir) {
  if (dir.empty()) {
    return {{"report.pdf", false},
            {"readme.md", false},
            {"docs", true},
            {".hidden", false},
            {"my file.txt", false}};
  }
  if (dir == "docs/") return {{"guide.txt", false}, {"img", true}};
  return {};
}

Completion run(const std::string& line) {
  return complete(line, kUsers, kAlice, fake_dir);
}

}  // namespace

TEST_CASE("cli completion: command names at the start of the line", "[cli]") {
  Completion c = run("");
  CHECK(c.start == 0);
  // In the order of /help, not alphabetical.
  CHECK(c.matches ==
        Strings{"/list", "/tell", "/all", "/file", "/whoami", "/verify", "/help", "/quit"});
  CHECK(run("/v").matches == Strings{"/verify"});
  CHECK(run("/t").matches == Strings{"/tell"});
  CHECK(run("/w").matches == Strings{"/whoami"});
  c = run("  /l");
  CHECK(c.start == 2);
  CHECK(c.matches == Strings{"/list"});
  CHECK(run("/x").matches.empty());
  CHECK(run("hello").matches.empty());   // not a command
  CHECK(run("/list ").matches.empty());  // nothing after /list
}

TEST_CASE("cli completion: every completed command is in /help", "[cli]") {
  const std::string& help = socp::client::help_text();
  for (const std::string& cmd : command_names()) {
    CAPTURE(cmd);
    CHECK(help.find("  " + cmd + " ") != std::string::npos);
  }
}

TEST_CASE("cli completion: users after /tell, /msg, /verify and /file", "[cli]") {
  Completion c = run("/tell b");
  CHECK(c.start == 6);
  CHECK(c.matches == Strings{"bob", "bobby"});
  CHECK(c.final);
  CHECK(run("/msg bobb").matches == Strings{"bobby"});
  CHECK(run("/verify bo").matches == Strings{"bob", "bobby"});
  CHECK(run("/tell a").matches.empty());  // ourselves: not offered
  // A bare Tab lists names; names that cannot be typed as one word (a blank, or shared by two
  // users) are offered as ids.
  CHECK(run("/tell ").matches == Strings{"bob", "bobby", kCarol, kDup1, kDup2});
  Completion bare = run("/tell ");
  CHECK(std::find(bare.matches.begin(), bare.matches.end(), "carol smith") == bare.matches.end());
  CHECK(std::find(bare.matches.begin(), bare.matches.end(), kCarol) != bare.matches.end());
  CHECK(std::find(bare.matches.begin(), bare.matches.end(), kBob) == bare.matches.end());
  CHECK(run("/tell du").matches == Strings{kDup1, kDup2});
  CHECK(run("/tell car").matches == Strings{kCarol});
  // Ids complete once typed into.
  CHECK(run("/tell b0bb").matches == Strings{kBobby});
  CHECK(run("/verify ca20").matches == Strings{kCarol});
  // "all" only for /file.
  CHECK(run("/file a").matches == Strings{"all"});
  CHECK(run("/tell al").matches.empty());
  // After the user: message text (nothing), a finished /verify (nothing).
  CHECK(run("/tell bob hel").matches.empty());
  CHECK(run("/verify bob x").matches.empty());
  CHECK(run("/all b").matches.empty());
}

TEST_CASE("cli completion: file paths after /file <user>", "[cli]") {
  Completion c = run("/file bob re");
  CHECK(c.start == 10);
  CHECK(c.matches == Strings{"readme.md", "report.pdf"});
  c = run("/file bob rep");
  CHECK(c.matches == Strings{"report.pdf"});
  CHECK(c.final);
  c = run("/file bob d");
  CHECK(c.matches == Strings{"docs/"});
  CHECK_FALSE(c.final);  // the user goes on into the folder
  c = run("/file all docs/");
  CHECK(c.start == 10);
  CHECK(c.matches == Strings{"docs/guide.txt", "docs/img/"});
  CHECK(run("/file bob docs/g").matches == Strings{"docs/guide.txt"});
  CHECK(run("/file bob ").matches ==
        Strings{"docs/", "my file.txt", "readme.md", "report.pdf"});  // hidden ones left out
  CHECK(run("/file bob .h").matches == Strings{".hidden"});
  CHECK(run("/file bob my f").matches == Strings{"my file.txt"});  // blanks in a path
  CHECK(run("/file bob nothing").matches.empty());
  CHECK(complete("/file bob re", kUsers, kAlice, nullptr).matches.empty());
}

TEST_CASE("cli completion: common prefix stays on a code point boundary", "[cli]") {
  CHECK(common_prefix({}).empty());
  CHECK(common_prefix({"report.pdf", "readme.md"}) == "re");
  CHECK(common_prefix({"bob"}) == "bob");
  CHECK(common_prefix({"\xc3\xa9"
                       "1",
                       "\xc3\xa9"
                       "2"}) == "\xc3\xa9");  // é1, é2 -> é
  CHECK(common_prefix({"\xc3\xa9"
                       "a",
                       "\xc3\xa8"
                       "b"})
            .empty());                                              // é / è share a lead byte
  CHECK(common_prefix({"a\xe6\x97\xa5", "a\xe6\x97\xa6"}) == "a");  // 3-byte characters
}

TEST_CASE("cli completion: listing a real directory", "[cli]") {
  char tmpl[] = "/tmp/socp-cli-complete-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  const std::string dir = tmpl;
  { std::ofstream(dir + "/a.txt") << "x"; }
  REQUIRE(::mkdir((dir + "/sub").c_str(), 0700) == 0);
  REQUIRE(::symlink((dir + "/sub").c_str(), (dir + "/link").c_str()) == 0);
  std::vector<DirEntry> entries = list_directory(dir + "/");
  std::sort(entries.begin(), entries.end(),
            [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
  REQUIRE(entries.size() == 3);
  CHECK(entries[0].name == "a.txt");
  CHECK_FALSE(entries[0].is_dir);
  CHECK(entries[1].name == "link");
  CHECK(entries[1].is_dir);  // a link to a folder completes like a folder
  CHECK(entries[2].name == "sub");
  CHECK(entries[2].is_dir);
  CHECK(list_directory(dir + "/missing/").empty());
  ::unlink((dir + "/link").c_str());
  ::rmdir((dir + "/sub").c_str());
  ::unlink((dir + "/a.txt").c_str());
  ::rmdir(dir.c_str());
}

// A display name comes from the network. One with an escape sequence is narrower raw (the
// sequence takes no column) than printed ("?[31m" takes five): the padding was computed from
// the raw width and underflowed — std::length_error, and socp-cli died on a double Tab.
TEST_CASE("cli completion: candidates with control characters are laid out as printed",
          "[cli][regression]") {
  const std::vector<std::string> matches = {"a\x1b[31mb", "bob", "\x1b[2Jx"};
  std::string text;
  REQUIRE_NOTHROW(text = format_candidates(matches, 80));
  CHECK(text == "a?[31mb  bob      ?[2Jx");
  CHECK(text.find('\x1b') == std::string::npos);
  CHECK(format_candidates({"alice", "bob", "carol"}, 15) == "alice  bob\ncarol");
  CHECK(format_candidates({"alice", "bob", "carol"}, 12) == "alice\nbob\ncarol");
  CHECK(format_candidates({}, 80).empty());
  CHECK(format_candidates({"x"}, 1) == "x");
}

// Such a name is not offered for insertion into the line either: its id is.
TEST_CASE("cli completion: a name with control characters completes to its id", "[cli]") {
  const UserList users = {{kAlice, "alice"}, {kBob, "b\x1b[31mob"}};
  CHECK(complete("/tell b", users, kAlice, fake_dir).matches == Strings{kBob});
}
