"""Shared base of the scripted SOCP peers (G43, G56, G17 dialects), standard library only.

A scripted peer is a tiny WebSocket server *and* client that speaks, frame by frame, what one
other SOCP v1.3 implementation sends and expects, and plays that implementation's user the way
its client behaves (what it needs in a frame, how it verifies). What each dialect does is in
its own module (peer_g43.py, peer_g56.py, peer_g17.py); this module has what they share:

  Conn            one WebSocket (dialed or accepted) with a reader thread
  ScriptedServer  listener, connections, a log of notable events, wait_for(), stop()
  keys            fixture keys, DER and PEM-text base64url forms, PEM-only parsing
  content_sig     the variants the peers sign and verify (A, B, C below)
  Timers          socp-server's liveness timers (short ones when the binary has the options)

content_sig variants (PSS-SHA256, max salt):
  A  over the ASCII text  ciphertext_b64url ‖ from ‖ to ‖ ts       (G56)
  B  over the raw bytes   ciphertext ‖ from ‖ to ‖ ts              (socp, G17)
  C  over SHA-256(raw ciphertext ‖ from ‖ to ‖ ts)                 (G43)
Public-channel forms drop `to`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import select
import socket
import struct
import sys
import threading
import time
import uuid
from typing import Any, Callable

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "system"))

import socp_harness as h  # noqa: E402
import socp_rsa as rsa  # noqa: E402

HOST = h.HOST
_WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


# ---- keys -------------------------------------------------------------------------------------

def fixture_key(name: str) -> rsa.PrivateKey:
    return rsa.PrivateKey.from_pem(h.fixture_pem(name))


def pem_text(pub: rsa.PublicKey) -> str:
    body = base64.b64encode(pub.der()).decode()
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN PUBLIC KEY-----\n" + "\n".join(lines) + "\n-----END PUBLIC KEY-----\n"


def pem_b64url(pub: rsa.PublicKey) -> str:
    """G56's key form: base64url of the PEM text (starts 'LS0tLS1CRUdJTi')."""
    return rsa.b64url(pem_text(pub).encode())


def parse_pem_only(text: str) -> rsa.PublicKey:
    """How G56 loads every key (shared/crypto/crypto.py:16-17): base64url → PEM, else fails."""
    try:
        raw = rsa.b64url_decode(text).decode("ascii")
    except (ValueError, UnicodeDecodeError):
        raise ValueError("Could not deserialize key data") from None
    lines = [ln.strip() for ln in raw.strip().splitlines()]
    if len(lines) < 3 or lines[0] != "-----BEGIN PUBLIC KEY-----" or \
            lines[-1] != "-----END PUBLIC KEY-----":
        raise ValueError("Could not deserialize key data")
    return rsa.PublicKey.from_der(base64.b64decode("".join(lines[1:-1])))


def parse_der_only(text: str) -> rsa.PublicKey:
    """How G43 and G17 load keys: base64url(DER SubjectPublicKeyInfo), else fails."""
    try:
        return rsa.PublicKey.from_der(rsa.b64url_decode(text))
    except (ValueError, IndexError):
        raise ValueError("Could not deserialize key data") from None


def parse_any(text: str) -> rsa.PublicKey:
    try:
        return parse_der_only(text)
    except ValueError:
        return parse_pem_only(text)


# ---- content signatures -----------------------------------------------------------------------

def csig_message(variant: str, ct_b64: str, frm: str, to: str | None, ts: int) -> bytes:
    tail = frm.encode() + (to.encode() if to is not None else b"") + str(ts).encode()
    if variant == "A":
        return ct_b64.encode() + tail
    raw = rsa.b64url_decode(ct_b64) + tail
    if variant == "B":
        return raw
    if variant == "C":
        return hashlib.sha256(raw).digest()
    raise ValueError(variant)


def csig_sign(key: rsa.PrivateKey, variant: str, ct_b64: str, frm: str, to: str | None,
              ts: int) -> str:
    return rsa.b64url(key.sign(csig_message(variant, ct_b64, frm, to, ts)))


def csig_verify(pub: rsa.PublicKey, variant: str, ct_b64: str, frm: str, to: str | None,
                ts: int, sig_b64: str) -> bool:
    try:
        sig = rsa.b64url_decode(sig_b64)
    except ValueError:
        return False
    return rsa.verify(pub, csig_message(variant, ct_b64, frm, to, ts), sig)


def transport_ok(pub: rsa.PublicKey | None, env: dict) -> bool:
    sig = env.get("sig")
    if pub is None or not isinstance(sig, str) or not sig:
        return False
    try:
        return rsa.verify(pub, rsa.canonical(env.get("payload", {})), rsa.b64url_decode(sig))
    except ValueError:
        return False


def now_ms() -> int:
    return int(time.time() * 1000)


def new_id() -> str:
    return str(uuid.uuid4())


# ---- socp-server timers -----------------------------------------------------------------------

class Timers:
    """socp-server's heartbeat and dead-link times, and the options that set them.

    The hidden --test-heartbeat-ms / --test-link-dead-ms / --test-reconnect-max-ms options
    (not in --help) shorten them, as in the system tests; override with
    SOCP_INTEROP_HEARTBEAT_MS / SOCP_INTEROP_LINK_DEAD_MS. Scripted peers scale their own
    liveness timers from these, keeping each peer's ratio."""

    def __init__(self) -> None:
        hb = int(os.environ.get("SOCP_INTEROP_HEARTBEAT_MS", 1000))
        dead = int(os.environ.get("SOCP_INTEROP_LINK_DEAD_MS", 4000))
        self.heartbeat_s, self.dead_s = hb / 1000, dead / 1000
        self.server_args = ["--test-heartbeat-ms", str(hb), "--test-link-dead-ms", str(dead),
                            "--test-reconnect-max-ms", "2000"]

    def scaled(self, seconds_at_45: float) -> float:
        """A peer timer given for socp's 45 s dead time, scaled to the one in use."""
        return seconds_at_45 * self.dead_s / 45.0


# ---- WebSocket connection ---------------------------------------------------------------------

class Conn:
    """One WebSocket. `accepted` sockets send unmasked frames, dialed ones masked (RFC 6455).

    A reader thread answers pings and hands every text message to on_text(conn, env); closes
    go to on_close(conn). `read` False models a socket the peer never reads: messages are
    counted in `unread` and dropped, pings are still answered (the library does that)."""

    def __init__(self, sock: socket.socket, accepted: bool, label: str,
                 on_text: Callable[["Conn", Any], None], on_close: Callable[["Conn"], None],
                 buf: bytes = b"", read: bool = True):
        self.sock, self.accepted, self.label = sock, accepted, label
        self.on_text, self.on_close = on_text, on_close
        self.read = read
        self.buf = bytearray(buf)
        self.closed = False
        self.close_code: int | None = None
        self.closed_by_remote = False
        self.remote_id: str | None = None  # who is at the other end, once known
        self.unread = 0
        self.sent = 0
        self.last_rx = time.monotonic()
        self._lock = threading.Lock()
        sock.settimeout(None)
        self._thread = threading.Thread(target=self._run, name=f"ws-{label}", daemon=True)
        self._thread.start()

    def __repr__(self) -> str:
        state = f"closed {self.close_code}" if self.closed else "open"
        return f"<Conn {self.label} {'accepted' if self.accepted else 'dialed'} {state}>"

    # -- sending -------------------------------------------------------------------------------
    def _frame(self, opcode: int, payload: bytes) -> bytes:
        head = bytearray([0x80 | opcode])
        mbit = 0 if self.accepted else 0x80
        n = len(payload)
        if n < 126:
            head.append(mbit | n)
        elif n < 1 << 16:
            head += bytes([mbit | 126]) + struct.pack(">H", n)
        else:
            head += bytes([mbit | 127]) + struct.pack(">Q", n)
        if not self.accepted:
            key = os.urandom(4)
            head += key
            payload = h._mask(payload, key)
        return bytes(head) + payload

    def send_raw(self, opcode: int, payload: bytes) -> bool:
        with self._lock:
            if self.closed:
                return False
            try:
                self.sock.sendall(self._frame(opcode, payload))
                return True
            except OSError:
                return False

    def send_text(self, text: str) -> bool:
        ok = self.send_raw(h.OP_TEXT, text.encode("utf-8"))
        self.sent += ok
        return ok

    def send_json(self, obj: Any, style: str = "compact") -> bool:
        """style: compact (sorted, no spaces), python (json.dumps default), python-nl (+\\n)."""
        if style == "compact":
            text = json.dumps(obj, separators=(",", ":"), sort_keys=True)
        else:
            text = json.dumps(obj) + ("\n" if style == "python-nl" else "")
        return self.send_text(text)

    def ping(self) -> bool:
        return self.send_raw(h.OP_PING, b"scripted-peer")

    def close(self, code: int = 1000) -> None:
        if not self.closed:
            self.send_raw(h.OP_CLOSE, struct.pack(">H", code))
        self._finish(code, by_remote=False)

    # -- receiving -----------------------------------------------------------------------------
    def _fill(self) -> bool:
        while True:
            if self.closed:
                return False
            r, _, _ = select.select([self.sock], [], [], 0.2)
            if r:
                break
        try:
            chunk = self.sock.recv(1 << 16)
        except OSError:
            return False
        if not chunk:
            return False
        self.buf += chunk
        return True

    def _need(self, n: int) -> bool:
        while len(self.buf) < n:
            if not self._fill():
                return False
        return True

    def _read_frame(self):
        if not self._need(2):
            return None
        b0, b1 = self.buf[0], self.buf[1]
        length, pos = b1 & 0x7F, 2
        if length == 126:
            if not self._need(4):
                return None
            length, pos = struct.unpack(">H", self.buf[2:4])[0], 4
        elif length == 127:
            if not self._need(10):
                return None
            length, pos = struct.unpack(">Q", self.buf[2:10])[0], 10
        mkey = b""
        if b1 & 0x80:
            if not self._need(pos + 4):
                return None
            mkey, pos = bytes(self.buf[pos:pos + 4]), pos + 4
        if not self._need(pos + length):
            return None
        payload = bytes(self.buf[pos:pos + length])
        del self.buf[:pos + length]
        if mkey:
            payload = h._mask(payload, mkey)
        return bool(b0 & 0x80), b0 & 0x0F, payload

    def _run(self) -> None:
        parts: list[bytes] = []
        while True:
            fr = self._read_frame()
            if fr is None:
                self._finish(None, by_remote=True)
                return
            fin, op, payload = fr
            self.last_rx = time.monotonic()
            if op == h.OP_PING:
                self.send_raw(h.OP_PONG, payload)
                continue
            if op == h.OP_PONG:
                continue
            if op == h.OP_CLOSE:
                code = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else 1005
                self.send_raw(h.OP_CLOSE, payload[:2])
                self._finish(code, by_remote=True)
                return
            parts.append(payload)
            if not fin:
                continue
            data, parts = b"".join(parts), []
            if not self.read:
                self.unread += 1
                continue
            try:
                env = json.loads(data)
            except ValueError:
                env = None
            try:
                self.on_text(self, env)
            except Exception as exc:  # noqa: BLE001 - a handler error is the peer's behaviour
                self.on_text_error(exc)

    def on_text_error(self, exc: BaseException) -> None:
        raise exc

    def _finish(self, code: int | None, by_remote: bool) -> None:
        with self._lock:
            if self.closed:
                return
            self.closed = True
        self.close_code, self.closed_by_remote = code, by_remote
        try:
            self.sock.close()
        except OSError:
            pass
        self.on_close(self)


def ws_dial(port: int, timeout: float = 10.0) -> tuple[socket.socket, bytes]:
    """TCP + client handshake to 127.0.0.1:port. Returns (socket, bytes read past the head)."""
    client = h.WsClient(HOST, port, timeout=timeout)
    return client.sock, bytes(client.buf)


def ws_accept_handshake(sock: socket.socket, timeout: float = 10.0) -> bytes | None:
    """Server side of the opening handshake. Returns bytes past the request head, or None."""
    sock.settimeout(timeout)
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                return None
            data += chunk
    except OSError:
        return None
    head, _, rest = data.partition(b"\r\n\r\n")
    key = ""
    for line in head.decode("latin-1").split("\r\n")[1:]:
        k, _, v = line.partition(":")
        if k.strip().lower() == "sec-websocket-key":
            key = v.strip()
    if not key:
        return None
    accept = base64.b64encode(hashlib.sha1((key + _WS_GUID).encode()).digest()).decode()
    sock.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n").encode())
    return rest


# ---- scripted server --------------------------------------------------------------------------

class ScriptedServer(h._Managed):
    """Listener + connections + an event log. Subclasses implement on_accepted_text()/
    on_dialed_text() (what arrives on each kind of socket) and their dialect's frames."""

    dialect = "?"

    def __init__(self, name: str, key_name: str, timers: Timers, port: int | None = None):
        self.name = name
        self.key = fixture_key(key_name)
        self.pub = self.key.public
        self.timers = timers
        self.port = port or h.free_port()
        self.server_id = new_id()
        self.conns: list[Conn] = []
        self.log: list[tuple[float, str, Any]] = []  # (time, kind, detail)
        self.died: str | None = None  # the real peer's process would have exited
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._listener: socket.socket | None = None
        self._threads: list[threading.Thread] = []

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name}, port={self.port})"

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> "ScriptedServer":
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((HOST, self.port))
        self._listener.listen(16)
        self._listener.settimeout(0.2)
        self._register()
        self.spawn(self._accept_loop, "accept")
        return self

    def spawn(self, fn: Callable[[], None], what: str) -> None:
        t = threading.Thread(target=fn, name=f"{self.name}-{what}", daemon=True)
        self._threads.append(t)
        t.start()

    def stopping(self) -> bool:
        return self._stop.is_set()

    def every(self, seconds: float, fn: Callable[[], None], what: str) -> None:
        """Runs fn every `seconds` until stop() (the peer's own periodic task)."""
        def loop() -> None:
            while not self._stop.wait(seconds):
                fn()
        self.spawn(loop, what)

    def stop(self) -> None:
        self._stop.set()
        if self._listener:
            try:
                self._listener.close()
            except OSError:
                pass
        for c in list(self.conns):
            c.close(1001)
        for t in self._threads:
            if t is not threading.current_thread():
                t.join(timeout=5)
        self._unregister()

    def die(self, why: str) -> None:
        """The real peer's process ends here (e.g. G43 when its join socket closes)."""
        self.note("died", why)
        self.died = why
        self._stop.set()
        for c in list(self.conns):
            c.close(1001)

    # -- sockets -------------------------------------------------------------------------------
    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self._listener.accept()
            except (socket.timeout, OSError):
                continue
            rest = ws_accept_handshake(sock)
            if rest is None:
                sock.close()
                continue
            self._adopt(sock, True, rest, "in", read=True)

    def dial(self, port: int, label: str = "out", read: bool = True) -> Conn:
        sock, rest = ws_dial(port)
        return self._adopt(sock, False, rest, label, read=read)

    def _adopt(self, sock, accepted: bool, rest: bytes, label: str, read: bool) -> Conn:
        conn = Conn(sock, accepted, f"{self.name}-{label}", self._on_text, self._on_close,
                    rest, read=read)
        conn.on_text_error = lambda exc, c=conn: self.on_handler_error(c, exc)
        with self._cond:
            self.conns.append(conn)
            self._cond.notify_all()
        return conn

    def _on_text(self, conn: Conn, env: Any) -> None:
        if not isinstance(env, dict):
            self.note("non-json", conn.label)
            return
        self.note("rx", (conn.label, env.get("type"), env.get("from")), quiet=True)
        if conn.accepted:
            self.on_accepted_text(conn, env)
        else:
            self.on_dialed_text(conn, env)

    def _on_close(self, conn: Conn) -> None:
        self.note("closed", (conn.label, conn.remote_id, conn.close_code,
                             "by remote" if conn.closed_by_remote else "by us"))
        self.on_conn_closed(conn)

    # -- overridables --------------------------------------------------------------------------
    def on_accepted_text(self, conn: Conn, env: dict) -> None:
        raise NotImplementedError

    def on_dialed_text(self, conn: Conn, env: dict) -> None:
        self.on_accepted_text(conn, env)

    def on_conn_closed(self, conn: Conn) -> None:
        pass

    def on_handler_error(self, conn: Conn, exc: BaseException) -> None:
        """Default: the peer's handler for this socket dies and the socket closes."""
        self.note("handler error", f"{conn.label}: {type(exc).__name__}: {exc}")
        conn.close(1011)

    # -- event log -----------------------------------------------------------------------------
    def note(self, kind: str, detail: Any = None, quiet: bool = False) -> None:
        with self._cond:
            self.log.append((time.monotonic(), kind, detail))
            self._cond.notify_all()
        if not quiet and os.environ.get("SOCP_INTEROP_VERBOSE") == "1":
            print(f"[{self.name}] {kind}: {detail}", file=sys.stderr, flush=True)

    def notes(self, kind: str | None = None) -> list[Any]:
        with self._cond:
            return [d for _, k, d in self.log if kind is None or k == kind]

    def wait_for(self, fn: Callable[[], Any], timeout: float, desc: str) -> Any:
        """Waits (on this peer's events, with a deadline) until fn() is truthy."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                value = fn()
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"[{self.name}] timed out after {timeout:.0f}s waiting "
                                         f"for {desc}\n{self.summary()}")
                self._cond.wait(min(left, 0.25))

    def hold(self, seconds: float, ok: Callable[[], Any], desc: str) -> None:
        """Checks ok() on every event and poll until `seconds` have passed; fails at once if
        it stops holding. (A condition watched over a span, not a sleep.)"""
        deadline = time.monotonic() + seconds
        with self._cond:
            while True:
                if not ok():
                    raise AssertionError(f"[{self.name}] stopped holding: {desc}\n"
                                         f"{self.summary()}")
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self._cond.wait(min(left, 0.25))

    def summary(self, last: int = 30) -> str:
        with self._cond:
            lines = [f"  {k}: {str(d)[:300]}" for _, k, d in self.log if k != "rx"][-last:]
            rx = [d for _, k, d in self.log if k == "rx"][-12:]
        return (f"{self.dialect} peer {self.name} (id {self.server_id}, port {self.port})"
                f"{' DIED: ' + self.died if self.died else ''}\n" + "\n".join(lines) +
                "\n  last frames received: " + ", ".join(f"{t}@{lbl}" for lbl, t, _ in rx))

    # -- signing -------------------------------------------------------------------------------
    def signed(self, type_: str, to: str, payload: dict, ts: int | None = None,
               frm: str | None = None) -> dict:
        return {"type": type_, "from": frm or self.server_id, "to": to,
                "ts": now_ms() if ts is None else ts, "payload": payload,
                "sig": self.key.sign_payload(payload)}

    def unsigned(self, type_: str, to: str, payload: dict, ts: int | None = None,
                 frm: str | None = None, empty_sig: bool = False) -> dict:
        env = {"type": type_, "from": frm or self.server_id, "to": to,
               "ts": now_ms() if ts is None else ts, "payload": payload}
        if empty_sig:
            env["sig"] = ""
        return env


def cli_user_id(cli: h.CliProcess) -> str:
    return cli.logged_in(60)["user_id"]


def listed(cli: h.CliProcess, user_id: str) -> dict | None:
    for u in cli.list_users():
        if u["user_id"] == user_id:
            return u
    return None
