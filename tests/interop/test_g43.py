"""socp ↔ G43 in one loopback mesh: the G43 introducer and server are scripted (peer_g43.py).

Mesh: scripted G43 introducer I; socp-servers A and B join through I (A first, so B's welcome
lists A); the scripted G43 server G joins I last, learns A and B from its welcome and dials
both. alice (socp-cli) is on A; bob43 (G43's client, scripted) logs in at G after alice.
The G43 introducer introduces nobody, so A and B allowlist each other and G (--allow-server).
How G43 expects frames to travel: socp must send to G on a socket socp dialed (G reads only
sockets it accepted) and accept G's write socket, on which G's first frame is no hello (F2).
G opens that write socket when socp's hello arrives and sends nothing on it until one of its
users logs in (server.py:716-732; its adverts go out at login, 287-308): bob43 logs in only after socp's lifetime limit for
unidentified sockets (--test-unauth-max-ms, scaled like the other timers) has passed, as a G43
user who comes minutes after the link does.
"""

from __future__ import annotations

import os
import time
import unittest

from mesh_case import WAIT, MeshCase
from peer_base import HOST, h
from peer_g43 import G43Introducer, G43Server


class G43Mesh(MeshCase):
    @classmethod
    def build_mesh(cls) -> None:
        cls.intro = G43Introducer(cls.timers).start()
        cls.peer = G43Server(cls.timers)
        # G43's introducer is no server and introduces nobody: the operators allowlist the
        # servers of this mesh (the keys they exchanged), or socp refuses their links. G43's
        # frames do not name its dialect: the operators name it (docs/interop.md).
        cls.a = cls.socp_server("A", introducers=[cls.intro.port], start=False)
        cls.b = cls.socp_server("B", introducers=[cls.intro.port], start=False)
        cls.unauth_max_s = cls.timers.scaled(60)  # socp's 60 s for unidentified sockets
        for s, other in ((cls.a, cls.b), (cls.b, cls.a)):
            s.extra_args += ["--allow-server", other.pubkey, "--allow-server", cls.peer.pub_b64,
                             "--peer-dialect", f"{HOST}:{cls.peer.port}=g43",
                             "--test-unauth-max-ms", str(int(cls.unauth_max_s * 1000))]
        cls.start_server(cls.a)
        cls.intro.wait_for(lambda: len(cls.intro.joined) >= 1, WAIT, "A's SERVER_HELLO_JOIN")
        cls.start_server(cls.b)
        cls.intro.wait_for(lambda: len(cls.intro.joined) >= 2, WAIT, "B's SERVER_HELLO_JOIN")
        cls.peer.start()
        cls.peer.join(cls.intro.port)
        cls.alice = h.CliProcess.register(cls.ws, "alice", cls.a.port)
        cls.alice_id = cls.alice.logged_in(WAIT)["user_id"]
        cls.bob = None
        cls.linked_at = None

    def ids(self) -> tuple[str, str]:
        return self.a.server_id, self.b.server_id

    def links_up(self) -> bool:
        return self.peer.link_up(self.a.server_id) and self.peer.link_up(self.b.server_id)

    def login_bob(self):
        """bob43 logs in at G once G links to A and B, and G's write sockets (silent until
        now) have outlived socp's limit for unidentified sockets (or after WAIT, to let later
        tests report)."""
        if type(self).bob is None:
            try:
                self.peer.wait_for(self.links_up, WAIT, "links to A and B")
                if type(self).linked_at is None:
                    type(self).linked_at = time.monotonic()
                left = type(self).linked_at + type(self).unauth_max_s + 1.0 - time.monotonic()
                if left > 0:
                    self.peer.hold(left, self.links_up, "G's silent write sockets to A and B open")
            except AssertionError:
                pass
            type(self).bob = self.peer.login("bob43", "dave")
        return type(self).bob

    def test_1_link_forms_and_outlives_dead_time(self):
        """F1 F2 F3: A and B accept the unsigned, non-UUID welcome of the G43 introducer; G's
        hello reaches A and B; each dials G back (G reads only sockets it accepted) and keeps
        G's write socket, whose first frame is no hello; no HEARTBEAT from G, only WS pings, so
        the links and G's join socket must outlive socp's dead-link time."""
        a, b = self.ids()
        self.check(lambda: self.peer.notes("welcome"), "G gets its welcome from the introducer")
        self.check(lambda: self.peer.link_up(a) and self.peer.link_up(b),
                   "A and B dial G back with SERVER_HELLO_LINK and keep G's write socket")
        if type(self).linked_at is None:
            type(self).linked_at = time.monotonic()
        try:
            self.peer.hold(self.hold_time(),
                           lambda: self.peer.link_up(a) and self.peer.link_up(b)
                           and not self.peer.died,
                           "links A↔G and B↔G up, G's join socket open, G alive")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.context()}") from None
        self.assertTrue(self.a.alive() and self.b.alive(), self.context())

    def test_2_list_both_ways(self):
        """F2 F5 F6: alice's /list shows bob43 online with his username; bob43 (who logged in
        after alice, and after socp's limit for unidentified sockets: G's advert travels on the
        write socket G opened when A's hello came, silent until then) learns alice from a
        backfill advert that has meta.username and pubkey."""
        bob = self.login_bob()
        u = self.cli_sees(self.alice, bob.user_id)
        self.assertEqual(u["display_name"], "bob43", "meta.username as display name (F5)")
        self.check(lambda: "alice" in bob.known, "bob43's client knows alice (username+pubkey)")
        self.assertEqual(bob.known["alice"]["uuid"], self.alice_id)

    def test_3_tell_socp_to_g43(self):
        """F2 F4: SERVER_DELIVER with inner_type on a socket G reads (a socket socp dialed);
        the payload G hands its user has `public: false`; bob43 decrypts and his client's
        receive loop survives. (The content_sig variant is test_3b.)"""
        bob = self.login_bob()
        self.cli_sees(self.alice, bob.user_id)
        self.alice.send(f"/tell {bob.user_id} hello-bob43")
        self.cli_wait(self.alice, "sent")
        m = self.check(lambda: [x for x in bob.messages if x["text"] == "hello-bob43"],
                       "bob43 gets the DM")[0]
        self.assertIs(m["public"], False)
        self.assertEqual(m["from"], self.alice_id)
        self.assertIsNone(bob.dead, "G43 client's receive loop alive")
        self.assertFalse(self.peer.notes("handler error"), "G's handler kept its socket")

    def test_3b_tell_socp_to_g43_verified(self):
        """F7: bob43 verifies alice's content_sig (variant C for recipients on G43)."""
        bob = self.login_bob()
        self.cli_sees(self.alice, bob.user_id)
        self.alice.send(f"/tell {bob.user_id} hello-bob43-verified")
        m = self.check(lambda: [x for x in bob.messages if x["text"] == "hello-bob43-verified"],
                       "bob43 gets the DM")[0]
        self.assertTrue(m["ok"], "content_sig variant C verifies at G43's client")

    def test_4_tell_g43_to_socp(self):
        """F2 F3 F5: bob43 addresses alice by username; G's SERVER_DELIVER {inner_type,
        user_id, public, ciphertext, sender, sender_pub, content_sig(C)} arrives on G's write
        socket; socp-cli shows it verified."""
        bob = self.login_bob()
        self.check(lambda: "alice" in bob.known, "bob43 knows alice")
        since = self.alice.mark()
        bob.tell("alice", "hello-from-bob43")
        m = self.cli_wait(self.alice, "message", since=since, text="hello-from-bob43")
        self.assertTrue(m["verified"])
        self.assertEqual(m["from"], bob.user_id)

    def test_5_all_socp_to_g43(self):
        """F8: alice's /all reaches bob43 as G43's /all travels: one MSG_DIRECT {public:true}
        per member on a G43 server, content_sig variant C."""
        bob = self.login_bob()
        self.cli_sees(self.alice, bob.user_id)
        self.alice.send("/all hi-all-from-alice")
        self.cli_wait(self.alice, "sent_all")
        m = self.check(lambda: [x for x in bob.messages if x["text"] == "hi-all-from-alice"],
                       "bob43 gets alice's /all")[0]
        self.assertTrue(m["ok"])
        self.assertIs(m["public"], True)

    def test_6_all_g43_to_socp(self):
        """F2 F3 F5: bob43's /all (a MSG_DIRECT {public:true} per known user) reaches alice."""
        bob = self.login_bob()
        self.check(lambda: "alice" in bob.known, "bob43 knows alice")
        since = self.alice.mark()
        self.assertGreaterEqual(bob.all("hi-all-from-bob43"), 1)
        m = self.cli_wait(self.alice, "message", since=since, text="hi-all-from-bob43")
        self.assertTrue(m["verified"])

    def test_7_file_socp_to_g43(self):
        """F9 F2: each FILE_CHUNK carries sender, sender_pub and content_sig (variant C, the
        chunk's ts); bob43 verifies every chunk and the SHA-256."""
        bob = self.login_bob()
        self.cli_sees(self.alice, bob.user_id)
        path, data, _ = self.write_file("to-bob43.bin", 1000)
        self.alice.send(f"/file {bob.user_id} {path}")
        got = self.check(lambda: [f for f in bob.saved if f["name"].startswith("to-bob43")],
                         "bob43 saves the file")[0]
        self.assertTrue(got["sha_ok"], "SHA-256 matches (not .corrupt)")
        self.assertEqual(got["data"], data)

    def test_8_file_g43_to_socp(self):
        """F9: G43's FILE_START has no sender/sender_pub/content_sig; its chunks carry them
        (variant C). A relays the manifest naming only G (sender_server); socp-cli binds the
        transfer to the signed chunks' sender (bob43, who lives at G), checks every chunk with
        bob43's directory key and saves the file, marked as not from a signed manifest."""
        bob = self.login_bob()
        self.check(lambda: "alice" in bob.known, "bob43 knows alice")
        self.cli_sees(self.alice, bob.user_id)
        _, data, digest = self.write_file("from-bob43.bin", 1000)
        since = self.alice.mark()
        bob.send_file("alice", "from-bob43.bin", data)
        got = self.cli_wait(self.alice, "file_received", since=since)
        self.assertEqual((got["from"], got["size"], got["sha256"]),
                         (bob.user_id, len(data), digest))
        self.assertIs(got["manifest_signed"], False)
        self.assertEqual(got["sender_server"], self.peer.server_id)
        with open(got["path"], "rb") as f:
            self.assertEqual(f.read(), data)

    def test_8b_file_g43_bad_chunk_aborts(self):
        """F9: G43's chunks bind only ciphertext, sender, recipient and ts. A chunk whose
        content_sig does not verify with bob43's directory key (here: signed by another key,
        with that key as sender_pub) aborts the transfer; nothing is saved."""
        bob = self.login_bob()
        self.check(lambda: "alice" in bob.known, "bob43 knows alice")
        self.cli_sees(self.alice, bob.user_id)
        since = self.alice.mark()
        bob.send_file("alice", "forged-from-bob43.bin", b"x" * 1000, forge_chunk=1)
        got = self.cli_wait(self.alice, "file_failed", since=since)
        self.assertIn("chunk 1", got["reason"])
        self.assertEqual(got["from"], bob.user_id)
        self.assertEqual(self.alice.events("file_received", since), [])

    def test_8c_file_g43_renumbered_chunks_refused(self):
        """F9: a relay renumbers bob43's validly signed chunks (last first) and sends a
        manifest whose SHA-256 matches the renumbered file: every chunk verifies and the
        SHA-256 matches, but the chunks were signed out of index order, so it is refused."""
        bob = self.login_bob()
        self.check(lambda: "alice" in bob.known, "bob43 knows alice")
        self.cli_sees(self.alice, bob.user_id)
        since = self.alice.mark()
        bob.send_file("alice", "renumbered.bin", os.urandom(1200), reverse_chunks=True)
        got = self.cli_wait(self.alice, "file_failed", since=since)
        self.assertIn("signed before", got["reason"])
        self.assertEqual(self.alice.events("file_received", since), [])

if __name__ == "__main__":
    unittest.main(verbosity=2)
