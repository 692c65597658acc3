// Names of the server counters (socp/server_counters.h), in enum order.
#include <array>

#include "socp/server_counters.h"

namespace socp {

namespace {
constexpr std::array<std::string_view, kCounterCount> kNames = {
    "bad_frames",
    "invalid_sigs",
    "unknown_types",
    "undeliverable",
    "public_rejected",
    "duplicates",
    "rejected_forged_senders",
    "public_store_errors",
    "errors_sent",
    "unknown_inner_types",
    "unexpected_welcomes",
    "unauthenticated_frames",
    "stale_frames",
    "snapshots_applied",
    "sign_failures",
    "servers_welcomed",
    "server_key_conflicts",
    "routed_remote",
    "rejected_snapshots",
    "rejected_server_hellos",
    "rejected_removes",
    "rejected_adverts_key",
    "rejected_adverts_conflict",
    "rejected_adverts_authority",
    "registrations",
    "recoveries_refused",
    "recoveries",
    "public_versions",
    "public_shares_stored",
    "public_posts_relayed",
    "public_posts_received",
    "public_posts",
    "public_key_shares_received",
    "public_key_shares",
    "public_delivered",
    "public_adds",
    "oversize_frames",
    "logins_refused",
    "logins",
    "lists",
    "links_up",
    "links_timed_out",
    "links_duplicate",
    "links_down",
    "key_conflicts",
    "joins",
    "join_attempts",
    "idle_unauthenticated_closed",
    "frames_out",
    "frames_in",
    "frames_forwarded",
    "gossip_not_forwarded",
    "file_errors",
    "file_frames_remote",
    "file_frames_public_in",
    "file_frames_public",
    "file_frames_local",
    "file_frames_dropped",
    "file_frames_delivered",
    "evictions",
    "errors_from_users",
    "errors_from_servers",
    "dials",
    "delivered_local",
    "deliveries_coalesced",
    "connections_accepted",
    "busy",
    "bad_keys",
    "signatures_requested",
    "signatures_reused",
    "frames_dropped_budget",
    "budget_closes",
    "context_missing",
    "context_mismatch",
    "unknown_fields_refused",
    "link_proofs_failed",
    "links_refused_admission",
    "links_refused_cap",
    "peers_forgotten",
    "servers_introduced",
    "logins_replayed",
    "challenges_issued",
    "login_proofs_rejected",
    "adverts_unproven_ignored",
    "sign_queue_full",
    "recover_backoff",
    "users_cap_refused",
    "key_reuse_refused",
    "store_commits",
    "store_commit_errors",
    "snapshots_duplicate",
    "logouts",
    "users_forgotten",
    "connections_closed",
    "accounts_deleted",
    "registrations_refused",
    "messages_queued",
    "messages_delivered",
    "messages_expired",
    "mailbox_full",
    "hops_acked",
    "dialect_out",
    "dialect_in",
    "receive_only_links",
    "file_bulk_chunks_relayed",
    "file_bulk_refused",
};

constexpr bool all_named() {
  for (std::string_view n : kNames) {
    if (n.empty()) return false;
  }
  return true;
}
static_assert(all_named(), "every Counter needs its name, in enum order");
}  // namespace

std::string_view counter_name(Counter c) noexcept {
  const auto i = static_cast<std::size_t>(c);
  return i < kNames.size() ? kNames[i] : std::string_view("unknown");
}

}  // namespace socp
