#include "core/client/file_bulk.h"

#include <openssl/evp.h>
#include <sodium.h>

#include <array>
#include <stdexcept>

#include "codec/sodium_once.h"

namespace socp::client::bulk {
namespace {

static_assert(kKeyBytes == crypto_aead_xchacha20poly1305_ietf_KEYBYTES, "key size");
static_assert(kTagBytes == crypto_aead_xchacha20poly1305_ietf_ABYTES, "tag size");

constexpr std::string_view kLabel = "socp-bulk-v1";

std::array<unsigned char, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES> nonce_for(
    std::int64_t index) {
  std::array<unsigned char, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES> n{};
  static_assert(n.size() == 24, "XChaCha20 nonce");
  for (std::size_t i = 0; i < kLabel.size(); ++i) n[i] = static_cast<unsigned char>(kLabel[i]);
  auto u = static_cast<std::uint64_t>(index);
  for (int i = 0; i < 8; ++i) n[23 - i] = static_cast<unsigned char>(u >> (8 * i));
  return n;
}

const unsigned char* uc(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

std::int64_t chunk_count(std::uint64_t size, std::uint64_t chunk) {
  if (size == 0 || chunk == 0) return 1;
  return static_cast<std::int64_t>((size + chunk - 1) / chunk);
}

SecretBytes new_key() {
  codec::ensure_sodium();
  SecretBytes k(kKeyBytes);
  randombytes_buf(k.data(), k.size());
  return k;
}

std::string chunk_ad(std::string_view file_id, std::int64_t index, bool last) {
  std::string ad(kLabel);
  ad.append("|").append(file_id).append("|").append(std::to_string(index));
  ad.append(last ? "|1" : "|0");
  return ad;
}

Result<Bytes> seal_chunk(const SecretBytes& key, std::string_view file_id, std::int64_t index,
                         bool last, std::string_view plain) {
  if (key.size() != kKeyBytes) return make_error(Errc::InvalidArgument, "file key is not 32 bytes");
  codec::ensure_sodium();
  const std::string ad = chunk_ad(file_id, index, last);
  const auto nonce = nonce_for(index);
  Bytes out(plain.size() + kTagBytes);
  unsigned long long n = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(out.data(), &n, uc(plain), plain.size(), uc(ad),
                                             ad.size(), nullptr, nonce.data(), key.data());
  out.resize(static_cast<std::size_t>(n));
  return out;
}

Result<std::string> open_chunk(const SecretBytes& key, std::string_view file_id, std::int64_t index,
                               bool last, const Bytes& sealed) {
  if (key.size() != kKeyBytes) return make_error(Errc::InvalidArgument, "file key is not 32 bytes");
  if (sealed.size() < kTagBytes) return make_error(Errc::BadFrame, "chunk shorter than its tag");
  codec::ensure_sodium();
  const std::string ad = chunk_ad(file_id, index, last);
  const auto nonce = nonce_for(index);
  std::string out(sealed.size() - kTagBytes, '\0');
  unsigned long long n = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(reinterpret_cast<unsigned char*>(out.data()), &n,
                                                 nullptr, sealed.data(), sealed.size(), uc(ad),
                                                 ad.size(), nonce.data(), key.data()) != 0) {
    return make_error(Errc::Crypto, "chunk " + std::to_string(index) + " does not decrypt");
  }
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string manifest_bytes(const msg::FileBulkStart& m, std::string_view from,
                           std::string_view to) {
  json::Array hashes;
  hashes.reserve(m.chunk_sha256.size());
  for (const std::string& h : m.chunk_sha256) hashes.emplace_back(h);
  return json::canonical(json::Object{{"chunk_sha256", json::Value(std::move(hashes))},
                                      {"chunk_size", m.chunk_size},
                                      {"chunks", m.chunks},
                                      {"file_id", m.file_id},
                                      {"from", std::string(from)},
                                      {"name", m.name},
                                      {"sha256", m.sha256},
                                      {"size", m.size},
                                      {"to", std::string(to)},
                                      {"v", std::string(kLabel)},
                                      {"wrapped_key", m.wrapped_key}});
}

struct Sha256::Ctx {
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  ~Ctx() { EVP_MD_CTX_free(md); }
};

Sha256::Sha256() : ctx_(std::make_unique<Ctx>()) {
  // Only possible without a usable default provider: a broken installation, not input.
  if (!ctx_->md || EVP_DigestInit_ex(ctx_->md, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("SHA-256 unavailable");
  }
}
Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::update(std::string_view d) {
  EVP_DigestUpdate(ctx_->md, d.data(), d.size());
}

std::string Sha256::hex() {
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(ctx_->md, d, &n);
  return hex_encode(d, n);
}

Receiver::Receiver(msg::FileBulkStart manifest, SecretBytes key)
    : m_(std::move(manifest)), key_(std::move(key)) {}

Result<std::string> Receiver::accept(const msg::FileBulkChunk& c) {
  if (broken_) return make_error(Errc::BadFrame, "transfer already failed");
  broken_ = true;  // until this chunk checks out
  const std::string at = "chunk " + std::to_string(c.index);
  if (c.file_id != m_.file_id) return make_error(Errc::BadFrame, at + " belongs to another file");
  if (complete()) return make_error(Errc::BadFrame, at + " after the last chunk");
  if (c.index != next_) {
    return make_error(Errc::BadFrame,
                      at + " arrived where chunk " + std::to_string(next_) + " was expected");
  }
  if (c.last != (c.index == m_.chunks - 1)) {
    return make_error(Errc::BadFrame, at + " has the wrong last-chunk flag");
  }
  auto sealed = b64_decode(c.ciphertext);
  if (!sealed) return make_error(Errc::BadFrame, at + " is not base64");
  const std::string digest = hex_encode(sha256(sealed->data(), sealed->size()));
  if (digest != m_.chunk_sha256[static_cast<std::size_t>(c.index)]) {
    return make_error(Errc::Crypto, at + " does not match the signed manifest");
  }
  auto plain = open_chunk(key_, m_.file_id, c.index, c.last, sealed.value());
  if (!plain) return plain.error();
  const std::uint64_t expect =
      c.last ? static_cast<std::uint64_t>(m_.size) -
                   static_cast<std::uint64_t>(c.index) * static_cast<std::uint64_t>(m_.chunk_size)
             : static_cast<std::uint64_t>(m_.chunk_size);
  if (plain->size() != expect) {
    return make_error(Errc::BadFrame, at + " has " + std::to_string(plain->size()) +
                                          " bytes, expected " + std::to_string(expect));
  }
  whole_.update(plain.value());
  bytes_ += plain->size();
  ++next_;
  broken_ = false;
  return plain;
}

Status Receiver::finish() {
  if (broken_) return make_error(Errc::BadFrame, "transfer already failed");
  if (!complete()) {
    return make_error(Errc::BadFrame, "incomplete: " + std::to_string(next_) + " of " +
                                          std::to_string(m_.chunks) + " chunks");
  }
  broken_ = true;  // finish() runs once
  if (bytes_ != static_cast<std::uint64_t>(m_.size)) {
    return make_error(Errc::BadFrame, "size mismatch");
  }
  if (whole_.hex() != m_.sha256) return make_error(Errc::Crypto, "sha256 mismatch");
  return ok_status();
}

}  // namespace socp::client::bulk
