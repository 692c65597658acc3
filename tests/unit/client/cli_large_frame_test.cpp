// socp-cli's connection settings (host_options) against a loopback server that answers with a
// ~9 MB frame, the size of a 10,000-user LIST_RESPONSE. socp-cli used to accept at most
// 8 MiB: the transport refused the frame in the middle of it, and libwebsockets 4.1's client
// parser then kept writing the rest of the frame past its receive buffer
// (`free(): invalid next size`). Two WsHosts in this process, each loop on its own thread.
#include <catch2/catch.hpp>

#include <mutex>
#include <string>

#include "host_options.h"
#include "loopback_host.h"

using namespace socp;
using namespace socp::test;

TEST_CASE("cli host options: a 9 MB frame from the server arrives whole", "[cli][regression]") {
  // As large as the 10,000-user LIST_RESPONSE of the bug report (9,090,864 bytes).
  const std::string big(9'090'864, 'x');
  LoopbackPair p(cli::host_options(cli::kDefaultMaxFrame, false));
  p.server_sends_on_open(big);
  p.dial();
  REQUIRE(p.client.wait([&] { return !p.client.frames.empty() || p.client.closed; }));
  std::lock_guard<std::mutex> lock(p.client.mu);
  REQUIRE(p.client.frames.size() == 1);
  CHECK(p.client.frames[0].size() == big.size());
  CHECK_FALSE(p.client.closed);
}

TEST_CASE("cli host options: the default limit covers a 10,000-user mesh", "[cli]") {
  // ~910 bytes per LIST_RESPONSE entry with an RSA-4096 key; room for 6x that.
  CHECK(cli::kDefaultMaxFrame >= 6 * 10'000 * 910u);
  const WsHostOptions o = cli::host_options(cli::kDefaultMaxFrame, false);
  CHECK(o.listen_port == 0);
  CHECK(o.max_frame == cli::kDefaultMaxFrame);
  CHECK_FALSE(o.log);
  CHECK(cli::host_options(1u << 20, true).log);
}

// Reproducer of the transport bug (not fixed here: libsocp/src/transport is another
// engineer's): any frame over the client's max_frame corrupts the heap, because on_receive
// returns -1 from LWS_CALLBACK_CLIENT_RECEIVE in the middle of a frame. Hidden: run it
// explicitly, ideally in an ASan build:  socp_unit_client "[.lws-client-oversize]"
TEST_CASE("transport bug: a frame over a client's max_frame", "[.lws-client-oversize]") {
  LoopbackPair p(cli::host_options(1u << 20, false));
  p.server_sends_on_open(std::string(2u << 20, 'y'));
  p.dial();
  REQUIRE(p.client.wait([&] { return p.client.closed; }));
  std::lock_guard<std::mutex> lock(p.client.mu);
  CHECK(p.client.frames.empty());
}
