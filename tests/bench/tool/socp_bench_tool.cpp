// socp_bench_tool: the C++ half of tests/bench/socp_bench.py. Python drives real servers over
// loopback; this tool does what Python is too slow for (RSA-4096 signing in pure Python takes
// ~230 ms) and measures the hardware limits of this machine in the same run.
//
//   socp_bench_tool keygen PRIMES OUT.pem          a new RSA-4096 key (2 or 4 primes)
//   socp_bench_tool pub KEY.pem                    its public key (base64url DER)
//   socp_bench_tool limit KEY.pem SECONDS          PSS signatures/s of ONE thread with KEY
//   socp_bench_tool argon2 N                       seconds per Argon2id verifier hash (mean)
//   socp_bench_tool sign KEY.pem                   stdin: one JSON payload per line;
//                                                  stdout: its transport signature per line
//   socp_bench_tool dm KEY.pem FROM TO TO_PUB N [TAG] [THREADS]
//                                                  N MSG_DIRECT envelopes (one per line):
//                                                  OAEP to TO_PUB, socp content_sig, msg_id
//                                                  TAG-i, plaintext "TAG i"
//
// Output is plain text for the script; errors go to stderr with exit status 1. Benchmark
// only: keygen here is fine (tests use fixture keys).
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "socp/bytes.h"
#include "socp/crypto.h"
#include "socp/envelope.h"
#include "socp/json.h"
#include "socp/messages.h"
#include "socp/protocol.h"

namespace {

using Clock = std::chrono::steady_clock;

int fail(const std::string& why) {
  std::fprintf(stderr, "socp_bench_tool: %s\n", why.c_str());
  return 1;
}

socp::Result<socp::PrivateKey> load_key(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return socp::PrivateKey::from_pem(ss.str());
}

int keygen(int primes, const std::string& out) {
  auto k = socp::PrivateKey::generate(primes);
  if (!k) return fail("keygen: " + k.error().detail);
  const auto pem = k->to_pem();
  std::ofstream f(out, std::ios::binary);
  f.write(reinterpret_cast<const char*>(pem.data()), static_cast<std::streamsize>(pem.size()));
  std::printf("%s\n", k->public_key().b64url().c_str());
  return f ? 0 : fail("cannot write " + out);
}

int limit(const socp::PrivateKey& key, double seconds) {
  int n = 0;
  const auto t0 = Clock::now();
  double took = 0;
  while (took < seconds) {
    auto s = key.sign("socp bench payload " + std::to_string(n));
    if (!s) return fail("sign: " + s.error().detail);
    ++n;
    took = std::chrono::duration<double>(Clock::now() - t0).count();
  }
  std::printf("%.2f\n", n / took);
  return 0;
}

int argon2(int n) {
  const auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    auto h = socp::hash_verifier("bench-verifier-" + std::to_string(i));
    if (!h) return fail("argon2: " + h.error().detail);
  }
  std::printf("%.4f\n", std::chrono::duration<double>(Clock::now() - t0).count() / n);
  return 0;
}

int sign_lines(const socp::PrivateKey& key) {
  std::string line;
  while (std::getline(std::cin, line)) {
    auto v = socp::json::parse(line);
    if (!v) return fail("sign: bad JSON: " + v.error().detail);
    auto s = socp::sign_payload(key, *v);
    if (!s) return fail("sign: " + s.error().detail);
    std::printf("%s\n", s->c_str());
  }
  return 0;
}

int dms(const socp::PrivateKey& key, const std::string& from, const std::string& to,
        const std::string& to_pub_text, int n, const std::string& tag, unsigned threads) {
  auto to_pub = socp::PublicKey::parse(to_pub_text);
  if (!to_pub) return fail("dm: recipient key: " + to_pub.error().detail);
  const std::int64_t ts0 = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  std::vector<std::string> lines(static_cast<std::size_t>(n));
  std::atomic<int> next{0};
  std::atomic<bool> bad{false};
  auto work = [&] {
    for (int i = next++; i < n && !bad; i = next++) {
      const std::string text = tag + " " + std::to_string(i);
      auto ct = to_pub->encrypt(text);
      const std::int64_t ts = ts0 + i;
      auto cs =
          ct ? socp::sign_content(key, *ct, from, to, ts) : socp::Result<std::string>(ct.error());
      if (!cs) {
        bad = true;
        return;
      }
      socp::msg::MsgDirect m;
      m.ciphertext = socp::b64url_encode(*ct);
      m.sender_pub = key.public_key().b64url();
      m.content_sig = *cs;
      m.msg_id = tag + "-" + std::to_string(i);
      lines[static_cast<std::size_t>(i)] = socp::serialize(
          socp::make_envelope(socp::MessageType::MsgDirect, from, to, ts, m.to_json()));
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < std::max(1u, threads); ++t) pool.emplace_back(work);
  for (auto& t : pool) t.join();
  if (bad) return fail("dm: encrypt/sign failed");
  for (const auto& l : lines) std::printf("%s\n", l.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> a(argv + 1, argv + argc);
  if (a.empty()) return fail("usage: see the comment at the top of socp_bench_tool.cpp");
  const std::string& cmd = a[0];
  if (cmd == "keygen" && a.size() == 3) return keygen(std::atoi(a[1].c_str()), a[2]);
  if (cmd == "argon2" && a.size() == 2) return argon2(std::max(1, std::atoi(a[1].c_str())));
  if (a.size() < 2) return fail("missing arguments for " + cmd);
  auto key = load_key(a[1]);
  if (!key) return fail("key " + a[1] + ": " + key.error().detail);
  if (cmd == "pub" && a.size() == 2) {
    std::printf("%s\n", key->public_key().b64url().c_str());
    return 0;
  }
  if (cmd == "limit" && a.size() == 3) return limit(*key, std::atof(a[2].c_str()));
  if (cmd == "sign" && a.size() == 2) return sign_lines(*key);
  if (cmd == "dm" && a.size() >= 6) {
    const unsigned threads = a.size() >= 8 ? static_cast<unsigned>(std::atoi(a[7].c_str()))
                                           : std::max(1u, std::thread::hardware_concurrency());
    return dms(*key, a[2], a[3], a[4], std::atoi(a[5].c_str()), a.size() >= 7 ? a[6] : "dm",
               threads);
  }
  return fail("unknown command or wrong arguments: " + cmd);
}
