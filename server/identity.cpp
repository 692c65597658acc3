// server/identity.cpp — load or create the server identity.
#include "identity.h"

#include <sodium.h>

#include <cstdio>
#include <fstream>
#include <iterator>

#include "socp/bytes.h"
#include "socp/client_core.h"  // format_fingerprint

namespace socp_server {

namespace {
void wipe(std::string& s) {
  if (!s.empty()) sodium_memzero(&s[0], s.size());
  s.clear();
}
socp::Result<socp::PrivateKey> read_key_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string pem((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) {
    return socp::make_error(socp::Errc::Io, "cannot read the key file " + path);
  }
  auto k = socp::PrivateKey::from_pem(pem);
  wipe(pem);
  if (!k) return socp::make_error(k.code(), "key file " + path + ": " + k.error().detail);
  return k;
}

}  // namespace

socp::Result<LoadedIdentity> load_identity(socp::Store& store, const std::string& where) {
  auto identity = store.get_identity();
  if (!identity) {
    if (identity.code() == socp::Errc::NotFound) return identity.error();
    return socp::make_error(identity.code(), "cannot read the server identity in " + where + ": " +
                                                 identity.error().detail);
  }
  auto k = socp::PrivateKey::from_pem(identity.value().private_key_pem);
  wipe(identity.value().private_key_pem);
  if (!k) {
    return socp::make_error(socp::Errc::Corrupt,
                            "server identity in " + where + " is unreadable: " + k.error().detail);
  }
  return LoadedIdentity{identity.value().server_id, std::move(k.value()), false};
}

socp::Result<LoadedIdentity> load_or_create_identity(socp::Store& store, const std::string& where,
                                                     bool multi_prime,
                                                     const std::string& seed_pem_file) {
  auto loaded = load_identity(store, where);
  if (loaded || loaded.code() != socp::Errc::NotFound) return loaded;
  socp::Result<socp::PrivateKey> k = socp::make_error(socp::Errc::Internal, "no key");
  if (!seed_pem_file.empty()) {
    k = read_key_file(seed_pem_file);
    if (!k) return k.error();
  } else {
    std::fprintf(stderr, "generating server identity (RSA-4096)\xe2\x80\xa6\n");
    k = socp::PrivateKey::generate(multi_prime ? 4 : 2);
    if (!k) return socp::make_error(k.code(), "cannot generate a key: " + k.error().detail);
  }
  socp::ServerIdentity id;
  id.server_id = socp::new_uuid_v4();
  socp::SecretBytes pem = k.value().to_pem();
  id.private_key_pem.assign(pem.view());
  socp::Status st = store.put_identity(id);
  wipe(id.private_key_pem);
  if (!st) {
    return socp::make_error(
        st.code(), "cannot store the server identity in " + where + ": " + st.error().detail);
  }
  return LoadedIdentity{id.server_id, std::move(k.value()), true};
}

std::string fingerprint(const socp::PublicKey& pub) {
  return "SHA256:" + socp::format_fingerprint(pub.fingerprint_hex());
}

std::string describe_identity(const std::string& server_id, const socp::PublicKey& pub) {
  return "server_id   " + server_id + "\npublic_key  " + pub.b64url() + "\nfingerprint " +
         fingerprint(pub) + "\n";
}

}  // namespace socp_server
