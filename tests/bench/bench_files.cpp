// socp_bench_files: /file throughput in the in-memory mesh, printed as METRIC lines.
// Not run by ctest and no assertions on time: run build/tests/bench/socp_bench_files.
//   file_1mib_two_servers_s  alice@A sends 1 MiB to bob@B through real ClientCores, with real
//                            RSA everywhere: OAEP per chunk (client), PSS per chunk on both
//                            servers (signed inline, one thread), OAEP decrypt per chunk (bob).
//   file_1mib_public_two_servers_s  the same with /file all (channel key: no RSA at bob).
// SOCP_BENCH_FILE_KIB changes the size (default 1024).
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "channel_user.h"
#include "mesh_sim.h"

using Clock = std::chrono::steady_clock;
using socp::test::ClientMesh;
using socp::test::MeshSim;
namespace fs = std::filesystem;

namespace {

double seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

void metric(const char* name, double v, const char* unit) {
  std::printf("METRIC %s %.3f %s\n", name, v, unit);
  std::fflush(stdout);
}

}  // namespace

TEST_CASE("file benchmarks", "[bench]") {
  const char* env_kib = std::getenv("SOCP_BENCH_FILE_KIB");
  const std::size_t size = (env_kib ? std::strtoul(env_kib, nullptr, 10) : 1024) * 1024;
  std::string tmpl = (fs::temp_directory_path() / "socp-bench-files-XXXXXX").string();
  REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
  const std::string dir = tmpl;

  std::string data(size, '\0');
  std::mt19937 rng(42);
  for (char& c : data) c = static_cast<char>(rng() & 0xff);
  const std::string src = dir + "/payload.bin";
  std::ofstream(src, std::ios::binary) << data;

  MeshSim sim;
  sim.add_server("A", "server_a");
  sim.add_server("B", "server_b", {"A"});
  sim.add_user("alice", "alice", "A");
  sim.add_user("bob", "bob", "B");
  ClientMesh cm(sim);
  auto cfg = [&dir](const std::string& who) {
    return [&dir, who](socp::ClientConfig& c) {
      c.download_dir = dir + "/" + who;
      c.file_chunks_per_second = 0;  // no pacing: measure the pipeline itself
    };
  };
  cm.login("alice", "A", cfg("alice"));
  cm.login("bob", "B", cfg("bob"));

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
  std::error_code ec;
  fs::remove_all(dir, ec);
}
