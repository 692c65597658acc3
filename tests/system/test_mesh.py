"""Three real socp-servers in a mesh, one socp-cli user on each.

A is the introducer; B and C join with --introducer 127.0.0.1:PORT_A. alice registers on A,
bob on B, carol on C. Checks: every /list converges to all three online; bob → alice /tell
crosses servers; alice's /all reaches bob and carol; bob quits → offline on A and C within
10 s; SIGKILL C → A and B show carol offline within 60 s; C restarted on the same data dir and
port → carol logs in again and alice sees her online; C frozen with SIGSTOP (links stay up,
only heartbeats can tell) → carol offline on A and B, back after SIGCONT.

The servers run with shortened production timers (h.FAST_MESH_TIMERS: heartbeat 1 s, a link
dead after 5 s of silence, reconnect backoff capped at 2 s) so that the frozen-server check
takes seconds instead of the 45 s of the production heartbeat timeout; the check still proves
the same thing (only the heartbeat timeout can see a frozen peer whose sockets stay open).

Prints `METRIC cross_server_tell_ms <median of 5> ms` (bob → alice, send to receive event).
"""

from __future__ import annotations

import hashlib
import os
import signal
import statistics
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import socp_harness as h  # noqa: E402

NAMES = ("alice", "bob", "carol")


def online_names(users: list[dict]) -> set[str]:
    return {u["display_name"] for u in users if u["online"]}


def status_of(users: list[dict], name: str) -> bool | None:
    for u in users:
        if u["display_name"] == name:
            return u["online"]
    return None


class MeshTest(unittest.TestCase):
    def setUp(self) -> None:
        reason = h.binaries_available()
        if reason:
            self.skipTest(reason)
        self.ws = h.Workspace("socp-systest-mesh-")
        self.addCleanup(self.ws.cleanup)
        self.addCleanup(h.stop_all)

    def test_three_servers(self) -> None:
        ws = self.ws
        t_start = time.monotonic()
        fast = h.FAST_MESH_TIMERS
        a = h.ServerProcess(ws, "A", extra_args=fast).start()
        b = h.ServerProcess(ws, "B", introducers=[a.port], extra_args=fast).start()
        c = h.ServerProcess(ws, "C", introducers=[a.port], extra_args=fast).start()
        self.assertEqual(len({s.server_id for s in (a, b, c)}), 3, "distinct server ids")

        alice = h.CliProcess.register(ws, "alice", a.port)
        bob = h.CliProcess.register(ws, "bob", b.port)
        carol = h.CliProcess.register(ws, "carol", c.port)
        ids = {}
        for name, cli in (("alice", alice), ("bob", bob), ("carol", carol)):
            ev = cli.logged_in(60)
            ids[name] = ev["user_id"]
        # Every client sees all three, online, each at its own server.
        home = {"alice": a, "bob": b, "carol": c}
        t_conv = time.monotonic()
        for name, cli in (("alice", alice), ("bob", bob), ("carol", carol)):
            users = cli.wait_list(lambda us: online_names(us) >= set(NAMES), 30,
                                  f"{name} sees alice, bob and carol online")
            for u in users:
                if u["display_name"] in home:
                    # The id the introducer assigned may differ from the one printed at start
                    # only if it clashed; socp servers generate fresh UUIDs, so it must not.
                    self.assertEqual(u["server_id"], home[u["display_name"]].server_id,
                                     f"{name}'s list: {u}")
        h.metric("mesh_list_convergence_ms", (time.monotonic() - t_conv) * 1000, "ms")

        # -- cross-server /tell ---------------------------------------------------------------
        since = alice.mark()
        bob.send("/tell alice hello")
        m = alice.wait_event("message", 20, since=since, text="hello")
        self.assertEqual(m["from"], ids["bob"])
        self.assertTrue(m["verified"])

        # -- /all reaches bob (B) and carol (C) -----------------------------------------------
        since_b, since_c = bob.mark(), carol.mark()
        alice.send("/all hello mesh!")
        sent_all = alice.wait_event("sent_all", 20)
        self.assertEqual((sent_all["recipients"], sent_all["skipped"]), (2, 0), sent_all)
        for cli in (bob, carol):
            m = cli.wait_event("message", 20, since=since_b if cli is bob else since_c,
                               text="hello mesh!")
            self.assertEqual(m["from"], ids["alice"])
            self.assertTrue(m["verified"])
        self.assertFalse([e for e in alice.events("message") if e["text"] == "hello mesh!"],
                         "/all must not come back to the sender")

        # -- latency bob (B) -> alice (A): median of 5 ----------------------------------------
        samples = []
        for i in range(5):
            since = alice.mark()
            t0 = bob.send(f"/tell alice ping {i}")
            ev = alice.wait_event("message", 20, since=since, text=f"ping {i}")
            samples.append((ev["_t"] - t0) * 1000)
        h.metric("cross_server_tell_ms", statistics.median(samples), "ms")
        h.metric("cross_server_tell_max_ms", max(samples), "ms")

        # -- /file across servers: a DM file to bob (B), then one to the public channel ------
        payload = os.urandom(64 * 1024 + 123)  # 148 chunks, not a multiple of 446
        src = os.path.join(ws.root, "report.bin")
        with open(src, "wb") as f:
            f.write(payload)
        digest = hashlib.sha256(payload).hexdigest()
        since_a, since_b = alice.mark(), bob.mark()
        t0 = time.monotonic()
        alice.send(f"/file bob {src}")
        got = bob.wait_event("file_received", 120, since=since_b)
        h.metric("file_64kib_cross_server_s", time.monotonic() - t0, "s")
        self.assertEqual((got["from"], got["size"], got["sha256"]),
                         (ids["alice"], len(payload), digest))
        with open(got["path"], "rb") as f:
            self.assertEqual(f.read(), payload, "bob's copy is byte-identical")
        alice.wait_event("file_sent", 30, since=since_a)
        first_path = got["path"]
        since_b, since_c = bob.mark(), carol.mark()
        alice.send(f"/file all {src}")
        for cli, since in ((bob, since_b), (carol, since_c)):
            got = cli.wait_event("file_received", 120, since=since)
            self.assertEqual((got["from"], got["sha256"]), (ids["alice"], digest))
            with open(got["path"], "rb") as f:
                self.assertEqual(f.read(), payload)
            if cli is bob:  # bob already had report.bin: a new name, nothing overwritten
                self.assertNotEqual(got["path"], first_path)

        # -- bob quits: offline on A and C within 10 s ----------------------------------------
        self.assertEqual(bob.close(), 0)
        t_quit = time.monotonic()
        for name, cli in (("alice", alice), ("carol", carol)):
            cli.wait_list(lambda us: status_of(us, "bob") is False, 10,
                          f"{name} sees bob offline")
        h.metric("mesh_offline_after_quit_ms", (time.monotonic() - t_quit) * 1000, "ms")
        # ... and he is still known (offline, not forgotten)
        self.assertIsNotNone(status_of(alice.list_users(), "bob"))

        # bob back on B (a client on B is needed below)
        bob = h.CliProcess.login(ws, "bob")
        self.assertEqual(bob.logged_in(30)["user_id"], ids["bob"])
        alice.wait_list(lambda us: status_of(us, "bob") is True, 10, "alice sees bob again")

        # -- SIGKILL C: A and B mark carol offline within 60 s --------------------------------
        c_id = c.server_id
        c.kill()
        t_kill = time.monotonic()
        self.assertEqual(carol.wait_exit(20), 2, "carol's client: connection lost → exit 2")
        for name, cli in (("alice", alice), ("bob", bob)):
            cli.wait_list(lambda us: status_of(us, "carol") is False,
                          max(1.0, 60 - (time.monotonic() - t_kill)), f"{name} sees carol offline")
        h.metric("mesh_offline_after_sigkill_ms", (time.monotonic() - t_kill) * 1000, "ms")
        self.assertTrue(a.alive() and b.alive(), "A and B survive C's death")

        # -- restart C on the same data dir and port; carol logs in again ---------------------
        c.start()
        self.assertEqual(c.server_id, c_id, "C keeps its id across a restart")
        t_restart = time.monotonic()
        carol = h.CliProcess.login(ws, "carol")
        self.assertEqual(carol.logged_in(30)["user_id"], ids["carol"])
        alice.wait_list(lambda us: status_of(us, "carol") is True, 30, "alice sees carol online")
        bob.wait_list(lambda us: status_of(us, "carol") is True, 30, "bob sees carol online")
        h.metric("mesh_online_after_restart_ms", (time.monotonic() - t_restart) * 1000, "ms")
        m, attempts = h.tell_until_delivered(alice, "carol", carol, "welcome back")
        self.assertTrue(m["verified"])
        h.metric("mesh_tell_attempts_after_restart", attempts, "attempts")

        # -- C frozen (SIGSTOP): its TCP links stay up, so only the heartbeat timeout (here 5 s
        #    without a frame; 45 s in production) can tell. A and B must mark carol offline;
        #    after SIGCONT the links come back and carol is online again. ---------------------
        c.proc.send_signal(signal.SIGSTOP)
        t_stop = time.monotonic()
        try:
            for name, cli in (("alice", alice), ("bob", bob)):
                cli.wait_list(lambda us: status_of(us, "carol") is False,
                              max(1.0, 30 - (time.monotonic() - t_stop)),
                              f"{name} sees frozen C's carol offline")
            h.metric("mesh_offline_after_sigstop_ms", (time.monotonic() - t_stop) * 1000, "ms")
        finally:
            c.proc.send_signal(signal.SIGCONT)
        t_cont = time.monotonic()
        for cli in (alice, bob):
            cli.wait_list(lambda us: status_of(us, "carol") is True, 30, "carol back after SIGCONT")
        h.metric("mesh_online_after_sigcont_ms", (time.monotonic() - t_cont) * 1000, "ms")
        # B may learn that carol is back (gossip through A) before its own link to C is up
        # again; until then B answers USER_NOT_FOUND ("offline") and the client may retry.
        m, attempts = h.tell_until_delivered(bob, ids["carol"], carol, "after the freeze")
        self.assertTrue(m["verified"])
        h.metric("mesh_tell_attempts_after_sigcont", attempts, "attempts")
        h.metric("mesh_delivery_after_sigcont_ms", (time.monotonic() - t_cont) * 1000, "ms")

        for cli in (alice, bob, carol):
            self.assertEqual(cli.close(), 0)
        for s in (a, b, c):
            self.assertTrue(s.alive(), f"{s.name} died\n{s.logs()}")
            self.assertEqual(s.stop(), 0, f"{s.name} exit status on SIGTERM\n{s.logs()}")
        h.metric("mesh_test_wall_s", time.monotonic() - t_start, "s")


if __name__ == "__main__":
    unittest.main(verbosity=2)
