// socp_bench_files: /file throughput in the in-memory mesh, printed as METRIC lines.
// Not run by ctest and no assertions on time: run build/tests/bench/socp_bench_files.
//   file_1mib_two_servers_s  alice@A sends 1 MiB to bob@B through real ClientCores, with real
//                            RSA everywhere: OAEP per chunk (client), PSS per chunk on both
//                            servers (signed inline, one thread), OAEP decrypt per chunk (bob).
//   file_1mib_public_two_servers_s  the same with /file all (channel key: no RSA at bob).
// SOCP_BENCH_FILE_KIB changes the size (default 1024).
// Bulk mode (docs/protocol.md "Bulk files"), "[bulk]" test case:
//   bulk_<n>mib_two_servers_s / _mb_per_s  alice@A -> bob@B, 1 MiB and 64 MiB (SOCP_BENCH_BULK_MIB
//                            overrides the larger size), everything in this one thread:
//                            both clients' AEAD + SHA-256 (the sender seals every chunk twice),
//                            base64, JSON, both servers' relaying, bob's disk writes.
//   hw_aead_sha256_mb_per_s  this machine, one core: XChaCha20-Poly1305 seal (libsodium) +
//                            SHA-256 of the ciphertext (OpenSSL, as socp hashes) over 256 KiB
//                            chunks -- the crypto floor of one pass.
//   bulk_*_vs_hw             the ratio of the two (1.0 = as fast as one pass of raw crypto).
//   peak_rss_mib             this process's VmHWM after the transfers (both servers, both
//                            clients, the test's own copy of the data).
#include <catch2/catch.hpp>

#include "bench_util.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include <sodium.h>

#include "channel_user.h"
#include "mesh_sim.h"
#include "socp/crypto.h"
#include "temp_files.h"

using socp::bench::Clock;
using socp::bench::metric;
using socp::test::ClientMesh;
using socp::test::MeshSim;
namespace fs = std::filesystem;

namespace {

double seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// A@alice -> B@bob, both real ClientCores, downloads under <dir>/<user>, no pacing (the
// pipeline itself is measured).
struct FileMesh {
  MeshSim sim;
  ClientMesh cm{sim};
  FileMesh(const std::string& dir, bool bulk) {
    sim.add_server("A", "server_a");
    sim.add_server("B", "server_b", {"A"});
    sim.add_user("alice", "alice", "A");
    sim.add_user("bob", "bob", "B");
    for (const auto& [who, node] : {std::pair{"alice", "A"}, std::pair{"bob", "B"}}) {
      cm.login(who, node, [&dir, who = std::string(who), bulk](socp::ClientConfig& c) {
        c.download_dir = dir + "/" + who;
        c.file_chunks_per_second = 0;
        c.file_bulk = bulk;
      });
    }
  }
};

}  // namespace

TEST_CASE("file benchmarks", "[bench]") {
  const char* env_kib = std::getenv("SOCP_BENCH_FILE_KIB");
  const std::size_t size = (env_kib ? std::strtoul(env_kib, nullptr, 10) : 1024) * 1024;
  const socp::test::TempDir tmp("socp-bench-files-");
  const std::string& dir = tmp.path;

  std::string data(size, '\0');
  std::mt19937 rng(42);
  for (char& c : data) c = static_cast<char>(rng() & 0xff);
  const std::string src = dir + "/payload.bin";
  std::ofstream(src, std::ios::binary) << data;

  FileMesh m(dir, /*bulk=*/false);  // the spec's RSA chunks (bulk mode: the next test case)
  MeshSim& sim = m.sim;
  ClientMesh& cm = m.cm;

  const auto sig_a = sim.node("A").signatures, sig_b = sim.node("B").signatures;
  const auto client0 = cm.client_time();
  const auto t0 = Clock::now();
  cm.command("alice", "/file bob " + src);
  const double total_s = seconds(Clock::now() - t0);
  const double bob_s = seconds(cm.client_time() - client0);

  auto rec = cm.named("bob", "file_received");
  REQUIRE(rec.size() == 1);
  const std::string* path = socp::json::get_string(rec[0], "path");
  REQUIRE(path);
  std::ifstream in(*path, std::ios::binary);
  const bool identical = std::string(std::istreambuf_iterator<char>(in), {}) == data;
  CHECK(identical);

  const double chunks = static_cast<double>((size + 445) / 446);
  std::printf("METRIC file_size_bytes %zu (chunks %.0f, identical=%s)\n", size, chunks,
              identical ? "yes" : "no");
  metric("file_1mib_two_servers_s", total_s, "s");
  metric("file_chunks_per_s", chunks / total_s, "chunks/s");
  metric("file_throughput_kib_per_s", size / 1024.0 / total_s, "KiB/s");
  metric("file_signatures_per_chunk_server_a",
         static_cast<double>(sim.node("A").signatures - sig_a) / chunks, "sig/chunk");
  metric("file_signatures_per_chunk_server_b",
         static_cast<double>(sim.node("B").signatures - sig_b) / chunks, "sig/chunk");
  metric("file_receiver_client_s", bob_s, "s (in ClientCore::on_frame: OAEP decrypt per chunk)");

  // The same file in public mode (/file all): chunks sealed with alice's channel key, so bob
  // decrypts in microseconds and each chunk costs one signature per server.
  const auto t1 = Clock::now();
  cm.command("alice", "/file all " + src);
  const double public_s = seconds(Clock::now() - t1);
  REQUIRE(cm.named("bob", "file_received").size() == 2);
  metric("file_1mib_public_two_servers_s", public_s, "s");
  metric("file_public_chunks_per_s", chunks / public_s, "chunks/s");
}

namespace {

// One core: seal 256 KiB chunks with XChaCha20-Poly1305 and hash each ciphertext (SHA-256).
double hardware_mb_per_s() {
  if (sodium_init() < 0) return 0;
  constexpr std::size_t kChunk = 256 * 1024;
  constexpr std::size_t kTotal = 256u << 20;
  std::string plain(kChunk, 'x');
  std::vector<unsigned char> ct(kChunk + crypto_aead_xchacha20poly1305_ietf_ABYTES);
  unsigned char key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES] = {1};
  unsigned char nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES] = {2};
  const auto t0 = Clock::now();
  for (std::size_t done = 0; done < kTotal; done += kChunk) {
    unsigned long long n = 0;
    nonce[0] = static_cast<unsigned char>(done >> 18);
    crypto_aead_xchacha20poly1305_ietf_encrypt(ct.data(), &n,
                                               reinterpret_cast<const unsigned char*>(plain.data()),
                                               plain.size(), nullptr, 0, nullptr, nonce, key);
    const socp::Bytes digest = socp::sha256(ct.data(), static_cast<std::size_t>(n));
    if (digest.empty()) return 0;
  }
  return kTotal / 1e6 / seconds(Clock::now() - t0);
}

double peak_rss_mib() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::strtod(line.c_str() + 6, nullptr) / 1024.0;
  }
  return 0;
}

}  // namespace

TEST_CASE("bulk file benchmarks", "[bench][bulk]") {
  const socp::test::TempDir tmp("socp-bench-bulk-");
  const std::string& dir = tmp.path;
  const double hw = hardware_mb_per_s();
  metric("hw_aead_sha256_mb_per_s", hw, "MB/s (one core, 256 KiB chunks)");

  FileMesh m(dir, /*bulk=*/true);
  MeshSim& sim = m.sim;
  ClientMesh& cm = m.cm;

  const char* env_mib = std::getenv("SOCP_BENCH_BULK_MIB");
  const std::size_t big = env_mib ? std::strtoul(env_mib, nullptr, 10) : 64;
  std::size_t received = 0;
  for (const std::size_t mib : {std::size_t{1}, big}) {
    const std::size_t size = mib << 20;
    const std::string src = dir + "/bulk-" + std::to_string(mib) + ".bin";
    {
      std::ofstream out(src, std::ios::binary);
      std::mt19937 rng(static_cast<std::uint32_t>(mib));
      std::string block(1 << 20, '\0');
      for (std::size_t i = 0; i < mib; ++i) {
        for (char& c : block) c = static_cast<char>(rng() & 0xff);
        out << block;
      }
    }
    const auto sig_a = sim.node("A").signatures, sig_b = sim.node("B").signatures;
    const auto t0 = Clock::now();
    cm.command("alice", "/file bob " + src);
    const double s = seconds(Clock::now() - t0);
    auto rec = cm.named("bob", "file_received");
    REQUIRE(rec.size() == ++received);
    const std::string* path = socp::json::get_string(rec.back(), "path");
    REQUIRE(path);
    CHECK(fs::file_size(*path) == size);
    const std::string name = "bulk_" + std::to_string(mib) + "mib_two_servers";
    metric((name + "_s").c_str(), s, "s");
    const double mbps = size / 1e6 / s;
    metric((name + "_mb_per_s").c_str(), mbps, "MB/s");
    metric((name + "_vs_hw").c_str(), hw > 0 ? mbps / hw : 0, "x of one core's AEAD+SHA-256");
    metric((name + "_signatures").c_str(),
           static_cast<double>(sim.node("A").signatures - sig_a + sim.node("B").signatures - sig_b),
           "RSA signatures on both servers");
    fs::remove(*path);
    fs::remove(src);
  }
  metric("peak_rss_mib", peak_rss_mib(), "MiB (whole process: 2 servers, 2 clients)");
}
