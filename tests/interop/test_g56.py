"""socp ↔ G56 in one loopback mesh: the G56 server and clients are scripted (peer_g56.py).

Mesh: socp-server A (introducer, --compat-unsigned-hello), socp-server B joins A; the scripted
G56 server G joins A with A's key configured in PEM form (what G56's bootstrap.yaml needs),
then closes its join socket, so A must dial G. alice (socp-cli) is on A, gina (G56 client) on
G, ivan (G56 client) on A; gwen (G56 client) logs in at G after alice's advert passed G.
Later, socp-server C joins through G (G as introducer).
G56AndSecondSocp: a second socp-server B that G did not join through links with G.
G56 parses every key as PEM, so everything socp sends G56 must carry PEM-form keys (F12).
"""

from __future__ import annotations

import unittest

from mesh_case import WAIT, MeshCase
from peer_base import h, parse_der_only, pem_b64url
from peer_g56 import G56ClientOnSocp, G56Server, G56User


class G56Mesh(MeshCase):
    @classmethod
    def build_mesh(cls) -> None:
        cls.a = cls.socp_server("A", extra=["--compat-unsigned-hello"])
        cls.b = cls.socp_server("B", introducers=[cls.a.port])
        cls.peer = G56Server(cls.timers).start()
        cls.peer.join(cls.a.port, pem_b64url(parse_der_only(cls.a.pubkey)))
        cls.alice = h.CliProcess.register(cls.ws, "alice", cls.a.port)
        cls.alice_id = cls.alice.logged_in(WAIT)["user_id"]
        cls.gina = cls.ivan = None

    def login_gina(self):
        if type(self).gina is None:
            try:
                self.peer.wait_for(lambda: self.peer.link_up(self.a.server_id), WAIT, "link to A")
            except AssertionError:
                pass
            type(self).gina = self.peer.login("gina", "erin")
        return type(self).gina

    def connect_ivan(self):
        if type(self).ivan is None:
            type(self).ivan = G56ClientOnSocp(self.peer, self.a.port, "ivan", "frank").user
        return type(self).ivan

    def test_01_link_forms_and_outlives_dead_time(self):
        """F11 F12: G's HELLO_JOIN and ANNOUNCE are unsigned; A's welcome lists A's key in PEM
        form (G re-pins A from it: a DER key there made A's first frames fail at G whenever
        A's HELLO_LINK came before G read the welcome); G closes its join socket and
        never redials its introducer, so A dials G (HELLO_LINK with A's key in PEM form, which
        G pins); signed HEARTBEATs flow both ways; the link outlives socp's dead-link time and
        G verifies A's frames (no INVALID_SIG from G)."""
        a = self.a.server_id
        self.assertEqual(self.peer.notes("welcome key not PEM"), [],
                         "A's welcome lists every key in PEM form: G pins them from it")
        self.check(lambda: self.peer.link_up(a), "A dials G and G accepts its HELLO_LINK")
        self.assertTrue(parse_pem_only_ok(self.peer.servers[a]["pubkey"]),
                        f"G pinned a PEM-form key for A: {self.peer.servers[a]['pubkey'][:40]}")
        try:
            self.peer.hold(self.hold_time(), lambda: self.peer.link_up(a), "link A↔G up")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.context()}") from None
        self.assertFalse([e for e in self.peer.notes("sent ERROR") if e[0] == "INVALID_SIG"],
                         self.context())

    def test_02_list_both_ways(self):
        """F12: alice sees gina (G's advert, verified with G's PEM key); G accepts A's advert
        for alice (signature checked with A's key parsed as PEM, the only form G56 reads)."""
        gina = self.login_gina()
        self.cli_sees(self.alice, gina.user_id)
        self.check(lambda: [u for u in self.peer.notes("remote user") if u[0] == self.alice_id],
                   "G accepts A's advert for alice (A's signature, PEM key)")
        self.assertFalse([e for e in self.peer.notes("sent ERROR") if e[0] == "INVALID_SIG"],
                         self.context())

    def test_03_tell_socp_to_g56(self):
        """F12 F7: SERVER_DELIVER verified by G with A's PEM key; gina checks content_sig
        variant A (over the base64url ciphertext text) with sender_pub parsed as PEM."""
        gina = self.login_gina()
        self.cli_sees(self.alice, gina.user_id)
        self.alice.send(f"/tell {gina.user_id} hello-gina")
        self.cli_wait(self.alice, "sent")
        self.check(lambda: [m for m in gina.messages if m["text"] == "hello-gina"],
                   "gina gets alice's DM")

    def test_04_tell_g56_to_socp(self):
        """F12: gwen logs in at G after alice's advert passed G, and G56 gives a new user no
        directory: A answers G's advert for gwen with a backfill advert of alice (PEM key),
        which G relays to gwen. gwen encrypts to alice's key (PEM only) and signs variant A;
        G's SERVER_DELIVER reaches A (G must have accepted alice's location)."""
        self.login_gina()
        self.check(lambda: [u for u in self.peer.notes("remote user") if u[0] == self.alice_id],
                   "alice's advert passed G")
        gwen = self.peer.login("gwen", "dave")
        self.check(lambda: self.alice_id in gwen.pubdir, "gwen knows alice's key (backfill)")
        since = self.alice.mark()
        gwen.tell(self.alice_id, "hello-from-gwen")
        m = self.cli_wait(self.alice, "message", since=since, text="hello-from-gwen")
        self.assertTrue(m["verified"])
        self.assertEqual(m["from"], gwen.user_id)

    def test_05_all_socp_to_g56(self):
        """F8 F12: alice's /all reaches gina (as a DM to a member on a non-socp server)."""
        gina = self.login_gina()
        self.cli_sees(self.alice, gina.user_id)
        self.alice.send("/all hi-all-from-alice")
        self.cli_wait(self.alice, "sent_all")
        self.check(lambda: [m for m in gina.messages if m["text"] == "hi-all-from-alice"],
                   "gina gets alice's /all")

    def test_06_all_g56_to_socp(self):
        """F13: G relays gina's MSG_PUBLIC_CHANNEL with from = gina's user id, signed by G,
        no key_id, ciphertext = base64url plaintext, content_sig variant A by gina. A takes it
        as G's post for gina (G's signature, gina lives at G); alice sees the text on the
        public channel, marked as not encrypted."""
        gina = self.login_gina()
        self.cli_sees(self.alice, gina.user_id)
        since = self.alice.mark()
        gina.all("hi-all-from-gina")
        m = self.cli_wait(self.alice, "message", since=since, text="hi-all-from-gina")
        self.assertEqual(m["from"], gina.user_id)
        self.assertEqual(m["channel"], "public")
        self.assertIs(m["encrypted"], False)

    def test_06b_all_g56_forgeries_refused(self):
        """F13: what A still refuses of G's posts for a user, though G signs them: one with
        `from` = a user who does not live at G (alice), and one with `from` = gus (G's user)
        whose content_sig and sender_pub are gina's. alice sees neither; gina's genuine post
        sent after them arrives."""
        gina = self.login_gina()
        self.cli_sees(self.alice, gina.user_id)
        since = self.alice.mark()
        self.peer.forge_post(gina, self.alice_id, "forged-as-alice")  # alice is not G's user
        other = self.peer.login("gus", "bob")  # a key no other user here has
        self.cli_sees(self.alice, other.user_id)
        self.peer.forge_post(gina, other.user_id, "forged-as-gus")  # gina's content_sig
        gina.all("genuine-after-forgeries")
        self.cli_wait(self.alice, "message", since=since, text="genuine-after-forgeries")
        texts = [e.get("text") for e in self.alice.events("message", since)]
        self.assertNotIn("forged-as-alice", texts)
        self.assertNotIn("forged-as-gus", texts)

    def test_07_socp_joins_g56(self):
        """F10 F1: socp-server C joins through G: its SERVER_HELLO_JOIN `to` is "host:port"
        (G refuses anything else), and C accepts G's unsigned welcome and stays linked."""
        c = self.socp_server("C", introducers=[self.peer.port])
        self.check(lambda: [j for j in self.peer.notes("join request") if j[0] == c.server_id],
                   "G accepts C's SERVER_HELLO_JOIN")
        self.assertFalse(self.peer.notes("bad first message"), self.context())
        try:
            self.peer.hold(self.hold_time(), lambda: self.peer.link_up(c.server_id) and
                           c.alive(), "C↔G link up")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.context()}") from None

    def test_08_g56_client_on_socp_list(self):
        """ivan (unsigned USER_HELLO, PEM-text key) is TOFU-registered on A
        (--compat-unsigned-hello); alice sees him and ivan gets alice's advert. (The key
        form towards such clients is test_09, not done.)"""
        ivan = self.connect_ivan()
        self.cli_sees(self.alice, ivan.user_id)
        self.check(lambda: self.alice_id in ivan.pubdir, "ivan gets alice's advert")

    @unittest.skip("not done: keys in PEM form towards compat clients that presented one (adverts to users) (docs/interop.md, 'Not done')")
    def test_09_g56_client_dm_both_ways(self):
        """F12 F7: ivan → alice (encrypting to her advertised key, variant A); alice → ivan
        (USER_DELIVER sender_pub in PEM form, content_sig variant A)."""
        ivan = self.connect_ivan()
        self.check(lambda: self.alice_id in ivan.pubdir, "ivan knows alice's key")
        since = self.alice.mark()
        ivan.tell(self.alice_id, "hello-from-ivan")
        m = self.cli_wait(self.alice, "message", since=since, text="hello-from-ivan")
        self.assertTrue(m["verified"])
        self.alice.send(f"/tell {ivan.user_id} hello-ivan")
        self.check(lambda: [x for x in ivan.messages if x["text"] == "hello-ivan"],
                   "ivan gets alice's DM")

    def test_10_file_socp_to_g56_client(self):
        """(works per the notes) alice /file → ivan: G56 checks OAEP and the SHA-256 only."""
        ivan = self.connect_ivan()
        self.cli_sees(self.alice, ivan.user_id)
        path, data, _ = self.write_file("to-ivan.bin", 1000)
        self.alice.send(f"/file {ivan.user_id} {path}")
        got = self.check(lambda: [f for f in ivan.saved if f["name"] == "to-ivan.bin"],
                         "ivan saves the file")[0]
        self.assertTrue(got["sha_ok"])
        self.assertEqual(got["data"], data)

    @unittest.skip("not done: FILE_START without sender_pub from compat clients (F9) (docs/interop.md, 'Not done')")
    def test_11_file_g56_client_to_socp(self):
        """F9: G56's FILE_START has no sender_pub/content_sig; A accepts it for a compat
        client (pinned key) and alice saves the file."""
        ivan = self.connect_ivan()
        self.check(lambda: self.alice_id in ivan.pubdir, "ivan knows alice's key")
        _, data, digest = self.write_file("from-ivan.bin", 1000)
        since = self.alice.mark()
        ivan.send_file(self.alice_id, "from-ivan.bin", data)
        got = self.cli_wait(self.alice, "file_received", since=since)
        self.assertEqual((got["from"], got["sha256"]), (ivan.user_id, digest))

    def test_12_pubkey_b64u_alias(self):
        """F18: a client whose USER_HELLO names its key `pubkey_b64u` (G12's form) is
        TOFU-registered and ACKed, and alice sees it."""
        user = G56User(self.peer.note, "hana", "carol")
        conn = self.peer.dial(self.a.port, "client-hana")
        conn.remote_id = "socp"
        self.peer.client_conns[conn] = user
        hello = user.hello()
        hello["payload"]["pubkey_b64u"] = hello["payload"].pop("pubkey")
        conn.send_json(hello)
        self.check(lambda: user.acks or user.errors, "an answer to hana's hello")
        self.assertEqual(user.errors, [], self.context())
        self.assertIn("USER_HELLO", user.acks)
        self.cli_sees(self.alice, user.user_id)


class G56AndSecondSocp(MeshCase):
    """socp-server B joined through A, then the scripted G56 server G joins through A too.

    G learns B from A's welcome and dials it with an *unsigned* SERVER_HELLO_LINK (G56 never
    signs one). B takes an unsigned hello only from a server it has pinned, so B must have
    pinned G from A's SERVER_INTRODUCE (B trusts A: it joined through A), with exactly the key
    A pinned from G's join hello. bob (socp-cli) is on B, gina (G56 client) on G."""

    @classmethod
    def build_mesh(cls) -> None:
        cls.a = cls.socp_server("A")
        cls.b = cls.socp_server("B", introducers=[cls.a.port])
        # B must be linked to A before G joins: A's welcome then lists B, and only then is the
        # introduction A's to make (a B that joins later learns G from A's welcome instead).
        h.wait_until(lambda: cls.log_has(cls.a, f"link up: {cls.b.server_id}"), WAIT,
                     "A's link to B")
        cls.peer = G56Server(cls.timers).start()
        cls.peer.join(cls.a.port, pem_b64url(parse_der_only(cls.a.pubkey)))
        cls.bob = h.CliProcess.register(cls.ws, "bob", cls.b.port)
        cls.bob_id = cls.bob.logged_in(WAIT)["user_id"]
        cls.gina = None

    @staticmethod
    def log_has(server: h.ServerProcess, text: str) -> bool:
        with open(server.stderr_path, encoding="utf-8", errors="replace") as f:
            return text in f.read()

    def login_gina(self):
        if type(self).gina is None:
            self.check(lambda: self.peer.link_up(self.b.server_id), "link G↔B")
            type(self).gina = self.peer.login("gina", "erin")
        return type(self).gina

    def test_1_b_links_with_g56(self):
        """B pins G from A's introduction (G's key in G56's PEM form, so B knows G's dialect
        before it dials) and takes G's unsigned HELLO_LINK; B dials G with its hello (key in
        PEM form), which G accepts; the link stays up past socp's dead-link time, and neither
        side refuses the other's frames."""
        b = self.b.server_id
        self.check(lambda: b in self.peer.notes("linked in"),
                   "B dials G and G accepts B's HELLO_LINK")
        self.assertTrue(parse_pem_only_ok(self.peer.servers[b]["pubkey"]),
                        f"G pinned a PEM-form key for B: {self.peer.servers[b]['pubkey'][:40]}")
        try:
            self.peer.hold(self.hold_time(), lambda: self.peer.link_up(b), "link B↔G up")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.context()}") from None
        self.assertTrue(self.log_has(self.b, f"introduced by {self.a.server_id}"), self.context())
        self.assertFalse(self.log_has(self.b, "signature did not verify"), self.context())
        self.assertFalse([e for e in self.peer.notes("sent ERROR") if e[0] == "INVALID_SIG"],
                         self.context())

    def test_2_list_both_ways(self):
        """bob sees gina (G's advert, verified at B with the key A vouched for); G accepts B's
        advert for bob."""
        gina = self.login_gina()
        self.cli_sees(self.bob, gina.user_id)
        self.check(lambda: [u for u in self.peer.notes("remote user") if u[0] == self.bob_id],
                   "G accepts B's advert for bob")

    def test_3_tell_b_to_g56(self):
        """bob → gina: B's SERVER_DELIVER goes straight to G (verified by G with B's PEM key);
        gina checks the content_sig."""
        gina = self.login_gina()
        self.cli_sees(self.bob, gina.user_id)
        self.bob.send(f"/tell {gina.user_id} hello-gina-from-b")
        self.cli_wait(self.bob, "sent")
        self.check(lambda: [m for m in gina.messages if m["text"] == "hello-gina-from-b"],
                   "gina gets bob's DM")

    def test_4_tell_g56_to_b(self):
        """gina → bob: gina learns bob's key (B's backfill advert or B's advert relayed by A),
        G sends SERVER_DELIVER to B; bob sees it verified."""
        gina = self.login_gina()
        self.check(lambda: self.bob_id in gina.pubdir, "gina knows bob's key")
        since = self.bob.mark()
        gina.tell(self.bob_id, "hello-bob-from-gina")
        m = self.cli_wait(self.bob, "message", since=since, text="hello-bob-from-gina")
        self.assertTrue(m["verified"])
        self.assertEqual(m["from"], gina.user_id)


def parse_pem_only_ok(key: str) -> bool:
    from peer_base import parse_pem_only
    try:
        parse_pem_only(key)
        return True
    except ValueError:
        return False


if __name__ == "__main__":
    unittest.main(verbosity=2)
