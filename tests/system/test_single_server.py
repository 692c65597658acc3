"""One real socp-server, two socp-cli users: the everyday scenario end to end.

register alice and bob (fixture keys via --import-key) → both logged in → /list shows both,
sorted, online → `/tell bob hi` arrives decrypted and verified → a second login of alice is
refused (NAME_IN_USE, exit 3) → a wrong password is refused locally (exit 3) → `/tell nobody x`
is USER_NOT_FOUND → SIGTERM the server (the clients stay and reconnect; a DM typed meanwhile
is delivered after the restart; a new login while it is down exits 2) and start it again on
the same data dir: same server id, the accounts persisted, alice recovers her
key on a "new device" (KEY_RECOVER; a wrong password is BAD_PASSWORD, exit 3), alice and bob log
in again and talk.

Prints (does not assert) `METRIC register_login_tell_ms`, `METRIC server_idle_rss_kb`, ...
"""

from __future__ import annotations

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import socp_harness as h  # noqa: E402


class SingleServerTest(unittest.TestCase):
    def setUp(self) -> None:
        reason = h.binaries_available()
        if reason:
            self.skipTest(reason)
        self.ws = h.Workspace("socp-systest-single-")
        self.addCleanup(self.ws.cleanup)
        self.addCleanup(h.stop_all)

    def test_register_list_tell_errors_restart(self) -> None:
        ws = self.ws
        server = h.ServerProcess(ws, "solo").start()
        h.metric("server_idle_rss_kb", server.rss_kb(), "kB")
        port = server.port

        # -- register: bob first, then one timed round for alice ----------------------------
        bob = h.CliProcess.register(ws, "bob", port)
        bob_in = bob.logged_in()
        bob_id = bob_in["user_id"]
        self.assertEqual(bob_in["display_name"], "bob")
        self.assertEqual(bob_in["server_id"], server.server_id)
        self.assertTrue(bob.events("registered"), "bob: no 'registered' event")

        t0 = time.monotonic()
        alice = h.CliProcess.register(ws, "alice", port)
        alice_in = alice.logged_in()
        alice_id = alice_in["user_id"]
        t_login = time.monotonic()
        since = bob.mark()
        alice.send("/tell bob hi")
        msg = bob.wait_event("message", 20, since=since, text="hi")
        t_done = time.monotonic()
        h.metric("register_login_tell_ms", (t_done - t0) * 1000, "ms")
        h.metric("register_login_ms", (t_login - t0) * 1000, "ms")
        self.assertTrue(msg["verified"])
        self.assertEqual(msg["from"], alice_id)
        self.assertEqual(msg["from_name"], "alice")
        self.assertEqual(msg["to"], bob_id)
        self.assertIsInstance(msg["ts"], int)
        sent = alice.wait_event("sent", 5, to=bob_id)
        self.assertEqual(sent["bytes"], 2)
        self.assertNotEqual(alice_id, bob_id)

        # -- /list: both, sorted, online ----------------------------------------------------
        users = alice.wait_list(lambda us: {u["display_name"] for u in us} >= {"alice", "bob"}
                                and all(u["online"] for u in us), 10, "alice and bob online")
        names = [u["display_name"] for u in users]
        self.assertEqual(names, sorted(names), "list sorted by display name")
        self.assertEqual(names, ["alice", "bob"])
        by_name = {u["display_name"]: u for u in users}
        self.assertEqual(by_name["alice"]["user_id"], alice_id)
        self.assertEqual(by_name["bob"]["user_id"], bob_id)
        for u in users:
            self.assertIs(u["online"], True)
            self.assertEqual(u["server_id"], server.server_id)
        self.assertEqual([u["display_name"] for u in bob.list_users()], ["alice", "bob"])

        # -- the other direction, by user id, with non-ASCII text ---------------------------
        since = alice.mark()
        bob.send(f"/tell {alice_id} grüße, 👋 alice")
        back = alice.wait_event("message", 15, since=since, text="grüße, 👋 alice")
        self.assertEqual(back["from"], bob_id)
        self.assertTrue(back["verified"])

        # -- duplicate login of alice -------------------------------------------------------
        dup = h.CliProcess.login(ws, "alice")
        err = dup.wait_event("error", 30, since=0)
        self.assertEqual(err["code"], "NAME_IN_USE", err)
        self.assertEqual(dup.wait_exit(15), 3, "duplicate login must exit with 3")
        self.assertFalse(dup.events("logged_in"), "the duplicate must never be logged in")
        # ... and the first alice session is unaffected
        since = bob.mark()
        alice.send("/tell bob still me")
        bob.wait_event("message", 15, since=since, text="still me")

        # -- wrong password -----------------------------------------------------------------
        wrong = h.CliProcess.login(ws, "alice", password_file=ws.wrong_password_file)
        err = wrong.wait_event("error", 30, since=0)
        self.assertEqual(wrong.wait_exit(15), 3, "wrong password must exit with 3")
        self.assertTrue(err.get("code"), err)
        self.assertIn("password", (err.get("detail", "") + err["code"]).lower(),
                      f"the error should say it is the password: {err}")
        self.assertFalse(wrong.events("logged_in"))
        self.assertFalse(wrong.events("connected"),
                         "a wrong password is detected before connecting")

        # -- /tell nobody -------------------------------------------------------------------
        alice.send("/tell nobody x")
        err = alice.wait_event("error", 15)
        self.assertEqual(err["code"], "USER_NOT_FOUND", err)
        self.assertTrue(alice.alive(), "a failed /tell must not end the session")

        h.metric("server_rss_with_2_users_kb", server.rss_kb(), "kB")

        # -- restart the server on the same data dir: the clients stay, reconnect, resend -----
        old_id = server.server_id
        rc = server.stop()
        self.assertEqual(rc, 0, f"socp-server should exit 0 on SIGTERM\n{server.logs()}")
        for cli, name in ((alice, "alice"), (bob, "bob")):
            ev = cli.wait_event("reconnecting", 15, since=0)
            self.assertGreaterEqual(ev["attempt"], 1, f"{name}: {ev}")
            self.assertTrue(cli.alive(), f"{name}: a lost connection must not end the client")
        # typed while the server is down: kept, sent after the reconnect
        since_b = bob.mark()
        alice.send("/tell bob while you were away")

        # -- while the server is down: a client that never logged in fails with exit 2 -------
        down = h.CliProcess.login(ws, "bob", extra=["--reconnect-for", "5"])
        self.assertEqual(down.wait_exit(30), 2, "no server: exit 2")
        self.assertEqual(down.wait_event("closed", 1, since=0)["outcome"], "connect_failed")

        server.start()
        self.assertEqual(server.server_id, old_id, "the server id must persist in the data dir")
        for cli, name in ((alice, "alice"), (bob, "bob")):
            ev = cli.wait_event("reconnected", 30, since=0)
            self.assertEqual(ev["server_id"], old_id, f"{name}: {ev}")
        m = bob.wait_event("message", 30, since=since_b, text="while you were away")
        self.assertEqual(m["from"], alice_id)
        self.assertTrue(alice.wait_event("delivered", 30, since=0, to=bob_id))
        # exit 5: the session ended normally, but a command failed (alice's /tell nobody)
        self.assertEqual(alice.close(), 5)
        self.assertEqual(bob.close(), 0)

        bob2 = h.CliProcess.login(ws, "bob")
        self.assertEqual(bob2.logged_in()["user_id"], bob_id)

        # -- a new device: recover alice's sealed key with the password ----------------------
        home2 = ws.dir("home-device2")

        def recover(password_file: str) -> h.CliProcess:
            return h.CliProcess(ws, "alice-recover",
                                ["recover", "--name", "alice", "--user-id", alice_id, "--server",
                                 f"{h.HOST}:{port}", "--home", home2, "--password-file",
                                 password_file, "--json"])

        bad = recover(ws.wrong_password_file)
        err = bad.wait_event("error", 30, since=0)
        self.assertEqual(err["code"], "BAD_PASSWORD", err)
        self.assertEqual(bad.wait_exit(15), 3, "recovery with a wrong password must exit with 3")
        dev2 = recover(ws.password_file)
        self.assertEqual(dev2.wait_event("recovered", 30, since=0)["user_id"], alice_id)
        self.assertEqual(dev2.logged_in()["user_id"], alice_id)
        since = bob2.mark()
        dev2.send("/tell bob from my new device")
        m = bob2.wait_event("message", 15, since=since, text="from my new device")
        self.assertEqual(m["from"], alice_id)
        self.assertTrue(m["verified"])
        self.assertEqual(dev2.close(), 0)

        alice2 = h.CliProcess.login(ws, "alice")
        self.assertEqual(alice2.logged_in()["user_id"], alice_id)
        users = alice2.wait_list(lambda us: sorted(u["display_name"] for u in us if u["online"])
                                 == ["alice", "bob"], 10, "both online after the restart")
        self.assertEqual([u["user_id"] for u in users], [alice_id, bob_id])
        since = bob2.mark()
        alice2.send("/tell bob after restart")
        m = bob2.wait_event("message", 15, since=since, text="after restart")
        self.assertTrue(m["verified"])
        self.assertEqual(m["from"], alice_id)
        # bob's client pinned alice's key on the first contact before the restart; after it
        # the key still matches (no key_changed).
        self.assertFalse(bob2.events("key_changed"), bob2.events("key_changed"))

        for cli in (alice2, bob2):
            self.assertEqual(cli.close(), 0, f"/quit must exit 0: {cli!r}")
        self.assertTrue(server.alive())
        self.assertEqual(server.stop(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
