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
  /// Directory size at the last membership scan (the directory never forgets a user, so a new
  /// size is the only sign of new members: the check is O(1)).
  std::size_t dir_size_seen = std::numeric_limits<std::size_t>::max();
  json::Value updated;  ///< the current PUBLIC_CHANNEL_UPDATED payload
};

/// The server's channel state, loaded from the store on first use.
PublicState& public_state(ServerCore::Impl& s);

/// Adds every directory user that is not a member yet (persisted), bumps the version and, if it
/// changed, sends PUBLIC_CHANNEL_UPDATED to every local session and PUBLIC_CHANNEL_ADD for new
/// local users to the socp servers. O(1) when the directory did not grow. Returns true if the
/// version changed (every local session was sent the new UPDATED).
bool public_sync(ServerCore::Impl& s);
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
