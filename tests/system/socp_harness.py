"""System-test harness: real socp-server / socp-cli processes on 127.0.0.1, raw WebSockets.

Standard library only (Python 3.11). What is here:
  free_port()                   a free TCP port on 127.0.0.1
  WsClient                      a minimal RFC 6455 client over a raw socket, able to send
                                malformed frames (unmasked, fragmented, reserved opcodes, ...)
  ServerProcess                 socp-server with captured output, started/stopped politely
  CliProcess                    socp-cli --json driven over stdin, events parsed from stdout
  Workspace                     a temp dir under /tmp with fixture keys and a password file
  envelope(), user_hello(), user_register(), msg_direct()
                                SOCP frames built and signed in Python (socp_rsa.py: an
                                independent pure-Python RSA-PSS/OAEP, no C++ helper needed)
  wait_until(), metric()        polling with deadlines; `METRIC name value unit` lines

Every process started here is registered and stopped by stop_all() (atexit as well), so a
failing test never leaves a server behind. Nothing waits with a fixed sleep: conditions are
polled with short intervals inside a deadline.

Environment: SOCP_SERVER_BIN, SOCP_CLI_BIN (CTest passes both; default: the repository's
build/ directory, or SOCP_BUILD_DIR), SOCP_VECTORS_DIR / SOCP_FIXTURES_DIR (default: ../vectors, ../fixtures
next to this file), SOCP_SYSTEST_KEEP=1 keeps the temp dirs for debugging.
"""

from __future__ import annotations

import atexit
import base64
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from typing import Any, Callable, Iterable

HERE = os.path.dirname(os.path.abspath(__file__))
_DEFAULT_BUILD = os.environ.get("SOCP_BUILD_DIR", os.path.join(HERE, "..", "..", "build"))
SERVER_BIN = os.environ.get("SOCP_SERVER_BIN",
                            os.path.join(_DEFAULT_BUILD, "server", "socp-server"))
CLI_BIN = os.environ.get("SOCP_CLI_BIN", os.path.join(_DEFAULT_BUILD, "client", "socp-cli"))
VECTORS_DIR = os.environ.get("SOCP_VECTORS_DIR", os.path.join(HERE, "..", "vectors"))
FIXTURES_DIR = os.environ.get("SOCP_FIXTURES_DIR", os.path.join(HERE, "..", "fixtures"))
KEEP_TMP = os.environ.get("SOCP_SYSTEST_KEEP") == "1"
HOST = "127.0.0.1"
PASSWORD = "correct horse battery staple"

# ---- small utilities --------------------------------------------------------------------------


def free_port() -> int:
    """A port that was free a moment ago on 127.0.0.1 (bind :0, read it, close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


# Shortened production timers (hidden socp-server options) for tests that wait on them:
# heartbeat 15 s -> 1 s, dead link 45 s -> 5 s, reconnect backoff cap 15 s -> 2 s.
FAST_MESH_TIMERS = ["--test-heartbeat-ms", "1000", "--test-link-dead-ms", "5000",
                    "--test-reconnect-max-ms", "2000"]


def run_server_command(args: list[str], cwd: str, timeout: float = 60.0,
                       env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """socp-server ARGS to completion (check, admin, bad configs): text stdout/stderr."""
    return subprocess.run([SERVER_BIN, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL,
                          env={**os.environ, **env} if env else None)


def now_ms() -> int:
    return int(time.time() * 1000)


def new_uuid() -> str:
    return str(uuid.uuid4())


def wait_until(fn: Callable[[], Any], timeout: float, desc: str, interval: float = 0.05) -> Any:
    """Polls fn() until it returns something truthy (returned) or the deadline passes."""
    deadline = time.monotonic() + timeout
    last_exc: BaseException | None = None
    while True:
        try:
            value = fn()
            if value:
                return value
        except Exception as exc:  # noqa: BLE001 - reported on timeout
            last_exc = exc
        if time.monotonic() >= deadline:
            extra = f" (last error: {last_exc!r})" if last_exc else ""
            raise AssertionError(f"timed out after {timeout:.1f}s waiting for {desc}{extra}")
        time.sleep(interval)


def metric(name: str, value: float, unit: str) -> None:
    """Prints one `METRIC name value unit` line (collected by whoever runs the suite)."""
    if isinstance(value, float):
        value = round(value, 3)
    print(f"METRIC {name} {value} {unit}", flush=True)


def binaries_available() -> str | None:
    """None if both binaries exist, else a reason (for skipTest)."""
    for b in (SERVER_BIN, CLI_BIN):
        if not (os.path.isfile(b) and os.access(b, os.X_OK)):
            return f"binary not built: {b} (set SOCP_SERVER_BIN / SOCP_CLI_BIN)"
    return None


# ---- fixture keys -----------------------------------------------------------------------------


def fixture_pem(name: str) -> str:
    """PKCS#8 PEM of a fixture identity (keys.json: alice, bob, server_a, server_b;
    keys-extra.json: carol, dave, erin, ...)."""
    with open(os.path.join(VECTORS_DIR, "keys.json"), encoding="utf-8") as f:
        keys = json.load(f)["keys"]
    if name in keys:
        return keys[name]["private_pkcs8_pem"]
    with open(os.path.join(FIXTURES_DIR, "keys-extra.json"), encoding="utf-8") as f:
        extra = json.load(f)["keys"]
    if name in extra:
        v = extra[name]
        return v if isinstance(v, str) else v["private_pkcs8_pem"]
    raise KeyError(f"no fixture key named {name!r}")


def export_fixture_keys(directory: str, names: Iterable[str]) -> dict[str, str]:
    """Writes <name>.pem for each fixture identity; returns {name: path}."""
    os.makedirs(directory, exist_ok=True)
    out = {}
    for n in names:
        path = os.path.join(directory, f"{n}.pem")
        with open(path, "w", encoding="utf-8") as f:
            f.write(fixture_pem(n))
        os.chmod(path, 0o600)
        out[n] = path
    return out


# ---- process registry -------------------------------------------------------------------------

_PROCS: list["_Managed"] = []
_PROCS_LOCK = threading.Lock()


class _Managed:
    def _register(self) -> None:
        with _PROCS_LOCK:
            _PROCS.append(self)

    def _unregister(self) -> None:
        with _PROCS_LOCK:
            if self in _PROCS:
                _PROCS.remove(self)

    def stop(self) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError


def stop_all() -> None:
    """Stops every process the harness started and that is still registered."""
    with _PROCS_LOCK:
        procs = list(reversed(_PROCS))
    for p in procs:
        try:
            p.stop()
        except Exception as exc:  # noqa: BLE001 - best effort at teardown
            print(f"harness: stopping {p!r} failed: {exc!r}", file=sys.stderr)


atexit.register(stop_all)


def _terminate(proc: subprocess.Popen, timeout: float) -> int:
    """SIGTERM, wait up to timeout, then SIGKILL. Returns the exit status."""
    if proc.poll() is None:
        try:
            proc.send_signal(signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.wait(timeout=10)
    return proc.returncode


def _tail(path: str, lines: int = 40) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


# ---- workspace --------------------------------------------------------------------------------


class Workspace:
    """A temp dir under /tmp for one test (class): keys, password file, homes, data dirs."""

    def __init__(self, prefix: str = "socp-systest-"):
        self.root = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
        self.keys = export_fixture_keys(os.path.join(self.root, "keys"),
                                        ["alice", "bob", "carol", "dave", "erin"])
        self.password_file = self.write("password.txt", PASSWORD + "\n")
        self.wrong_password_file = self.write("wrong-password.txt", "not the password\n")

    def next_server_key(self) -> str:
        """A fixture server key (server1, server2, ...) not handed out yet in this workspace."""
        n = getattr(self, "_server_keys", 0) + 1
        if n > 12:
            raise AssertionError("more than 12 servers in one workspace: no fixture key left")
        self._server_keys = n
        return export_fixture_keys(os.path.join(self.root, "keys"), [f"server{n}"])[f"server{n}"]

    def path(self, *parts: str) -> str:
        p = os.path.join(self.root, *parts)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        return p

    def dir(self, *parts: str) -> str:
        p = os.path.join(self.root, *parts)
        os.makedirs(p, exist_ok=True)
        return p

    def write(self, name: str, text: str) -> str:
        p = self.path(name)
        with open(p, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(p, 0o600)
        return p

    def cleanup(self) -> None:
        if KEEP_TMP:
            print(f"harness: keeping {self.root}", file=sys.stderr)
            return
        shutil.rmtree(self.root, ignore_errors=True)


# ---- socp-server ------------------------------------------------------------------------------

_LISTEN_RE = re.compile(r"^socp-server (\S+) listening on ws://([^\s:]+):(\d+)")


class ServerProcess(_Managed):
    """One socp-server. start() returns once it printed its `listening on` line.

    On a fresh data directory the server takes a fixture key as its identity (the hidden
    --test-identity-file option; each ServerProcess of a workspace gets another of
    server1..server12) instead of generating one; fresh_identity=True lets it generate one, for
    tests of a real first start."""

    def __init__(self, ws: Workspace, name: str, port: int | None = None,
                 data_dir: str | None = None, introducers: Iterable[int | str] = (),
                 extra_args: Iterable[str] = (), env: dict[str, str] | None = None,
                 fresh_identity: bool = False):
        self.ws = ws
        self.env = env
        self.identity_file = None if fresh_identity else ws.next_server_key()
        self.name = name
        self.port = port or free_port()
        self.data_dir = data_dir or ws.dir(f"data-{name}")
        self.introducers = [i if isinstance(i, str) else f"{HOST}:{i}" for i in introducers]
        self.extra_args = list(extra_args)
        self.proc: subprocess.Popen | None = None
        self.server_id: str | None = None
        self.listen_line: str | None = None
        self.starts = 0
        self.stdout_path = ""
        self.stderr_path = ""

    def __repr__(self) -> str:
        return f"ServerProcess({self.name}, port={self.port}, pid={self.pid})"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def argv(self) -> list[str]:
        args = [SERVER_BIN, "--port", str(self.port), "--data-dir", self.data_dir]
        if self.identity_file:
            args += ["--test-identity-file", self.identity_file]
        for i in self.introducers:
            args += ["--introducer", i]
        return args + self.extra_args

    def start(self, timeout: float = 60.0) -> "ServerProcess":
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.starts += 1
        self.stdout_path = self.ws.path("logs", f"{self.name}.{self.starts}.stdout")
        self.stderr_path = self.ws.path("logs", f"{self.name}.{self.starts}.stderr")
        out = open(self.stdout_path, "wb")
        err = open(self.stderr_path, "wb")
        try:
            self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=err, cwd=self.ws.root,
                                         env={**os.environ, **self.env} if self.env else None)
        finally:
            out.close()
            err.close()
        self._register()
        deadline = time.monotonic() + timeout
        while True:
            line = self._find_listen_line()
            if line:
                m = _LISTEN_RE.match(line)
                self.listen_line = line
                self.server_id = m.group(1)
                if int(m.group(3)) != self.port:
                    raise AssertionError(
                        f"{self.name}: listening on {m.group(3)}, asked {self.port}")
                return self
            if self.proc.poll() is not None:
                self._unregister()
                raise AssertionError(
                    f"{self.name}: socp-server exited with {self.proc.returncode} "
                    "before listening\n"
                    f"argv: {' '.join(self.argv())}\nstdout:\n{_tail(self.stdout_path)}\n"
                    f"stderr:\n{_tail(self.stderr_path)}")
            if time.monotonic() >= deadline:
                self.kill()
                raise AssertionError(f"{self.name}: no 'listening on' line within {timeout}s\n"
                                     f"stdout:\n{_tail(self.stdout_path)}\n"
                                     f"stderr:\n{_tail(self.stderr_path)}")
            time.sleep(0.02)

    def _find_listen_line(self) -> str | None:
        try:
            with open(self.stdout_path, encoding="utf-8", errors="replace") as f:
                for line in f:
                    if _LISTEN_RE.match(line):
                        return line.rstrip("\n")
        except OSError:
            pass
        return None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM, then SIGKILL after timeout. Returns the exit status (None if not started)."""
        if self.proc is None:
            return None
        try:
            return _terminate(self.proc, timeout)
        finally:
            self._unregister()

    def kill(self) -> int | None:
        if self.proc is None:
            return None
        try:
            if self.proc.poll() is None:
                self.proc.kill()
            return self.proc.wait(timeout=10)
        finally:
            self._unregister()

    def rss_kb(self) -> int:
        with open(f"/proc/{self.pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise AssertionError("no VmRSS")

    def logs(self) -> str:
        return (f"--- {self.name} stdout ---\n{_tail(self.stdout_path, 60)}"
                f"--- {self.name} stderr ---\n{_tail(self.stderr_path, 60)}")

    def __enter__(self) -> "ServerProcess":
        if not self.alive():
            self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


# ---- socp-cli ---------------------------------------------------------------------------------


class CliProcess(_Managed):
    """socp-cli in --json mode: lines go to stdin, every stdout line is parsed as one event.

    Events are kept in `history` (non-JSON lines become {"event": "_raw", "line": ...}; the end
    of stdout is {"event": "_eof"}). wait_for() scans history from a position (by default the
    one recorded by the last send()) so nothing that arrived early is lost.
    """

    def __init__(self, ws: Workspace, label: str, args: list[str], binary: str | None = None):
        """`binary`: another program that prints JSON event lines (e.g. the echo bot)."""
        self.ws = ws
        self.label = label
        self.args = args
        self.history: list[dict] = []
        self._cond = threading.Condition()
        self._since = 0
        self.stderr_path = ws.path("logs", f"cli-{label}-{time.monotonic_ns()}.stderr")
        err = open(self.stderr_path, "wb")
        try:
            self.proc = subprocess.Popen([binary or CLI_BIN] + args, stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=err, cwd=ws.root)
        finally:
            err.close()
        self._register()
        self._reader = threading.Thread(target=self._read, name=f"cli-{label}", daemon=True)
        self._reader.start()

    def __repr__(self) -> str:
        return f"CliProcess({self.label}, pid={self.proc.pid})"

    # -- constructors for the usual modes ------------------------------------------------------
    @classmethod
    def register(cls, ws: Workspace, name: str, port: int, key: str | None = None,
                 home: str | None = None, password_file: str | None = None,
                 extra: Iterable[str] = ()) -> "CliProcess":
        args = ["register", "--name", name, "--server", f"{HOST}:{port}",
                "--import-key", key or ws.keys[name], "--home", home or ws.dir("home"),
                "--password-file", password_file or ws.password_file, "--json", *extra]
        return cls(ws, name, args)

    @classmethod
    def login(cls, ws: Workspace, name: str, home: str | None = None,
              password_file: str | None = None, server_port: int | None = None,
              extra: Iterable[str] = ()) -> "CliProcess":
        args = ["--name", name, "--home", home or ws.dir("home"),
                "--password-file", password_file or ws.password_file, "--json", *extra]
        if server_port is not None:
            args += ["--server", f"{HOST}:{server_port}"]
        return cls(ws, name, args)

    # -- I/O ---------------------------------------------------------------------------------
    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            if not line:
                continue
            try:
                ev = json.loads(line)
                if not isinstance(ev, dict):
                    ev = {"event": "_raw", "line": line}
            except ValueError:
                ev = {"event": "_raw", "line": line}
            ev.setdefault("_t", time.monotonic())
            with self._cond:
                self.history.append(ev)
                self._cond.notify_all()
        with self._cond:
            self.history.append({"event": "_eof", "_t": time.monotonic()})
            self._cond.notify_all()

    def mark(self) -> int:
        """Current end of history: pass as `since` to wait for events after this point."""
        with self._cond:
            return len(self.history)

    def send(self, line: str) -> float:
        """Writes one command line; wait_for() then looks at events from here on.
        Returns the monotonic time just before the write."""
        with self._cond:
            self._since = len(self.history)
        t = time.monotonic()
        assert self.proc.stdin is not None
        self.proc.stdin.write((line + "\n").encode("utf-8"))
        self.proc.stdin.flush()
        return t

    def wait_for(self, pred: Callable[[dict], bool], timeout: float = 15.0,
                 since: int | None = None, desc: str = "") -> dict:
        """First event at index >= since (default: the last send()) matching pred."""
        start = self._since if since is None else since
        deadline = time.monotonic() + timeout
        with self._cond:
            i = start
            while True:
                while i < len(self.history):
                    ev = self.history[i]
                    i += 1
                    try:
                        if pred(ev):
                            return ev
                    except (KeyError, TypeError):
                        pass
                    if ev.get("event") == "_eof":
                        raise AssertionError(self._failure(f"socp-cli exited while waiting for "
                                                           f"{desc or pred}", start))
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(self._failure(f"timed out after {timeout}s waiting for "
                                                       f"{desc or pred}", start))
                self._cond.wait(left)

    def wait_event(self, name: str, timeout: float = 15.0, since: int | None = None,
                   **fields) -> dict:
        """First event named `name` whose given fields equal the given values."""
        def pred(ev: dict) -> bool:
            return ev.get("event") == name and all(ev.get(k) == v for k, v in fields.items())
        return self.wait_for(pred, timeout, since, desc=f"event {name} {fields or ''}")

    def events(self, name: str | None = None, since: int = 0) -> list[dict]:
        with self._cond:
            return [e for e in self.history[since:] if name is None or e.get("event") == name]

    def _failure(self, what: str, since: int) -> str:
        with self._cond:
            seen = self.history[since:]
        lines = "\n".join("  " + json.dumps({k: v for k, v in e.items() if k != "_t"})[:400]
                          for e in seen[-40:])
        return (f"[{self.label}] {what}\nevents since {since} ({len(seen)}):\n{lines}\n"
                f"stderr:\n{_tail(self.stderr_path, 20)}\nargv: socp-cli {' '.join(self.args)}")

    # -- conveniences ------------------------------------------------------------------------
    def logged_in(self, timeout: float = 30.0) -> dict:
        return self.wait_event("logged_in", timeout, since=0)

    def list_users(self, timeout: float = 15.0) -> list[dict]:
        self.send("/list")
        return self.wait_event("list", timeout)["users"]

    def wait_list(self, pred: Callable[[list[dict]], bool], timeout: float,
                  desc: str) -> list[dict]:
        """Repeats /list until pred(users) holds (convergence, presence changes)."""
        deadline = time.monotonic() + timeout
        last: list[dict] = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"[{self.label}] /list never satisfied '{desc}' within "
                                     f"{timeout}s; last list: {json.dumps(last)}")
            last = self.list_users(timeout=min(15.0, max(left, 1.0)))
            if pred(last):
                return last
            time.sleep(min(0.25, max(0.0, deadline - time.monotonic())))

    def alive(self) -> bool:
        return self.proc.poll() is None

    def wait_exit(self, timeout: float = 15.0) -> int:
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(self._failure(f"socp-cli did not exit within {timeout}s", 0))
        self._release()
        return rc

    def _release(self) -> None:
        """After exit: join the reader and close our ends of the pipes."""
        self._reader.join(timeout=5)
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                if f:
                    f.close()
            except OSError:
                pass
        self._unregister()

    def close(self, timeout: float = 10.0) -> int | None:
        """/quit, end of input, wait; SIGKILL if it does not exit in time."""
        try:
            if self.proc.poll() is None:
                try:
                    assert self.proc.stdin is not None
                    self.proc.stdin.write(b"/quit\n")
                    self.proc.stdin.flush()
                    self.proc.stdin.close()
                except (BrokenPipeError, OSError, ValueError):
                    pass
                try:
                    return self.proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    return self.proc.wait(timeout=10)
            return self.proc.returncode
        finally:
            self._release()

    stop = close

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self._release()


def tell_until_delivered(sender: CliProcess, target: str, receiver: CliProcess, text: str,
                         timeout: float = 30.0) -> tuple[dict, int]:
    """`/tell target text` from sender until receiver shows it, for a mesh that is still
    converging: a retry happens only after the sender got an error event for the previous try
    (e.g. USER_NOT_FOUND "offline" while a server link is still coming back), so the message is
    never delivered twice. Returns (the receiver's message event, number of attempts)."""
    deadline = time.monotonic() + timeout
    attempts, errors = 0, []
    while True:
        attempts += 1
        since_r = receiver.mark()
        since_s = sender.mark()
        sender.send(f"/tell {target} {text}")
        while True:
            got = [e for e in receiver.events("message", since_r) if e.get("text") == text]
            if got:
                return got[0], attempts
            # an error, or a failed receipt (socp/1 servers answer a DM with receipts)
            errs = sender.events("error", since_s) + sender.events("failed", since_s)
            if errs:
                errors.append(errs[0])
                break
            if time.monotonic() >= deadline:
                raise AssertionError(f"'{text}' from {sender.label} never reached "
                                     f"{receiver.label} in {timeout}s ({attempts} attempts, "
                                     f"errors: {errors})")
            time.sleep(0.05)
        if time.monotonic() >= deadline:
            raise AssertionError(f"'{text}' from {sender.label} never reached {receiver.label} "
                                 f"in {timeout}s ({attempts} attempts, errors: {errors})")
        time.sleep(0.2)


# ---- raw WebSocket client (RFC 6455) ----------------------------------------------------------

OP_CONT, OP_TEXT, OP_BINARY = 0x0, 0x1, 0x2
OP_CLOSE, OP_PING, OP_PONG = 0x8, 0x9, 0xA
_WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class WsError(Exception):
    pass


def _mask(data: bytes, key: bytes) -> bytes:
    n = len(data)
    if n == 0:
        return b""
    k = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "little") ^ int.from_bytes(k, "little")).to_bytes(n, "little")


class WsClient:
    """A deliberately small and permissive WebSocket client.

    recv() returns complete messages as (opcode, payload): text/binary (fragments are
    reassembled), or (OP_CLOSE, payload) once the peer closed (`close_code` is then set; 1005
    if the close frame had no code), or (None, b"") if the TCP connection ended without a close
    frame. Pings are answered with pongs automatically. TimeoutError when the deadline passes.
    """

    def __init__(self, host: str = HOST, port: int = 0, path: str = "/", timeout: float = 5.0,
                 handshake: bool = True, extra_headers: str = ""):
        self.host, self.port, self.path = host, port, path
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.close_code: int | None = None
        self.close_reason = b""
        self.closed = False  # TCP gone or close frame received
        self.sent_close = False
        self.pings_answered = 0
        self.reset = False  # the peer reset the TCP connection
        self.response_headers = ""
        self.headers: dict[str, str] = {}
        if handshake:
            self.handshake(timeout, extra_headers)

    # -- handshake ---------------------------------------------------------------------------
    def handshake(self, timeout: float = 5.0, extra_headers: str = "") -> None:
        """extra_headers: more request header lines, each ending in \\r\\n."""
        key = base64.b64encode(os.urandom(16)).decode()
        req = (f"GET {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
               "Upgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{extra_headers}\r\n")
        self.sock.sendall(req.encode())
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in self.buf:
            if not self._fill(deadline):
                raise WsError(f"connection closed during handshake: {bytes(self.buf)[:200]!r}")
        head, _, rest = bytes(self.buf).partition(b"\r\n\r\n")
        self.buf = bytearray(rest)
        text = head.decode("latin-1")
        self.response_headers = text
        status = text.split("\r\n", 1)[0]
        if " 101 " not in status + " ":
            raise WsError(f"handshake refused: {status}")
        expected = base64.b64encode(hashlib.sha1((key + _WS_GUID).encode()).digest()).decode()
        headers = {}
        for line in text.split("\r\n")[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        self.headers = headers
        if headers.get("sec-websocket-accept") != expected:
            raise WsError(f"bad Sec-WebSocket-Accept: {headers.get('sec-websocket-accept')!r}")

    # -- low level ---------------------------------------------------------------------------
    def _fill(self, deadline: float) -> bool:
        """Reads more bytes into buf. False on EOF; TimeoutError past the deadline."""
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("websocket read deadline")
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(1 << 16)
        except socket.timeout:
            raise TimeoutError("websocket read deadline") from None
        except (ConnectionResetError, BrokenPipeError):
            self.reset = True
            return False
        if not chunk:
            return False
        self.buf += chunk
        return True

    def _need(self, n: int, deadline: float) -> bool:
        while len(self.buf) < n:
            if not self._fill(deadline):
                return False
        return True

    def _read_frame(self, deadline: float):
        """(fin, opcode, payload) or None on EOF."""
        if not self._need(2, deadline):
            return None
        b0, b1 = self.buf[0], self.buf[1]
        fin, opcode = bool(b0 & 0x80), b0 & 0x0F
        masked, length = bool(b1 & 0x80), b1 & 0x7F
        pos = 2
        if length == 126:
            if not self._need(4, deadline):
                return None
            length = struct.unpack(">H", self.buf[2:4])[0]
            pos = 4
        elif length == 127:
            if not self._need(10, deadline):
                return None
            length = struct.unpack(">Q", self.buf[2:10])[0]
            pos = 10
        mkey = b""
        if masked:
            if not self._need(pos + 4, deadline):
                return None
            mkey = bytes(self.buf[pos:pos + 4])
            pos += 4
        if not self._need(pos + length, deadline):
            return None
        payload = bytes(self.buf[pos:pos + length])
        del self.buf[:pos + length]
        if masked:
            payload = _mask(payload, mkey)
        return fin, opcode, payload

    def send_raw_frame(self, opcode: int, payload: bytes = b"", fin: bool = True,
                       masked: bool = True, rsv: int = 0,
                       length_override: int | None = None) -> None:
        """Sends one frame exactly as described (use it to break the rules)."""
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        head = bytearray([(0x80 if fin else 0) | ((rsv & 7) << 4) | (opcode & 0x0F)])
        n = len(payload) if length_override is None else length_override
        mbit = 0x80 if masked else 0
        if n < 126:
            head.append(mbit | n)
        elif n < 1 << 16:
            head.append(mbit | 126)
            head += struct.pack(">H", n)
        else:
            head.append(mbit | 127)
            head += struct.pack(">Q", n)
        if masked:
            key = os.urandom(4)
            head += key
            payload = _mask(payload, key)
        self.sock.settimeout(30)
        self.sock.sendall(bytes(head) + payload)

    def send_text(self, data: str | bytes, masked: bool = True) -> None:
        self.send_raw_frame(OP_TEXT, data.encode("utf-8") if isinstance(data, str) else data,
                            masked=masked)

    def send_binary(self, data: bytes, masked: bool = True) -> None:
        self.send_raw_frame(OP_BINARY, data, masked=masked)

    def send_json(self, obj: Any) -> None:
        self.send_text(json.dumps(obj, separators=(",", ":")))

    def send_fragmented(self, data: str | bytes, pieces: int = 3,
                        ping_between: bool = False) -> None:
        """One text message split into `pieces` frames (TEXT, CONT..., CONT+FIN)."""
        raw = data.encode("utf-8") if isinstance(data, str) else data
        step = max(1, -(-len(raw) // pieces))
        chunks = [raw[i:i + step] for i in range(0, len(raw), step)] or [b""]
        for i, chunk in enumerate(chunks):
            self.send_raw_frame(OP_TEXT if i == 0 else OP_CONT, chunk, fin=i == len(chunks) - 1)
            if ping_between and i == 0:
                self.send_raw_frame(OP_PING, b"mid")

    def send_ping(self, payload: bytes = b"") -> None:
        self.send_raw_frame(OP_PING, payload)

    def send_close(self, code: int | None = 1000, reason: bytes = b"") -> None:
        payload = b"" if code is None else struct.pack(">H", code) + reason
        self.sent_close = True
        self.send_raw_frame(OP_CLOSE, payload)

    # -- receiving ---------------------------------------------------------------------------
    def recv(self, timeout: float = 5.0):
        deadline = time.monotonic() + timeout
        parts: list[bytes] = []
        msg_op = None
        while True:
            fr = self._read_frame(deadline)
            if fr is None:
                self.closed = True
                return None, b""
            fin, op, payload = fr
            if op == OP_PING:
                self.pings_answered += 1
                try:
                    self.send_raw_frame(OP_PONG, payload)
                except OSError:
                    pass
                continue
            if op == OP_PONG:
                if msg_op is None:
                    return OP_PONG, payload
                continue
            if op == OP_CLOSE:
                self.closed = True
                self.close_code = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else 1005
                self.close_reason = payload[2:]
                if not self.sent_close:
                    try:
                        self.send_close(self.close_code if self.close_code != 1005 else None)
                    except OSError:
                        pass
                return OP_CLOSE, payload
            if op in (OP_TEXT, OP_BINARY):
                msg_op, parts = op, [payload]
            elif op == OP_CONT:
                parts.append(payload)
            else:
                raise WsError(f"unexpected opcode {op:#x} from server")
            if fin:
                return msg_op, b"".join(parts)

    def recv_json(self, timeout: float = 5.0) -> dict:
        op, payload = self.recv(timeout)
        if op != OP_TEXT:
            raise WsError(f"expected a text frame, got opcode {op} "
                          f"(close code {self.close_code}) {payload[:200]!r}")
        return json.loads(payload)

    def collect(self, timeout: float = 5.0,
                until_close: bool = True) -> tuple[list[Any], str | int]:
        """Reads messages until the connection ends or `timeout` passes.

        Returns (messages, end): text messages parsed as JSON (or kept as raw bytes if not JSON),
        end = the close code (int), "eof" (TCP closed without a close frame), "reset", or
        "open" (still open at the deadline). With until_close=False it returns as soon as one
        message arrived (end "open")."""
        deadline = time.monotonic() + timeout
        msgs: list[Any] = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return msgs, "open"
            try:
                op, payload = self.recv(left)
            except TimeoutError:
                return msgs, "open"
            except ConnectionResetError:
                return msgs, "reset"
            if op is None:
                return msgs, "reset" if self.reset else "eof"
            if op == OP_CLOSE:
                return msgs, self.close_code if self.close_code is not None else 1005
            if op == OP_TEXT:
                try:
                    msgs.append(json.loads(payload))
                except ValueError:
                    msgs.append(payload)
            elif op == OP_BINARY:
                msgs.append(payload)
            if not until_close and msgs:
                return msgs, "open"

    def is_open(self, timeout: float = 2.0) -> bool:
        """Ping round trip: True if a pong comes back (and no close) within timeout."""
        try:
            self.send_ping(b"alive?")
        except OSError:
            return False
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            try:
                op, payload = self.recv(left)
            except (TimeoutError, OSError):
                return False
            if op == OP_PONG and payload == b"alive?":
                return True
            if op is None or op == OP_CLOSE:
                return False

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self) -> "WsClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# ---- SOCP frames from Python (signed with socp_rsa) -------------------------------------------

def envelope(type_: str, from_: str, to: str, payload: Any, ts: int | None = None,
             sig: str | None = None) -> dict:
    env = {"type": type_, "from": from_, "to": to, "ts": now_ms() if ts is None else ts,
           "payload": payload}
    if sig is not None:
        env["sig"] = sig
    return env


def user_hello(key, user_id: str, name: str, ts: int | None = None, signer=None,
               sign: bool = True, pubkey: str | None = None,
               caps: list[str] | None = None) -> dict:
    """A USER_HELLO as socp clients send it: signed by `signer` (default: the key itself).
    `caps` (e.g. ["socp/1"]): the client takes receipts and batches and acknowledges."""
    pub = pubkey if pubkey is not None else key.public.b64url()
    ts = now_ms() if ts is None else ts
    payload = {"client": "socp-systest/1", "pubkey": pub, "enc_pubkey": pub,
               "meta": {"display_name": name}, "ts": ts}
    if caps is not None:
        payload["caps"] = caps
    sig = (signer or key).sign_payload(payload) if sign else None
    return envelope("USER_HELLO", user_id, "server", payload, ts, sig)


def user_register(key, user_id: str, name: str, ts: int | None = None, sign: bool = True,
                  payload_user_id: str | None = None, pubkey: str | None = None) -> dict:
    pub = pubkey if pubkey is not None else key.public.b64url()
    ts = now_ms() if ts is None else ts
    payload = {"user_id": payload_user_id or user_id, "pubkey": pub,
               "privkey_store": "c2VhbGVkLWJ5LXN5c3Rlc3Q",  # opaque to the server
               "pake_password": "dmVyaWZpZXItb2Ytc3lzdGVzdA", "meta": {"display_name": name},
               "ts": ts}
    sig = key.sign_payload(payload) if sign else None
    return envelope("USER_REGISTER", user_id, "server", payload, ts, sig)


def msg_direct(key, sender: str, recipient: str, recipient_pub, text: str,
               ts: int | None = None) -> dict:
    """A real end-to-end MSG_DIRECT: OAEP to the recipient, content_sig by the sender."""
    import socp_rsa
    ts = now_ms() if ts is None else ts
    ct = socp_rsa.encrypt(recipient_pub, text.encode("utf-8"))
    csig = key.sign(socp_rsa.content_sig_message(ct, sender, recipient, ts))
    payload = {"ciphertext": socp_rsa.b64url(ct), "sender_pub": key.public.b64url(),
               "content_sig": socp_rsa.b64url(csig)}
    return envelope("MSG_DIRECT", sender, recipient, payload, ts)
