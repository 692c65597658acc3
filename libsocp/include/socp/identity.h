// socp/identity.h — a user's identity folder on disk (what socp-cli keeps between runs).
//
// Layout: <home>/<display_name>/identity.json =
//   {"v":1,"user_id":..., "display_name":..., "server":"host:port", "vault":<KeyVault blob>}
// The private key is stored only sealed (KeyVault: Argon2id + XChaCha20-Poly1305); the
// plaintext key and the password are never written. The folder is created with mode 0700 and
// the file written with mode 0600 (write to a temporary file, fsync, rename).
// home = the explicit option, else $SOCP_HOME, else $HOME/.socp.
//
// Thread-safety: free functions without shared state. Errors: InvalidArgument (bad display
// name, no usable home), NotFound (no identity), Corrupt (unreadable identity.json), Io,
// BadPassword (unlock with a wrong password).
#pragma once

#include <string>
#include <string_view>

#include "socp/crypto.h"
#include "socp/result.h"

namespace socp {

struct Identity {
  std::string user_id;
  std::string display_name;
  std::string server;  ///< "host:port" the identity was registered on
  std::string vault;   ///< KeyVault blob (privkey_store)
};

namespace identity {

/// `explicit_home` if non-empty, else $SOCP_HOME, else $HOME/.socp. InvalidArgument if none.
Result<std::string> resolve_home(std::string_view explicit_home);
/// Display names usable as a folder: 1..64 bytes of UTF-8, no '/', '\\', control characters,
/// not "." or "..", not starting with '-'.
Status validate_display_name(std::string_view name);
/// <home>/<display_name>/identity.json (no validation).
std::string identity_path(std::string_view home, std::string_view display_name);
/// True if an identity file exists for that name.
bool exists(std::string_view home, std::string_view display_name);
/// Reads and validates identity.json. NotFound if missing, Corrupt if malformed.
Result<Identity> load(std::string_view home, std::string_view display_name);
/// Writes (or replaces) identity.json for id.display_name, creating folders 0700, file 0600.
Status save(std::string_view home, const Identity& id);
/// Opens the vault: BadPassword for a wrong password, Corrupt for a damaged vault.
Result<PrivateKey> unlock(const Identity& id, std::string_view password);

}  // namespace identity
}  // namespace socp
