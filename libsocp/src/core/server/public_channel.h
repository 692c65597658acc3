// Private: the public channel on the server side (docs/protocol.md §6, docs/protocol-notes.md
// "Public channel"). Implemented in handle_public.cpp.
//
// Group "public" (creator "system"): every user the DirectoryService knows is a member; the
// group's version is the number of members, so it grows by one on every new member and every
// server that knows the same users reports the same version. groups/group_members are persisted;
// group_members(public, m).wrapped_key holds the channel keys other members wrapped for m, as a
// JSON object {sender_id: {key_id, wrapped, sig, creator_pub}} (only for members located at
// this server). The server never sees an unwrapped channel key.
//
// Cost: a post is signed once per server whatever the number of members (one payload, reused
// for every server link and every local member: SignBook).
#pragma once

#include <cstddef>
#include <limits>
#include <map>
#include <string>

#include "core/server/core_impl.h"
#include "socp/store.h"

namespace socp::core {

struct PublicState {
  bool loaded = false;
  bool group_stored = false;  ///< the group record is in the store
  GroupRecord group;
  std::map<std::string, GroupMemberRecord> members;  ///< by member id (sorted)
  std::size_t dir_cursor = 0;                        ///< DirectoryService::for_each_added position
  bool scanned = false;                              ///< the first sync ran
  /// The current PUBLIC_CHANNEL_UPDATED payload (null: rebuild before use). It lists every
  /// member, so it is built at most once per change and broadcast at most once per second.
  json::Value updated;
  bool broadcast_due = false;  ///< the sessions have not been sent the current one
  std::int64_t last_broadcast = std::numeric_limits<std::int64_t>::min() / 2;  ///< last sent
};

/// The server's channel state, loaded from the store on first use.
PublicState& public_state(ServerCore::Impl& s);

/// Adds every directory user that is not a member yet (persisted), bumps the version and, if it
/// changed, sends PUBLIC_CHANNEL_ADD for new local users to the socp servers and
/// PUBLIC_CHANNEL_UPDATED to every local session — at once if none went out in the last
/// second, else at the next tick (a burst of registrations costs one O(members) payload and
/// one signature per second, not per registration). O(new users). Returns true if every
/// local session was just sent the current UPDATED.
bool public_sync(ServerCore::Impl& s);
/// Tick: sends a PUBLIC_CHANNEL_UPDATED held back by public_sync.
void public_tick(ServerCore::Impl& s);
/// A user just logged in on `c` (called from handle_user_hello before login_local): sends it
/// the current PUBLIC_CHANNEL_UPDATED and the key shares stored for it.
void public_on_login(ServerCore::Impl& s, Conn& c);

// From a logged-in user.
void handle_public_post(ServerCore::Impl& s, Conn& c, const Envelope& env);
void handle_public_key_share(ServerCore::Impl& s, Conn& c, const Envelope& env);
// From a server (signature already verified by the dispatcher).
void handle_server_public_post(ServerCore::Impl& s, Conn& c, const Envelope& env);
void handle_server_public_key_share(ServerCore::Impl& s, Conn& c, const Envelope& env);
void handle_server_public_add(ServerCore::Impl& s, Conn& c, const Envelope& env);

}  // namespace socp::core
