// socp/server_counters.h — the counters a ServerCore keeps (one enum, stable names).
//
// Every event worth counting in the server core is one Counter. Names are stable: logs,
// tests and the metrics export (socp_<name>_total) use them.
// Thread-safety: pure constants and functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace socp {

enum class Counter : std::uint16_t {
  BadFrames,
  InvalidSigs,
  UnknownTypes,
  Undeliverable,
  PublicRejected,
  Duplicates,
  RejectedForgedSenders,
  PublicStoreErrors,
  ErrorsSent,
  UnknownInnerTypes,
  UnexpectedWelcomes,
  UnauthenticatedFrames,
  StaleFrames,
  SnapshotsApplied,
  SignFailures,
  ServersWelcomed,
  ServerKeyConflicts,
  RoutedRemote,
  RejectedSnapshots,
  RejectedServerHellos,
  RejectedRemoves,
  RejectedAdvertsKey,
  RejectedAdvertsConflict,
  RejectedAdvertsAuthority,
  Registrations,
  RecoveriesRefused,
  Recoveries,
  PublicVersions,
  PublicSharesStored,
  PublicPostsRelayed,
  PublicPostsReceived,
  PublicPosts,
  PublicKeySharesReceived,
  PublicKeyShares,
  PublicDelivered,
  PublicAdds,
  OversizeFrames,
  LoginsRefused,
  Logins,
  Lists,
  LinksUp,
  LinksTimedOut,
  LinksDuplicate,
  LinksDown,
  KeyConflicts,
  Joins,
  JoinAttempts,
  IdleUnauthenticatedClosed,
  FramesOut,
  FramesIn,
  FramesForwarded,
  GossipNotForwarded,  ///< presence not forwarded to a socp/1 peer linked to its origin
  FileErrors,
  FileFramesRemote,
  FileFramesPublicIn,
  FileFramesPublic,
  FileFramesLocal,
  FileFramesDropped,
  FileFramesDelivered,
  Evictions,
  ErrorsFromUsers,
  ErrorsFromServers,
  Dials,
  DeliveredLocal,
  DeliveriesCoalesced,  ///< live DMs sent in a USER_DELIVER_BATCH (delivery_coalescing.h)
  ConnectionsAccepted,
  Busy,
  BadKeys,
  SignaturesRequested,
  SignaturesReused,
  FramesDroppedBudget,
  BudgetCloses,
  ContextMissing,
  ContextMismatch,
  UnknownFieldsRefused,
  LinkProofsFailed,
  LinksRefusedAdmission,
  LinksRefusedCap,
  PeersForgotten,
  ServersIntroduced,
  LoginsReplayed,
  ChallengesIssued,
  LoginProofsRejected,
  AdvertsUnprovenIgnored,
  SignQueueFull,
  RecoverBackoff,
  UsersCapRefused,
  KeyReuseRefused,
  StoreCommits,
  StoreCommitErrors,
  SnapshotsDuplicate,
  Logouts,
  UsersForgotten,
  ConnectionsClosed,
  AccountsDeleted,
  RegistrationsRefused,
  MessagesQueued,
  MessagesDelivered,
  MessagesExpired,
  MailboxFull,
  HopsAcked,
  DialectOut,
  DialectIn,
  ReceiveOnlyLinks,
  FileBulkChunksRelayed,  ///< FILE_BULK_CHUNK frames passed on unsigned (user or socp/1 link)
  FileBulkRefused,        ///< FILE_BULK_* refused (unsigned from a non-socp/1 link, bad shape,
                          ///< recipient or route without bulk support)
  kCount                  ///< number of counters (not a counter)
};

inline constexpr std::size_t kCounterCount = static_cast<std::size_t>(Counter::kCount);

/// Stable snake_case name, e.g. "frames_in".
std::string_view counter_name(Counter c) noexcept;

}  // namespace socp
