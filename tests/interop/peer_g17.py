"""Scripted G17 peer (aniketrattan/secure-programming-group-17 @71600a9, integration/).

Same canonical JSON as socp, PSS max salt, DER keys (base64url). One socket per link, read and
written both ways. Join (network_protocol_core.py:1422-1480): signed SERVER_HELLO_JOIN
{host, port, pubkey, ws_uri} to "*"; the first answer must come within 5 s; G17 learns a
peer's key *only* from SERVER_WELCOME.payload.server_pub (1454-1461) or SERVER_ANNOUNCE
{server_id, pubkey} (1279-1295); every other server frame is verified with the key of the
socket's remote id and dropped if that fails ("Dropping server frame with invalid transport
sig", 606-640). As introducer (315-409) its welcome is {server_id, server_pub, snapshot:
{user_locations}, assigned_id: null|id}, then ANNOUNCEs. Signed HEARTBEAT {now} every 15 s;
a socket silent for 45 s gets ERROR TIMEOUT and is closed (529-570). Unknown types are
answered with a signed ERROR UNKNOWN_TYPE (820-830).

Presence: USER_ADVERTISE {user_id, server_id} — no key, no meta (411-470). Keys: PUBKEY_REQUEST
{user_id} → PUBKEY_RESPONSE {user_id, pubkey} from the *local* user table only, on any
connection (760-790). DMs: SERVER_DELIVER out {user_id, ciphertext, sender, sender_pub,
content_sig, orig_ts}, envelope ts = now (1200-1230); in: USER_DELIVER with ts = orig_ts (or
now) (1235-1277). Client (client.py): USER_DELIVER verified with content_sig variant B
(payload.sender, its own id, envelope ts) and OAEP; its /tell gets keys only by PUBKEY_REQUEST
to its own server. Clients get CLIENT_WELCOME and ACK {msg_ref:"USER_HELLO_OK", server_pub}
after USER_HELLO (no login needed for USER_HELLO).
"""

from __future__ import annotations

import time

import socp_rsa as rsa
from peer_base import (HOST, Conn, ScriptedServer, csig_sign, csig_verify, fixture_key, new_id,
                       now_ms, parse_der_only, transport_ok)

SKIP_VERIFY = ("SERVER_HELLO_JOIN", "SERVER_WELCOME", "SERVER_ANNOUNCE", "HEARTBEAT")


class G17User:
    def __init__(self, server: "G17Server", name: str, key_name: str):
        self.server, self.name = server, name
        self.key = fixture_key(key_name)
        self.pub = self.key.public.b64url()
        self.user_id = new_id()
        self.messages: list[dict] = []

    def receive(self, env: dict) -> None:
        if env.get("type") != "USER_DELIVER":
            return
        p = env["payload"]
        if not csig_verify(parse_der_only(p["sender_pub"]), "B", p["ciphertext"], p["sender"],
                           self.user_id, env["ts"], p["content_sig"]):
            self.server.note("user: INVALID content signature", p.get("sender"))
            return
        text = self.key.decrypt(rsa.b64url_decode(p["ciphertext"])).decode("utf-8", "replace")
        self.messages.append({"from": p["sender"], "text": text})
        self.server.note("user got DM", (p["sender"], text))

    def tell(self, to_id: str, text: str, pubkey: str | None = None) -> bool:
        """client.py /tell: the key comes from PUBKEY_REQUEST to our server (local users
        only), unless given (a what-if: as if G17's server had it)."""
        pub = pubkey or self.server.db_pubkey(to_id)
        if not pub:
            self.server.note("user: No pubkey", to_id)
            return False
        ct = rsa.b64url(rsa.encrypt(parse_der_only(pub), text.encode()))
        ts = now_ms()
        self.server.from_user({"type": "MSG_DIRECT", "from": self.user_id, "to": to_id,
                               "ts": ts, "sig": "",
                               "payload": {"ciphertext": ct, "sender_pub": self.pub,
                                           "content_sig": csig_sign(self.key, "B", ct,
                                                                    self.user_id, to_id, ts)}})
        return True


class G17Server(ScriptedServer):
    dialect = "G17"

    def __init__(self, timers, key_name="server9", port=None):
        super().__init__("g17", key_name, timers, port)
        self.pub_b64 = self.pub.b64url()
        self.server_pubkeys: dict[str, str] = {}
        self.server_peers: dict[str, Conn] = {}
        self.user_locations: dict[str, dict] = {}
        self.users: dict[str, G17User] = {}
        self.seen: set[str] = set()
        self.clients: dict[Conn, str] = {}  # socp-cli sessions on us: conn -> user id
        self.verified: dict[str, int] = {}  # server id -> frames that passed verification

    def start(self):
        super().start()
        self.every(self.timers.scaled(15), self._heartbeat, "heartbeat")
        return self

    def env(self, t: str, to: str, payload: dict) -> dict:
        return self.signed(t, to, payload)

    def _heartbeat(self) -> None:
        now = time.monotonic()
        for sid, conn in list(self.server_peers.items()):
            if conn.closed:
                continue
            if now - conn.last_rx > self.timers.scaled(45):
                self.note("connection timed out", sid)
                conn.send_json(self.env("ERROR", sid, {"code": "TIMEOUT",
                                                       "detail": "no frames within timeout"}))
                conn.close(1000)
                continue
            conn.send_json(self.env("HEARTBEAT", sid, {"now": int(time.time())}))

    # -- join (connect_to_peer) ---------------------------------------------------------------
    def join(self, port: int) -> Conn:
        conn = self.dial(port, "peer")
        conn.send_json(self.env("SERVER_HELLO_JOIN", "*", {
            "host": HOST, "port": self.port, "pubkey": self.pub_b64,
            "ws_uri": f"ws://{HOST}:{port}"}))
        return conn

    def on_dialed_text(self, conn: Conn, env: dict) -> None:
        if conn.remote_id is None and env.get("type") == "SERVER_WELCOME":
            p = env.get("payload") or {}
            if p.get("server_pub"):
                self.server_pubkeys[env["from"]] = p["server_pub"]
                self.note("learned key from welcome", env["from"])
            else:
                self.note("welcome without server_pub", env["from"])
            conn.remote_id = env["from"]
            self.server_peers[env["from"]] = conn
        self.receive(conn, env)

    def on_accepted_text(self, conn: Conn, env: dict) -> None:
        if conn.remote_id is None and conn not in self.clients:
            if env.get("type") == "USER_HELLO":
                self._client_hello(conn, env)
            else:
                self.note("unexpected first message", env.get("type"))
                conn.close(1000)
            return
        if conn in self.clients:
            self.note("client frame", env.get("type"))
            return
        self.receive(conn, env)

    # -- receive_loop + handle_envelope --------------------------------------------------------
    def receive(self, conn: Conn, env: dict) -> None:
        t = env.get("type")
        if t not in SKIP_VERIFY:
            pub = self.server_pubkeys.get(conn.remote_id or "")
            try:
                ok = bool(pub) and transport_ok(parse_der_only(pub), env)
            except ValueError:
                ok = False
            if not ok:
                self.note("dropped: invalid transport sig", (t, f"pubkey_known={bool(pub)}"))
                return
            self.verified[conn.remote_id] = self.verified.get(conn.remote_id, 0) + 1
        key = f"{t}|{env.get('from')}|{env.get('to')}|{env.get('ts')}|" + \
            rsa.b64url(rsa.canonical(env.get("payload", {})))
        if key in self.seen:
            return
        self.seen.add(key)
        p = env.get("payload") or {}
        if t == "HEARTBEAT":
            return
        if t == "USER_ADVERTISE":
            if p.get("user_id") and p.get("server_id"):
                self.user_locations[p["user_id"]] = {"server_id": p["server_id"]}
                self.note("remote user", (p["user_id"], p["server_id"]))
                self._broadcast(env)  # forwarded to every peer, the sender included
        elif t == "USER_REMOVE":
            self.user_locations.pop(p.get("user_id"), None)
            self._broadcast(env)
        elif t == "SERVER_DELIVER":
            user = self.users.get(p.get("user_id"))
            if user:
                user.receive({"type": "USER_DELIVER", "from": self.server_id, "to": user.user_id,
                              "ts": p.get("orig_ts") or now_ms(),
                              "payload": {k: p.get(k, "") for k in ("ciphertext", "sender",
                                                                   "sender_pub",
                                                                   "content_sig")}})
            else:
                self.note("SERVER_DELIVER target unknown", p.get("user_id"))
        elif t == "SERVER_ANNOUNCE":
            sid = p.get("server_id")
            if sid and p.get("pubkey"):
                self.server_pubkeys[sid] = p["pubkey"]
                self.note("learned key from announce", sid)
        elif t == "SERVER_WELCOME":
            pass
        elif t == "PUBKEY_REQUEST":
            target = p.get("user_id")
            self.note("pubkey request", target)
            conn.send_json(self.env("PUBKEY_RESPONSE", env.get("from") or "*",
                                    {"user_id": target, "pubkey": self.db_pubkey(target)}))
        elif t in ("ERROR", "PUBLIC_CHANNEL_UPDATED", "PUBLIC_CHANNEL_KEY_SHARE"):
            self.note(f"got {t}", p.get("code"))
        else:
            self.note("UNKNOWN_TYPE", t)
            conn.send_json(self.env("ERROR", env.get("from") or "*",
                                    {"code": "UNKNOWN_TYPE", "detail": f"Unhandled type {t}"}))

    def _broadcast(self, env: dict) -> None:
        for conn in list(self.server_peers.values()):
            conn.send_json(env)

    def db_pubkey(self, user_id: str) -> str | None:
        u = self.users.get(user_id)
        return u.pub if u else None

    # -- users -----------------------------------------------------------------------------------
    def login(self, name: str, key_name: str) -> G17User:
        user = G17User(self, name, key_name)
        self.users[user.user_id] = user
        self.user_locations[user.user_id] = {"server_id": self.server_id}
        self._broadcast(self.env("USER_ADVERTISE", "*", {"user_id": user.user_id,
                                                         "server_id": self.server_id}))
        self._broadcast(self.env("PUBLIC_CHANNEL_UPDATED", "*", {"version": 2,
                                                                 "added": [user.user_id]}))
        self.note("login", (name, user.user_id))
        return user

    def from_user(self, env: dict) -> None:
        p, to = env["payload"], env["to"]
        loc = self.user_locations.get(to)
        if loc is None:
            self.note("USER_NOT_FOUND", to)
            return
        conn = self.server_peers.get(loc["server_id"])
        if conn is None:
            self.note("no connection to server", loc["server_id"])
            return
        conn.send_json(self.env("SERVER_DELIVER", loc["server_id"], {
            "user_id": to, "ciphertext": p["ciphertext"], "sender": env["from"],
            "sender_pub": p["sender_pub"], "content_sig": p["content_sig"],
            "orig_ts": env["ts"]}))

    def _client_hello(self, conn: Conn, env: dict) -> None:
        """handle_client_join: a socp-cli (or any client) says USER_HELLO."""
        uid = (env.get("payload") or {}).get("user_id") or env.get("from")
        self.clients[conn] = uid
        self.user_locations[uid] = {"server_id": self.server_id}
        self.note("client hello", uid)
        conn.send_json(self.env("CLIENT_WELCOME", uid, {"server_id": self.server_id}))
        conn.send_json(self.env("ACK", uid, {"msg_ref": "USER_HELLO_OK",
                                             "server_pub": self.pub_b64}))

    def link_up(self, sid: str) -> bool:
        c = self.server_peers.get(sid)
        return bool(c and not c.closed and sid in self.server_pubkeys)
