// The on-disk identity folder (socp/identity.h): folder 0700, file 0600, replaced atomically
// (core/client/private_file.h).
#include <sys/stat.h>

#include <cstdlib>
#include <string>

#include "codec/utf8.h"
#include "core/client/private_file.h"
#include "socp/identity.h"
#include "socp/json.h"

namespace socp::identity {
namespace {

constexpr std::size_t kMaxIdentityFile = 1u << 20;

using client::join_path;

}  // namespace

Result<std::string> resolve_home(std::string_view explicit_home) {
  if (!explicit_home.empty()) return std::string(explicit_home);
  const char* socp_home = std::getenv("SOCP_HOME");
  if (socp_home && *socp_home) return std::string(socp_home);
  const char* home = std::getenv("HOME");
  if (home && *home) return join_path(home, ".socp");
  return make_error(Errc::InvalidArgument, "no identity home: use --home or set SOCP_HOME");
}

Status validate_display_name(std::string_view name) {
  if (name.empty() || name.size() > 64) {
    return make_error(Errc::InvalidArgument, "display name must be 1..64 bytes");
  }
  if (name == "." || name == ".." || name.front() == '-') {
    return make_error(Errc::InvalidArgument, "display name cannot be '.', '..' or start with '-'");
  }
  if (!codec::valid_utf8(name)) {
    return make_error(Errc::InvalidArgument, "display name is not valid UTF-8");
  }
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f || c == '/' || c == '\\') {
      return make_error(Errc::InvalidArgument,
                        "display name cannot contain '/', '\\' or control characters");
    }
  }
  return ok_status();
}

std::string identity_path(std::string_view home, std::string_view display_name) {
  return join_path(join_path(home, display_name), "identity.json");
}

bool exists(std::string_view home, std::string_view display_name) {
  struct stat st {};
  return ::stat(identity_path(home, display_name).c_str(), &st) == 0;
}

Result<Identity> load(std::string_view home, std::string_view display_name) {
  SOCP_TRY(validate_display_name(display_name));
  const std::string path = identity_path(home, display_name);
  auto text = client::read_private_file(path, kMaxIdentityFile);
  if (!text) {
    if (text.code() == Errc::NotFound) return make_error(Errc::NotFound, "no identity at " + path);
    if (text.code() == Errc::Corrupt)
      return make_error(Errc::Corrupt, "identity file too large: " + path);
    return text.error();
  }
  auto v = json::parse(text.value());
  if (!v || !v->is_object()) return make_error(Errc::Corrupt, "unreadable identity file " + path);
  const std::int64_t* ver = json::get_int(v.value(), "v");
  const std::string* uid = json::get_string(v.value(), "user_id");
  const std::string* name = json::get_string(v.value(), "display_name");
  const std::string* server = json::get_string(v.value(), "server");
  const std::string* vault = json::get_string(v.value(), "vault");
  if (!ver || *ver != 1 || !uid || !is_uuid(*uid) || !name || !server || !vault || vault->empty()) {
    return make_error(Errc::Corrupt, "identity file " + path + " lacks v/user_id/vault");
  }
  if (*name != display_name) {
    return make_error(Errc::Corrupt, "identity file " + path + " is for another display name");
  }
  return Identity{*uid, *name, *server, *vault};
}

Status save(std::string_view home, const Identity& id) {
  SOCP_TRY(validate_display_name(id.display_name));
  if (!is_uuid(id.user_id) || id.vault.empty()) {
    return make_error(Errc::InvalidArgument, "identity needs a user id and a vault");
  }
  const std::string dir = join_path(home, id.display_name);
  SOCP_TRY(client::make_private_dirs(dir));
  if (::chmod(dir.c_str(), 0700) != 0) return make_error(Errc::Io, "cannot chmod " + dir);

  json::Object obj{{"v", 1},
                   {"user_id", id.user_id},
                   {"display_name", id.display_name},
                   {"server", id.server},
                   {"vault", id.vault}};
  return client::write_private_file(join_path(dir, "identity.json"),
                                    json::canonical(json::Value(std::move(obj))) + "\n");
}

Result<PrivateKey> unlock(const Identity& id, std::string_view password) {
  return KeyVault::open(id.vault, password);
}

}  // namespace socp::identity
