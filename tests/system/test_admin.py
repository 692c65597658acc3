"""`socp-server admin` on a stopped server's data directory and beside a running server.

Stopped: accounts (text and --json), delete-account → the account cannot log in after a
restart; registration/invite settings persist. Running (two servers A and B in a mesh, users
on both): delete-account on A ends the user's session at once and removes them from everyone's
/list; registration closed/invite/open apply to the next registration; an invitation works
once; forget-server on A forgets B's pin and the users last seen there; the server and its
database stay healthy (restart, same accounts).
"""

from __future__ import annotations

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import socp_harness as h  # noqa: E402
import socp_rsa  # noqa: E402


def names(users: list[dict]) -> set[str]:
    return {u["display_name"] for u in users}


class AdminTest(unittest.TestCase):
    def setUp(self) -> None:
        reason = h.binaries_available()
        if reason:
            self.skipTest(reason)
        self.ws = h.Workspace("socp-systest-admin-")
        self.addCleanup(self.ws.cleanup)
        self.addCleanup(h.stop_all)

    def admin(self, data_dir: str, *args: str, ok: bool = True) -> "h.subprocess.CompletedProcess":
        r = h.run_server_command(["admin", "--data-dir", data_dir, *args], cwd=self.ws.root)
        if ok:
            self.assertEqual(r.returncode, 0, f"admin {' '.join(args)}: {r.stderr}")
        return r

    def admin_json(self, data_dir: str, *args: str):
        return json.loads(self.admin(data_dir, "--json", *args).stdout)

    def register_raw(self, port: int, key_name: str, name: str, invite: str | None = None) -> dict:
        """USER_REGISTER from Python (socp-cli has no invitation option); the first answer."""
        key = socp_rsa.PrivateKey.from_pem(h.fixture_pem(key_name))
        user_id = h.new_uuid()
        ts = h.now_ms()
        payload = {"user_id": user_id, "pubkey": key.public.b64url(),
                   "privkey_store": "c2VhbGVk", "pake_password": "dmVyaWZpZXI",
                   "meta": {"display_name": name}, "ts": ts}
        if invite is not None:
            payload["invite"] = invite
        with h.WsClient(port=port) as c:
            c.send_json(h.envelope("USER_REGISTER", user_id, "server", payload, ts,
                                   key.sign_payload(payload)))
            return c.recv_json(30)

    # -------------------------------------------------------------------------------------------
    def test_stopped_server(self) -> None:
        ws = self.ws
        server = h.ServerProcess(ws, "solo").start()
        alice = h.CliProcess.register(ws, "alice", server.port)
        bob = h.CliProcess.register(ws, "bob", server.port)
        alice_id = alice.logged_in()["user_id"]
        bob_id = bob.logged_in()["user_id"]
        for c in (alice, bob):
            self.assertEqual(c.close(), 0)
        self.assertEqual(server.stop(), 0)
        data = server.data_dir

        text = self.admin(data, "accounts").stdout
        self.assertRegex(text, r"^USER ID\s+NAME\s+CREATED\s+TOFU\n")
        self.assertIn(alice_id, text)
        self.assertRegex(text, rf"{bob_id}\s+bob\s+\d{{4}}-\d\d-\d\dT\S+Z\s+no")
        accounts = self.admin_json(data, "accounts")
        self.assertEqual({a["display_name"] for a in accounts}, {"alice", "bob"})
        ident = self.admin(data, "identity").stdout
        self.assertIn(f"server_id   {server.server_id}", ident)
        self.assertIn("fingerprint SHA256:", ident)

        r = self.admin(data, "delete-account", "bob")  # by display name
        self.assertIn(f"account {bob_id} (bob) deleted", r.stdout)
        self.assertNotIn("running server", r.stdout)
        self.assertEqual(names(self.admin_json(data, "accounts")), {"alice"})
        r = self.admin(data, "delete-account", "bob", ok=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("no account bob", r.stderr)

        self.admin(data, "registration", "closed")
        self.assertEqual(self.admin(data, "registration").stdout, "registration closed\n")
        token = self.admin(data, "invite").stdout.strip()
        self.assertRegex(token, r"^[A-Za-z0-9_-]{24}$")
        self.assertEqual([i["token"] for i in self.admin_json(data, "invites")], [token])
        self.admin(data, "revoke-invite", token)
        self.assertEqual(self.admin_json(data, "invites"), [])
        r = self.admin(data, "revoke-invite", token, ok=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("no invitation", r.stderr)
        r = self.admin(data, "registration", "maybe", ok=False)
        self.assertEqual(r.returncode, 2)
        r = self.admin(os.path.join(ws.root, "nothing-here"), "accounts", ok=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("no socp database", r.stderr)
        self.assertFalse(os.path.exists(os.path.join(ws.root, "nothing-here")))

        # Restarted: bob is gone for good, alice logs in, registration stays closed.
        server.start()
        self.assertEqual(h.CliProcess.login(ws, "bob").wait_exit(30), 3)
        alice = h.CliProcess.login(ws, "alice")
        self.assertEqual(alice.logged_in()["user_id"], alice_id)
        ans = self.register_raw(server.port, "carol", "carol")
        self.assertEqual(ans["type"], "ERROR", ans)
        self.assertEqual(ans["payload"]["code"], "NOT_ADMITTED", ans)
        self.assertEqual(alice.close(), 0)
        self.assertEqual(server.stop(), 0)

    # -------------------------------------------------------------------------------------------
    def test_running_mesh(self) -> None:
        ws = self.ws
        a = h.ServerProcess(ws, "A", extra_args=h.FAST_MESH_TIMERS).start()
        b = h.ServerProcess(ws, "B", introducers=[a.port], extra_args=h.FAST_MESH_TIMERS).start()
        alice = h.CliProcess.register(ws, "alice", a.port)
        bob = h.CliProcess.register(ws, "bob", a.port)
        carol = h.CliProcess.register(ws, "carol", b.port)
        alice_id = alice.logged_in()["user_id"]
        bob.logged_in()
        carol.logged_in()
        bob.wait_list(lambda us: {"alice", "bob", "carol"} <= names(us), 30,
                      "bob sees alice, bob and carol")

        # delete-account while A runs: A ends alice's session and forgets her mesh-wide.
        r = self.admin(a.data_dir, "delete-account", alice_id)
        self.assertIn(f"account {alice_id} (alice) deleted by the running server (pid {a.pid})",
                      r.stdout)
        alice.wait_exit(15)
        self.assertNotIn("alice", names(self.admin_json(a.data_dir, "accounts")))
        bob.wait_list(lambda us: "alice" not in names(us), 15, "alice gone from bob's /list")
        self.assertEqual(h.CliProcess.login(ws, "alice").wait_exit(30), 3)

        # Registration policy, read by the running server at each registration.
        self.admin(a.data_dir, "registration", "closed")
        ans = self.register_raw(a.port, "dave", "dave")
        self.assertEqual(ans["payload"].get("code"), "NOT_ADMITTED", ans)
        self.admin(a.data_dir, "registration", "invite")
        self.assertEqual(self.register_raw(a.port, "dave", "dave")["payload"].get("code"),
                         "NOT_ADMITTED")
        token = self.admin(a.data_dir, "invite").stdout.strip()
        ans = self.register_raw(a.port, "dave", "dave", invite=token)
        self.assertEqual((ans["type"], ans["payload"].get("msg_ref")), ("ACK", "USER_REGISTER"),
                         ans)
        self.assertEqual(self.admin_json(a.data_dir, "invites"), [], "an invitation is used once")
        ans = self.register_raw(a.port, "erin", "erin", invite=token)
        self.assertEqual(ans["payload"].get("code"), "NOT_ADMITTED", ans)
        self.admin(a.data_dir, "registration", "open")
        self.assertIn("dave", names(self.admin_json(a.data_dir, "accounts")))

        # forget-server while A runs: B's pin, address and offline users go.
        servers = self.admin_json(a.data_dir, "servers")
        self.assertEqual([s["server_id"] for s in servers], [b.server_id])
        self.assertEqual(servers[0]["port"], b.port)
        self.assertIn(f"127.0.0.1:{b.port}", self.admin(a.data_dir, "servers").stdout)
        self.assertEqual(carol.close(), 0)
        self.assertEqual(b.stop(), 0)
        bob.wait_list(lambda us: any(u["display_name"] == "carol" and not u["online"]
                                     for u in us), 15, "carol offline on A")
        r = self.admin(a.data_dir, "forget-server", b.server_id)
        self.assertIn(f"server {b.server_id} forgotten by the running server (pid {a.pid})",
                      r.stdout)
        self.assertEqual(self.admin_json(a.data_dir, "servers"), [])
        bob.wait_list(lambda us: "carol" not in names(us), 15, "carol forgotten with B")
        r = self.admin(a.data_dir, "forget-server", b.server_id, ok=False)
        self.assertEqual(r.returncode, 1)

        # The running server and its database are fine: restart, same accounts, same id.
        self.assertTrue(a.alive(), a.logs())
        self.assertEqual(bob.close(), 0)
        before = self.admin_json(a.data_dir, "accounts")
        self.assertEqual(a.stop(), 0, a.logs())
        a_id = a.server_id
        a.start()
        self.assertEqual(a.server_id, a_id)
        self.assertEqual(self.admin_json(a.data_dir, "accounts"), before)
        bob = h.CliProcess.login(ws, "bob")
        bob.logged_in()
        self.assertEqual(bob.close(), 0)
        self.assertEqual(a.stop(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
