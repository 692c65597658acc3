"""Bulk files between two real socp-servers and two socp-cli (docs/protocol.md "Bulk files").

alice registers on A, bob on B (B joins through A). alice sends bob a 1 MiB file with
/file: both clients are socp clients on socp/1 servers, so it goes in bulk mode (4 unsigned
256 KiB XChaCha20-Poly1305 chunks under one signed manifest). Checks: bob's copy is
byte-identical, no fallback to RSA chunks happened, and both servers relayed the chunks as
bulk frames (file_bulk_chunks_relayed in /metrics). Then the same with --no-file-bulk on
alice's side: the spec's RSA chunks still work.

Prints `METRIC bulk_1mib_cross_server_s`.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import socp_harness as h  # noqa: E402


def metric_value(port: int, name: str) -> float:
    with urllib.request.urlopen(f"http://{h.HOST}:{port}/metrics", timeout=10) as r:
        for line in r.read().decode("utf-8").splitlines():
            if line.startswith("#"):
                continue
            if name in line.split(" ")[0]:
                return float(line.split()[-1])
    return 0.0


class BulkFilesTest(unittest.TestCase):
    def setUp(self) -> None:
        reason = h.binaries_available()
        if reason:
            self.skipTest(reason)
        self.ws = h.Workspace("socp-systest-bulk-")
        self.addCleanup(self.ws.cleanup)
        self.addCleanup(h.stop_all)

    def test_one_mib_across_two_servers(self) -> None:
        ws = self.ws
        a = h.ServerProcess(ws, "A").start()
        b = h.ServerProcess(ws, "B", introducers=[a.port]).start()
        alice = h.CliProcess.register(ws, "alice", a.port)
        bob = h.CliProcess.register(ws, "bob", b.port)
        ids = {name: cli.logged_in(60)["user_id"] for name, cli in (("alice", alice),
                                                                      ("bob", bob))}
        alice.wait_list(lambda us: any(u["display_name"] == "bob" and u["online"] for u in us),
                        30, "alice sees bob online")

        payload = os.urandom(1 << 20)
        src = os.path.join(ws.root, "big.bin")
        with open(src, "wb") as f:
            f.write(payload)
        digest = hashlib.sha256(payload).hexdigest()
        since_a, since_b = alice.mark(), bob.mark()
        t0 = time.monotonic()
        alice.send(f"/file bob {src}")
        got = bob.wait_event("file_received", 60, since=since_b)
        h.metric("bulk_1mib_cross_server_s", time.monotonic() - t0, "s")
        self.assertEqual((got["from"], got["size"], got["sha256"]),
                         (ids["alice"], len(payload), digest))
        with open(got["path"], "rb") as f:
            self.assertEqual(f.read(), payload, "bob's copy is byte-identical")
        alice.wait_event("file_sent", 30, since=since_a)
        self.assertFalse([e for e in alice.events("warning", since=since_a)
                          if "RSA chunks" in e.get("detail", "")], "no fallback to RSA")
        leftovers = [n for n in os.listdir(os.path.dirname(got["path"]))
                     if n.startswith(".socp-part")]
        self.assertEqual(leftovers, [], "no partial file left behind")
        self.assertEqual(metric_value(a.port, "file_bulk_chunks_relayed"), 4.0)
        self.assertEqual(metric_value(b.port, "file_bulk_chunks_relayed"), 4.0)

        # The spec's RSA chunks still work between the same two (alice opts out of bulk).
        alice.close()
        alice = h.CliProcess.login(ws, "alice", extra=["--no-file-bulk"])
        alice.logged_in(60)
        small = os.urandom(3000)
        src2 = os.path.join(ws.root, "small.bin")
        with open(src2, "wb") as f:
            f.write(small)
        since_b = bob.mark()
        alice.send(f"/file bob {src2}")
        got = bob.wait_event("file_received", 60, since=since_b)
        with open(got["path"], "rb") as f:
            self.assertEqual(f.read(), small)
        self.assertEqual(metric_value(a.port, "file_bulk_chunks_relayed"), 4.0,
                         "no bulk chunk for the opted-out sender")


if __name__ == "__main__":
    unittest.main()
