// The identity folder: round trip, file modes, wrong password, bad names.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "fixtures.h"
#include "socp/identity.h"

using namespace socp;

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/socp-identity-test-XXXXXX";
    char* p = ::mkdtemp(tmpl);
    REQUIRE(p != nullptr);
    path = p;
  }
  ~TempDir() {
    std::string cmd = "rm -rf '" + path + "'";
    (void)std::system(cmd.c_str());
  }
};

mode_t mode_of(const std::string& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 0777;
}

}  // namespace

TEST_CASE("identity: save, load, unlock, modes 0700/0600, no plaintext key", "[client]") {
  TempDir tmp;
  const std::string home = tmp.path + "/home/.socp";  // parents are created too
  const PrivateKey& alice = test::fixture_key("alice");
  Identity id;
  id.user_id = "a11ce000-0000-4000-8000-000000000001";
  id.display_name = "alice";
  id.server = "127.0.0.1:8765";
  id.vault = KeyVault::seal(alice, "pa55word").value();

  CHECK_FALSE(identity::exists(home, "alice"));
  REQUIRE(identity::save(home, id).ok());
  CHECK(identity::exists(home, "alice"));
  const std::string file = identity::identity_path(home, "alice");
  CHECK(file == home + "/alice/identity.json");
  CHECK(mode_of(home + "/alice") == 0700);
  CHECK(mode_of(file) == 0600);

  std::ifstream in(file);
  std::stringstream ss;
  ss << in.rdbuf();
  CHECK(ss.str().find("PRIVATE KEY") == std::string::npos);
  CHECK(ss.str().find("pa55word") == std::string::npos);

  auto loaded = identity::load(home, "alice");
  REQUIRE(loaded.ok());
  CHECK(loaded->user_id == id.user_id);
  CHECK(loaded->display_name == "alice");
  CHECK(loaded->server == "127.0.0.1:8765");
  CHECK(loaded->vault == id.vault);

  auto key = identity::unlock(loaded.value(), "pa55word");
  REQUIRE(key.ok());
  CHECK(key->public_key() == alice.public_key());
  auto bad = identity::unlock(loaded.value(), "wrong");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.code() == Errc::BadPassword);

  // Replacing keeps the modes.
  id.server = "10.0.0.1:9000";
  REQUIRE(identity::save(home, id).ok());
  CHECK(identity::load(home, "alice")->server == "10.0.0.1:9000");
  CHECK(mode_of(file) == 0600);
}

TEST_CASE("identity: missing, corrupt, bad names", "[client]") {
  TempDir tmp;
  auto missing = identity::load(tmp.path, "nobody");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.code() == Errc::NotFound);

  REQUIRE(::mkdir((tmp.path + "/broken").c_str(), 0700) == 0);
  std::ofstream(tmp.path + "/broken/identity.json") << "{\"v\":1,\"user_id\":\"x\"}";
  auto corrupt = identity::load(tmp.path, "broken");
  REQUIRE_FALSE(corrupt.ok());
  CHECK(corrupt.code() == Errc::Corrupt);

  for (const char* name : {"", ".", "..", "a/b", "../evil", "-rf", "tab\there", "back\\slash"}) {
    CAPTURE(name);
    CHECK(identity::validate_display_name(name).code() == Errc::InvalidArgument);
  }
  CHECK(identity::validate_display_name("alice").ok());
  CHECK(identity::validate_display_name("Zoë Ω").ok());

  Identity id;
  id.user_id = "a11ce000-0000-4000-8000-000000000001";
  id.display_name = "../evil";
  id.vault = "x";
  CHECK(identity::save(tmp.path, id).code() == Errc::InvalidArgument);
}

TEST_CASE("identity: home resolution", "[client]") {
  CHECK(identity::resolve_home("/explicit").value() == "/explicit");
  const char* old_socp = std::getenv("SOCP_HOME");
  std::string saved = old_socp ? old_socp : "";
  ::setenv("SOCP_HOME", "/from/env", 1);
  CHECK(identity::resolve_home("").value() == "/from/env");
  ::unsetenv("SOCP_HOME");
  const char* home = std::getenv("HOME");
  if (home && *home) CHECK(identity::resolve_home("").value() == std::string(home) + "/.socp");
  if (old_socp) ::setenv("SOCP_HOME", saved.c_str(), 1);
}
