// Private: the client side of the public channel (docs/protocol-notes.md "Public channel").
// Implemented in client_public.cpp; ClientCore::Impl holds one ChannelState.
//
// Sender keys: on its first /all of a session the client makes a channel key K (32 bytes) with a
// random key_id, wraps K with RSA-OAEP to every other member's pinned key and sends the wrapped
// copies in PUBLIC_CHANNEL_KEY_SHARE; later members get K as soon as the client learns of them
// (PUBLIC_CHANNEL_UPDATED, USER_ADVERTISE, LIST_RESPONSE, PUBKEY_RESPONSE). Posts are
// MSG_PUBLIC_CHANNEL frames encrypted under K (channel_cipher.h) and content-signed.
// Incoming posts are checked (pinned sender key, content_sig) and decrypted with the sender's K;
// a post whose K has not arrived yet is held (at most kMaxHeldPosts, kHoldMs each) and opened
// when the share comes, or reported as `rejected` ("no channel key").
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "socp/bytes.h"
#include "socp/client_core.h"
#include "socp/envelope.h"

namespace socp::client {

inline constexpr std::size_t kMaxHeldPosts = 256;
inline constexpr std::int64_t kHoldMs = 30'000;
/// Key shares per PUBLIC_CHANNEL_KEY_SHARE frame (~1.4 KiB each): far below the 1 MiB limit.
inline constexpr std::size_t kSharesPerFrame = 128;
/// Channel keys remembered per sender (a sender makes a new key every session).
inline constexpr std::size_t kKeysPerSender = 4;

/// A verified post waiting for its sender's channel key.
struct HeldPost {
  std::string sender, key_id, ciphertext, sender_pub;
  std::int64_t ts = 0;       ///< the post's original ts
  std::int64_t held_at = 0;  ///< local clock when held
};

struct ChannelState {
  // Our own sender key (created by the first /all of the session).
  std::optional<SecretBytes> key;
  std::string key_id;
  std::set<std::string> shared_with;  ///< members holding our current key
  std::size_t unshareable = 0;        ///< members without a usable key at the last round
  // Membership: PUBLIC_CHANNEL_UPDATED plus every user we hear of (all users are members).
  std::int64_t version = -1;
  std::set<std::string> members;
  std::int64_t list_asked_version = -2;  ///< version for which we asked a LIST for keys
  // Other members' keys: sender -> (key_id, K), oldest first, at most kKeysPerSender.
  std::map<std::string, std::deque<std::pair<std::string, SecretBytes>>> keys;
  std::deque<HeldPost> held;
};

// ---- called by ClientCore (client_core.cpp) ---------------------------------------------------
/// MSG_PUBLIC_CHANNEL / PUBLIC_CHANNEL_KEY_SHARE / PUBLIC_CHANNEL_UPDATED (server sig checked).
void public_on_post(ClientCore::Impl& s, const Envelope& env);
void public_on_key_share(ClientCore::Impl& s, const Envelope& env);
void public_on_updated(ClientCore::Impl& s, const Envelope& env);
/// After any verified frame: notes users named by presence/list/pubkey frames as members and
/// shares our key with members that do not have it yet.
void public_after_frame(ClientCore::Impl& s, const Envelope& env);
/// Our sender key for this session, made on first use, and shared with every known member that
/// lacks it: the KEY_SHARE frames are queued now, so they precede whatever the caller sends
/// next (a post, a public file). False if the session is ending (e.g. signing failed).
bool public_ensure_key(ClientCore::Impl& s);
/// The channel key `sender` shared with us under `key_id`, or nullptr.
const SecretBytes* public_find_key(const ChannelState& ch, const std::string& sender,
                                   const std::string& key_id);
/// Held posts older than kHoldMs become `rejected` ("no channel key").
void public_tick(ClientCore::Impl& s);
/// Session over: forgets every key (wiped) and held post.
void public_closed(ClientCore::Impl& s);

}  // namespace socp::client
