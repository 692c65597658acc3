#!/usr/bin/env python3
"""bench_g43_burst: socp's cross-server DM burst next to G43's (a Python SOCP v1.3
implementation), in the same run, interleaved round by round.

  python3 tests/bench/bench_g43_burst.py --g43 G43_CHECKOUT [--build build] [--dms 2000]
                                         [--rounds 3] [--two-prime] [--target 3.5]

G43_CHECKOUT is a checkout of mjzero0/Decentralised-chat at commit 2d43f16 that you made
yourself (docs/interop.md, "Running the real peers"). Only its clean_version/ is run; the
script refuses another commit and any backdoor* folder, writes nothing into the checkout, and
runs G43 with /usr/bin/python3 (Debian's python3-websockets and python3-cryptography;
--g43-python to change it).

Method (the performance issue's): two servers of each system on loopback, a sender on one and
a recipient on the other; N DMs pre-signed in the system's own client format are written at
once on the sender's socket; the figure is N / (time from the first write until the recipient's
socket has received the N-th DM). In every round both systems run one burst each, one after the
other (the order alternates from round to round, so that neither always runs on a machine
warmed or loaded by the other); the servers of both systems stay up for the whole run.

  socp: two socp-servers and the users of tests/bench/socp_bench.py (Bench.burst: alice on A
        writes N MSG_DIRECT frames pre-signed by socp_bench_tool, bob on B receives).
  G43:  G43's introducer and two G43 servers (server.py: 4-prime RSA-4096 keys from
        socp_bench_tool unless --two-prime, like socp's), alice43 registered and logged in on
        the first (USER_REGISTER, AUTH_HELLO/AUTH_RESPONSE as client.py does), bob43 on the
        second. alice43 writes N MSG_DIRECT frames exactly as client.py's /tell builds them
        (OAEP-SHA256 ciphertext, content_sig variant C = RSASSA-PSS (salt MAX_LENGTH) over
        SHA-256(ciphertext||from||to||ts), 4-prime key, signed before the timed part in a process
        pool of G43's Python). G43's server checks none of this (server.py:354-395 routes a
        MSG_DIRECT by its `to` alone), so pre-signing is possible; its client checks it
        (client.py:475-490), and so does this script: after every burst, each delivered DM is
        verified and decrypted as G43's client would, and a single bad one stops the run.

Both G43 servers sign every frame they send (server.py:103-111): the first signs the
SERVER_DELIVER to the second, the second the USER_DELIVER to bob43, one RSA signature per DM
per server, in one asyncio thread each, and nothing is verified on the way. socp signs and
verifies too, but coalesces a burst's deliveries into batches (docs/scaling.md).

Printed: METRIC lines (per round and median: socp_dm_per_s, g43_dm_per_s, ratio; the signing
limit of the same run: signatures/s of ONE core with the servers' key in C++ (socp_bench_tool)
and in G43's Python, before and after the rounds; CPU per DM of each server), then a markdown
table. Not run by ctest: it takes minutes and its figures depend on the machine.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
G43_COMMIT = "2d43f16"
G43_PYTHON = "/usr/bin/python3"


# ---- helpers run under G43's Python (python3-cryptography): `_presign`, `_verify`, `_limit` ----
# They sign, encrypt and verify exactly as G43's common.py does.

def _b64u(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def _b64u_decode(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def _crypto():
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.MAX_LENGTH)
    oaep = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(),
                        label=None)
    return hashes, serialization, pss, oaep


def _content_digest(ct_b64u: str, sender: str, recipient: str, ts: int) -> bytes:
    """G43's variant C (common.py:187-208): SHA-256 of ciphertext||from||to||ts, signed as data."""
    d = hashlib.sha256()
    d.update(_b64u_decode(ct_b64u))
    d.update(sender.encode())
    d.update(recipient.encode())
    d.update(str(ts).encode())
    return d.digest()


_W: dict = {}


def _presign_init(key_file: str, to_pub: str) -> None:
    hashes, ser, pss, oaep = _crypto()
    with open(key_file, "rb") as f:
        key = ser.load_pem_private_key(f.read(), None)
    _W.update(key=key, to_pub=ser.load_der_public_key(_b64u_decode(to_pub)), hashes=hashes,
              pss=pss, oaep=oaep,
              pub=_b64u(key.public_key().public_bytes(ser.Encoding.DER,
                                                      ser.PublicFormat.SubjectPublicKeyInfo)))


def _presign_one(job: tuple) -> str:
    """One MSG_DIRECT as client.py's /tell sends it (client.py:275-312)."""
    sender, target, text, ts = job
    ct = _b64u(_W["to_pub"].encrypt(text.encode("utf-8"), _W["oaep"]))
    sig = _W["key"].sign(_content_digest(ct, sender, target, ts), _W["pss"],
                         _W["hashes"].SHA256())
    return json.dumps({"type": "MSG_DIRECT", "from": sender, "to": target, "ts": ts,
                       "payload": {"public": False, "ciphertext": ct, "sender": sender,
                                   "sender_pub": _W["pub"], "content_sig": _b64u(sig)},
                       "sig": ""})


def _verify_init(key_file: str, sender_pub: str) -> None:
    hashes, ser, pss, oaep = _crypto()
    with open(key_file, "rb") as f:
        _W.update(key=ser.load_pem_private_key(f.read(), None))
    _W.update(sender_pub=sender_pub, pub=ser.load_der_public_key(_b64u_decode(sender_pub)),
              hashes=hashes, pss=pss, oaep=oaep)


def _verify_one(job: tuple) -> str:
    """'' if bob43's G43 client would show this USER_DELIVER as a good DM with the expected text
    (client.py:473-500), else why not."""
    line, sender, recipient, tag, ts0 = job
    from cryptography.exceptions import InvalidSignature
    env = json.loads(line)
    p = env["payload"]
    if env.get("type") != "USER_DELIVER" or p.get("public") is not False:
        return f"not a private USER_DELIVER: {env.get('type')}"
    if (p.get("sender"), env.get("to"), p.get("sender_pub")) != (sender, recipient,
                                                                 _W["sender_pub"]):
        return "wrong sender, recipient or sender_pub"
    try:
        _W["pub"].verify(_b64u_decode(p["content_sig"]),
                         _content_digest(p["ciphertext"], p["sender"], env["to"], env["ts"]),
                         _W["pss"], _W["hashes"].SHA256())
    except InvalidSignature:
        return "content_sig invalid"
    text = _W["key"].decrypt(_b64u_decode(p["ciphertext"]), _W["oaep"]).decode("utf-8")
    if text != f"{tag} {env['ts'] - ts0}":
        return f"unexpected plaintext {text!r}"
    return ""


def helper_main(argv: list[str]) -> None:
    from multiprocessing import Pool
    cmd = argv[0]
    if cmd == "_presign":  # KEY FROM TO TO_PUB N TAG TS0: N frames on stdout, one per line
        key, sender, target, to_pub, n, tag, ts0 = argv[1:8]
        jobs = [(sender, target, f"{tag} {i}", int(ts0) + i) for i in range(int(n))]
        with Pool(os.cpu_count(), _presign_init, (key, to_pub)) as pool:
            lines = pool.map(_presign_one, jobs, chunksize=16)
        sys.stdout.write("\n".join(lines) + "\n")
    elif cmd == "_verify":  # KEY SENDER SENDER_PUB RECIPIENT TAG TS0; stdin: frames
        key, sender, sender_pub, recipient, tag, ts0 = argv[1:7]
        jobs = [(line, sender, recipient, tag, int(ts0)) for line in sys.stdin if line.strip()]
        with Pool(os.cpu_count(), _verify_init, (key, sender_pub)) as pool:
            bad = [r for r in pool.map(_verify_one, jobs, chunksize=16) if r]
        print(json.dumps({"checked": len(jobs), "bad": len(bad), "first": bad[:3]}))
    elif cmd == "_limit":  # KEY SECONDS: PSS signatures/s of one thread, as G43's servers sign
        hashes, ser, pss, _ = _crypto()
        with open(argv[1], "rb") as f:
            key = ser.load_pem_private_key(f.read(), None)
        n, t0, took = 0, time.perf_counter(), 0.0
        while took < float(argv[2]):
            payload = {"inner_type": "MSG_DIRECT", "user_id": str(n), "ciphertext": "x" * 684}
            key.sign(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode(), pss,
                     hashes.SHA256())
            n += 1
            took = time.perf_counter() - t0
        print(f"{n / took:.2f}")
    else:
        raise SystemExit(f"unknown helper {cmd}")


# ---- the G43 mesh --------------------------------------------------------------------------------

INTRODUCER = """import sys, asyncio, websockets
sys.path.insert(0, sys.argv[1]); import introducer
async def main():
    async with websockets.serve(introducer.handle_join, '127.0.0.1', int(sys.argv[2])):
        print('introducer listening', flush=True)
        await asyncio.Future()
asyncio.run(main())"""
# introducer.py binds 0.0.0.0:8765 and server.py reads its introducer from module constants:
# both are set here at run time (as tests/interop/run_real_peers.sh does), the code is G43's.
SERVER = """import sys, asyncio
sys.path.insert(0, sys.argv[1]); import server
server.INTRODUCER_HOST, server.INTRODUCER_PORT = '127.0.0.1', int(sys.argv[2])
server.load_server_keys(sys.argv[3]); asyncio.run(server.main())"""


def g43_code(checkout: str) -> str:
    """clean_version/ of a checkout at G43_COMMIT, or SystemExit."""
    head = subprocess.run(["git", "-C", checkout, "rev-parse", "HEAD"], capture_output=True,
                          text=True, check=False).stdout.strip()
    if not head.startswith(G43_COMMIT):
        raise SystemExit(f"{checkout} is at {head or '(no git checkout)'}, not {G43_COMMIT}: "
                         "refusing to run it")
    code = os.path.realpath(os.path.join(checkout, "clean_version"))
    if "backdoor" in code.lower() or not os.path.isfile(os.path.join(code, "server.py")):
        raise SystemExit(f"refusing to run {code}")
    return code


class PyProc:
    """A G43 process (G43's Python), its output kept in memory for waiting and for errors."""

    def __init__(self, name: str, argv: list[str], cwd: str, env: dict[str, str]) -> None:
        self.name = name
        self.lines: list[str] = []
        self.cond = threading.Condition()
        self.p = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                  encoding="utf-8", errors="replace")
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.p.stdout:
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait_line(self, text: str, timeout: float = 60) -> str:
        def found():
            return next((l for l in self.lines if text in l), None)
        with self.cond:
            ok = self.cond.wait_for(lambda: found() or self.p.poll() is not None, timeout)
            line = found()
        if not line:
            why = "exited" if self.p.poll() is not None else f"no {text!r} in {timeout} s"
            raise SystemExit(f"G43 {self.name}: {why}\n{self.tail()}")
        return line

    def tail(self, n: int = 15) -> str:
        with self.cond:
            return "\n".join(f"  {self.name}| {l}" for l in self.lines[-n:])

    def stop(self) -> None:
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(10)
        self.reader.join(5)
        self.p.stdout.close()


class G43User:
    """A G43 user on a raw WebSocket: registered and logged in as client.py does (signup on one
    socket, then AUTH_HELLO / AUTH_CHALLENGE / AUTH_RESPONSE on the session socket); a reader
    thread stamps each USER_DELIVER's arrival by its ts (G43 DMs have no id; the ts is the
    sender's, unique per pre-signed DM) and keeps the frame for verification."""

    def __init__(self, h, port: int, username: str, pub: str, key_file: str) -> None:
        self.h, self.pub, self.key_file = h, pub, key_file
        salt = os.urandom(16)
        pwd_hash = hashlib.sha256(salt + f"pw-{username}".encode()).hexdigest()
        ws = h.WsClient(port=port)
        ws.send_text(json.dumps({"type": "USER_REGISTER", "from": h.new_uuid(), "to": "server",
                                 "ts": h.now_ms(), "sig": "",
                                 "payload": {"username": username, "salt": salt.hex(),
                                             "pwd_hash": pwd_hash, "pubkey": pub}}))
        self.uid = self._expect(ws, "REGISTER_OK")["payload"]["user_id"]
        ws.send_close()
        ws.close()
        self.ws = h.WsClient(port=port)
        self.ws.send_text(json.dumps({"type": "AUTH_HELLO", "from": self.uid, "to": "server",
                                      "ts": h.now_ms(), "payload": {"username": username},
                                      "sig": ""}))
        nonce = _b64u_decode(self._expect(self.ws, "AUTH_CHALLENGE")["payload"]["nonce_b64"])
        proof = hmac.new(bytes.fromhex(pwd_hash), nonce, hashlib.sha256).hexdigest()
        self.ws.send_text(json.dumps({"type": "AUTH_RESPONSE", "from": self.uid, "to": "server",
                                      "ts": h.now_ms(), "sig": "",
                                      "payload": {"username": username, "proof_hmac_hex": proof,
                                                  "pubkey": pub}}))
        self.cond = threading.Condition()
        self.known: set[str] = set()
        self.errors: list[dict] = []
        self.arrived: dict[int, float] = {}
        self.frames: dict[int, str] = {}
        self._expect(self.ws, "AUTH_OK")
        # One lock for every frame written on the socket: the reader thread answers pings.
        lock, send = threading.Lock(), self.ws.send_raw_frame

        def locked(*a, **k):
            with lock:
                return send(*a, **k)
        self.ws.send_raw_frame = locked
        self.stop = False
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _expect(self, ws, mtype: str, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            m = ws.recv_json(max(0.01, deadline - time.monotonic()))
            if m.get("type") == "ERROR":
                raise SystemExit(f"G43 server error: {m.get('payload')}")
            if m.get("type") == "USER_ADVERTISE":
                self.known.add(m["payload"]["user_id"])
            if m.get("type") == mtype:
                return m

    def _read(self) -> None:
        while not self.stop:
            try:
                op, raw = self.ws.recv(0.5)
            except TimeoutError:
                continue
            except Exception:  # noqa: BLE001 - a closed socket ends the reader
                return
            if op is None or op == self.h.OP_CLOSE:
                return
            now = time.perf_counter()
            if op != self.h.OP_TEXT:
                continue
            m = json.loads(raw)
            t = m.get("type")
            with self.cond:
                if t == "USER_DELIVER":
                    self.arrived.setdefault(m["ts"], now)
                    self.frames[m["ts"]] = raw.decode("utf-8")
                elif t == "USER_ADVERTISE":
                    self.known.add(m["payload"]["user_id"])
                elif t == "ERROR":
                    self.errors.append(m.get("payload"))
                self.cond.notify_all()

    def wait_known(self, uid: str, timeout: float = 60) -> None:
        with self.cond:
            if not self.cond.wait_for(lambda: uid in self.known, timeout):
                raise SystemExit(f"G43: {uid} was never advertised to this user")

    def send_lines(self, lines: list[str]) -> None:
        for line in lines:
            self.ws.send_text(line)

    def close(self) -> None:
        self.stop = True
        self.reader.join(2)
        try:
            self.ws.send_close()
        except OSError:
            pass
        self.ws.close()


class G43Mesh:
    def __init__(self, bench, code: str, python: str, primes: str) -> None:
        self.bench, self.h, self.code, self.python = bench, bench.h, code, python
        self.root = bench.ws.dir("g43")  # removed with socp's workspace
        self.procs: list[PyProc] = []
        self.users: list[G43User] = []
        self.keys = {}
        for name, p in (("server1", primes), ("server2", primes), ("alice43", "4"),
                        ("bob43", "4")):
            path = os.path.join(self.root, f"{name}.pem")
            self.keys[name] = (path, bench.tool("keygen", p, path).strip())
        self.cpu_per_dm: dict[str, list[float]] = {}

    def _env(self, **extra: str) -> dict[str, str]:
        return {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONIOENCODING": "utf-8",
                **extra}

    def _start(self, name: str, code: str, *args: str, **env: str) -> PyProc:
        cwd = os.path.join(self.root, name)  # server.py keeps users_db.json in its cwd
        os.makedirs(cwd, exist_ok=True)
        p = PyProc(name, [self.python, "-u", "-c", code, self.code, *args], cwd,
                   self._env(**env))
        self.procs.append(p)
        return p

    def start(self) -> None:
        h = self.h
        pi, self.p1, self.p2 = h.free_port(), h.free_port(), h.free_port()
        self._start("introducer", INTRODUCER, str(pi)).wait_line("introducer listening")
        self.s1 = self._start("server1", SERVER, str(pi), self.keys["server1"][0],
                              MY_HOST="127.0.0.1", MY_PORT=str(self.p1))
        self.s1.wait_line("Assigned server_id")
        self.s2 = self._start("server2", SERVER, str(pi), self.keys["server2"][0],
                              MY_HOST="127.0.0.1", MY_PORT=str(self.p2))
        self.s2.wait_line("Assigned server_id")
        # server2 dials server1 (SERVER_HELLO_LINK); server1 dials back: the link is up.
        self.s1.wait_line("via SERVER_HELLO_LINK")
        # bob43 first: its advert reaches server1 (which then knows where bob43 is); alice43's
        # login makes server2 send bob43's advert back to alice43 ("backfill").
        self.bob = G43User(h, self.p2, "bob43", self.keys["bob43"][1], self.keys["bob43"][0])
        self.users.append(self.bob)
        self.alice = G43User(h, self.p1, "alice43", self.keys["alice43"][1],
                             self.keys["alice43"][0])
        self.users.append(self.alice)
        self.alice.wait_known(self.bob.uid)
        self.bob.wait_known(self.alice.uid)

    def helper(self, *argv: str, stdin: str | None = None) -> str:
        r = subprocess.run([self.python, os.path.abspath(__file__), *argv], input=stdin,
                           capture_output=True, text=True, check=False,
                           env=self._env())
        if r.returncode != 0:
            raise SystemExit(f"{argv[0]} failed: {r.stderr.strip()[-2000:]}")
        return r.stdout

    def limit(self, seconds: float = 2) -> float:
        return float(self.helper("_limit", self.keys["server1"][0], str(seconds)).strip())

    def burst(self, n: int, tag: str) -> float:
        from socp_bench import CpuMeter
        a, b = self.alice, self.bob
        ts0 = self.h.now_ms()
        frames = self.helper("_presign", a.key_file, a.uid, b.uid, b.pub, str(n), tag,
                             str(ts0)).splitlines()
        want = set(range(ts0, ts0 + n))
        pids = {"s1": self.s1.p.pid, "s2": self.s2.p.pid, "bench": "self"}
        meter = CpuMeter(pids)
        t0 = time.perf_counter()
        a.send_lines(frames)
        deadline = time.monotonic() + 60 + n / 5  # G43 drops undeliverable DMs silently
        with b.cond:
            while True:
                missing = len(want - b.arrived.keys())
                if missing == 0:
                    break
                dead = [p.name for p in self.procs if p.p.poll() is not None]
                if dead or time.monotonic() > deadline:
                    why = f"{', '.join(dead)} exited" if dead else "timed out"
                    raise SystemExit(f"G43 burst: {missing} of {n} DMs did not arrive ({why})\n"
                                     + self.s1.tail() + "\n" + self.s2.tail())
                b.cond.wait(0.5)
            took = max(b.arrived[t] for t in want) - t0
            delivered = [b.frames[t] for t in sorted(want)]
        meter.record(self.cpu_per_dm, n)
        # Outside the timed part: what bob43's G43 client would make of every delivered DM.
        v = json.loads(self.helper("_verify", b.key_file, a.uid, a.pub, b.uid, tag, str(ts0),
                                   stdin="\n".join(delivered) + "\n"))
        if v["bad"] or v["checked"] != n:
            raise SystemExit(f"G43 burst: {v['bad']} of {v['checked']} delivered DMs would not "
                             f"be shown by G43's client: {v['first']}")
        with b.cond:
            for t in want:
                b.arrived.pop(t, None)
                b.frames.pop(t, None)
        return n / took

    def close(self) -> None:
        for u in self.users:
            u.close()
        for p in reversed(self.procs):
            p.stop()


# ---- the run -----------------------------------------------------------------------------------

def run(args: argparse.Namespace) -> None:
    sys.path.insert(0, HERE)
    import socp_bench
    code = g43_code(os.path.abspath(args.g43))
    bench = socp_bench.Bench(argparse.Namespace(build=args.build, two_prime=args.two_prime,
                                                server_arg=[]))
    g43 = None
    h = bench.h
    try:
        bench.phase("starting two socp-servers")
        bench.start_servers()
        alice_key = bench.ws.path("keys", "bench-alice.pem")
        bench.tool("keygen", "4", alice_key)
        alice = bench.user("alice", bench.a, key_file=alice_key)
        bob = bench.user("bob", bench.b)
        alice.wait_sees(bob.uid)
        bench.phase(f"starting G43 ({code}): introducer, two servers, alice43 and bob43")
        g43 = G43Mesh(bench, code, args.g43_python, "2" if args.two_prime else "4")
        g43.start()
        limits = [bench.limit()]
        py_limits = [g43.limit()]
        socp_rates, g43_rates = [], []
        for r in range(args.rounds):
            order = ("socp", "g43") if r % 2 == 0 else ("g43", "socp")
            for system in order:
                bench.phase(f"round {r + 1}: {system} burst of {args.dms} DMs")
                if system == "socp":
                    rate, _ = bench.burst(alice, bob, args.dms, f"g43cmp{r}")
                    socp_rates.append(rate)
                else:
                    g43_rates.append(g43.burst(args.dms, f"g43burst{r}"))
            h.metric(f"round{r + 1}_socp_dm_per_s", socp_rates[-1], f"DM/s ({'/'.join(order)})")
            h.metric(f"round{r + 1}_g43_dm_per_s", g43_rates[-1], "DM/s")
            h.metric(f"round{r + 1}_ratio", socp_rates[-1] / g43_rates[-1], "x (socp / G43)")
        limits.append(bench.limit())
        py_limits.append(g43.limit())
        alice.close()
        bob.close()
        report(args, socp_rates, g43_rates, limits, py_limits, bench, g43)
    finally:
        if g43 is not None:
            g43.close()
        bench.close()


def report(args, socp_rates, g43_rates, limits, py_limits, bench, g43) -> None:
    h = bench.h
    med = statistics.median
    limit, py_limit = statistics.mean(limits), statistics.mean(py_limits)
    ratios = [s / g for s, g in zip(socp_rates, g43_rates)]
    h.metric("signing_limit_one_core", limit,
             "sig/s (servers' key, C++ socp_bench_tool, 1 thread; mean of before/after)")
    h.metric("signing_limit_spread", abs(limits[0] - limits[1]) / limit, "fraction")
    h.metric("g43_signing_limit_one_core", py_limit,
             "sig/s (G43 servers' key, G43's Python PSS, 1 thread; mean of before/after)")
    h.metric("socp_dm_per_s", med(socp_rates), f"DM/s (median of {args.rounds}, {args.dms} DMs)")
    h.metric("g43_dm_per_s", med(g43_rates), f"DM/s (median of {args.rounds}, {args.dms} DMs)")
    h.metric("ratio", med(ratios), f"x (median of the {args.rounds} per-round ratios)")
    h.metric("ratio_min", min(ratios), "x (worst round)")
    h.metric("socp_over_limit", med(socp_rates) / limit, "x one core's signatures/s")
    h.metric("g43_over_limit", med(g43_rates) / limit, "x one core's signatures/s")
    for k in ("a", "b", "bench"):
        h.metric(f"socp_cpu_{k}_ms_per_dm", med(bench.cpu_per_dm[k]), "ms CPU per DM")
    for k in ("s1", "s2", "bench"):
        h.metric(f"g43_cpu_{k}_ms_per_dm", med(g43.cpu_per_dm[k]), "ms CPU per DM")
    h.metric("socp_machine_busy_cores", med(bench.cpu_per_dm["machine"]), "cores")
    h.metric("g43_machine_busy_cores", med(g43.cpu_per_dm["machine"]), "cores")
    h.metric("every_round_at_least_target", int(min(ratios) >= args.target),
             f"(1: socp >= {args.target}x G43 in every round)")
    print()
    print(f"{args.dms} DMs written at once, alice on one server, bob on the other; signing "
          f"limit {limit:.0f} sig/s (one core, servers' key; G43's Python {py_limit:.0f})")
    print()
    print("| round | socp DM/s | G43 DM/s | socp ÷ G43 | socp ÷ limit | G43 ÷ limit |")
    print("|---|---|---|---|---|---|")
    rows = [(str(i + 1), s, g) for i, (s, g) in enumerate(zip(socp_rates, g43_rates))]
    rows.append(("median", med(socp_rates), med(g43_rates)))
    for i, (name, s, g) in enumerate(rows):
        ratio = ratios[i] if i < len(ratios) else med(ratios)
        print(f"| {name} | {s:.0f} | {g:.0f} | {ratio:.2f} | {s / limit:.2f} | "
              f"{g / limit:.2f} |")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1].startswith("_"):
        helper_main(sys.argv[1:])
        return
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--g43", required=True,
                   help=f"a G43 checkout (mjzero0/Decentralised-chat) at {G43_COMMIT}")
    p.add_argument("--build", default=os.path.join(ROOT, "build"), help="CMake build directory")
    p.add_argument("--dms", type=int, default=2000, help="DMs per burst")
    p.add_argument("--rounds", type=int, default=3, help="rounds (one burst of each system)")
    p.add_argument("--two-prime", action="store_true",
                   help="2-prime server identities for both systems (default 4-prime)")
    p.add_argument("--g43-python", default=G43_PYTHON,
                   help="Python with websockets and cryptography, to run G43 and its signing")
    p.add_argument("--target", type=float, default=3.5, help="ratio every round should reach")
    run(p.parse_args())


if __name__ == "__main__":
    main()
