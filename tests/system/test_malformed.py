"""Hostile and malformed input against one real socp-server, over raw WebSocket frames.

One server; alice and bob are registered and logged in through socp-cli (the well-behaved pair);
dave is registered and logged in from Python (USER_REGISTER / USER_HELLO signed by
socp_rsa), so cases can also run on an authenticated raw connection. Every case is one row of
CASES, run by a single parametrised runner (unittest subTest): it sends the frames, reads what
comes back until the close (or until the expected ERROR when the connection must stay open),
and checks the ERROR code and the close code. Every server-originated JSON frame must carry a
`sig` that verifies with the server key pinned at dave's login. After every case the server
process must still be alive. Then: 200 simultaneous connections, a client that stops reading,
a hostile peer *server* played from Python with a fixture server key (forged gossip and
deliveries), idle connections, and finally alice and bob still exchange a /tell on the same
server.

Expected answers follow docs/protocol-notes.md ("Limits and bad input"): malformed first
frame → ERROR BAD_FRAME (or TOO_DEEP / TOO_LARGE) then close 1008; unknown first type →
UNKNOWN_TYPE then 1008; non-hello first → NOT_AUTHENTICATED then 1008; refused login → ERROR
then close 1000; over the user frame limit → close 1009; binary → close 1003.
"""

from __future__ import annotations

import json
import os
import socket
import struct
import sys
import threading
import time
import unittest
from dataclasses import dataclass
from typing import Any, Callable

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import socp_harness as h  # noqa: E402
import socp_rsa  # noqa: E402

ANY = object()  # "don't care" for an expected ERROR code

# An RSA-2048 public key (base64url DER): socp accepts RSA-4096 only (BAD_KEY).
RSA2048_PUB = (
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEArQPauoMFJ5BDWpUjwCz6ifvmmrjYpZrTj53sofOTTXBpKnJb"
    "jjDSUxwnIAD3o1LysELnW7jqdhvll-lG2haEjoe87NnvcoTnNAcSaAZzc8idVNeOZEUCfvrHBHT_ayzvNpYsKI929fP0"
    "QZ00bVC7l6tBoyBWPvGS8rcEdc_eUlmgi-gsfZkh_Bne28GrTgfeqMtlAQqH0knadcLqOaOLeV6SHKNPaOesNpncOuyM"
    "I6jgVL-XTgZlUlglsBgcflt05TjN424t_EuaUgc8dM69q_dJAMpwpKPb7OKSr9W-bygDOAvUwMI1bNKfrBl9RCS_55bV"
    "I0SDdXpKZLzE3TV0NwIDAQAB")

U = "6f1c0e1a-3a0e-4c1b-9d0a-2b1b7a1f2c3d"  # a well-formed, unregistered user id
KiB = 1024
MiB = 1 << 20
VERBOSE = os.environ.get("SOCP_SYSTEST_VERBOSE") == "1"


# ---- context shared by the cases --------------------------------------------------------------

class Ctx:
    ws: h.Workspace
    server: h.ServerProcess
    port: int
    keys: dict[str, socp_rsa.PrivateKey]
    server_pub: socp_rsa.PublicKey | None = None
    alice = bob = None  # CliProcess
    alice_id = bob_id = ""
    dave_id = ""

    @property
    def dave_hello(self) -> dict:
        """A fresh signed hello each time: the server refuses a replayed one."""
        return h.user_hello(self.keys["dave"], self.dave_id, "dave")

    def connect(self) -> h.WsClient:
        return h.WsClient(port=self.port)

    def verify_server_frame(self, m: Any) -> str | None:
        """None if `m` is a server frame with a valid sig (or not a frame), else why not."""
        if not isinstance(m, dict) or "type" not in m or self.server_pub is None:
            return None
        sig = m.get("sig")
        if not sig:
            return f"{m.get('type')} without sig"
        try:
            ok = socp_rsa.verify(self.server_pub, socp_rsa.canonical(m["payload"]),
                                 socp_rsa.b64url_decode(sig))
        except Exception as exc:  # noqa: BLE001
            return f"{m.get('type')}: sig check raised {exc!r}"
        return None if ok else f"{m.get('type')}: sig does not verify with the server key"

    def login_dave(self, timeout: float = 8.0) -> h.WsClient:
        """A fresh connection logged in as dave (retries while a previous session of dave is
        still being torn down on the server)."""
        deadline = time.monotonic() + timeout
        while True:
            ws = self.connect()
            ws.send_json(self.dave_hello)
            first = ws.recv_json(5)
            if first.get("type") == "ACK" and first["payload"].get("msg_ref") == "USER_HELLO":
                return ws
            ws.close()
            busy = first.get("type") == "ERROR" and first["payload"].get("code") == "NAME_IN_USE"
            if not busy or time.monotonic() >= deadline:
                raise AssertionError(f"dave cannot log in: {first}")
            time.sleep(0.05)


def _frame(type_: str = "LIST_REQUEST", **over) -> dict:
    env = {"type": type_, "from": U, "to": "server", "ts": h.now_ms(), "payload": {}}
    env.update(over)
    return {k: v for k, v in env.items() if v is not _DROP}


_DROP = object()


def _nested(depth: int) -> dict:
    """An object nested `depth` levels deep ({"a":{"a":...{}}}, depth counts the outer one)."""
    v: dict = {}
    for _ in range(depth - 1):
        v = {"a": v}
    return v


def _padded_frame(total: int) -> bytes:
    """A valid LIST_REQUEST frame of exactly `total` bytes (padding inside the payload)."""
    head = json.dumps(_frame(payload={"pad": ""}), separators=(",", ":")).encode()
    pad = total - len(head)
    assert pad >= 0
    return head.replace(b'"pad":""', b'"pad":"' + b"a" * pad + b'"')


def send_text(data):
    return lambda ctx, ws: ws.send_text(data)


def send_json(obj_fn):
    return lambda ctx, ws: ws.send_json(obj_fn(ctx))


# ---- the table --------------------------------------------------------------------------------

@dataclass
class Case:
    name: str
    send: Callable[[Ctx, h.WsClient], None] | None = None
    error: Any = None            # expected ERROR code, tuple of codes, ANY, or None = no ERROR
    close: Any = 1008            # close code(s), "open" (must stay open), "closed" (any end), None
    auth: bool = False           # run on a connection logged in as dave
    check: Callable[[Ctx, h.WsClient, list, Any], None] | None = None
    custom: Callable[[Ctx], None] | None = None  # does everything itself
    timeout: float = 6.0


def _hello(ctx: Ctx, who: str = "alice", **kw) -> dict:
    uid = {"alice": ctx.alice_id, "bob": ctx.bob_id, "dave": ctx.dave_id}.get(who) or h.new_uuid()
    return h.user_hello(ctx.keys[who], uid, who, **kw)


def _hello_without_signed_ts(ctx: Ctx) -> dict:
    f = _hello(ctx, "alice", sign=False)
    del f["payload"]["ts"]
    f["sig"] = ctx.keys["alice"].sign_payload(f["payload"])
    return f


def _tampered_hello(ctx: Ctx) -> dict:
    f = _hello(ctx, "alice")
    f["payload"]["meta"]["display_name"] = "mallory"
    return f


def _server_hello(ctx: Ctx, type_: str, key: str = "server_b", signer: str | None = "server_b",
                  sig: str | None = None, pubkey: str | None = None) -> dict:
    k = socp_rsa.PrivateKey.from_pem(h.fixture_pem(key))
    payload = {"host": "127.0.0.1", "port": 9, "pubkey": pubkey or k.public.b64url(),
               "caps": ["socp/1"]}
    if sig is None and signer is not None:
        sig = socp_rsa.PrivateKey.from_pem(h.fixture_pem(signer)).sign_payload(payload)
    return h.envelope(type_, h.new_uuid(), "127.0.0.1:%d" % ctx.port, payload, sig=sig)


def _random_sig() -> str:
    return socp_rsa.b64url(os.urandom(512))


def _register(ctx: Ctx, **kw) -> dict:
    return h.user_register(ctx.keys["erin"], kw.pop("uid", None) or h.new_uuid(), "erin", **kw)


def _recover_four_times(ctx: Ctx) -> None:
    """KEY_RECOVER with a wrong proof, one at a time: three BAD_PASSWORD answers, then the
    fourth attempt is refused and the connection closed (at most 3 attempts per connection)."""
    ws = ctx.connect()
    try:
        codes = []
        for attempt in range(4):
            ws.send_json(h.envelope("KEY_RECOVER", U, "server",
                                    {"user_id": ctx.alice_id, "proof": "bm90LXRoZS1wcm9vZg"}))
            msgs, end = ws.collect(10, until_close=attempt == 3)
            for m in msgs:
                why = ctx.verify_server_frame(m)
                assert why is None, why
            codes += _codes(msgs)
        assert codes == ["BAD_PASSWORD"] * 4, codes
        assert end == 1008, f"after the 4th attempt: close {end}"
    finally:
        ws.close()


def _send_oversize(size: int):
    def send(ctx: Ctx, ws: h.WsClient) -> None:
        try:
            ws.send_text(_padded_frame(size))
        except OSError:
            pass  # the server may hang up before we finish writing: that is allowed
    return send


def _read_until_type(ws: h.WsClient, msgs: list, type_: str, timeout: float = 5.0) -> list:
    """Reads (appending to msgs) until a frame of `type_` is among msgs."""
    deadline = time.monotonic() + timeout
    while not any(isinstance(m, dict) and m.get("type") == type_ for m in msgs):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        got, end = ws.collect(left, until_close=False)
        msgs += got
        if end != "open":
            break
    return [m for m in msgs if isinstance(m, dict) and m.get("type") == type_]


def _check_list_response(ctx, ws, msgs, end):
    lists = _read_until_type(ws, msgs, "LIST_RESPONSE")
    assert lists, f"no LIST_RESPONSE in {msgs}"
    users = lists[0]["payload"]["users"]
    ids = [u["user_id"] for u in users]
    assert ids == sorted(ids), f"LIST_RESPONSE not sorted by id: {ids}"
    for uid in (ctx.alice_id, ctx.bob_id, ctx.dave_id):
        assert uid in ids, f"{uid} missing from {ids}"
    online = lists[0]["payload"].get("online_users")
    assert online == sorted(online) and ctx.dave_id in online, online


def _msg_direct_unknown(ctx: Ctx) -> dict:
    bob_pub = ctx.keys["bob"].public
    return h.msg_direct(ctx.keys["dave"], ctx.dave_id, h.new_uuid(), bob_pub, "to nobody")


def _msg_direct_from_other(ctx: Ctx) -> dict:
    f = h.msg_direct(ctx.keys["dave"], ctx.dave_id, ctx.bob_id, ctx.keys["bob"].public, "x")
    f["from"] = ctx.alice_id
    return f


def _msg_direct_wrong_sender_pub(ctx: Ctx) -> dict:
    f = h.msg_direct(ctx.keys["dave"], ctx.dave_id, ctx.bob_id, ctx.keys["bob"].public, "x")
    f["payload"]["sender_pub"] = ctx.keys["alice"].public.b64url()
    return f


def _twenty_bad(ctx: Ctx, ws: h.WsClient) -> None:
    for i in range(20):
        ws.send_text(f"not json {i}")


def _check_twenty(ctx, ws, msgs, end):
    errs = [m for m in msgs if isinstance(m, dict) and m.get("type") == "ERROR"]
    assert len(errs) == 20, f"expected 20 ERRORs before the close, got {len(errs)}"


def _duplicate_login(ctx: Ctx, ws: h.WsClient) -> None:
    ws2 = ctx.connect()
    try:
        ws2.send_json(ctx.dave_hello)
        msgs, end = ws2.collect(6)
    finally:
        ws2.close()
    errs = [m["payload"]["code"] for m in msgs if isinstance(m, dict) and m.get("type") == "ERROR"]
    assert errs == ["NAME_IN_USE"], f"second login of dave: {msgs}"
    assert end == 1000, f"second login of dave should be closed with 1000, got {end}"
    ws.send_json(_frame("LIST_REQUEST", **{"from": ctx.dave_id}))


def _replay_direct(ctx: Ctx, ws: h.WsClient) -> None:
    """The same MSG_DIRECT frame twice: bob must see it once (seen cache)."""
    nonce = h.new_uuid()[:8]
    frame = h.msg_direct(ctx.keys["dave"], ctx.dave_id, ctx.bob_id, ctx.keys["bob"].public,
                         f"replay {nonce}")
    since = ctx.bob.mark()
    ws.send_json(frame)
    ws.send_json(frame)
    ws.send_json(h.msg_direct(ctx.keys["dave"], ctx.dave_id, ctx.bob_id, ctx.keys["bob"].public,
                              f"after replay {nonce}"))
    ctx.bob.wait_event("message", 15, since=since, text=f"after replay {nonce}")
    got = [e for e in ctx.bob.events("message", since) if e["text"] == f"replay {nonce}"]
    assert len(got) == 1, f"bob got the replayed message {len(got)} times"
    assert got[0]["verified"] is True and got[0]["from"] == ctx.dave_id, got[0]


def _forged_content(ctx: Ctx, ws: h.WsClient) -> None:
    """content_sig by someone else (carol) over dave's message: the server cannot tell (it
    never decrypts), bob's client must reject it and never show it as a message."""
    nonce = h.new_uuid()[:8]
    ts = h.now_ms()
    ct = socp_rsa.encrypt(ctx.keys["bob"].public, f"forged {nonce}".encode())
    csig = ctx.keys["carol"].sign(socp_rsa.content_sig_message(ct, ctx.dave_id, ctx.bob_id, ts))
    payload = {"ciphertext": socp_rsa.b64url(ct), "sender_pub": ctx.keys["dave"].public.b64url(),
               "content_sig": socp_rsa.b64url(csig)}
    since = ctx.bob.mark()
    ws.send_json(h.envelope("MSG_DIRECT", ctx.dave_id, ctx.bob_id, payload, ts))
    # tampered ciphertext with a content_sig over the original
    ct2 = socp_rsa.encrypt(ctx.keys["bob"].public, f"tampered {nonce}".encode())
    csig2 = ctx.keys["dave"].sign(
        socp_rsa.content_sig_message(ct2, ctx.dave_id, ctx.bob_id, ts + 1))
    bad = bytearray(ct2)
    bad[100] ^= 1
    ws.send_json(h.envelope("MSG_DIRECT", ctx.dave_id, ctx.bob_id,
                            {"ciphertext": socp_rsa.b64url(bytes(bad)),
                             "sender_pub": ctx.keys["dave"].public.b64url(),
                             "content_sig": socp_rsa.b64url(csig2)}, ts + 1))
    ws.send_json(h.msg_direct(ctx.keys["dave"], ctx.dave_id, ctx.bob_id, ctx.keys["bob"].public,
                              f"genuine {nonce}"))
    ctx.bob.wait_event("message", 15, since=since, text=f"genuine {nonce}")
    rejected = ctx.bob.events("rejected", since)
    texts = [e["text"] for e in ctx.bob.events("message", since)]
    assert not any("forged" in t or "tampered" in t for t in texts), texts
    assert len(rejected) == 2, f"bob should reject 2 messages, events: {rejected}"
    assert all(e["reason"] == "bad content signature" for e in rejected), rejected


def _http_case(request: bytes, expect_status: str | None):
    def run(ctx: Ctx) -> None:
        with socket.create_connection((h.HOST, ctx.port), timeout=5) as s:
            s.sendall(request)
            data = b""
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                try:
                    chunk = s.recv(4096)
                except (ConnectionResetError, socket.timeout):
                    break
                if not chunk:
                    break
                data += chunk
                if expect_status and b"\r\n\r\n" in data:
                    break
            status = data.split(b"\r\n", 1)[0].decode("latin-1")
            assert " 101 " not in status + " ", f"switched protocols on a bad request: {status!r}"
            if expect_status is not None:
                assert expect_status in status, f"status line {status!r}"
    return run


def _version_99(ctx: Ctx) -> None:
    """RFC 6455 4.2.2 wants 426 for an unsupported Sec-WebSocket-Version; libwebsockets 4.1
    accepts any version. Either way the connection must then behave (noted, not failed)."""
    try:
        ws = h.WsClient(port=ctx.port, handshake=False)
        key = "dGhlIHNhbXBsZSBub25jZQ=="
        ws.sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                        b"Connection: Upgrade\r\nSec-WebSocket-Key: " + key.encode() +
                        b"\r\nSec-WebSocket-Version: 99\r\n\r\n")
        deadline = time.monotonic() + 5
        while b"\r\n\r\n" not in ws.buf and ws._fill(deadline):
            pass
        status = bytes(ws.buf).split(b"\r\n", 1)[0].decode("latin-1")
        if " 101 " in status + " ":
            del ws.buf[:bytes(ws.buf).index(b"\r\n\r\n") + 4]
            ws.send_json(_frame())
            msgs, end = ws.collect(5)
            assert _codes(msgs) == ["NOT_AUTHENTICATED"], msgs
            ctx.notes.append("Sec-WebSocket-Version: 99 is accepted (101), RFC 6455 wants 426; "
                             "the connection then behaves normally")
        else:
            ctx.notes.append(f"Sec-WebSocket-Version: 99 refused: {status}")
    finally:
        ws.close()


def _deflate_offer(ctx: Ctx) -> None:
    """Python `websockets` offers permessage-deflate by default: declining is fine, failing the
    handshake is not (docs/protocol.md section 1)."""
    with h.WsClient(port=ctx.port, extra_headers="Sec-WebSocket-Extensions: permessage-deflate; "
                                                  "client_max_window_bits\r\n") as ws:
        ext = ws.headers.get("sec-websocket-extensions", "")
        assert "permessage-deflate" not in ext, f"deflate accepted: {ext!r} (we send plain frames)"
        ws.send_json(_frame())
        msgs, end = ws.collect(5)
        assert _codes(msgs) == ["NOT_AUTHENTICATED"] and end == 1008, (msgs, end)


def _unmasked(ctx: Ctx, ws: h.WsClient) -> None:
    ws.send_raw_frame(h.OP_TEXT, json.dumps(_frame()).encode(), masked=False)


def _check_unmasked(ctx, ws, msgs, end):
    # RFC 6455 says a server MUST close on an unmasked client frame (1002); libwebsockets 4.1
    # accepts it. Either is fine here; not crashing is what matters.
    types = [m.get("type") if isinstance(m, dict) else m for m in msgs]
    ctx.notes.append(f"unmasked client frame: replies {types}, end {end}")


def _ping_pong(ctx: Ctx, ws: h.WsClient) -> None:
    ws.send_ping(b"hello-ping")
    op, payload = ws.recv(5)
    assert (op, payload) == (h.OP_PONG, b"hello-ping"), (op, payload)


def _fragmented_login(ctx: Ctx) -> None:
    """A signed USER_HELLO split into 5 fragments with a ping in between logs in."""
    deadline = time.monotonic() + 8
    while True:
        ws = ctx.connect()
        try:
            ws.send_fragmented(json.dumps(ctx.dave_hello), pieces=5, ping_between=True)
            msgs, end = ws.collect(5, until_close=False)
            first = next(m for m in msgs if isinstance(m, dict))
            if first.get("type") == "ERROR" and first["payload"]["code"] == "NAME_IN_USE" \
                    and time.monotonic() < deadline:
                continue
            assert first.get("type") == "ACK" and first["payload"]["msg_ref"] == "USER_HELLO", first
            assert ws.is_open()
            return
        finally:
            ws.close()


CASES: list[Case] = [
    # -- not JSON / not an object --------------------------------------------------------------
    Case("not_json", send_text("hello server"), "BAD_FRAME"),
    Case("empty_text", send_text(""), "BAD_FRAME"),
    Case("whitespace_only", send_text("   \n\t "), "BAD_FRAME"),
    Case("truncated_json", send_text('{"type":"USER_HELLO","from":'), "BAD_FRAME"),
    Case("json_array", send_text("[]"), "BAD_FRAME"),
    Case("json_number", send_text("42"), "BAD_FRAME"),
    Case("json_string", send_text('"USER_HELLO"'), "BAD_FRAME"),
    Case("json_null", send_text("null"), "BAD_FRAME"),
    Case("trailing_garbage", lambda c, ws: ws.send_text(json.dumps(_frame()) + " x"), "BAD_FRAME"),
    Case("two_objects", lambda c, ws: ws.send_text(json.dumps(_frame()) * 2), "BAD_FRAME"),
    # -- envelope fields -----------------------------------------------------------------------
    Case("missing_type", send_json(lambda c: _frame(type=_DROP)), "BAD_FRAME"),
    Case("missing_from", send_json(lambda c: _frame(**{"from": _DROP})), "BAD_FRAME"),
    Case("missing_to", send_json(lambda c: _frame(to=_DROP)), "BAD_FRAME"),
    Case("missing_ts", send_json(lambda c: _frame(ts=_DROP)), "BAD_FRAME"),
    Case("missing_payload", send_json(lambda c: _frame(payload=_DROP)), "BAD_FRAME"),
    Case("type_not_string", send_json(lambda c: _frame(type=7)), "BAD_FRAME"),
    Case("type_empty", send_json(lambda c: _frame(type="")), "BAD_FRAME"),
    Case("type_too_long", send_json(lambda c: _frame(type="X" * 65)), "BAD_FRAME"),
    Case("ts_string", send_json(lambda c: _frame(ts=str(h.now_ms()))), "BAD_FRAME"),
    Case("ts_float", send_text('{"type":"LIST_REQUEST","from":"%s","to":"s","ts":1700000000000.5,'
                               '"payload":{}}' % U), "BAD_FRAME"),
    Case("ts_exponent", send_text('{"type":"LIST_REQUEST","from":"%s","to":"s","ts":17e11,'
                                  '"payload":{}}' % U), "BAD_FRAME"),
    Case("ts_out_of_int64", send_text('{"type":"LIST_REQUEST","from":"%s","to":"s",'
                                      '"ts":18446744073709551616,"payload":{}}' % U), "BAD_FRAME"),
    Case("from_not_uuid", send_json(lambda c: _frame(**{"from": "alice"})), "BAD_FRAME"),
    Case("from_number", send_json(lambda c: _frame(**{"from": 12345})), "BAD_FRAME"),
    Case("from_with_escaped_nul", send_json(lambda c: _frame(**{"from": U[:-1] + "\u0000"})),
         "BAD_FRAME"),
    Case("to_too_long", send_json(lambda c: _frame(to="x" * 300)), "BAD_FRAME"),
    Case("payload_array", send_json(lambda c: _frame(payload=[])), "BAD_FRAME"),
    Case("payload_string", send_json(lambda c: _frame(payload="{}")), "BAD_FRAME"),
    Case("payload_null", send_json(lambda c: _frame(payload=None)), "BAD_FRAME"),
    Case("sig_not_base64", send_json(lambda c: _frame(sig="!!not base64!!")), "BAD_FRAME"),
    Case("sig_number", send_json(lambda c: _frame(sig=5)), "BAD_FRAME"),
    Case("raw_nul_byte", send_text(b'{"type":"LIST_REQUEST",\x00"from":"x"}'), "BAD_FRAME"),
    Case("duplicate_keys", send_text('{"type":"USER_HELLO","type":"LIST_REQUEST","from":"%s",'
                                     '"to":"s","ts":1,"payload":{}}' % U), "BAD_FRAME"),
    Case("float_in_payload", send_text('{"type":"LIST_REQUEST","from":"%s","to":"s","ts":1,'
                                       '"payload":{"x":0.5}}' % U), "BAD_FRAME"),
    Case("lone_surrogate_escape", send_text('{"type":"LIST_REQUEST","from":"%s","to":"\\udc00",'
                                            '"ts":1,"payload":{}}' % U), "BAD_FRAME"),
    Case("invalid_utf8_text_frame",
         send_text(b'{"type":"LIST_REQUEST\xff\xfe","from":"%s","to":"s","ts":1,"payload":{}}'
                   % U.encode()), ("BAD_FRAME", None), (1008, 1007)),
    Case("overlong_utf8", send_text(b'{"type":"LIST_REQUEST","from":"%s","to":"\xc0\xaf",'
                                    b'"ts":1,"payload":{}}' % U.encode()),
         ("BAD_FRAME", None), (1008, 1007)),
    # -- size and depth ------------------------------------------------------------------------
    Case("depth_33", send_json(lambda c: _frame(payload=_nested(32))), "TOO_DEEP"),
    Case("depth_32_is_fine", send_json(lambda c: _frame(payload=_nested(31))),
         "NOT_AUTHENTICATED"),
    # Before login a frame may be at most 64 KiB (a stranger cannot make the server hold more):
    # the same inputs are refused by size; after login (1 MiB) they reach the parser.
    Case("nesting_100k_arrays", send_text("[" * 100_000), None, 1009),
    Case("nesting_100k_objects", send_text('{"a":' * 100_000), None, 1009),
    Case("nesting_100k_in_payload",
         send_text('{"type":"LIST_REQUEST","from":"%s","to":"s","ts":1,"payload":%s}'
                   % (U, "[" * 100_000)), None, 1009),
    Case("huge_string_field", send_json(lambda c: _frame(**{"from": "a" * 900_000})), None, 1009),
    Case("nesting_100k_arrays_after_login", send_text("[" * 100_000), "TOO_DEEP", "open",
         auth=True),
    Case("nesting_100k_in_payload_after_login",
         send_text('{"type":"LIST_REQUEST","from":"%s","to":"s","ts":1,"payload":%s}'
                   % (U, "[" * 100_000)), "TOO_DEEP", "open", auth=True),
    Case("huge_string_field_after_login",
         send_json(lambda c: _frame(**{"from": "a" * 900_000})), "BAD_FRAME", "open", auth=True),
    Case("exactly_64kib_is_fine_before_login", lambda c, ws: ws.send_text(_padded_frame(64 * KiB)),
         "NOT_AUTHENTICATED"),
    Case("one_byte_over_64kib_before_login", _send_oversize(64 * KiB + 1), None, 1009),
    Case("exactly_1mib_is_fine_after_login", lambda c, ws: ws.send_text(_padded_frame(MiB)),
         None, "open", auth=True, timeout=15),
    Case("one_byte_over_1mib", _send_oversize(MiB + 1), None, 1009, auth=True, timeout=15),
    Case("frame_2mib", _send_oversize(2 * MiB), None, 1009, timeout=15),
    Case("frame_9mib_over_transport_cap", _send_oversize(9 * MiB), None,
         (1009, "reset", "eof"), timeout=20),
    # -- type and authentication ---------------------------------------------------------------
    Case("unknown_type_first", send_json(lambda c: _frame("FOO_BAR")), "UNKNOWN_TYPE"),
    Case("list_before_hello", send_json(lambda c: _frame("LIST_REQUEST")), "NOT_AUTHENTICATED"),
    Case("list_alias_before_hello", send_json(lambda c: _frame("CMD_LIST")), "NOT_AUTHENTICATED"),
    Case("msg_direct_before_hello",
         send_json(lambda c: _frame("MSG_DIRECT", to=c.bob_id,
                                    payload={"ciphertext": "AA", "sender_pub": "AA",
                                             "content_sig": "AA"})), "NOT_AUTHENTICATED"),
    Case("server_deliver_before_hello",
         send_json(lambda c: _frame("SERVER_DELIVER", to=c.bob_id,
                                    payload={"user_id": c.bob_id, "ciphertext": "AA",
                                             "sender": c.alice_id, "sender_pub": "AA",
                                             "content_sig": "AA"})), "NOT_AUTHENTICATED"),
    Case("forged_user_advertise_first",
         send_json(lambda c: _frame("USER_ADVERTISE", to="*",
                                    payload={"user_id": c.alice_id, "server_id": U,
                                             "pubkey": c.keys["carol"].public.b64url(),
                                             "meta": {}})), "NOT_AUTHENTICATED"),
    Case("ack_first", send_json(lambda c: _frame("ACK", payload={"msg_ref": "X"})),
         "NOT_AUTHENTICATED"),
    # -- USER_HELLO ----------------------------------------------------------------------------
    Case("hello_missing_pubkey", send_json(lambda c: _frame("USER_HELLO", **{"from": c.alice_id},
                                                            payload={"client": "x"})),
         "BAD_FRAME", 1000),
    Case("hello_pubkey_garbage", send_json(lambda c: _hello(c, pubkey="not a key", sign=False)),
         "BAD_KEY", 1000),
    Case("hello_rsa2048_key", send_json(lambda c: _hello(c, pubkey=RSA2048_PUB, sign=False)),
         "BAD_KEY", 1000),
    Case("hello_unsigned", send_json(lambda c: _hello(c, sign=False)), "INVALID_SIG", 1000),
    Case("hello_random_sig", send_json(lambda c: {**_hello(c, sign=False), "sig": _random_sig()}),
         "INVALID_SIG", 1000),
    Case("hello_signed_by_wrong_key", send_json(lambda c: _hello(c, signer=c.keys["bob"])),
         "INVALID_SIG", 1000),
    Case("hello_payload_tampered", send_json(_tampered_hello), "INVALID_SIG", 1000),
    Case("hello_stale_ts", send_json(lambda c: _hello(c, ts=h.now_ms() - 10 * 60_000)),
         "INVALID_SIG", 1000),
    Case("hello_future_ts", send_json(lambda c: _hello(c, ts=h.now_ms() + 10 * 60_000)),
         "INVALID_SIG", 1000),
    Case("hello_captured_then_restamped",  # signed an hour ago, envelope ts set to now
         send_json(lambda c: {**_hello(c, ts=h.now_ms() - 3_600_000), "ts": h.now_ms()}),
         "INVALID_SIG", 1000),
    Case("hello_signed_ts_missing",  # a signed hello without the ts inside its payload
         send_json(_hello_without_signed_ts), "INVALID_SIG", 1000),
    Case("hello_unknown_user", send_json(lambda c: _hello(c, "carol")), "USER_NOT_FOUND", 1000),
    Case("hello_key_not_registered_one",
         send_json(lambda c: h.user_hello(c.keys["bob"], c.alice_id, "alice")), "BAD_KEY", 1000),
    Case("hello_while_online_elsewhere",
         send_json(lambda c: h.user_hello(c.keys["alice"], c.alice_id, "alice")),
         "NAME_IN_USE", 1000),
    # -- USER_REGISTER (errors keep the connection open) ---------------------------------------
    Case("register_mismatched_user_id",
         send_json(lambda c: _register(c, payload_user_id=h.new_uuid())), "BAD_FRAME", "open"),
    Case("register_rsa2048_key", send_json(lambda c: _register(c, pubkey=RSA2048_PUB, sign=False)),
         "BAD_KEY", "open"),
    Case("register_unsigned", send_json(lambda c: _register(c, sign=False)), "INVALID_SIG", "open"),
    Case("register_existing_id",
         send_json(lambda c: h.user_register(c.keys["alice"], c.alice_id, "alice")),
         "NAME_IN_USE", "open"),
    Case("register_missing_privkey_store",
         send_json(lambda c: {**_frame("USER_REGISTER"),
                              "payload": {"user_id": U, "pubkey": c.keys["erin"].public.b64url(),
                                          "pake_password": "eA"}}), "BAD_FRAME", "open"),
    # -- KEY_RECOVER ---------------------------------------------------------------------------
    Case("recover_unknown_user",
         send_json(lambda c: _frame("KEY_RECOVER", payload={"user_id": h.new_uuid(),
                                                            "proof": "eA"})),
         "USER_NOT_FOUND", "open"),
    Case("recover_wrong_proof_four_times", custom=_recover_four_times),
    # -- server hellos from a stranger ---------------------------------------------------------
    Case("hello_link_random_sig",
         send_json(lambda c: _server_hello(c, "SERVER_HELLO_LINK", sig=_random_sig())),
         "INVALID_SIG"),
    Case("hello_link_unsigned",
         send_json(lambda c: _server_hello(c, "SERVER_HELLO_LINK", signer=None)), "INVALID_SIG"),
    Case("hello_link_signed_by_other_server",
         send_json(lambda c: _server_hello(c, "SERVER_HELLO_LINK", signer="server_a")),
         "INVALID_SIG"),
    Case("hello_join_bad_sig",
         send_json(lambda c: _server_hello(c, "SERVER_HELLO_JOIN", sig=_random_sig())),
         "INVALID_SIG"),
    Case("announce_rsa2048_key",
         send_json(lambda c: _server_hello(c, "SERVER_ANNOUNCE", signer=None, pubkey=RSA2048_PUB)),
         "BAD_KEY"),
    Case("hello_link_missing_fields",
         send_json(lambda c: _frame("SERVER_HELLO_LINK", payload={"host": "x"})), "BAD_FRAME"),
    # -- WebSocket level -----------------------------------------------------------------------
    Case("binary_frame", lambda c, ws: ws.send_binary(json.dumps(_frame()).encode()), None, 1003),
    Case("unmasked_client_frame", _unmasked, ANY, None, check=_check_unmasked),
    Case("fragmented_frame", lambda c, ws: ws.send_fragmented(json.dumps(_frame()), 4),
         "NOT_AUTHENTICATED"),
    Case("fragmented_with_ping_between",
         lambda c, ws: ws.send_fragmented(json.dumps(_frame()), 3, ping_between=True),
         "NOT_AUTHENTICATED"),
    Case("fragmented_signed_hello_logs_in", custom=_fragmented_login),
    Case("continuation_without_start",
         lambda c, ws: ws.send_raw_frame(h.OP_CONT, b'{"type":"x"}'), ANY, "closed"),
    Case("new_message_inside_fragmented_one",
         lambda c, ws: (ws.send_raw_frame(h.OP_TEXT, b'{"type":', fin=False),
                        ws.send_raw_frame(h.OP_TEXT, b'"x"}')), ANY, "closed"),
    Case("reserved_opcode_3", lambda c, ws: ws.send_raw_frame(0x3, b"x"), ANY, "closed"),
    Case("reserved_control_opcode_b", lambda c, ws: ws.send_raw_frame(0xB, b"x"), ANY, "closed"),
    Case("rsv_bits_set", lambda c, ws: ws.send_raw_frame(h.OP_TEXT, b"{}", rsv=0b111), ANY,
         "closed"),
    Case("control_frame_too_long", lambda c, ws: ws.send_raw_frame(h.OP_PING, b"p" * 200), ANY,
         "closed"),
    Case("fragmented_ping", lambda c, ws: ws.send_raw_frame(h.OP_PING, b"p", fin=False), ANY,
         "closed"),
    Case("ping_gets_pong", _ping_pong, None, "open"),
    Case("client_close_1000", lambda c, ws: ws.send_close(1000), None, (1000, "eof")),
    Case("client_close_invalid_code_999", lambda c, ws: ws.send_close(999), ANY, "closed"),
    Case("http_get_without_upgrade",
         custom=_http_case(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1")),
    Case("handshake_without_key",
         custom=_http_case(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                           b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n", None)),
    Case("handshake_unsupported_version_99", custom=_version_99),
    Case("post_request", custom=_http_case(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                                           b"\r\nhello", "405")),
    Case("permessage_deflate_offer_declined", custom=_deflate_offer),
    Case("garbage_instead_of_http", custom=_http_case(os.urandom(2048), None)),
    # -- on an authenticated connection (dave) -------------------------------------------------
    Case("auth_list_request", send_json(lambda c: _frame(**{"from": c.dave_id})), None, "open",
         auth=True, check=_check_list_response),
    Case("auth_list_alias_ctrl_list",
         send_json(lambda c: _frame("CTRL_LIST", **{"from": c.dave_id})), None, "open",
         auth=True, check=_check_list_response),
    Case("auth_unknown_type", send_json(lambda c: _frame("FOO", **{"from": c.dave_id})),
         "UNKNOWN_TYPE", "open", auth=True),
    Case("auth_server_frame_from_user",
         send_json(lambda c: _frame("USER_ADVERTISE", **{"from": c.dave_id},
                                    payload={"user_id": c.alice_id, "server_id": U,
                                             "pubkey": c.keys["carol"].public.b64url(),
                                             "meta": {}})), "UNKNOWN_TYPE", "open", auth=True),
    Case("auth_not_json", send_text("{oops"), "BAD_FRAME", "open", auth=True),
    Case("auth_depth_33", send_json(lambda c: _frame(**{"from": c.dave_id}, payload=_nested(32))),
         "TOO_DEEP", "open", auth=True),
    Case("auth_msg_direct_unknown_user", send_json(_msg_direct_unknown), "USER_NOT_FOUND", "open",
         auth=True),
    Case("auth_msg_direct_from_someone_else", send_json(_msg_direct_from_other), "BAD_FRAME",
         "open", auth=True),
    Case("auth_msg_direct_wrong_sender_pub", send_json(_msg_direct_wrong_sender_pub), "BAD_KEY",
         "open", auth=True),
    Case("auth_msg_direct_missing_fields",
         send_json(lambda c: _frame("MSG_DIRECT", **{"from": c.dave_id}, to=c.bob_id,
                                    payload={"ciphertext": "AA"})), "BAD_FRAME", "open", auth=True),
    Case("auth_pubkey_request_unknown",
         send_json(lambda c: _frame("PUBKEY_REQUEST", **{"from": c.dave_id},
                                    payload={"user_id": h.new_uuid()})),
         "USER_NOT_FOUND", "open", auth=True),
    Case("auth_second_hello_same_connection", send_json(lambda c: c.dave_hello), "NAME_IN_USE",
         "open", auth=True),
    Case("auth_duplicate_login_other_connection", _duplicate_login, None, "open", auth=True,
         check=_check_list_response, timeout=10),
    Case("auth_twenty_bad_frames", _twenty_bad, "BAD_FRAME", 1008, auth=True, check=_check_twenty),
    Case("auth_frame_2mib", _send_oversize(2 * MiB), None, 1009, auth=True, timeout=15),
    Case("auth_replayed_msg_direct_delivered_once", _replay_direct, None, "open", auth=True,
         timeout=20),
    Case("auth_forged_content_sig_rejected_by_recipient", _forged_content, None, "open", auth=True,
         timeout=20),
]


# ---- the runner -------------------------------------------------------------------------------

def _codes(msgs: list) -> list[str]:
    return [m["payload"].get("code") for m in msgs
            if isinstance(m, dict) and m.get("type") == "ERROR"
            and isinstance(m.get("payload"), dict)]


def _error_ok(expected: Any, codes: list[str]) -> bool:
    if expected is ANY:
        return True
    allowed = expected if isinstance(expected, tuple) else (expected,)
    if not codes:
        return None in allowed
    return all(c in allowed for c in codes)


def run_case(ctx: Ctx, case: Case) -> None:
    if case.custom:
        case.custom(ctx)
        return
    ws = ctx.login_dave() if case.auth else ctx.connect()
    try:
        try:
            case.send(ctx, ws)
        except (BrokenPipeError, ConnectionResetError):
            pass
        want_open = case.close == "open"
        deadline = time.monotonic() + case.timeout
        msgs: list = []
        end: Any = "open"
        while True:
            if want_open:
                expected = case.error
                if expected is None or expected is ANY:
                    break  # nothing to wait for: the check / is_open() decide
                if _codes(msgs):
                    break
            left = deadline - time.monotonic()
            if left <= 0:
                break
            got, end = ws.collect(left, until_close=not want_open)
            msgs += got
            if end != "open":
                break
        for m in msgs:
            why = ctx.verify_server_frame(m)
            assert why is None, f"server frame signature: {why}"
        codes = _codes(msgs)
        types = [m.get("type") if isinstance(m, dict) else repr(m)[:40] for m in msgs]
        summary = f"replies={types} codes={codes} end={end}"
        if VERBOSE:
            print(f"  case {case.name}: {summary}", flush=True)
        assert _error_ok(case.error, codes), f"expected ERROR {case.error}, {summary}"
        if case.error not in (None, ANY) and not isinstance(case.error, tuple):
            assert codes, f"expected an ERROR {case.error}, {summary}"
        if case.check:
            case.check(ctx, ws, msgs, end)
            for m in msgs:  # what the check read as well
                why = ctx.verify_server_frame(m)
                assert why is None, f"server frame signature: {why}"
        if want_open:
            assert end == "open", f"connection should stay open, {summary}"
            assert ws.is_open(), f"connection should stay open (no pong), {summary}"
        elif case.close == "closed":
            assert end != "open", f"connection should be closed, {summary}"
        elif case.close is not None:
            allowed = case.close if isinstance(case.close, tuple) else (case.close,)
            assert end in allowed, f"expected close {case.close}, {summary}"
    finally:
        if case.auth and not ws.closed:
            try:
                ws.send_close(1000)
                ws.collect(2)
            except OSError:
                pass
        ws.close()


# ---- a hostile peer server --------------------------------------------------------------------

class FakePeer:
    """A "server" played from Python with a fixture server key: joins through
    SERVER_HELLO_JOIN (signed), then sends whatever gossip or deliveries a test wants, signed
    with its key (or not). It never answers anything."""

    def __init__(self, ctx: Ctx, key_name: str):
        self.ctx = ctx
        self.key = socp_rsa.PrivateKey.from_pem(h.fixture_pem(key_name))
        self.id = h.new_uuid()
        self.ws = ctx.connect()
        hello = {"host": h.HOST, "port": h.free_port(), "pubkey": self.key.public.b64url(),
                 "caps": ["socp/1"]}
        self.send("SERVER_HELLO_JOIN", hello, to=f"{h.HOST}:{ctx.port}")
        self.welcome = self.ws.recv_json(10)

    def send(self, type_: str, payload: dict, to: str = "*", ts: int | None = None,
             signer: socp_rsa.PrivateKey | None = None, sign: bool = True) -> None:
        sig = (signer or self.key).sign_payload(payload) if sign else None
        self.ws.send_json(h.envelope(type_, self.id, to, payload, ts, sig))

    def advertise(self, user_id: str, key: socp_rsa.PrivateKey, name: str,
                  server_id: str | None = None, signer=None) -> None:
        self.send("USER_ADVERTISE", {"user_id": user_id, "server_id": server_id or self.id,
                                     "pubkey": key.public.b64url(),
                                     "meta": {"display_name": name}}, signer=signer)

    def deliver(self, to_user: str, to_pub: socp_rsa.PublicKey, sender: str,
                sender_key: socp_rsa.PrivateKey, text: str,
                claimed_pub: socp_rsa.PublicKey | None = None) -> None:
        """SERVER_DELIVER of a real end-to-end message; `claimed_pub` (default: the key that
        signs) is what sender_pub says."""
        ts = h.now_ms()
        ct = socp_rsa.encrypt(to_pub, text.encode())
        csig = sender_key.sign(socp_rsa.content_sig_message(ct, sender, to_user, ts))
        self.send("SERVER_DELIVER",
                  {"user_id": to_user, "ciphertext": socp_rsa.b64url(ct), "sender": sender,
                   "sender_pub": (claimed_pub or sender_key.public).b64url(),
                   "content_sig": socp_rsa.b64url(csig), "orig_ts": ts},
                  to=self.ctx.server.server_id, ts=ts)

    def drain(self, quiet: float = 1.0) -> list:
        """Everything that arrives until `quiet` seconds pass without a frame."""
        out: list = []
        while True:
            msgs, end = self.ws.collect(quiet, until_close=False)
            out += msgs
            if not msgs or end != "open":
                return out

    def close(self) -> None:
        self.ws.close()


def _status(users: list[dict], user_id: str) -> tuple | None:
    for u in users:
        if u["user_id"] == user_id:
            return u["online"], u["server_id"]
    return None


# ---- the tests --------------------------------------------------------------------------------

def _self_check_rsa() -> None:
    """The Python signer must agree with the vectors before the server is judged with it."""
    with open(os.path.join(h.VECTORS_DIR, "keys.json"), encoding="utf-8") as f:
        keys = json.load(f)["keys"]
    alice = socp_rsa.PrivateKey.from_pem(keys["alice"]["private_pkcs8_pem"])
    assert alice.public.b64url() == keys["alice"]["public_der_b64url"], "socp_rsa: DER encoding"
    with open(os.path.join(h.VECTORS_DIR, "transport_sig.json"), encoding="utf-8") as f:
        case = json.load(f)["cases"][0]
    signer = socp_rsa.PublicKey.from_b64url(keys[case["signer"]]["public_der_b64url"])
    assert socp_rsa.verify(signer, socp_rsa.canonical(case["payload"]),
                           socp_rsa.b64url_decode(case["sig"])) == case["valid"], "socp_rsa: PSS"
    sig = alice.sign(b"self-check")
    assert socp_rsa.verify(alice.public, b"self-check", sig), "socp_rsa: sign/verify"


class MalformedTest(unittest.TestCase):
    ctx: Ctx

    @classmethod
    def setUpClass(cls) -> None:
        reason = h.binaries_available()
        if reason:
            raise unittest.SkipTest(reason)
        cls.t0 = time.monotonic()
        ctx = cls.ctx = Ctx()
        ctx.notes = []
        ctx.ws = h.Workspace("socp-systest-malformed-")
        try:
            _self_check_rsa()
            ctx.keys = {n: socp_rsa.PrivateKey.from_pem(h.fixture_pem(n))
                        for n in ("alice", "bob", "carol", "dave", "erin")}
            ctx.server = h.ServerProcess(ctx.ws, "solo").start()
            ctx.port = ctx.server.port
            # Connections that never say anything, opened first (checked at the end).
            ctx.idle_ws = h.WsClient(port=ctx.port)
            ctx.idle_tcp = socket.create_connection((h.HOST, ctx.port), timeout=5)
            ctx.idle_partial = socket.create_connection((h.HOST, ctx.port), timeout=5)
            ctx.idle_partial.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            ctx.idle_opened = time.monotonic()
            ctx.alice = h.CliProcess.register(ctx.ws, "alice", ctx.port)
            ctx.alice_id = ctx.alice.logged_in()["user_id"]
            ctx.bob = h.CliProcess.register(ctx.ws, "bob", ctx.port)
            ctx.bob_id = ctx.bob.logged_in()["user_id"]
            # dave: registered and logged in from Python.
            ctx.dave_id = h.new_uuid()
            ws = ctx.connect()
            ws.send_json(h.user_register(ctx.keys["dave"], ctx.dave_id, "dave"))
            ack = ws.recv_json(15)
            assert ack.get("type") == "ACK" and ack["payload"]["msg_ref"] == "USER_REGISTER", ack
            ws.send_json(ctx.dave_hello)
            ack = ws.recv_json(10)
            assert ack.get("type") == "ACK" and ack["payload"]["msg_ref"] == "USER_HELLO", ack
            ctx.server_pub = socp_rsa.PublicKey.from_b64url(ack["payload"]["server_pub"])
            assert ctx.verify_server_frame(ack) is None, "ACK signature"
            ws.send_close(1000)
            ws.collect(3)
            ws.close()
        except BaseException:
            cls._teardown()
            raise

    @classmethod
    def _teardown(cls) -> None:
        ctx = cls.ctx
        for c in (getattr(ctx, "alice", None), getattr(ctx, "bob", None)):
            if c:
                c.close()
        for s in ("idle_ws", "idle_tcp", "idle_partial"):
            obj = getattr(ctx, s, None)
            if obj:
                obj.close()
        if getattr(ctx, "server", None):
            ctx.server.stop()
        h.stop_all()
        ctx.ws.cleanup()

    @classmethod
    def tearDownClass(cls) -> None:
        cls._teardown()
        print(f"malformed suite: {time.monotonic() - cls.t0:.1f}s", flush=True)

    def assert_server_alive(self) -> None:
        self.assertTrue(self.ctx.server.alive(), "socp-server died\n" + self.ctx.server.logs())

    # -- 1: the table --------------------------------------------------------------------------
    def test_a_malformed_cases(self) -> None:
        passed, failed = 0, []
        for case in CASES:
            with self.subTest(case=case.name):
                ok = False
                try:
                    run_case(self.ctx, case)
                    ok = True
                finally:
                    alive = self.ctx.server.alive()
                    if ok and alive:
                        passed += 1
                    else:
                        failed.append(case.name)
                self.assert_server_alive()
        names = [c.name for c in CASES]
        self.assertEqual(len(names), len(set(names)), "duplicate case names")
        print(f"\nmalformed cases: {len(CASES)} total, {passed} passed, {len(failed)} failed"
              + (f": {', '.join(failed)}" if failed else ""), flush=True)
        for n in self.ctx.notes:
            print("note:", n, flush=True)
        h.metric("malformed_cases_total", len(CASES), "cases")
        h.metric("malformed_cases_passed", passed, "cases")

    # -- 2: many connections at once -----------------------------------------------------------
    def test_b_200_connections_at_once(self) -> None:
        ctx = self.ctx
        conns: list[h.WsClient] = []
        refused = 0
        try:
            for _ in range(200):
                try:
                    conns.append(h.WsClient(port=ctx.port, timeout=10))
                except (h.WsError, OSError):
                    refused += 1
            h.metric("connections_accepted_of_200", len(conns), "connections")
            self.assertGreater(len(conns), 0, "no connection accepted")
            # Everyone says something wrong at the same time: each gets its ERROR.
            frame = json.dumps(_frame("LIST_REQUEST"))
            for c in conns:
                c.send_text(frame)
            answered = 0
            for c in conns:
                msgs, end = c.collect(10)
                if _codes(msgs) == ["NOT_AUTHENTICATED"] and end == 1008:
                    answered += 1
            self.assertEqual(answered, len(conns), "every connection gets NOT_AUTHENTICATED + 1008")
        finally:
            for i, c in enumerate(conns):
                if i % 2:  # half of them vanish with a TCP reset
                    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                c.close()
        # 200 more that open and vanish without a word (reset half-way through the handshake).
        for i in range(200):
            s = socket.create_connection((h.HOST, ctx.port), timeout=5)
            if i % 2:
                s.sendall(b"GET / HTTP/1.1\r\nUpgrade: websocket\r\n")
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
        self.assert_server_alive()
        with ctx.connect() as ws:
            ws.send_json(_frame("LIST_REQUEST"))
            msgs, end = ws.collect(5)
            self.assertEqual(_codes(msgs), ["NOT_AUTHENTICATED"])

    # -- 3: a client that stops reading ---------------------------------------------------------
    def test_c_client_that_stops_reading(self) -> None:
        ctx = self.ctx
        slow = ctx.login_dave()
        try:
            slow.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            frame = (json.dumps(_frame(**{"from": ctx.dave_id})) + "").encode()
            stop = threading.Event()
            sent = [0]

            def flood() -> None:
                # LIST_REQUESTs whose answers are never read; the server must keep serving others.
                slow.sock.settimeout(10)
                try:
                    while not stop.is_set() and sent[0] < 2000:
                        slow.send_raw_frame(h.OP_TEXT, frame)
                        sent[0] += 1
                except OSError:
                    pass

            t = threading.Thread(target=flood, daemon=True)
            t.start()
            h.wait_until(lambda: sent[0] >= 500 or not t.is_alive(), 20, "flood under way")
            h.metric("server_rss_during_flood_kb", ctx.server.rss_kb(), "kB")
            t0 = time.monotonic()
            with ctx.connect() as ws:
                ws.send_json(_frame("LIST_REQUEST"))
                msgs, end = ws.collect(5)
            self.assertEqual(_codes(msgs), ["NOT_AUTHENTICATED"], "server unresponsive")
            h.metric("unauth_round_trip_during_flood_ms", (time.monotonic() - t0) * 1000, "ms")
            nonce = h.new_uuid()[:8]
            since = ctx.bob.mark()
            t1 = ctx.alice.send(f"/tell bob during flood {nonce}")
            ev = ctx.bob.wait_event("message", 20, since=since, text=f"during flood {nonce}")
            h.metric("tell_latency_during_flood_ms", (ev["_t"] - t1) * 1000, "ms")
            stop.set()
            t.join(15)
            h.metric("flood_frames_sent", sent[0], "frames")
        finally:
            slow.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            slow.close()
        self.assert_server_alive()

    # -- 3b: a hostile peer server ------------------------------------------------------------
    def test_c_hostile_peer_server_gossip(self) -> None:
        """A joined peer may only speak for its own users: forged adverts and removes for
        users of other servers are ignored, pinned keys never change, bad signatures are
        dropped (one ERROR INVALID_SIG), unknown types and ERRORs get no reply, and a
        delivery whose sender_pub contradicts a key the recipient pinned is rejected."""
        ctx = self.ctx
        peer = FakePeer(ctx, "server_b")
        try:
            w = peer.welcome
            self.assertEqual(w.get("type"), "SERVER_WELCOME", w)
            self.assertIsNone(ctx.verify_server_frame(w))
            self.assertEqual(w["payload"]["assigned_id"], peer.id)
            listed = {e["server_id"] for e in w["payload"]["servers"]}
            self.assertIn(ctx.server.server_id, listed)
            frank = socp_rsa.PrivateKey.from_pem(h.fixture_pem("frank"))
            frank_id = h.new_uuid()
            since_alice = ctx.alice.mark()
            # forged: bob with another key, alice "at" the real server (not the sender), a
            # remove of bob naming the real server, then one legitimate advert as a barrier.
            peer.advertise(ctx.bob_id, ctx.keys["carol"], "bob")
            peer.advertise(ctx.alice_id, ctx.keys["alice"], "alice", server_id=ctx.server.server_id)
            peer.send("USER_REMOVE", {"user_id": ctx.bob_id, "server_id": ctx.server.server_id})
            peer.advertise(frank_id, frank, "frank")
            users = ctx.alice.wait_list(lambda us: _status(us, frank_id) == (True, peer.id), 10,
                                        "frank online at the peer")
            self.assertEqual(_status(users, ctx.bob_id), (True, ctx.server.server_id))
            self.assertEqual(_status(users, ctx.alice_id), (True, ctx.server.server_id))
            self.assertFalse(ctx.alice.events("key_changed", since_alice))
            self.assertTrue(ctx.alice.alive() and ctx.bob.alive())
            # bad signatures (twice), an unknown type, an ERROR: one INVALID_SIG, nothing else
            ghost = h.new_uuid()
            for _ in range(2):
                peer.advertise(ghost, ctx.keys["dave"], "ghost", signer=ctx.keys["carol"])
            peer.send("FOO_BAR", {"x": 1})
            peer.send("ERROR", {"code": "UNKNOWN_TYPE", "detail": "x", "msg_ref": "FOO"})
            got = peer.drain(1.5)
            errors = [m["payload"]["code"] for m in got
                      if isinstance(m, dict) and m.get("type") == "ERROR"]
            self.assertEqual(errors, ["INVALID_SIG"], f"replies to the peer: {got}")
            for m in got:
                self.assertIsNone(ctx.verify_server_frame(m))
            self.assertIsNone(_status(ctx.alice.list_users(), ghost), "bad-sig advert applied")
            # deliveries: genuine from frank, forged "alice" with carol's key (bob pinned
            # alice's real key: his client must reject it)
            nonce = h.new_uuid()[:8]
            since_bob = ctx.bob.mark()
            peer.deliver(ctx.bob_id, ctx.keys["bob"].public, ctx.alice_id, ctx.keys["carol"],
                         f"forged alice {nonce}")
            peer.deliver(ctx.bob_id, ctx.keys["bob"].public, frank_id, frank, f"frank {nonce}")
            m = ctx.bob.wait_event("message", 15, since=since_bob, text=f"frank {nonce}")
            self.assertEqual((m["from"], m["verified"]), (frank_id, True))
            texts = [e["text"] for e in ctx.bob.events("message", since_bob)]
            self.assertNotIn(f"forged alice {nonce}", texts)
            # The server drops it already (alice is not hosted by the peer, and carol's key is
            # not hers), so bob's client never even has to reject it.
            rejected = ctx.bob.events("rejected", since_bob)
            self.assertEqual([(e["from"], e["reason"]) for e in rejected], [])
            # the peer's own user leaves
            peer.send("USER_REMOVE", {"user_id": frank_id, "server_id": peer.id})
            ctx.alice.wait_list(lambda us: _status(us, frank_id) == (False, peer.id), 10,
                                "frank offline")
        finally:
            peer.close()
        self.assert_server_alive()

    def test_c_peer_cannot_forge_the_key_of_a_local_account(self) -> None:
        """A SERVER_DELIVER whose `sender` is an account registered on the receiving server
        itself, with a sender_pub that is not that account's pinned key, must not reach the
        recipient as a genuine message. (The recipient's client has not pinned that account
        yet, so only the server, which has the pinned key, can stop it.)"""
        ctx = self.ctx
        erin_id = h.new_uuid()
        with ctx.connect() as ws:
            ws.send_json(h.user_register(ctx.keys["erin"], erin_id, "erin"))
            ack = ws.recv_json(15)
            self.assertEqual((ack["type"], ack["payload"]["msg_ref"]), ("ACK", "USER_REGISTER"))
        peer = FakePeer(ctx, "server1")
        try:
            self.assertEqual(peer.welcome.get("type"), "SERVER_WELCOME")
            nonce = h.new_uuid()[:8]
            since = ctx.bob.mark()
            peer.deliver(ctx.bob_id, ctx.keys["bob"].public, erin_id, ctx.keys["carol"],
                         f"I am erin {nonce}")
            # barrier: a genuine message through the same server afterwards
            with ctx.login_dave() as dave:
                dave.send_json(h.msg_direct(ctx.keys["dave"], ctx.dave_id, ctx.bob_id,
                                            ctx.keys["bob"].public, f"barrier {nonce}"))
                ctx.bob.wait_event("message", 15, since=since, text=f"barrier {nonce}")
                dave.send_close(1000)
                dave.collect(2)
            forged = [e for e in ctx.bob.events("message", since) if e["from"] == erin_id]
            self.assertEqual(forged, [], "a peer server impersonated a local account: the "
                             "receiving server passed a SERVER_DELIVER whose sender_pub is not "
                             "the sender's pinned key (and whose sender is not located at the "
                             "peer) to the recipient, who showed it as verified")
        finally:
            peer.close()
        self.assert_server_alive()

    # -- 4: idle connections --------------------------------------------------------------------
    def test_d_idle_connections_are_closed(self) -> None:
        """Silent connections (opened in setUpClass) never blocked anyone above; the server
        closes an unauthenticated WebSocket when it idles (10 s without a frame, 60 s in all),
        and drops TCP connections that never finish the HTTP handshake."""
        ctx = self.ctx
        idle_timeout = 60.0
        budget = ctx.idle_opened + idle_timeout + 12 - time.monotonic()
        if budget > 80:
            self.skipTest("idle timeout too far away")
        msgs, end = ctx.idle_ws.collect(max(budget, 1.0))
        h.metric("idle_ws_closed_after_s", time.monotonic() - ctx.idle_opened, "s")
        self.assertNotEqual(end, "open", "idle unauthenticated WebSocket never closed")
        self.assertIn(end, (1008, "eof", "reset"), f"idle close: {end} {msgs}")
        for name in ("idle_tcp", "idle_partial"):
            s: socket.socket = getattr(ctx, name)
            s.settimeout(max(1.0, ctx.idle_opened + idle_timeout + 15 - time.monotonic()))
            try:
                data = s.recv(4096)
                while data:
                    data = s.recv(4096)
                closed = True
            except socket.timeout:
                closed = False
            except ConnectionResetError:
                closed = True
            self.assertTrue(closed, f"{name}: a TCP connection that never completed the "
                                    f"handshake is still open after {idle_timeout + 15:.0f}s")

    # -- 5: the well-behaved pair still works ---------------------------------------------------
    def test_e_well_behaved_pair_still_exchanges_messages(self) -> None:
        ctx = self.ctx
        self.assert_server_alive()
        nonce = h.new_uuid()[:8]
        since = ctx.bob.mark()
        ctx.alice.send(f"/tell bob still here {nonce}")
        ev = ctx.bob.wait_event("message", 15, since=since, text=f"still here {nonce}")
        self.assertTrue(ev["verified"])
        self.assertEqual(ev["from"], ctx.alice_id)
        since = ctx.alice.mark()
        ctx.bob.send(f"/tell alice back {nonce}")
        ctx.alice.wait_event("message", 15, since=since, text=f"back {nonce}")
        self.assertTrue(ctx.alice.alive() and ctx.bob.alive())
        self.assert_server_alive()
        h.metric("server_rss_after_malformed_kb", ctx.server.rss_kb(), "kB")


if __name__ == "__main__":
    unittest.main(verbosity=2)
