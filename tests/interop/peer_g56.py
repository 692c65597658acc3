"""Scripted G56 peer (fengyuan213/Secure-Programming-Group @dcd74ea), from its source.

Keys are base64url of the PEM text everywhere, and every key is parsed only as PEM
(shared/crypto/crypto.py:16-17): a DER key fails ("Could not deserialize key data") and the
frame is refused with ERROR INVALID_SIG (server/server.py:346-375; MessageHandlers.py:311-340).
Envelopes: `from` must be a UUIDv4, `to` a UUIDv4, "*", "public", or host:port for
SERVER_HELLO_JOIN only (shared/envelope.py:98-99,144-155); a bad envelope is answered ERROR
BAD_KEY. HELLO_JOIN/HELLO_LINK/WELCOME/ANNOUNCE are never signed (ConnectionLink.py:21-27).

Join (server.py:468-550): unsigned SERVER_HELLO_JOIN to "host:port"; waits 1 s for the
welcome; pins the introducer with the key configured in bootstrap.yaml and the listed servers
with the welcome's keys; sends an unsigned SERVER_ANNOUNCE; then leaves `async with`, which
closes the join socket — the record keeps the dead link, so G56 never redials its introducer
(MemoryTable.is_connected = link is not None): the introducer has to dial. Servers learned
from the welcome are dialed every 2 s with an unsigned HELLO_LINK. An accepted HELLO_LINK is
not verified; it pins the payload key (add_update_server). Liveness: signed HEARTBEAT every
15 s on every link, a link silent for 45 s is closed (server.py:561-597).
Adverts out: {user_id, server_id, meta:{pubkey}}; SERVER_DELIVER out (DM): {user_id,
ciphertext, sender, sender_pub, content_sig}, ts = original. /all: MSG_PUBLIC_CHANNEL relayed
to servers with `from` = the *user* id, to "*", signed by the server key, ciphertext =
base64url of the plaintext, content_sig over ciphertext_b64 ‖ from ‖ ts (MessageHandlers.py
776-868).

Client (client/socp_cli.py): stores meta.pubkey of adverts; /tell encrypts to that key (PEM
only: a DER key crashes the CLI, 277); USER_DELIVER needs ciphertext, sender, sender_pub,
content_sig and verifies content_sig variant A with sender_pub parsed as PEM; public posts:
variant A without `to`, from = envelope from, ciphertext = base64url plaintext. USER_HELLO is
unsigned {client, pubkey, enc_pubkey, meta:{}}, to = its own id; other frames are signed with
the user key. Files: FILE_START {file_id,name,size,sha256,mode}, FILE_CHUNK {file_id,index,
ciphertext} of 190-byte OAEP pieces, FILE_END {file_id}; a received file is checked only by
decrypting and the SHA-256.
"""

from __future__ import annotations

import base64
import hashlib
import re
import uuid

import socp_rsa as rsa
from peer_base import (HOST, Conn, ScriptedServer, csig_sign, csig_verify, fixture_key, new_id,
                       now_ms, parse_pem_only, pem_b64url, transport_ok)

UNSIGNED = {"USER_HELLO", "SERVER_HELLO_JOIN", "SERVER_HELLO_LINK", "SERVER_WELCOME",
            "SERVER_ANNOUNCE"}
KNOWN_TYPES = {"SERVER_HELLO_JOIN", "SERVER_HELLO_LINK", "SERVER_WELCOME", "SERVER_ANNOUNCE",
               "USER_ADVERTISE", "USER_REMOVE", "SERVER_DELIVER", "HEARTBEAT", "USER_HELLO",
               "MSG_DIRECT", "USER_DELIVER", "PUBLIC_CHANNEL_ADD", "PUBLIC_CHANNEL_UPDATED",
               "PUBLIC_CHANNEL_KEY_SHARE", "MSG_PUBLIC_CHANNEL", "FILE_START", "FILE_CHUNK",
               "FILE_END", "ACK", "ERROR", "CTRL_CLOSE"}
_UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", re.I)
_HOSTPORT = re.compile(r"^[A-Za-z0-9.\-]+:\d{1,5}$")


def pem_ok(key: str) -> bool:
    try:
        parse_pem_only(key)
        return True
    except ValueError:
        return False


def is_uuid4(s) -> bool:
    return isinstance(s, str) and bool(_UUID4.match(s))


def envelope_problem(env: dict) -> tuple[str, str] | None:
    """shared/envelope.py Envelope.from_dict: (error code, detail) or None."""
    for f in ("type", "from", "to", "ts", "payload"):
        if f not in env:
            return "BAD_KEY", f"Missing required fields: {f}"
    if not isinstance(env["ts"], int) or not isinstance(env["payload"], dict):
        return "BAD_KEY", "bad ts/payload"
    if not is_uuid4(env["from"]):
        return "BAD_KEY", f"Invalid 'from' field: {env['from']}"
    to, t = env["to"], env["type"]
    if not (to in ("*", "public") or is_uuid4(to) or
            (t == "SERVER_HELLO_JOIN" and isinstance(to, str) and _HOSTPORT.match(to))):
        return "BAD_KEY", f"Invalid 'to' field: {to} for type {t}"
    sig = env.get("sig")
    if sig is not None and (not isinstance(sig, str) or not re.match(r"^[A-Za-z0-9_\-]*$", sig)):
        return "BAD_KEY", "'sig' must be valid base64url"
    if t not in UNSIGNED and sig is None:
        return "INVALID_SIG", f"Message type '{t}' requires signature"
    return None


class G56User:
    """G56's client. `send` is where its frames go (its G56 server, or a socp-server)."""

    def __init__(self, note, name: str, key_name: str, user_id: str | None = None):
        self.note, self.name = note, name
        self.key = fixture_key(key_name)
        self.pub = pem_b64url(self.key.public)
        self.user_id = user_id or new_id()
        self.pubdir: dict[str, str] = {}
        self.messages: list[dict] = []  # {from, text, public}
        self.files: dict[str, dict] = {}
        self.saved: list[dict] = []
        self.errors: list[dict] = []
        self.acks: list[str] = []
        self.send = lambda env: None

    def sign(self, env: dict) -> dict:
        if env["type"] not in UNSIGNED:
            env["sig"] = self.key.sign_payload(env["payload"])
        return env

    def hello(self, to: str | None = None) -> dict:
        return {"type": "USER_HELLO", "from": self.user_id, "to": to or self.user_id,
                "ts": now_ms(), "payload": {"client": "cli-v1", "pubkey": self.pub,
                                            "enc_pubkey": self.pub, "meta": {}}}

    def receive(self, env: dict) -> None:
        t, p = env.get("type"), env.get("payload", {})
        try:
            if t == "USER_ADVERTISE":
                if (p.get("meta") or {}).get("pubkey"):
                    self.pubdir[p["user_id"]] = p["meta"]["pubkey"]
                    self.note("user stored pubkey", p["user_id"])
            elif t == "USER_DELIVER":
                if not all(p.get(k) for k in ("ciphertext", "sender_pub", "content_sig",
                                              "sender")):
                    self.note("user: rejected DM: missing required fields", sorted(p))
                    return
                if not csig_verify(parse_pem_only(p["sender_pub"]), "A", p["ciphertext"],
                                   p["sender"], self.user_id, env["ts"], p["content_sig"]):
                    self.note("user: rejected DM: invalid content_sig", p["sender"])
                    return
                text = self.key.decrypt(rsa.b64url_decode(p["ciphertext"])).decode()
                self.messages.append({"from": p["sender"], "text": text, "public": False})
                self.note("user got DM", (p["sender"], text))
            elif t == "MSG_PUBLIC_CHANNEL":
                if not csig_verify(parse_pem_only(p["sender_pub"]), "A", p["ciphertext"],
                                   env["from"], None, env["ts"], p["content_sig"]):
                    self.note("user: rejected public msg: invalid content_sig", env["from"])
                    return
                text = rsa.b64url_decode(p["ciphertext"]).decode()
                self.messages.append({"from": env["from"], "text": text, "public": True})
                self.note("user got public", (env["from"], text))
            elif t == "FILE_START":
                self.files[p["file_id"]] = {"name": p["name"], "size": int(p["size"]),
                                            "sha256": p["sha256"], "chunks": {}}
            elif t == "FILE_CHUNK":
                f = self.files[p["file_id"]]
                f["chunks"][int(p["index"])] = self.key.decrypt(rsa.b64url_decode(p["ciphertext"]))
            elif t == "FILE_END":
                f = self.files.pop(p["file_id"])
                data = b"".join(f["chunks"][i] for i in sorted(f["chunks"]))
                ok = hashlib.sha256(data).hexdigest() == f["sha256"]
                self.saved.append({"name": f["name"], "data": data, "sha_ok": ok})
                self.note("user saved file" if ok else "user: file failed SHA-256", f["name"])
            elif t == "ERROR":
                self.errors.append(p)
                self.note("user got ERROR", p)
            elif t == "ACK":
                self.acks.append(p.get("msg_ref"))
        except (ValueError, KeyError) as exc:
            self.note(f"user: {t} handling error", f"{type(exc).__name__}: {exc}")

    def tell(self, dest: str, text: str) -> None:
        recip = parse_pem_only(self.pubdir[dest])  # a DER key: the CLI crashes here
        ct = rsa.b64url(rsa.encrypt(recip, text.encode()))
        ts = now_ms()
        self.send(self.sign({"type": "MSG_DIRECT", "from": self.user_id, "to": dest, "ts": ts,
                             "payload": {"ciphertext": ct, "sender_pub": self.pub,
                                         "content_sig": csig_sign(self.key, "A", ct, self.user_id,
                                                                  dest, ts)}}))

    def all(self, text: str) -> None:
        ct = base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")
        ts = now_ms()
        self.send(self.sign({"type": "MSG_PUBLIC_CHANNEL", "from": self.user_id, "to": "public",
                             "ts": ts,
                             "payload": {"ciphertext": ct, "sender_pub": self.pub,
                                         "content_sig": csig_sign(self.key, "A", ct, self.user_id,
                                                                  None, ts)}}))

    def send_file(self, dest: str, name: str, data: bytes) -> None:
        fid = str(uuid.uuid4())
        recip = parse_pem_only(self.pubdir[dest])

        def frame(t, payload):
            return self.sign({"type": t, "from": self.user_id, "to": dest, "ts": now_ms(),
                              "payload": payload})
        self.send(frame("FILE_START", {"file_id": fid, "name": name, "size": len(data),
                                       "sha256": hashlib.sha256(data).hexdigest(),
                                       "mode": "dm"}))
        for i, off in enumerate(range(0, len(data), 190)):
            ct = rsa.b64url(rsa.encrypt(recip, data[off:off + 190]))
            self.send(frame("FILE_CHUNK", {"file_id": fid, "index": i, "ciphertext": ct}))
        self.send(frame("FILE_END", {"file_id": fid}))


class G56ClientOnSocp:
    """G56's client connected to a socp-server (--compat-unsigned-hello) as a user."""

    def __init__(self, host_peer: ScriptedServer, socp_port: int, name: str, key_name: str):
        self.user = G56User(host_peer.note, name, key_name)
        self.conn = host_peer.dial(socp_port, f"client-{name}")
        self.conn.remote_id = "socp"
        host_peer.client_conns[self.conn] = self.user
        self.user.send = lambda env: self.conn.send_json(env)
        self.conn.send_json(self.user.hello())


class G56Server(ScriptedServer):
    dialect = "G56"

    def __init__(self, timers, key_name="server10", port=None):
        super().__init__("g56", key_name, timers, port)
        self.pub_b64 = pem_b64url(self.pub)
        # server_id -> {host, port, pubkey, link}; like G56 it lists itself
        self.servers: dict[str, dict] = {self.server_id: {"host": HOST, "port": self.port,
                                                          "pubkey": self.pub_b64, "link": None}}
        self.bootstrap_ids: set[str] = set()
        self.users: dict[str, G56User] = {}
        self.remote_users: dict[str, str] = {}  # user_id -> server_id
        self.seen: set[str] = set()
        self.client_conns: dict[Conn, G56User] = {}  # G56 clients we run on socp-servers
        self.join_conn: Conn | None = None
        self.welcome: dict | None = None

    def start(self):
        super().start()
        self.every(self.timers.scaled(15), self._health, "health")
        self.every(2.0, self._connect_known, "connect-loop")
        return self

    # -- sending ------------------------------------------------------------------------------
    def send(self, conn: Conn, env: dict) -> None:
        if env["type"] not in UNSIGNED:
            env["sig"] = self.key.sign_payload(env["payload"])
        conn.send_json(env)

    def env(self, t: str, to: str, payload: dict, ts: int | None = None,
            frm: str | None = None) -> dict:
        return {"type": t, "from": frm or self.server_id, "to": to,
                "ts": now_ms() if ts is None else ts, "payload": payload}

    def error(self, conn: Conn, code: str, detail: str, to: str | None) -> None:
        self.note("sent ERROR", (code, detail[:120]))
        if to:
            self.send(conn, self.env("ERROR", to, {"code": code, "detail": detail}))

    def links(self) -> list[tuple[str, Conn]]:
        return [(sid, r["link"]) for sid, r in self.servers.items()
                if r["link"] is not None and sid != self.server_id]

    # -- bootstrap -----------------------------------------------------------------------------
    def join(self, introducer_port: int, introducer_pubkey: str) -> None:
        """bootstrap(): HELLO_JOIN, ≤1 s for the welcome, ANNOUNCE, then the socket closes."""
        conn = self.join_conn = self.dial(introducer_port, "join")
        self.send(conn, self.env("SERVER_HELLO_JOIN", f"{HOST}:{introducer_port}",
                                 {"host": HOST, "port": self.port, "pubkey": self.pub_b64}))
        try:
            self.wait_for(lambda: self.welcome, 1.0, "SERVER_WELCOME")
        except AssertionError:
            self.note("no welcome within 1 s")
        w = self.welcome
        intro_id = None
        if w and not envelope_problem(w):
            p = w["payload"]
            if is_uuid4(p.get("assigned_id")):
                self._rename(p["assigned_id"])
            if is_uuid4(w["from"]):
                intro_id = w["from"]
                self.bootstrap_ids.add(intro_id)
                self.servers[intro_id] = {"host": HOST, "port": introducer_port,
                                          "pubkey": introducer_pubkey, "link": conn}
                conn.remote_id = intro_id
            # Every listed server is pinned with the welcome's key, the introducer's own entry
            # too (replacing the configured key): server/server.py:516-528.
            for e in p.get("servers") or []:
                if isinstance(e, dict) and e.get("server_id") not in (None, self.server_id):
                    self.servers.setdefault(e["server_id"], {"link": None}).update(
                        host=e.get("host"), port=e.get("port"), pubkey=e.get("pubkey", ""))
                    if not pem_ok(e.get("pubkey", "")):
                        self.note("welcome key not PEM", e["server_id"])
        for sid, link in self.links():
            self.send(link, self.env("SERVER_ANNOUNCE", "*", {"host": HOST, "port": self.port,
                                                             "pubkey": self.pub_b64}))
        conn.close(1000)  # `break` out of `async with websockets.connect(...)`
        self.note("join done", intro_id)

    def _rename(self, new_id_: str) -> None:
        me = self.servers.pop(self.server_id)
        self.server_id = new_id_
        self.servers[new_id_] = me

    def _connect_known(self) -> None:
        for sid, r in list(self.servers.items()):
            if sid == self.server_id or r.get("link") is not None or not r.get("port"):
                continue
            if sid in self.bootstrap_ids and not self.server_id < sid:
                continue
            try:
                conn = self.dial(int(r["port"]), f"to-{sid[:8]}")
            except OSError:
                continue
            conn.remote_id = sid
            r["link"] = conn
            self.send(conn, self.env("SERVER_HELLO_LINK", sid, {"host": HOST, "port": self.port,
                                                               "pubkey": self.pub_b64}))
            self.note("dialed", sid)

    def _health(self) -> None:
        now = __import__("time").monotonic()
        for sid, link in self.links():
            if link.closed:
                continue
            if now - link.last_rx >= self.timers.scaled(45):
                self.note("closing stale link", sid)
                link.close(1011)
                continue
            self.send(link, self.env("HEARTBEAT", sid, {}))

    def on_conn_closed(self, conn: Conn) -> None:
        for sid, r in self.servers.items():
            if r.get("link") is conn and conn is not self.join_conn:
                r["link"] = None  # cleanup_server_connection

    # -- receiving -----------------------------------------------------------------------------
    def on_dialed_text(self, conn: Conn, env: dict) -> None:
        if conn is self.join_conn:
            # bootstrap() reads one message from the join socket (the welcome), nothing else.
            if self.welcome is None and env.get("type") == "SERVER_WELCOME":
                self.welcome = env
                self.note("welcome", env.get("from"))
            else:
                self.note("unread on the join socket", env.get("type"))
            return
        if conn in self.client_conns:
            self.client_conns[conn].receive(env)
            return
        self.process(conn, env)

    def on_accepted_text(self, conn: Conn, env: dict) -> None:
        if conn.remote_id is None:  # handle_first_message
            problem = envelope_problem(env)
            t = env.get("type")
            if problem or t not in ("USER_HELLO", "SERVER_HELLO_JOIN", "SERVER_HELLO_LINK"):
                self.note("bad first message", problem or t)
                conn.close(1011)
                return
            if t == "SERVER_HELLO_LINK":
                p = env["payload"]
                sid = conn.remote_id = env["from"]
                self.servers.setdefault(sid, {}).update(host=p["host"], port=p["port"],
                                                        pubkey=p.get("pubkey", ""), link=conn)
                self.note("linked in", sid)
            elif t == "SERVER_HELLO_JOIN":
                self._welcome_joiner(conn, env)
            else:
                self.note("user hello (not modelled)", env.get("from"))
            return
        self.process(conn, env)

    def _welcome_joiner(self, conn: Conn, env: dict) -> None:
        sid = env["from"]
        p = env["payload"]
        conn.remote_id = sid
        self.servers[sid] = {"host": p["host"], "port": p["port"], "pubkey": p.get("pubkey", ""),
                             "link": conn}
        self.note("join request", (sid, env["to"]))
        self.send(conn, self.env("SERVER_WELCOME", sid, {"assigned_id": sid, "servers": [
            {"server_id": s, "host": r["host"], "port": r["port"], "pubkey": r["pubkey"]}
            for s, r in self.servers.items() if s != sid]}))
        for other, link in self.links():
            if other != sid:
                self.send(link, self.env("SERVER_ANNOUNCE", "*", {"host": p["host"],
                                                                 "port": p["port"],
                                                                 "pubkey": p["pubkey"]},
                                         frm=sid))

    def verify_from(self, env: dict) -> bool:
        """_verify_server_signature: the pinned key of `from`, parsed as PEM."""
        rec = self.servers.get(env.get("from"))
        if not rec or not rec.get("pubkey") or not env.get("sig"):
            return False
        try:
            return transport_ok(parse_pem_only(rec["pubkey"]), env)
        except ValueError:
            return False

    def process(self, conn: Conn, env: dict) -> None:
        problem = envelope_problem(env)
        origin = env.get("from")
        if problem:
            self.error(conn, problem[0], problem[1], conn.remote_id)
            return
        t, p = env["type"], env["payload"]
        if t not in KNOWN_TYPES or t in ("SERVER_WELCOME", "USER_DELIVER", "MSG_DIRECT", "ACK",
                                         "USER_HELLO", "SERVER_HELLO_JOIN", "SERVER_HELLO_LINK",
                                         "CTRL_CLOSE"):
            self.error(conn, "UNKNOWN_TYPE", f"Unknown message type: {t}", origin)
        elif t == "HEARTBEAT":
            pass
        elif t == "ERROR":
            self.note("got ERROR", (origin, p.get("code"), str(p.get("detail"))[:120]))
        elif t == "SERVER_ANNOUNCE":
            if isinstance(p.get("host"), str) and isinstance(p.get("port"), int):
                self.servers.setdefault(origin, {"link": None}).update(
                    host=p["host"], port=p["port"], pubkey=p.get("pubkey", ""))
                self.note("announce", origin)
        elif t in ("USER_ADVERTISE", "USER_REMOVE"):
            self._presence(conn, env)
        elif t == "SERVER_DELIVER":
            self._server_deliver(conn, env)
        elif t == "MSG_PUBLIC_CHANNEL":
            for u in self.users.values():
                u.receive(env)
        elif t in ("PUBLIC_CHANNEL_ADD", "PUBLIC_CHANNEL_UPDATED", "PUBLIC_CHANNEL_KEY_SHARE"):
            if not self.verify_from(env):
                self.error(conn, "INVALID_SIG", f"Signature verification failed for {t}", origin)
        else:
            self.note("server frame not modelled", t)

    def _presence(self, conn: Conn, env: dict) -> None:
        t, p, origin = env["type"], env["payload"], env["from"]
        if not (isinstance(p.get("user_id"), str) and isinstance(p.get("server_id"), str)):
            self.error(conn, "BAD_KEY", f"Malformed {t} payload", origin)
            return
        if env.get("sig") in self.seen:
            return
        self.seen.add(env.get("sig"))
        if not self.verify_from(env):
            self.note("rejected (signature)", (t, p["user_id"]))
            self.error(conn, "INVALID_SIG", f"Signature verification failed for {t}", origin)
            return
        if t == "USER_ADVERTISE":
            self.remote_users[p["user_id"]] = p["server_id"]
            self.note("remote user", (p["user_id"], p["server_id"]))
        elif self.remote_users.get(p["user_id"]) == p["server_id"]:
            del self.remote_users[p["user_id"]]
        for sid, link in self.links():
            if sid != origin:
                link.send_json(env)
        for u in self.users.values():
            u.receive(env)

    def _server_deliver(self, conn: Conn, env: dict) -> None:
        p, origin = env["payload"], env["from"]
        if not self.verify_from(env):
            self.note("rejected SERVER_DELIVER (signature)", origin)
            self.error(conn, "INVALID_SIG", "Signature verification failed for SERVER_DELIVER",
                       origin)
            return
        if p.get("type") is not None:
            self.note("wrapped SERVER_DELIVER (file) not modelled", p.get("type"))
            return
        uid = p.get("user_id")
        missing = {"ciphertext", "sender", "sender_pub", "content_sig"} - set(p)
        if not is_uuid4(uid) or missing:
            self.error(conn, "BAD_KEY", f"Missing required fields: {sorted(missing)}", origin)
            return
        user = self.users.get(uid)
        if user is None:
            self.error(conn, "USER_NOT_FOUND", f"Recipient {uid} not connected", origin)
            return
        user.receive(self.env("USER_DELIVER", uid, {k: p[k] for k in ("ciphertext", "sender",
                                                                       "sender_pub",
                                                                       "content_sig")},
                              ts=env["ts"]))

    # -- local users ---------------------------------------------------------------------------
    def login(self, name: str, key_name: str) -> G56User:
        user = G56User(self.note, name, key_name)
        user.send = self.from_user
        self.users[user.user_id] = user
        for t, payload in (("PUBLIC_CHANNEL_ADD", {"add": [user.user_id], "if_version": 0}),
                           ("PUBLIC_CHANNEL_UPDATED", {"version": 1, "wraps": []})):
            for sid, link in self.links():
                self.send(link, self.env(t, "*", payload))
        advert = self.env("USER_ADVERTISE", "*", {"user_id": user.user_id,
                                                  "server_id": self.server_id,
                                                  "meta": {"pubkey": user.pub}})
        for sid, link in self.links():
            self.send(link, dict(advert))
        self.note("login", (name, user.user_id))
        return user

    def from_user(self, env: dict) -> None:
        t, uid = env["type"], env["from"]
        if t == "MSG_DIRECT":
            p = env["payload"]
            base = {"ciphertext": p["ciphertext"], "sender": uid, "sender_pub": p["sender_pub"],
                    "content_sig": p["content_sig"]}
            dest = self.remote_users.get(env["to"])
            rec = self.servers.get(dest or "")
            if not dest or not rec or rec.get("link") is None:
                self.users[uid].receive(self.env("ERROR", uid, {
                    "code": "USER_NOT_FOUND", "detail": f"Recipient {env['to']} not connected"}))
                return
            self.send(rec["link"], self.env("SERVER_DELIVER", dest, {"user_id": env["to"], **base},
                                            ts=env["ts"]))
        elif t == "MSG_PUBLIC_CHANNEL":
            out = self.env("MSG_PUBLIC_CHANNEL", "*", {k: env["payload"][k] for k in (
                "ciphertext", "sender_pub", "content_sig")}, ts=env["ts"], frm=uid)
            for sid, link in self.links():
                self.send(link, dict(out))
        else:
            self.note("user frame not modelled", t)

    def forge_post(self, signer: G56User, claimed: str, text: str) -> None:
        """A /all as G relays it (from = a user id, G's signature), but with `from` = claimed
        and the content signed by `signer` over claimed's id: what a lying G could send."""
        ct = base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")
        ts = now_ms()
        out = self.env("MSG_PUBLIC_CHANNEL", "*", {
            "ciphertext": ct, "sender_pub": signer.pub,
            "content_sig": csig_sign(signer.key, "A", ct, claimed, None, ts)}, ts=ts, frm=claimed)
        for sid, link in self.links():
            self.send(link, dict(out))

    def link_up(self, sid: str) -> bool:
        rec = self.servers.get(sid)
        return bool(rec and rec.get("link") is not None and not rec["link"].closed)
