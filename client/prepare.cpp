#include "prepare.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "password.h"
#include "socp/identity.h"

namespace socp::cli {
namespace {

constexpr const char* kDefaultServer = "127.0.0.1:8765";

Prepared fail(Printer& p, int code, const std::string& wire, const std::string& detail) {
  p.local_error(wire, detail);
  Prepared out;
  out.exit_code = code;
  out.error_code = wire;
  return out;
}

Result<PrivateKey> load_or_generate_key(const Options& opt) {
  if (!opt.import_key.empty()) {
    std::ifstream in(opt.import_key, std::ios::binary);
    if (!in) return make_error(Errc::Io, "cannot read " + opt.import_key);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    auto key = PrivateKey::from_pem(text);
    std::fill(text.begin(), text.end(), '\0');  // best effort: the PEM is a secret
    return key;
  }
  std::fprintf(stderr, "generating RSA-4096 key…\n");
  std::fflush(stderr);
  return PrivateKey::generate();
}

}  // namespace

std::string trust_path(const std::string& home, const std::string& name) {
  const std::string id_path = identity::identity_path(home, name);
  return id_path.substr(0, id_path.rfind('/') + 1) + "trust.json";
}

Result<std::string> load_server_key(const std::string& option) {
  std::string text = option;
  if (PublicKey::parse(option).ok()) return text;
  std::ifstream in(option, std::ios::binary);
  if (!in) {
    return make_error(Errc::InvalidArgument,
                      "--server-key is neither a usable RSA-4096 public key nor a readable file");
  }
  std::string data(64 * 1024 + 1, '\0');
  in.read(data.data(), static_cast<std::streamsize>(data.size()));
  data.resize(static_cast<std::size_t>(in.gcount()));
  while (!data.empty() && (data.back() == '\n' || data.back() == '\r' || data.back() == ' ')) {
    data.pop_back();
  }
  auto key = PublicKey::parse(data);
  if (!key) {
    return make_error(Errc::InvalidArgument,
                      "--server-key " + option + ": not a usable key (" + key.error().detail + ")");
  }
  return key->b64url();
}

Prepared prepare(const Options& opt, Printer& printer) {
  Prepared p;
  if (Status st = identity::validate_display_name(opt.name); !st) {
    return fail(printer, kExitUsage, "USAGE", st.error().detail);
  }
  auto home = identity::resolve_home(opt.home);
  if (!home) return fail(printer, kExitUsage, "USAGE", home.error().detail);
  p.home = home.value();

  ClientConfig& cfg = p.cfg;
  cfg.display_name = opt.name;
  // Received files go only here (created 0700 on the first file).
  const std::string id_path = identity::identity_path(p.home, opt.name);
  cfg.download_dir = !opt.download_dir.empty()
                         ? opt.download_dir
                         : id_path.substr(0, id_path.rfind('/') + 1) + "downloads";
  cfg.max_file_size = opt.max_file_size;
  cfg.file_bulk = !opt.no_file_bulk;
  // Keys pinned in earlier sessions (a missing file is an empty store; an unreadable one is
  // an error: silently starting afresh would forget every pin).
  auto trust = TrustStore::open(trust_path(p.home, opt.name));
  if (!trust) return fail(printer, kExitUsage, "IO", trust.error().detail);
  cfg.trust = std::move(trust).value();
  if (!opt.server_key.empty()) {
    auto k = load_server_key(opt.server_key);
    if (!k) return fail(printer, kExitUsage, "USAGE", k.error().detail);
    cfg.server_key = std::move(k).value();
  }
  cfg.accept_new_server_key = opt.accept_new_server_key;

  switch (opt.mode) {
    case Options::Mode::Register: {
      if (identity::exists(p.home, opt.name)) {
        return fail(printer, kExitUsage, "USAGE",
                    "an identity named '" + opt.name + "' already exists at " +
                        identity::identity_path(p.home, opt.name));
      }
      auto pw = get_password(opt.password_file, "new password for " + opt.name + ": ", true);
      if (!pw) return fail(printer, kExitUsage, "USAGE", pw.error().detail);
      auto key = load_or_generate_key(opt);
      if (!key) return fail(printer, kExitUsage, "BAD_KEY", key.error().detail);
      cfg.mode = ClientMode::Register;
      cfg.user_id = new_uuid_v4();
      auto vault = KeyVault::seal(key.value(), pw.value().view());
      auto verifier = derive_password_verifier(pw.value().view(), cfg.user_id);
      if (!vault || !verifier) return fail(printer, kExitUsage, "INTERNAL", "cannot seal the key");
      cfg.key = std::move(key).value();
      cfg.privkey_store = vault.value();
      cfg.pake_password = std::move(verifier).value();
      p.vault = std::move(vault).value();
      p.server = opt.server.empty() ? kDefaultServer : opt.server;
      break;
    }
    case Options::Mode::ForgetServer:
      return fail(printer, kExitUsage, "INTERNAL", "forget-server has no session");
    case Options::Mode::Login: {
      auto id = identity::load(p.home, opt.name);
      if (!id) {
        if (id.code() == Errc::NotFound) {
          return fail(printer, kExitUsage, "USAGE",
                      "no identity '" + opt.name + "' in " + p.home +
                          " (run 'socp-cli register --name " + opt.name +
                          "' or 'socp-cli recover')");
        }
        return fail(printer, kExitUsage, "USAGE", id.error().detail);
      }
      auto pw = get_password(opt.password_file, "password for " + opt.name + ": ", false);
      if (!pw) return fail(printer, kExitUsage, "USAGE", pw.error().detail);
      auto key = identity::unlock(id.value(), pw.value().view());
      if (!key) {
        if (key.code() == Errc::BadPassword) {
          return fail(printer, kExitAuth, "BAD_PASSWORD", "wrong password for " + opt.name);
        }
        return fail(printer, kExitUsage, "USAGE", key.error().detail);
      }
      cfg.mode = ClientMode::Login;
      cfg.user_id = id->user_id;
      cfg.key = std::move(key).value();
      p.server = !opt.server.empty()   ? opt.server
                 : !id->server.empty() ? id->server
                                       : kDefaultServer;
      break;
    }
    case Options::Mode::Recover: {
      if (identity::exists(p.home, opt.name)) {
        return fail(printer, kExitUsage, "USAGE",
                    "an identity named '" + opt.name + "' already exists at " +
                        identity::identity_path(p.home, opt.name) + "; just log in");
      }
      // The proof is Argon2id(password) salted with the user id (docs/protocol-notes.md), so
      // it can only be computed from the id: a display name alone cannot make a valid proof.
      if (opt.user_id.empty() || !is_uuid(opt.user_id)) {
        return fail(printer, kExitUsage, "USAGE",
                    "recover needs --user-id <uuid> (shown by /whoami and in identity.json): "
                    "the password proof is salted with the user id");
      }
      auto pw = get_password(opt.password_file, "password for " + opt.name + ": ", false);
      if (!pw) return fail(printer, kExitUsage, "USAGE", pw.error().detail);
      auto proof = derive_password_verifier(pw.value().view(), opt.user_id);
      if (!proof) return fail(printer, kExitUsage, "INTERNAL", proof.error().detail);
      cfg.mode = ClientMode::Recover;
      cfg.user_id = opt.user_id;
      cfg.recover_name = opt.name;
      cfg.recover_proof = std::move(proof).value();
      cfg.password = std::move(pw).value();
      p.server = opt.server.empty() ? kDefaultServer : opt.server;
      break;
    }
  }
  p.server = canonical_address(p.server);
  if (p.server.empty()) return fail(printer, kExitUsage, "USAGE", "bad server address");
  return p;
}

}  // namespace socp::cli
