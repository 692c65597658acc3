"""Transport features of the real binaries on loopback (Python standard library only).

  * socp-server --port 0 listens on a free port and prints the real one;
  * --max-connections-per-ip refuses at accept time and logs it;
  * wss://: socp-server with --tls-cert/--tls-key (a self-signed certificate made here with
    `openssl req -x509`, in the test's temp dir, never committed), a Python TLS WebSocket
    client, and socp-cli with --server wss://... and --pin-cert or --ca-file;
  * the crash of a joining server (regression): an introducer whose first message is a 2 MiB
    text frame, over the joining server's 1 MiB limit, made socp-server die with SIGSEGV
    inside libwebsockets. Now it closes that link with 1009 and stays up.

Every process started here is stopped by the harness (stop_all), also when a test fails.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import socp_harness as h  # noqa: E402

_LISTEN_RE = re.compile(r"^socp-server (\S+) listening on (wss?)://([^\s:]+):(\d+)")


class Server(h._Managed):
    """socp-server with arbitrary arguments; start() returns the (scheme, port) it printed."""

    def __init__(self, ws: h.Workspace, name: str, args: list[str]):
        self.ws, self.name = ws, name
        self.args = [h.SERVER_BIN, "--data-dir", ws.dir(f"data-{name}"), *args]
        self.proc: subprocess.Popen | None = None
        self.out = ws.path("logs", f"{name}.stdout")
        self.err = ws.path("logs", f"{name}.stderr")
        self.scheme, self.port = "", 0

    def start(self, timeout: float = 60.0) -> "Server":
        with open(self.out, "wb") as out, open(self.err, "wb") as err:
            self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=err, cwd=self.ws.root)
        self._register()

        def listening():
            with open(self.out, encoding="utf-8", errors="replace") as f:
                for line in f:
                    m = _LISTEN_RE.match(line)
                    if m:
                        return m
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited with {self.proc.returncode}:\n"
                                     f"{self.stderr()}")
            return None

        m = h.wait_until(listening, timeout, f"{self.name} listening")
        self.scheme, self.port = m.group(2), int(m.group(4))
        return self

    def stderr(self) -> str:
        with open(self.err, encoding="utf-8", errors="replace") as f:
            return f.read()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 15.0) -> int | None:
        if self.proc is None:
            return None
        try:
            return h._terminate(self.proc, timeout)
        finally:
            self._unregister()


def refused(port: int) -> bool:
    """True if the server closes a new connection without answering its upgrade."""
    try:
        c = h.WsClient(port=port, timeout=5)
    except (h.WsError, OSError):
        return True
    c.close()
    return False


def make_cert(ws: h.Workspace) -> tuple[str, str, str]:
    """(cert, key, sha256 fingerprint "AB:CD:...") for CN=localhost, IP:127.0.0.1."""
    cert, key = ws.path("tls", "cert.pem"), ws.path("tls", "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert, "-days",
                    "1", "-subj", "/CN=localhost", "-addext",
                    "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    with open(cert, encoding="ascii") as f:
        der = ssl.PEM_cert_to_DER_cert(f.read())
    fp = hashlib.sha256(der).hexdigest().upper()
    return cert, key, ":".join(fp[i:i + 2] for i in range(0, len(fp), 2))


class FakeIntroducer:
    """Accepts WebSocket connections and answers each, after the handshake, with one text
    frame of `size` bytes; records the close code each client sends back."""

    def __init__(self, size: int):
        self.size = size
        self.sock = socket.socket()
        self.sock.bind((h.HOST, 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.close_codes: list[int] = []
        self.lock = threading.Lock()
        self.stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c: socket.socket) -> None:
        try:
            c.settimeout(10)
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = c.recv(4096)
                if not chunk:
                    return
                head += chunk
            key = re.search(rb"(?i)sec-websocket-key:\s*(\S+)", head).group(1)
            accept = base64.b64encode(hashlib.sha1(key + h._WS_GUID.encode()).digest())
            c.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                      b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n")
            c.sendall(bytes([0x81, 127]) + struct.pack(">Q", self.size) + b"w" * self.size)
            buf = b""
            while True:  # read the client's frames until its close
                chunk = c.recv(65536)
                if not chunk:
                    return
                buf += chunk
                while len(buf) >= 2:
                    n, pos = buf[1] & 0x7F, 2
                    if n == 126:
                        n, pos = struct.unpack(">H", buf[2:4])[0], 4
                    elif n == 127:
                        n, pos = struct.unpack(">Q", buf[2:10])[0], 10
                    pos += 4 if buf[1] & 0x80 else 0
                    if len(buf) < pos + n:
                        break
                    payload = bytes(buf[pos:pos + n])
                    if buf[1] & 0x80:
                        payload = h._mask(payload, bytes(buf[pos - 4:pos]))
                    op = buf[0] & 0x0F
                    buf = buf[pos + n:]
                    if op == 0x8:
                        with self.lock:
                            self.close_codes.append(
                                struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else 1005)
                        return
        except (OSError, AttributeError):
            return
        finally:
            c.close()

    def stop(self) -> None:
        self.stopping = True
        self.sock.close()


class TransportTest(unittest.TestCase):
    def setUp(self) -> None:
        reason = h.binaries_available()
        if reason:
            self.skipTest(reason)
        self.ws = h.Workspace("socp-systest-transport-")
        self.addCleanup(self.ws.cleanup)
        self.addCleanup(h.stop_all)

    def test_port_0_and_per_ip_cap(self) -> None:
        s = Server(self.ws, "p0", ["--port", "0", "--max-connections-per-ip", "3"]).start()
        self.assertEqual(s.scheme, "ws")
        self.assertNotEqual(s.port, 0)
        held = [h.WsClient(port=s.port) for _ in range(3)]
        self.assertTrue(refused(s.port), "a 4th connection from 127.0.0.1 was accepted")
        h.wait_until(lambda: "refused connection from 127.0.0.1" in s.stderr(), 10,
                     "the refusal in the log")
        for c in held:
            c.close()
        # Room again once they are gone (the server counts them down on close).
        h.wait_until(lambda: not refused(s.port), 10, "a connection accepted again")
        self.assertTrue(s.alive())

    def test_wss_links_between_servers_and_https_health(self) -> None:
        """Two servers that listen with TLS and dial each other with wss:// (--tls-links,
        trusting the test's certificate as their CA) form a link; /health answers over TLS."""
        if not shutil.which("openssl"):
            self.skipTest("openssl command not found")
        import json
        import urllib.request
        cert, key, _ = make_cert(self.ws)
        tls = ["--port", "0", "--tls-cert", cert, "--tls-key", key, "--tls-links",
               "--tls-ca-file", cert]
        a = Server(self.ws, "tlsA", tls).start()
        b = Server(self.ws, "tlsB", tls + ["--introducer", f"127.0.0.1:{a.port}"]).start()
        ctx = ssl.create_default_context(cafile=cert)

        def links_up(s: Server) -> int:
            with urllib.request.urlopen(f"https://127.0.0.1:{s.port}/health", timeout=5,
                                        context=ctx) as r:
                return json.loads(r.read())["links_up"]

        h.wait_until(lambda: links_up(a) == 1 and links_up(b) == 1, 30,
                     "a wss:// link between the two servers")

    def test_wss_server_python_client_and_cli(self) -> None:
        if not shutil.which("openssl"):
            self.skipTest("openssl command not found")
        cert, key, fp = make_cert(self.ws)
        s = Server(self.ws, "tls", ["--port", "0", "--tls-cert", cert, "--tls-key", key]).start()
        self.assertEqual(s.scheme, "wss")

        # A Python TLS client trusting the certificate as its CA: 101, then the core answers.
        ctx = ssl.create_default_context(cafile=cert)
        c = h.WsClient(port=s.port, handshake=False)
        c.sock = ctx.wrap_socket(c.sock, server_hostname="127.0.0.1")
        c.handshake()
        c.send_json({"type": "LIST_REQUEST", "from": h.new_uuid(), "to": "server",
                     "ts": h.now_ms(), "payload": {}})
        msgs, end = c.collect(10)
        self.assertEqual(end, 1008, msgs)
        c.close()

        # Plain ws:// to the TLS port gets no WebSocket.
        self.assertTrue(refused(s.port))

        # socp-cli over wss:// with a pinned certificate, then with a CA file.
        home = self.ws.dir("home")
        alice = h.CliProcess(self.ws, "alice", [
            "register", "--name", "alice", "--server", f"wss://127.0.0.1:{s.port}",
            "--pin-cert", fp, "--import-key", self.ws.keys["alice"], "--home", home,
            "--password-file", self.ws.password_file, "--json"])
        alice.logged_in()
        bob = h.CliProcess(self.ws, "bob", [
            "register", "--name", "bob", "--server", f"wss://127.0.0.1:{s.port}",
            "--ca-file", cert, "--import-key", self.ws.keys["bob"], "--home", home,
            "--password-file", self.ws.password_file, "--json"])
        bob.logged_in()
        since = bob.mark()
        alice.send("/tell bob over tls")
        bob.wait_event("message", 20, since=since, text="over tls")

        # A wrong pin: the CLI cannot connect (exit code 2) and says why on stderr.
        wrong = h.CliProcess(self.ws, "carol", [
            "register", "--name", "carol", "--server", f"wss://127.0.0.1:{s.port}",
            "--pin-cert", "00" * 32, "--import-key", self.ws.keys["carol"], "--home", home,
            "--password-file", self.ws.password_file, "--json", "-v"])
        self.assertEqual(wrong.wait_exit(30), 2)
        alice.close()
        bob.close()
        self.assertTrue(s.alive())

    def test_ping_flood(self) -> None:
        """10,000 pings in one burst, then a frame: the most recent ping is answered (RFC 6455
        allows skipping older ones) and the frame gets its answer. Measured, not asserted on
        time (a tester saw 25 pongs in 20 s from libwebsockets 4.1.6)."""
        s = Server(self.ws, "flood", ["--port", "0"]).start()
        c = h.WsClient(port=s.port, timeout=30)
        n = 10_000
        burst = bytearray()
        for i in range(n):
            p = str(i).encode()
            key = os.urandom(4)
            burst += bytes([0x89, 0x80 | len(p)]) + key + h._mask(p, key)
        t0 = time.monotonic()
        c.sock.sendall(bytes(burst))
        c.send_json({"type": "LIST_REQUEST", "from": h.new_uuid(), "to": "server",
                     "ts": h.now_ms(), "payload": {}})
        pongs, last, answer = 0, b"", None
        deadline = time.monotonic() + 30
        while answer is None:
            fr = c._read_frame(deadline)
            self.assertIsNotNone(fr, "connection ended during the flood")
            _, op, payload = fr
            if op == h.OP_PONG:
                pongs, last = pongs + 1, payload
            elif op == h.OP_TEXT:
                answer = payload
        h.metric("ping_flood_pings", n, "pings")
        h.metric("ping_flood_pongs", pongs, "pongs")
        h.metric("ping_flood_answer_ms", (time.monotonic() - t0) * 1000, "ms")
        self.assertEqual(last, str(n - 1).encode())
        self.assertIn(b"NOT_AUTHENTICATED", answer)
        c.close()
        self.assertTrue(s.alive())

    def test_oversized_welcome_from_introducer_does_not_crash(self) -> None:
        fake = FakeIntroducer(2 << 20)
        self.addCleanup(fake.stop)
        s = Server(self.ws, "joiner", [
            "--port", "0", "--introducer", f"127.0.0.1:{fake.port}",
            "--max-user-frame", "1MiB", "--max-server-frame", "1MiB"]).start()

        def closed_1009():
            with fake.lock:
                return 1009 in fake.close_codes
        h.wait_until(closed_1009, 30, "the joining server closing its link with 1009")
        self.assertTrue(s.alive(), "socp-server died:\n" + s.stderr())
        # Still serving: a WebSocket client gets its answer.
        with h.WsClient(port=s.port) as c:
            c.send_json({"type": "LIST_REQUEST", "from": h.new_uuid(), "to": "server",
                         "ts": h.now_ms(), "payload": {}})
            _, end = c.collect(10)
            self.assertEqual(end, 1008)
        self.assertEqual(s.stop(), 0)


if __name__ == "__main__":
    unittest.main()
