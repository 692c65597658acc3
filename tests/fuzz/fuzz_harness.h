// Fuzz harnesses for socp's untrusted-input surfaces. The same functions run under libFuzzer
// (fuzz_target.cpp, clang, SOCP_BUILD_FUZZERS=ON) and as an ordinary CTest over the seed
// corpus plus deterministic mutations (fuzz_replay_test.cpp, any compiler).
//
// Input format ("script"): records separated by the byte 0x1E; the first byte of a record is
// its operation, the rest its body. Each harness documents the operations it understands;
// unknown operations are skipped, so every byte string is a valid input. At most kMaxRecords
// records are used.
//
// A harness returns normally for every input. It aborts (a finding) when the code under test
// crashes or breaks an invariant: a frame a core emits that does not parse, a client frame
// with `to` empty, an event without a name, rendered text with a control character, ...
//
// Thread-safety: each harness keeps process-wide fixtures (keys, precomputed frames, a temp
// folder) in function-local statics; call a harness from one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace socp::fuzz {

inline constexpr char kRecordSeparator = '\x1e';
inline constexpr std::size_t kMaxRecords = 64;

struct Record {
  char op = 0;
  std::string_view body;
};

/// Splits a script into records (empty records are dropped).
std::vector<Record> split_script(std::string_view input);
/// Joins records into a script (the inverse of split_script for non-empty records).
std::string join_script(const std::vector<std::pair<char, std::string>>& records);

/// How ServerCore jobs run. Real: run_job() with the fixture server key (RSA-4096 signing
/// ~3 ms; Argon2id jobs still faked, they cost 64 MiB and ~50 ms each). Fast: a constant
/// signature (the core never checks its own signatures) and faked password jobs.
enum class Jobs { Fast, Real };

// ---- harnesses ------------------------------------------------------------------------------
// Client (ClientCore as alice, the fake server is server_a):
//   'F' frame → on_frame;  'f' frame re-signed by server_a (a fuzzed payload that passes the
//   signature check);  'C' command line;  'T' one byte n: the clock moves n*250 ms, on_tick;
//   'X' on_closed (later records are ignored).
// Every event is also rendered by socp-cli's renderer and fed to its Tab completion.

/// Before login: the first byte of the input chooses Login or Register mode and what the
/// trust store holds (a pinned server key, the right one or not, caps socp/1, a contact).
void client_login(std::string_view input);
/// Logged in at server_a; bob and carol advertised.
void client_ready(std::string_view input);
/// Logged in; one file being sent to bob (paced, still in flight) and one arriving from bob.
void client_files(std::string_view input);

/// The codec: parse_envelope, json::parse, canonical forms, every payload decoder, keys,
/// base64 — with round-trip invariants.
void codec(std::string_view input);

/// ServerCore (server_a, MemoryStore) with three connections:
///   'U' frame on an unauthenticated connection;  'A' frame on alice's logged-in connection,
///   'a' the same re-signed by alice's key;  'S' frame on server_b's socp/1 link (joined by
///   challenge-response), 's' the same re-signed by server_b (from = server_b, with the signed
///   context of its envelope);  'O' opens a new unauthenticated connection
///   (the target of later 'U'); 'C' one byte: closes connection (byte % 3); 'T' one byte n:
///   the clock moves n*250 ms, on_tick.
void server(std::string_view input, Jobs jobs = Jobs::Fast);

/// One harness by name ("client_login", "client_ready", "client_files", "codec", "server");
/// false if there is no such harness.
bool run_harness(std::string_view name, std::string_view input);
/// Names of every harness.
std::vector<std::string> harness_names();

/// Writes seed corpora recorded from a real conversation (ServerCores with real signatures,
/// ClientCores: register, login, list, DMs, public channel, files, a two-server link) into
/// <dir>/<harness>/seed-NNN. Returns the number of files written; throws on I/O errors.
std::size_t write_seeds(const std::string& dir);

}  // namespace socp::fuzz
