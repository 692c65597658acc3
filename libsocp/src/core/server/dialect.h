// Private: peer dialects — how socp talks to servers of other SOCP implementations.
//
// Every linked server has a dialect. socp/1 servers speak socp's profile exactly; for the
// others socp keeps today's plain rules and adds the accommodations each implementation needs
// (docs/interop.md). The dialect is detected from what a server sends, or set by the operator
// (ServerConfig::peer_dialects). It decides, in this one module:
//   * how socp encodes what it sends there (encode_for): key form, extra fields;
//   * the reactions a dialect needs after a frame was handled (backfill adverts for G43 and
//     G56, in handle_presence via wants_backfill);
//   * what socp clients are told about users living there (ListEntry::server_dialect): the
//     content-signature variant their clients verify, whether /all must travel as DMs.
// Handlers stay dialect-free. No accommodation applies to socp/1 servers, and none weakens a
// signature check: every frame from any server is still verified against its pinned key, and
// the directory rules (R1–R7) apply unchanged. Every accommodation is counted
// (Counter::DialectOut / DialectIn) and logged at debug level.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "socp/crypto.h"
#include "socp/envelope.h"
#include "socp/json.h"
#include "socp/protocol.h"

namespace socp::core {

enum class Dialect {
  Socp,   ///< announced socp/1
  Plain,  ///< another implementation, nothing specific known: the profile as written
  G43,    ///< meta.username, backfill adverts, inner_type/public in deliveries, one socket
          ///< per direction, content_sig over SHA-256 of the concatenation
  G56,    ///< keys as base64url of PEM text only, unsigned LINK/ANNOUNCE
  G17,    ///< keyless adverts (PUBKEY_REQUEST), learns keys from WELCOME/ANNOUNCE ids
};

std::string_view dialect_name(Dialect d) noexcept;
/// "socp", "plain", "g43", "g56", "g17" (case-insensitive); nullopt otherwise.
std::optional<Dialect> dialect_from_name(std::string_view name) noexcept;

/// What the form of a server's own key says about its dialect (G56 sends base64url PEM text;
/// nullopt = nothing conclusive). Also applied to the key in an introduction, whose other
/// fields are the introducer's and say nothing about the server introduced.
std::optional<Dialect> dialect_of_key(const std::string& key);
/// What a server's hello/announce says about its dialect (nullopt = nothing conclusive).
std::optional<Dialect> dialect_of_hello(const json::Value& payload, bool has_socp_cap);

/// base64url of the PEM text of `key` (the only key form G56 parses).
std::string pem_b64url(const PublicKey& key);

/// `key` of a server of dialect `d` in the form that server presents it itself (G56: PEM text,
/// base64url; others: socp's base64url DER). socp vouches for a server without socp/1 to its
/// socp peers (SERVER_INTRODUCE) with the key in this form, so that they detect its dialect
/// from the introduction (dialect_of_hello) before they first dial it, and encode their hello
/// for it. Any key form names the same key: the pin is unchanged.
std::string key_as_presented(Dialect d, const PublicKey& key);

/// The envelope ts to use towards a server of dialect `d`, when it is not socp's own: servers
/// without socp/1 hand a SERVER_DELIVER's envelope ts to their client, which checks the
/// content_sig against it, so it must be the sender's original ts (`orig_ts`).
std::optional<std::int64_t> envelope_ts_for(Dialect d, MessageType type,
                                            const json::Value& payload);

/// Adjusts a payload socp is about to sign for a server of dialect `d` (before the signed
/// context is added). Returns true if anything changed. `self_id`: this server's id.
bool encode_for(Dialect d, MessageType type, json::Value& payload, const std::string& self_id,
                PublicKeyCache& keys);

/// G43 learns the users of other servers only from adverts sent back to it when one of its
/// users appears ("backfill"). G56 gives a user who logs in no directory either: it only
/// relays the adverts it receives afterwards to its users (MessageHandlers.py:355-380), so
/// its users learn ours from the same backfill.
inline bool wants_backfill(Dialect d) noexcept {
  return d == Dialect::G43 || d == Dialect::G56;
}
/// G43 answers each SERVER_HELLO_LINK by dialing the sender back and writes to it only on
/// that socket (the newest one), and only once it has a frame of its own (a user logs in):
/// until then the socket is silent but for WS pings, and must not be closed as idle.
inline bool dials_back(Dialect d) noexcept {
  return d == Dialect::G43;
}
/// G43 relays its users' FILE_START and FILE_END without `sender` (its client puts none
/// there, client.py:388-437, and its server copies the payload, server.py:381-393); only
/// each FILE_CHUNK names its sender and is content-signed on its own (sender_pub +
/// content_sig, variant C). Such a manifest says only which server it comes from: socp relays
/// it to the recipient with `sender_server` = that server, and socp-cli binds the transfer to
/// the sender of its signed chunks (docs/interop.md "Files from G43").
inline bool sends_unnamed_file_frames(Dialect d) noexcept {
  return d == Dialect::G43;
}
/// G56's /all is a MSG_PUBLIC_CHANNEL whose `ciphertext` is base64url of the plaintext (no
/// channel key, no key_id), content-signed by its user (variant A without `to`), and relayed
/// to servers with `from` = the user's id, signed by the user's server
/// (MessageHandlers.py:776-868). socp takes it as that server's post for its user
/// (ServerCore::Impl::adopt_user_frame) and hands it on with `key_id: ""` (a post in clear).
inline bool posts_in_clear(Dialect d) noexcept {
  return d == Dialect::G56;
}
/// Whether socp vouches for a server of this dialect that joined through it to its socp peers
/// (SERVER_INTRODUCE): they then pin it, take its unsigned hello and dial it. Not G17: it
/// refuses a server hello on a socket it accepted, so their dials would only churn (it links
/// to the servers it dials itself, under the usual admission).
inline bool introduced_to_peers(Dialect d) noexcept {
  return d != Dialect::G17;
}
/// Inbound sockets from such a server carry its frames while it may read only the sockets it
/// accepted (G43: one socket per direction): accept them as receive-only links and dial back.
/// Not G17: it uses its one socket both ways and refuses a server hello on a socket it
/// accepted, so dialing back would only churn.
inline bool splits_sockets(Dialect d) noexcept {
  return d != Dialect::Socp && d != Dialect::G17;
}

}  // namespace socp::core
