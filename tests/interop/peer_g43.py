"""Scripted G43 peer (mjzero0/Decentralised-chat @2d43f16, clean_version/), from its source.

Introducer (introducer.py:83-94): answers SERVER_HELLO_JOIN with an *unsigned* SERVER_WELCOME
from the non-UUID id "introducer-0000-0000", listing the servers that joined before (not
itself), and never closes the socket.

Server (server.py): joins through the introducer and keeps reading the join socket only for
SERVER_WELCOME (any other frame: "Unhandled message type from introducer"); if that socket
closes, join_network() returns and the process exits (677-696, 782-786). One socket per
direction: it *writes only on sockets it dialed* and *reads only on sockets it accepted*; on a
SERVER_HELLO_LINK it dials the sender back and writes there with no hello (716-732). It never
sends HEARTBEAT; the websockets library pings every socket (WS ping/pong only). It does not
check signatures on adverts or deliveries. USER_ADVERTISE meta is {username, pubkey}; on an
advert from another server it sends back one "backfill" advert per local user to that server
(575-594; KeyError if it has no socket to the advert's server_id). SERVER_DELIVER out:
{inner_type, user_id, **client payload}, envelope ts = original (381-393); in: needs
`inner_type` (526, KeyError kills the socket's handler) and hands the payload unchanged to the
user (USER_DELIVER for MSG_DIRECT, else the inner type).

User (client.py): keeps a user only if the advert has meta.username and meta.pubkey (509-514);
USER_DELIVER needs payload["public"] (475: KeyError ends the receive loop), decrypts OAEP and
verifies content_sig variant C with payload.sender, envelope to and ts (common.py:187-241).
/tell and /all are MSG_DIRECT {public, ciphertext, sender, sender_pub, content_sig} (one per
known user for /all, public:true); files: FILE_START {file_id,name,size,sha256,mode} (no
sender), FILE_CHUNK {file_id,index,ciphertext,sender,sender_pub,content_sig(C, chunk ts)} of
400-byte pieces, FILE_END {file_id}; a received chunk is verified (C) with its own sender_pub.
"""

from __future__ import annotations

import hashlib
import uuid

import socp_rsa as rsa
from peer_base import (HOST, Conn, ScriptedServer, csig_sign, csig_verify, fixture_key, new_id,
                       now_ms, parse_der_only)

INTRODUCER_ID = "introducer-0000-0000"
PLAINTEXT_CHUNK = 400


def fingerprint(env: dict) -> str:
    h = hashlib.sha256(rsa.canonical(env["payload"])).digest()
    return f'{env["ts"]}|{env["from"]}|{env["to"]}|{rsa.b64url(h)}'


class G43Introducer(ScriptedServer):
    dialect = "G43"

    def __init__(self, timers, port=None):
        super().__init__("g43-introducer", "server12", timers, port)
        self.server_id = INTRODUCER_ID
        self.joined: list[dict] = []

    def on_accepted_text(self, conn: Conn, env: dict) -> None:
        if env.get("type") != "SERVER_HELLO_JOIN":
            self.note("unhandled", env.get("type"))
            return
        sid = env["from"]
        while any(j["server_id"] == sid for j in self.joined):
            sid = str(uuid.uuid4())
        p = env["payload"]
        before = list(self.joined)
        self.joined.append({"server_id": sid, "host": p["host"], "port": p["port"],
                            "pubkey": p["pubkey"]})
        conn.remote_id = sid
        welcome = {"type": "SERVER_WELCOME", "from": INTRODUCER_ID, "to": sid, "ts": now_ms(),
                   "payload": {"assigned_id": sid, "clients": before}, "sig": ""}
        conn.send_json(welcome, "python-nl")
        self.note("welcomed", (sid, p["host"], p["port"]))


class G43User:
    """The G43 client (client.py), logged in at its G43 server."""

    def __init__(self, server: "G43Server", name: str, key_name: str):
        self.server, self.name = server, name
        self.key = fixture_key(key_name)
        self.pub_b64 = self.key.public.b64url()
        self.user_id = new_id()
        self.known: dict[str, dict] = {}  # username -> {uuid, pubkey}
        self.messages: list[dict] = []  # {from, text, public, ok}
        self.files: dict[str, dict] = {}
        self.saved: list[dict] = []  # {name, data, sha_ok}
        self.dead: str | None = None  # the client's receive loop ended

    # -- receiving (client.py receiver_loop) ---------------------------------------------------
    def receive(self, env: dict) -> None:
        if self.dead:
            return
        try:
            self._receive(env)
        except KeyError as exc:
            self.dead = f"Receiver error: {exc}"
            self.server.note("user receive loop died", self.dead)

    def _receive(self, env: dict) -> None:
        t, p = env.get("type"), env.get("payload", {})
        if t == "USER_DELIVER":
            public = p["public"]
            if "file_id" in p or not all(k in p for k in ("ciphertext", "sender_pub",
                                                          "content_sig")):
                return
            try:
                text = self.key.decrypt(rsa.b64url_decode(p["ciphertext"])).decode("utf-8")
                ok = csig_verify(parse_der_only(p["sender_pub"]), "C", p["ciphertext"],
                                 p.get("sender", "?"), env["to"], env["ts"], p["content_sig"])
            except ValueError as exc:
                self.server.note("user: failed to decrypt DM", str(exc))
                return
            self.messages.append({"from": p.get("sender"), "text": text, "public": public,
                                  "ok": ok})
            self.server.note("user got DM" if ok else "user: DM signature invalid",
                             (p.get("sender"), text, public))
        elif t == "USER_ADVERTISE":
            meta = p.get("meta", {})
            if meta.get("username") and meta.get("pubkey"):
                self.known[meta["username"]] = {"uuid": p["user_id"], "pubkey": meta["pubkey"]}
                self.server.note("user learned", (meta["username"], p["user_id"]))
        elif t == "USER_REMOVE":
            for name, rec in list(self.known.items()):
                if rec["uuid"] == p["user_id"]:
                    del self.known[name]
        elif t == "FILE_START":
            self.files[p["file_id"]] = {"name": p["name"], "size": int(p["size"]),
                                        "sha256": p["sha256"], "chunks": {}}
        elif t == "FILE_CHUNK":
            f = self.files.setdefault(p["file_id"], {"name": f"file_{p['file_id']}", "size": 0,
                                                     "sha256": "", "chunks": {}})
            try:
                if not csig_verify(parse_der_only(p["sender_pub"]), "C", p["ciphertext"],
                                   p.get("sender", "?"), env["to"], env["ts"],
                                   p["content_sig"]):
                    self.server.note("user: FILE_CHUNK content_sig invalid", p.get("index"))
                    return
                f["chunks"][int(p["index"])] = self.key.decrypt(rsa.b64url_decode(p["ciphertext"]))
            except (ValueError, KeyError) as exc:
                self.server.note("user: failed to process FILE_CHUNK", repr(exc))
        elif t == "FILE_END":
            f = self.files.pop(p["file_id"], None)
            if not f:
                return
            data = b"".join(f["chunks"][i] for i in sorted(f["chunks"]))
            ok = not f["sha256"] or hashlib.sha256(data).hexdigest() == f["sha256"]
            self.saved.append({"name": f["name"] if ok else f["name"] + ".corrupt",
                               "data": data, "sha_ok": ok})
            self.server.note("user saved file", (f["name"], len(data), ok))

    # -- sending (client.py sender_loop) -------------------------------------------------------
    def _dm(self, target_id: str, pubkey: str, text: str, public: bool) -> None:
        ct = rsa.b64url(rsa.encrypt(parse_der_only(pubkey), text.encode("utf-8")))
        ts = now_ms()
        env = {"type": "MSG_DIRECT", "from": self.user_id, "to": target_id, "ts": ts,
               "payload": {"public": public, "ciphertext": ct, "sender": self.user_id,
                           "sender_pub": self.pub_b64,
                           "content_sig": csig_sign(self.key, "C", ct, self.user_id, target_id,
                                                    ts)},
               "sig": ""}
        self.server.from_user(env)

    def tell(self, username: str, text: str) -> None:
        rec = self.known[username]  # "Don't know user" otherwise
        self._dm(rec["uuid"], rec["pubkey"], text, False)

    def all(self, text: str) -> int:
        n = 0
        for rec in list(self.known.values()):
            if rec["pubkey"] and rec["uuid"] != self.user_id:
                self._dm(rec["uuid"], rec["pubkey"], text, True)
                n += 1
        return n

    def send_file(self, username: str, name: str, data: bytes, forge_chunk: int | None = None,
                  reverse_chunks: bool = False) -> None:
        """/file as G43's client sends it. For the tests, what a relay could do to it:
        forge_chunk=i replaces chunk i's signature (and sender_pub) by another key's;
        reverse_chunks renumbers the validly signed chunks last-first and sends a manifest
        whose SHA-256 matches the renumbered file."""
        rec = self.known[username]
        target, pub = rec["uuid"], parse_der_only(rec["pubkey"])
        fid = str(uuid.uuid4())
        pieces = [data[off:off + PLAINTEXT_CHUNK] for off in range(0, len(data), PLAINTEXT_CHUNK)]
        order = list(reversed(range(len(pieces)))) if reverse_chunks else list(range(len(pieces)))
        as_received = b"".join(pieces[i] for i in sorted(range(len(pieces)),
                                                          key=lambda i: order[i]))
        self.server.from_user({"type": "FILE_START", "from": self.user_id, "to": target,
                               "ts": now_ms(), "sig": "",
                               "payload": {"file_id": fid, "name": name, "size": len(data),
                                           "sha256": hashlib.sha256(as_received).hexdigest(),
                                           "mode": "dm"}})
        other = fixture_key("frank") if forge_chunk is not None else None
        last_ts = 0
        for idx, piece in enumerate(pieces):
            ct = rsa.b64url(rsa.encrypt(pub, piece))
            ts = last_ts = max(now_ms(), last_ts + 1)  # signed in order, as G43 sends them
            key, key_pub = ((other, other.public.b64url()) if idx == forge_chunk
                            else (self.key, self.pub_b64))
            self.server.from_user({
                "type": "FILE_CHUNK", "from": self.user_id, "to": target, "ts": ts, "sig": "",
                "payload": {"file_id": fid, "index": order[idx], "ciphertext": ct,
                            "sender": self.user_id, "sender_pub": key_pub,
                            "content_sig": csig_sign(key, "C", ct, self.user_id, target, ts)}})
        self.server.from_user({"type": "FILE_END", "from": self.user_id, "to": target,
                               "ts": now_ms(), "payload": {"file_id": fid}, "sig": ""})


class G43Server(ScriptedServer):
    dialect = "G43"

    def __init__(self, timers, key_name="server11", port=None):
        super().__init__("g43", key_name, timers, port)
        self.pub_b64 = self.pub.b64url()
        self.servers: dict[str, Conn] = {}  # server_id -> socket we write on (we dialed it)
        self.server_addrs: dict[str, tuple[str, int]] = {}
        self.server_pubkeys: dict[str, str] = {}
        self.users: dict[str, G43User] = {}
        self.user_locations: dict[str, str] = {}  # user_id -> "local" | server_id
        self.seen: set[str] = set()
        self.join_conn: Conn | None = None
        self.hello_links: dict[str, Conn] = {}  # server_id -> accepted socket its hello came on

    def start(self):
        super().start()
        # websockets' keepalive: a ping on every socket every 20 s (of socp's 45 s).
        self.every(self.timers.scaled(20), self._ping_all, "ws-ping")
        return self

    def _ping_all(self) -> None:
        for c in list(self.conns):
            if not c.closed:
                c.ping()

    def sign_and_send(self, conn: Conn, env: dict) -> bool:
        env = dict(env)
        env["sig"] = self.key.sign_payload(env.get("payload", {}))
        return conn.send_json(env, "python")

    # -- bootstrap (join_network, handle_server_welcome, connect_to_other_server) -------------
    def join(self, introducer_port: int) -> None:
        payload = {"host": HOST, "port": self.port, "pubkey": self.pub_b64}
        hello = {"type": "SERVER_HELLO_JOIN", "from": new_id(),
                 "to": f"{HOST}:{introducer_port}", "ts": now_ms(), "payload": payload,
                 "sig": self.key.sign_payload(payload)}
        self.join_conn = self.dial(introducer_port, "join")
        self.join_conn.send_json(hello, "python")

    def on_dialed_text(self, conn: Conn, env: dict) -> None:
        if env.get("type") == "SERVER_WELCOME":
            self.server_id = env["payload"]["assigned_id"]
            self.note("welcome", (env.get("from"), self.server_id))
            for c in env["payload"].get("clients", []):
                self.server_addrs[c["server_id"]] = (c["host"], c["port"])
                self.server_pubkeys[c["server_id"]] = c["pubkey"]
            for sid, (host, port) in list(self.server_addrs.items()):
                self.connect_to(sid, port)
        else:
            self.note("unhandled from introducer", env.get("type"))

    def connect_to(self, sid: str, port: int) -> None:
        conn = self.dial(port, f"to-{sid[:8]}", read=False)  # written, never read
        conn.remote_id = sid
        self.servers[sid] = conn
        self.sign_and_send(conn, {"type": "SERVER_HELLO_LINK", "from": self.server_id, "to": sid,
                                  "ts": now_ms(),
                                  "payload": {"host": HOST, "port": self.port,
                                              "pubkey": self.pub_b64}})
        ann = self.signed("SERVER_ANNOUNCE", sid, {"host": HOST, "port": self.port,
                                                    "pubkey": self.pub_b64})
        conn.send_json(ann, "python")
        self.note("linked out", sid)

    def on_conn_closed(self, conn: Conn) -> None:
        if conn is self.join_conn and not self.stopping():
            self.die("join socket closed: join_network() returned, main() returned")

    # -- accepted sockets (handle_client) ------------------------------------------------------
    def on_accepted_text(self, conn: Conn, env: dict) -> None:
        t = env.get("type")
        if t == "SERVER_HELLO_LINK":
            sid, p = env["from"], env["payload"]
            if p.get("pubkey") and not self._verify(env, p["pubkey"]):
                self.note("invalid signature on SERVER_HELLO_LINK", sid)
                return
            conn.remote_id = sid
            self.hello_links[sid] = conn
            back = self.dial(int(p["port"]), f"back-{sid[:8]}", read=False)
            back.remote_id = sid
            self.servers[sid] = back
            self.server_addrs[sid] = (p["host"], p["port"])
            if p.get("pubkey"):
                self.server_pubkeys[sid] = p["pubkey"]
            self.note("hello link", sid)
        elif t == "SERVER_ANNOUNCE":
            p = env.get("payload", {})
            self.server_addrs[env["from"]] = (p.get("host"), p.get("port"))
            self.server_pubkeys[env["from"]] = p.get("pubkey")
            if not self._verify(env, p.get("pubkey", "")):
                self.note("invalid signature on SERVER_ANNOUNCE", env["from"])
                return
            conn.remote_id = conn.remote_id or env["from"]
            self.note("announce", env["from"])
        elif t == "USER_ADVERTISE":
            self.on_user_advertise(env)
        elif t == "USER_REMOVE":
            if fingerprint(env) in self.seen:
                return
            self.seen.add(fingerprint(env))
            self.user_locations.pop(env["payload"]["user_id"], None)
            self._broadcast_local({"type": "USER_REMOVE", "from": self.server_id, "to": "*",
                                   "ts": now_ms(), "payload": {"user_id": env["payload"]["user_id"],
                                                               "server_id": self.server_id}})
        elif t == "SERVER_DELIVER":
            p = env["payload"]
            user = self.users.get(p["user_id"])
            if user is None:
                self.note("user not here", p["user_id"])
                return
            inner = p["inner_type"]  # KeyError: the handler for this socket dies
            out = {"type": "USER_DELIVER" if inner == "MSG_DIRECT" else inner,
                   "from": self.server_id, "to": p["user_id"], "ts": env["ts"], "payload": p}
            self.note("deliver to user", (inner, env.get("from")))
            user.receive(out)
        elif t in ("PUBLIC_CHANNEL_ADD", "PUBLIC_CHANNEL_UPDATED"):
            pass
        else:
            self.note("unhandled", t)

    def _verify(self, env: dict, pubkey: str) -> bool:
        from peer_base import transport_ok
        try:
            return transport_ok(parse_der_only(pubkey), env)
        except ValueError:
            return False

    def on_user_advertise(self, env: dict) -> None:
        if fingerprint(env) in self.seen:
            return
        self.seen.add(fingerprint(env))
        sender, p = env.get("from"), env["payload"]
        uid, src = p["user_id"], p["server_id"]
        to = env.get("to")
        if to in self.users:
            self.users[to].receive(env)
            self.user_locations[uid] = sender
            self.note("advert for a local user", (uid, p.get("origin")))
        if p.get("origin") == "backfill":
            return
        if sender != self.server_id:
            self.user_locations[uid] = src
            self.note("remote user", (uid, src, (p.get("meta") or {}).get("username")))
            self._broadcast_local(env)
            for luid, user in list(self.users.items()):
                self.sign_and_send(self.servers[src], {  # KeyError if src has no socket
                    "type": "USER_ADVERTISE", "from": self.server_id, "to": uid, "ts": now_ms(),
                    "payload": {"user_id": luid, "server_id": self.server_id,
                                "meta": {"username": user.name, "pubkey": user.pub_b64},
                                "origin": "backfill"}})
        for sid, c in list(self.servers.items()):
            if sid not in (self.server_id, sender):
                c.send_json(env, "python")

    def _broadcast_local(self, env: dict) -> None:
        for uid, user in list(self.users.items()):
            if uid != env["payload"].get("user_id"):
                user.receive(env)

    # -- users ---------------------------------------------------------------------------------
    def login(self, name: str, key_name: str) -> G43User:
        """handle_auth_response: the user is local; adverts go to every server we write to."""
        user = G43User(self, name, key_name)
        self.users[user.user_id] = user
        self.user_locations[user.user_id] = "local"
        advert = {"type": "USER_ADVERTISE", "from": self.server_id, "to": "*", "ts": now_ms(),
                  "payload": {"user_id": user.user_id, "server_id": self.server_id,
                              "meta": {"username": name, "pubkey": user.pub_b64}}}
        for sid, c in list(self.servers.items()):
            self.sign_and_send(c, advert)
        for t, payload in (("PUBLIC_CHANNEL_ADD", {"add": [user.user_id], "if_version": 1}),
                           ("PUBLIC_CHANNEL_UPDATED", {"version": 1, "wraps": [
                               {"member_id": user.user_id, "wrapped_key": "fake_key_for_demo"}]})):
            for c in list(self.servers.values()):
                self.sign_and_send(c, {"type": t, "from": self.server_id, "to": "*",
                                       "ts": now_ms(), "payload": payload})
        self.note("login", (name, user.user_id))
        return user

    def from_user(self, env: dict) -> None:
        """handle_msg_direct: a frame from a local user's socket."""
        to = env["to"]
        if self.user_locations.get(to) == "local":
            out = env if env["type"] != "MSG_DIRECT" else {
                "type": "USER_DELIVER", "from": self.server_id, "to": to, "ts": env["ts"],
                "payload": env["payload"]}
            self.users[to].receive(out)
            return
        dest = self.user_locations.get(to)
        if dest and dest in self.servers:
            self.sign_and_send(self.servers[dest], {
                "type": "SERVER_DELIVER", "from": self.server_id, "to": dest, "ts": env["ts"],
                "payload": {"inner_type": env["type"], "user_id": to, **env["payload"]}})
        else:
            self.note("USER_NOT_FOUND", to)

    # -- link state, for the tests -------------------------------------------------------------
    def link_up(self, sid: str) -> bool:
        """Both directions open: socp's hello came on a socket we accepted (we read it) and
        our write socket to it is open."""
        rx, tx = self.hello_links.get(sid), self.servers.get(sid)
        return bool(rx and tx and not rx.closed and not tx.closed and not self.died)
