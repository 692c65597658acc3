"""unittest scaffolding for the mixed-mesh interop tests: one loopback mesh per test class.

Each test class builds its mesh once (setUpClass: real socp-server processes, one socp-cli
user, one scripted peer) and its tests run in name order against it (test_1_…, test_2_…).
Every process and scripted peer is stopped in tearDownClass (and by socp_harness.stop_all at
exit). Nothing sleeps: waits are conditions with deadlines; `hold` watches a condition over a
span (the dead-link time) and fails as soon as it breaks. No assertion is about timing.

Each test's docstring starts with the fixes it proves (F1–F18 of the interop notes).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import unittest

from peer_base import Timers, h

WAIT = 60.0  # deadline for anything that should happen "soon" on a loaded 2-core machine


class MeshCase(unittest.TestCase):
    ws: h.Workspace
    timers: Timers
    peer = None  # the scripted peer (ScriptedServer)
    servers: list

    @classmethod
    def setUpClass(cls) -> None:
        reason = h.binaries_available()
        if reason:
            raise unittest.SkipTest(reason)
        cls.ws = h.Workspace(f"socp-interop-{cls.__name__}-")
        cls.timers = Timers()
        cls.servers = []
        try:
            cls.build_mesh()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def build_mesh(cls) -> None:
        raise NotImplementedError

    @classmethod
    def tearDownClass(cls) -> None:
        h.stop_all()
        if getattr(cls, "ws", None):
            cls.ws.cleanup()

    # -- helpers -------------------------------------------------------------------------------
    @classmethod
    def socp_server(cls, name: str, introducers=(), extra=(), start=True) -> h.ServerProcess:
        """A socp-server with the workspace's next fixture key (server1, server2, ...; the
        scripted peers use server9..server12). Its identity is set up (and printed) first:
        peers' operators pin socp's key, and other socp operators may allowlist it. With
        start=False the caller adds options to extra_args and calls start_server()."""
        debug = ["--log-level", "debug"] if os.environ.get("SOCP_INTEROP_DEBUG") == "1" else []
        s = h.ServerProcess(cls.ws, name, introducers=introducers,
                            extra_args=[*cls.timers.server_args, *debug, *extra])
        out = subprocess.run([h.SERVER_BIN, "--data-dir", s.data_dir, "--test-identity-file",
                              s.identity_file, "--print-identity"],
                             capture_output=True, text=True, timeout=120, check=True).stdout
        s.pubkey = dict(line.split(None, 1) for line in out.splitlines() if line)["public_key"]
        return cls.start_server(s) if start else s

    @classmethod
    def start_server(cls, s: h.ServerProcess) -> h.ServerProcess:
        cls.servers.append(s.start())
        return s

    def hold_time(self) -> float:
        """Past socp's dead-link time, with room for one late heartbeat."""
        return self.timers.dead_s + max(2 * self.timers.heartbeat_s, 5.0)

    def context(self) -> str:
        parts = [self.peer.summary()] if self.peer else []
        parts += [s.logs() for s in self.servers]
        return "\n".join(parts)

    def check(self, fn, desc: str, timeout: float = WAIT):
        """Waits on the scripted peer's events for fn(); the failure shows both sides."""
        try:
            return self.peer.wait_for(fn, timeout, desc)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.context()}") from None

    def cli_wait(self, cli: h.CliProcess, event: str, timeout: float = WAIT, since=None,
                 **fields) -> dict:
        try:
            return cli.wait_event(event, timeout, since=since, **fields)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.context()}") from None

    def cli_sees(self, cli: h.CliProcess, user_id: str, timeout: float = WAIT) -> dict:
        """socp-cli's /list shows user_id online (repeated /list until it does)."""
        try:
            users = cli.wait_list(lambda us: any(u["user_id"] == user_id and u["online"]
                                                 for u in us), timeout,
                                  f"{user_id} online in /list")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.context()}") from None
        return next(u for u in users if u["user_id"] == user_id)

    def write_file(self, name: str, size: int) -> tuple[str, bytes, str]:
        data = os.urandom(size)
        path = os.path.join(self.ws.root, name)
        with open(path, "wb") as f:
            f.write(data)
        return path, data, hashlib.sha256(data).hexdigest()
