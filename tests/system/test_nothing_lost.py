"""Nothing lost: 30 DMs from alice (server A) to bob (server B) while first B, then A is
killed with SIGKILL and restarted. Both socp-cli processes stay up (they reconnect with the
key they hold, no password again) and resend what the servers had not confirmed.

Asserts: every DM alice got a `queued` or `delivered` receipt for reaches bob exactly once,
every DM alice sent is confirmed in the end, and both clients survived. Prints METRIC lines:
sent, queued, delivered (receipts), received, duplicates, lost.
"""

from __future__ import annotations

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import socp_harness as h  # noqa: E402

N = 30
CLI_TIMERS = ["--test-reconnect-ms", "200", "--test-reconnect-max-ms", "1000",
              "--test-tick-ms", "100"]


class NothingLostTest(unittest.TestCase):
    def setUp(self) -> None:
        reason = h.binaries_available()
        if reason:
            self.skipTest(reason)
        self.ws = h.Workspace("socp-systest-lost-")
        self.addCleanup(self.ws.cleanup)
        self.addCleanup(h.stop_all)

    def test_kill9_both_servers(self) -> None:
        ws = self.ws
        fast = h.FAST_MESH_TIMERS
        a = h.ServerProcess(ws, "A", extra_args=fast).start()
        b = h.ServerProcess(ws, "B", introducers=[a.port], extra_args=fast).start()
        alice = h.CliProcess.register(ws, "alice", a.port, extra=CLI_TIMERS)
        bob = h.CliProcess.register(ws, "bob", b.port, extra=CLI_TIMERS)
        alice_id = alice.logged_in()["user_id"]
        bob_id = bob.logged_in()["user_id"]
        alice.wait_list(lambda us: any(u["user_id"] == bob_id and u["online"] for u in us), 30,
                        "alice sees bob online")

        def tell(i: int) -> None:
            alice.send(f"/tell {bob_id} nl-{i}")

        for i in range(0, 10):
            tell(i)
        # -- the recipient's server dies: A keeps the DMs in its outbox -----------------------
        b.kill()
        self.assertTrue(bob.wait_event("reconnecting", 15, since=0))
        for i in range(10, 20):
            tell(i)
        b.start()
        bob.wait_event("reconnected", 60, since=0)
        # -- the sender's server dies with DMs in flight; more are typed while it is down ------
        for i in range(20, 25):
            tell(i)
        a.kill()
        self.assertTrue(alice.wait_event("reconnecting", 15, since=0))
        for i in range(25, N):
            tell(i)
        a.start()
        alice.wait_event("reconnected", 60, since=0)
        self.assertTrue(alice.alive() and bob.alive(), "both clients survive the restarts")

        # every DM confirmed by a server (queued or better)
        since = alice.mark()
        alice.send("/wait queued timeout 90")
        waited = alice.wait_event("waited", 100, since=since)

        sent = {e["msg_id"]: e for e in alice.events("sent") if e.get("to") == bob_id}
        confirmed = {e["msg_id"] for e in alice.events()
                     if e.get("event") in ("queued", "delivered") and e.get("to") == bob_id}
        failed = [e for e in alice.events("failed") if e.get("to") == bob_id]

        def received() -> list[str]:
            return [e["msg_id"] for e in bob.events("message")
                    if e.get("from") == alice_id and "msg_id" in e]

        try:
            h.wait_until(lambda: confirmed <= set(received()), 60,
                         "bob has every DM alice saw confirmed")
        except AssertionError:
            pass  # reported below with the numbers
        # ... and the `delivered` receipts that follow bob's acknowledgements (batched).
        since = alice.mark()
        alice.send("/wait delivered timeout 30")
        alice.wait_event("waited", 40, since=since)
        got = received()
        texts = [e["text"] for e in bob.events("message") if e.get("from") == alice_id]
        duplicates = len(got) - len(set(got))
        lost = sorted(confirmed - set(got))
        delivered = {e["msg_id"] for e in alice.events("delivered")}
        h.metric("nothing_lost_sent", len(sent), "DMs")
        h.metric("nothing_lost_queued", len(confirmed), "DMs")
        h.metric("nothing_lost_delivered_receipts", len(delivered), "DMs")
        h.metric("nothing_lost_received", len(set(got)), "DMs")
        h.metric("nothing_lost_duplicates", duplicates, "DMs")
        h.metric("nothing_lost_lost", len(lost), "DMs")
        h.metric("nothing_lost_failed", len(failed), "DMs")

        self.assertEqual(len(sent), N, "alice sent every DM (those typed while A was down too)")
        self.assertTrue(waited["ok"], f"every DM confirmed by a server: {waited}")
        self.assertEqual(confirmed, set(sent), f"failed: {failed}")
        self.assertEqual(lost, [], "confirmed DMs that never reached bob")
        self.assertEqual(duplicates, 0, "a DM shown twice")
        self.assertEqual(sorted(texts), sorted(f"nl-{i}" for i in range(N)))
        self.assertEqual(alice.close(), 0)
        self.assertEqual(bob.close(), 0)


if __name__ == "__main__":
    unittest.main()
