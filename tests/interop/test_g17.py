"""socp ↔ G17 in one loopback mesh: the G17 server and client are scripted (peer_g17.py).

Mesh: socp-server A (introducer), socp-server B joins A; the scripted G17 server G joins A with
a plain peer URI (no pinned key), so it can verify A only if A's SERVER_WELCOME (or an
ANNOUNCE) carries A's id and key. alice (socp-cli) is on A, fay (G17 client) on G. G17's
adverts carry no key: socp has to ask G with PUBKEY_REQUEST.
"""

from __future__ import annotations

import json
import os
import unittest

from mesh_case import WAIT, MeshCase
from peer_base import ScriptedServer, h
from peer_g17 import G17Server


def alice_pub() -> str:
    with open(os.path.join(h.VECTORS_DIR, "keys.json"), encoding="utf-8") as f:
        return json.load(f)["keys"]["alice"]["public_der_b64url"]


class G17Mesh(MeshCase):
    @classmethod
    def build_mesh(cls) -> None:
        cls.a = cls.socp_server("A")
        cls.b = cls.socp_server("B", introducers=[cls.a.port])
        cls.peer = G17Server(cls.timers).start()
        cls.peer.join(cls.a.port)
        cls.alice = h.CliProcess.register(cls.ws, "alice", cls.a.port)
        cls.alice_id = cls.alice.logged_in(WAIT)["user_id"]
        cls.fay = None

    def login_fay(self):
        if type(self).fay is None:
            try:
                self.peer.wait_for(lambda: self.peer.link_up(self.a.server_id), WAIT, "link to A")
            except AssertionError:
                pass
            type(self).fay = self.peer.login("fay", "frank")
        return type(self).fay

    def test_1_link_forms_and_outlives_dead_time(self):
        """F14: A's SERVER_WELCOME (or ANNOUNCE) gives G A's server_id and key, so G verifies
        A's frames; HEARTBEATs both ways keep the link past socp's dead-link time. G17 is
        detected from its join (ws_uri) and A sends on G's own socket instead of dialing G."""
        a = self.a.server_id
        self.check(lambda: self.peer.link_up(a), "G learns A's key (welcome server_pub)")
        try:
            self.peer.hold(self.hold_time(), lambda: self.peer.link_up(a), "link A↔G up")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.context()}") from None
        self.assertGreater(self.peer.verified.get(a, 0), 0, "frames from A verified at G")
        self.assertFalse(self.peer.notes("dropped: invalid transport sig"), self.context())
        # G17 uses the socket it dialed both ways and refuses a server hello on one it
        # accepted: socp must send on G's socket, not dial G back.
        self.assertFalse(self.peer.notes("unexpected first message"), self.context())

    def test_2_list_both_ways(self):
        """F15: G's advert has no key; socp asks G (PUBKEY_REQUEST → PUBKEY_RESPONSE) and
        alice's /list shows fay online. G knows alice's location from A's advert."""
        fay = self.login_fay()
        self.cli_sees(self.alice, fay.user_id)
        self.check(lambda: self.alice_id in self.peer.user_locations, "G knows alice")

    def test_3_tell_socp_to_g17(self):
        """F15: SERVER_DELIVER with orig_ts; fay verifies content_sig variant B with the
        original ts and decrypts."""
        fay = self.login_fay()
        self.cli_sees(self.alice, fay.user_id)
        self.alice.send(f"/tell {fay.user_id} hello-fay")
        self.cli_wait(self.alice, "sent")
        self.check(lambda: [m for m in fay.messages if m["text"] == "hello-fay"],
                   "fay gets alice's DM")

    def test_4_tell_g17_to_socp_with_key_given(self):
        """(what-if; natively G17's client has no key for alice: its PUBKEY_REQUEST is
        answered from G's local users only.) Given alice's key, fay's DM travels as G17's
        SERVER_DELIVER {…, orig_ts} with a fresh envelope ts, and alice sees it verified."""
        fay = self.login_fay()
        self.check(lambda: self.alice_id in self.peer.user_locations, "G knows alice")
        self.assertFalse(fay.tell(self.alice_id, "natively"), "G17: no pubkey for alice")
        since = self.alice.mark()
        self.assertTrue(fay.tell(self.alice_id, "hello-from-fay", pubkey=alice_pub()))
        m = self.cli_wait(self.alice, "message", since=since, text="hello-from-fay")
        self.assertTrue(m["verified"])
        self.assertEqual(m["from"], fay.user_id)

    def test_5_all_socp_to_g17(self):
        """F8 F15: alice's /all reaches fay as a DM (G17 cannot read socp's channel)."""
        fay = self.login_fay()
        self.cli_sees(self.alice, fay.user_id)
        self.alice.send("/all hi-all-from-alice")
        self.cli_wait(self.alice, "sent_all")
        self.check(lambda: [m for m in fay.messages if m["text"] == "hi-all-from-alice"],
                   "fay gets alice's /all")

    def test_6_socp_cli_logs_in_on_g17(self):
        """F16: G17 answers USER_HELLO with CLIENT_WELCOME and ACK {msg_ref:"USER_HELLO_OK",
        server_pub}; socp-cli logs in."""
        home = self.ws.dir("home-carol")
        carol = h.CliProcess.register(self.ws, "carol", self.a.port, home=home)
        carol.logged_in(WAIT)
        self.assertEqual(carol.close(), 0)
        carol = h.CliProcess.login(self.ws, "carol", home=home, server_port=self.peer.port)
        try:
            self.cli_wait(carol, "logged_in", since=0)
        finally:
            carol.kill()

    def test_7_socp_joins_a_g17_introducer(self):
        """F1: socp-server C joins through a G17 introducer whose welcome is G17's {server_id,
        server_pub, snapshot, assigned_id: null} plus an entry without server_id: C keeps its
        own id, skips the entry, pins the introducer with server_pub and announces itself."""
        intro = G17Introducer(self.timers).start()
        self.addCleanup(intro.stop)
        c = self.socp_server("C", introducers=[intro.port])
        announce = intro.wait_for(lambda: intro.notes("announce"), WAIT,
                                  "C's SERVER_ANNOUNCE after the welcome")[0]
        self.assertEqual(announce, c.server_id, "C kept its own id (assigned_id null)")
        self.assertFalse(intro.notes("closed"), intro.summary() + "\n" + c.logs())
        self.assertTrue(c.alive(), c.logs())


class G17Introducer(ScriptedServer):
    """G17 as an introducer (network_protocol_core.py:330-381): a signed welcome with its own
    id and key, a snapshot, assigned_id null; here also a list entry without server_id."""
    dialect = "G17"

    def __init__(self, timers):
        super().__init__("g17-intro", "server8", timers)

    def on_accepted_text(self, conn, env: dict) -> None:
        t = env.get("type")
        if t == "SERVER_HELLO_JOIN":
            conn.send_json(self.signed("SERVER_WELCOME", env["from"], {
                "server_id": self.server_id, "server_pub": self.pub.b64url(),
                "snapshot": {"user_locations": {}}, "assigned_id": None,
                "servers": [{"host": "127.0.0.1", "port": 9}]}))
        elif t == "SERVER_ANNOUNCE":
            self.note("announce", env.get("from"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
