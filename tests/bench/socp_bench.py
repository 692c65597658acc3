#!/usr/bin/env python3
"""socp-bench: one command for socp's performance figures, on real servers over loopback.

Starts two socp-servers (A and B, each with a new 4-prime RSA-4096 identity, or 2-prime with
--two-prime), logs users in over raw WebSockets and drives them with frames pre-signed by
socp_bench_tool (C++; Python's RSA is too slow to keep up). Every figure is printed next to
the hardware limit measured in the same run, as a ratio: the signatures per second ONE core
makes with the servers' own key. A cross-server DM costs one signature on each server and the
two servers share this machine's cores, so one core's signing rate is the DM/s ceiling on a
2-core machine.

  python3 tests/bench/socp_bench.py [--build build] [--dms 2000] [--two-prime] [--file-mib 1]
                                    [--registrations 20] [--rounds 1]

Figures (METRIC name value unit lines, then a summary table):
  limit            signatures/s of one core with the servers' key (before and after the run)
  burst            alice (A) writes N pre-signed DMs to bob (B) at once: delivered DM/s
  fair             during a second burst, carol (A) -> dave (B) DMs and erin's /list (A):
                   latency median and p99 (the burst keeps both servers' signers busy)
  sequential       one DM at a time alice -> bob: latency median and p99
  files            a /file of --file-mib MiB between two socp-cli on A and B: MB/s
  registration     USER_REGISTER + login of new users on A: per second, next to the Argon2id
                   limit (cores / seconds per hash) measured here
  rss              each server's resident memory after the run

The servers run with --user-sign-rate/--user-sign-burst raised so one user may use all the
signing capacity (the default bucket, 256/s, is below what 4-prime keys sign on one core);
fair scheduling still keeps the others' frames moving (that is what `fair` measures).
Not run by ctest: it takes minutes and its figures depend on the machine.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(HERE, "..", "system"))


def cpu_seconds(pid: int | str) -> float:
    """utime + stime of a process (all its threads) from /proc, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    with open("/proc/stat") as f:
        vals = [int(x) for x in f.readline().split()[1:]]
    idle = vals[3] + vals[4]
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(vals) - idle) / tick, sum(vals) / tick


class CpuMeter:
    """Where the CPU went over one measured stretch: each process's CPU time (by name) and the
    busy cores of the whole machine, from its creation to record()."""

    def __init__(self, pids: dict[str, int | str]) -> None:
        self.pids = pids
        self.cpu0 = {k: cpu_seconds(p) for k, p in pids.items()}
        self.busy0, _ = machine_busy_seconds()
        self.t0 = time.perf_counter()

    def record(self, into: dict[str, list[float]], n: int) -> None:
        """Appends to `into` each process's CPU ms per item (n items) and, as "machine", the
        cores busy meanwhile."""
        wall = time.perf_counter() - self.t0
        busy1, _ = machine_busy_seconds()
        for k, p in self.pids.items():
            into.setdefault(k, []).append((cpu_seconds(p) - self.cpu0[k]) * 1000 / n)
        into.setdefault("machine", []).append((busy1 - self.busy0) / wall)


def pct(values: list[float], q: float) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))] if v else float("nan")


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        build = os.path.abspath(args.build)
        os.environ.setdefault("SOCP_SERVER_BIN", os.path.join(build, "server", "socp-server"))
        os.environ.setdefault("SOCP_CLI_BIN", os.path.join(build, "client", "socp-cli"))
        self.tool_bin = os.path.join(build, "tests", "bench", "socp_bench_tool")
        import socp_harness
        import socp_rsa
        self.h, self.rsa = socp_harness, socp_rsa
        self.ws = socp_harness.Workspace("socp-bench-")
        self.results: dict[str, tuple[float, str]] = {}
        self.cpu_per_dm: dict[str, list[float]] = {}

    # -- helpers -------------------------------------------------------------------------------
    def tool(self, *argv: str, stdin: str | None = None) -> str:
        r = subprocess.run([self.tool_bin, *argv], input=stdin, capture_output=True, text=True,
                           check=False)
        if r.returncode != 0:
            raise SystemExit(f"socp_bench_tool {argv[0]} failed: {r.stderr.strip()}")
        return r.stdout

    @staticmethod
    def phase(what: str) -> None:
        print(f"socp-bench: {what}", file=sys.stderr, flush=True)

    def metric(self, name: str, value: float, unit: str) -> None:
        self.results[name] = (value, unit)
        self.h.metric(name, value, unit)

    def limit(self) -> float:
        return float(self.tool("limit", self.server_key, "2").strip())

    # -- set-up --------------------------------------------------------------------------------
    def start_servers(self) -> None:
        primes = "2" if self.args.two_prime else "4"
        self.server_key = self.ws.path("keys", "bench-server-a.pem")
        key_b = self.ws.path("keys", "bench-server-b.pem")
        self.tool("keygen", primes, self.server_key)
        self.tool("keygen", primes, key_b)
        extra = ["--user-sign-rate", "100000", "--user-sign-burst", "100000",
                 *self.args.server_arg]
        self.a = self.h.ServerProcess(self.ws, "A", extra_args=extra)
        self.a.identity_file = self.server_key
        self.a.start()
        self.b = self.h.ServerProcess(self.ws, "B", introducers=[self.a.port], extra_args=extra)
        self.b.identity_file = key_b
        self.b.start()

    def user(self, name: str, server, fixture: str | None = None,
             key_file: str | None = None) -> "User":
        return User(self, name, server.port, fixture or name, key_file)

    def login_frames(self, path: str, pub: str, uid: str, name: str,
                     caps: tuple[str, ...] = ("socp/1",)) -> tuple[dict, dict]:
        """USER_REGISTER and USER_HELLO for a key of socp_bench_tool's, signed by the tool."""
        ts = self.h.now_ms()
        reg = {"user_id": uid, "pubkey": pub, "privkey_store": "c2VhbGVk",
               "pake_password": "dmVyaWZpZXItb2Yt" + hashlib.sha256(uid.encode()).hexdigest(),
               "meta": {"display_name": name}, "ts": ts}
        hello = {"client": "socp-bench/1", "pubkey": pub, "enc_pubkey": pub,
                 "meta": {"display_name": name}, "ts": ts + 1}
        if caps:
            hello["caps"] = list(caps)
        sigs = self.tool("sign", path, stdin=json.dumps(reg) + "\n" + json.dumps(hello)
                         + "\n").split()
        return (self.h.envelope("USER_REGISTER", uid, "server", reg, ts, sigs[0]),
                self.h.envelope("USER_HELLO", uid, "server", hello, ts + 1, sigs[1]))

    # -- phases --------------------------------------------------------------------------------
    def burst(self, alice: "User", bob: "User", n: int, tag: str,
              during=None, window: int = 0) -> tuple[float, object]:
        """alice writes n pre-signed DMs to bob: all at once, or (window) keeping at most
        `window` of them sent and not yet arrived, as a sender that respects the recipient's
        mailbox bound (--mailbox-max-messages, 1000 by default) would."""
        frames = self.tool("dm", alice.key_file, alice.uid, bob.uid, bob.pub, str(n),
                           tag).splitlines()
        ids = {f"{tag}-{i}" for i in range(n)}
        bob.expect(ids)
        side = None
        pids = {"a": self.a.pid, "b": self.b.pid, "bench": "self"}
        meter = CpuMeter(pids)
        t0 = time.perf_counter()
        sender = None
        if window:
            base = bob.arrived_count()

            def windowed() -> None:
                sent = 0
                while sent < len(frames):
                    bob.wait_count(base + sent + 100 - window, 600)
                    alice.send_lines(frames[sent:sent + 100])
                    sent += 100
            sender = threading.Thread(target=windowed, daemon=True)
            sender.start()
        else:
            alice.send_lines(frames)
        if during is not None:
            side = during(lambda: not bob.has_all(ids))
        bob.wait_all(ids, timeout=600, sender=alice)
        if sender:
            sender.join()
        took = bob.last_arrival(ids) - t0
        if during is None:  # where the CPU went during a plain burst, per DM
            meter.record(self.cpu_per_dm, n)
        return n / took, side

    def fair_probe(self, carol: "User", dave: "User", erin: "User", busy, tag: str) -> dict:
        # msg_ids are unique per run: a repeated (sender, msg_id) is a duplicate to the server
        frames = self.tool("dm", carol.key_file, carol.uid, dave.uid, dave.pub, "60",
                           tag).splitlines()
        dm_ms, list_ms = [], []
        for i, frame in enumerate(frames):
            if not busy():
                break
            mid = f"{tag}-{i}"
            dave.expect({mid})
            t0 = time.perf_counter()
            carol.send_lines([frame])
            list_ms.append(erin.list_rtt())
            dave.wait_all({mid}, timeout=120)
            dm_ms.append((dave.arrival(mid) - t0) * 1000)
            time.sleep(0.05)  # a person typing, not a flood (benchmark pacing, not a test wait)
        return {"dm": dm_ms, "list": list_ms}

    def sequential(self, alice: "User", bob: "User", n: int) -> list[float]:
        frames = self.tool("dm", alice.key_file, alice.uid, bob.uid, bob.pub, str(n),
                           "seq").splitlines()
        out = []
        for i, frame in enumerate(frames):
            mid = f"seq-{i}"
            bob.expect({mid})
            t0 = time.perf_counter()
            alice.send_lines([frame])
            bob.wait_all({mid}, timeout=60)
            out.append((bob.arrival(mid) - t0) * 1000)
        return out

    def files(self, mib: float) -> float:
        h = self.h
        keys = {}
        for name in ("fila", "filb"):  # one RSA key per account: new keys for new accounts
            keys[name] = self.ws.path("keys", f"{name}.pem")
            self.tool("keygen", "4", keys[name])
        sender = h.CliProcess.register(self.ws, "fila", self.a.port, key=keys["fila"],
                                       home=self.ws.dir("home-files-a"))
        sender.logged_in(60)
        receiver = h.CliProcess.register(self.ws, "filb", self.b.port, key=keys["filb"],
                                         home=self.ws.dir("home-files-b"))
        receiver.logged_in(60)
        sender.wait_list(lambda users: any(u.get("display_name") == "filb" for u in users), 60,
                         "filb in the sender's /list")
        data = os.urandom(int(mib * (1 << 20)))
        src = self.ws.path("bench-file.bin")
        with open(src, "wb") as f:
            f.write(data)
        since = receiver.mark()
        t0 = time.monotonic()
        sender.send(f"/file filb {src}")
        got = receiver.wait_event("file_received", 1800, since=since)
        took = time.monotonic() - t0
        if got.get("sha256") != hashlib.sha256(data).hexdigest():
            raise SystemExit("file benchmark: the received file differs")
        sender.close()
        receiver.close()
        return len(data) / took / 1e6

    def registrations(self, n: int) -> float:
        primes = "4"
        keys = []
        for i in range(n):
            path = self.ws.path("keys", f"reg-{i}.pem")
            pub = self.tool("keygen", primes, path).strip()
            keys.append((path, pub))
        t_total = 0.0
        for i, (path, pub) in enumerate(keys):
            register, hello = self.login_frames(path, pub, self.h.new_uuid(), f"r{i}", caps=())
            ws = self.h.WsClient(port=self.a.port)
            t0 = time.perf_counter()
            ws.send_json(register)
            wait_frame(ws, lambda m: m["type"] == "ACK"
                       and m["payload"].get("msg_ref") == "USER_REGISTER", 120)
            ws.send_json(hello)
            wait_frame(ws, lambda m: m["type"] == "ACK"
                       and m["payload"].get("msg_ref") == "USER_HELLO", 120)
            t_total += time.perf_counter() - t0
            ws.close()
        return n / t_total

    # -- the run -------------------------------------------------------------------------------
    def run(self) -> None:
        a = self.args
        cores = os.cpu_count() or 1
        self.start_servers()
        limit_before = self.limit()
        # alice sends the bursts with a 4-prime key of the tool's: pre-signing tens of thousands
        # of DMs with a 2-prime fixture key would take minutes.
        alice_key = self.ws.path("keys", "bench-alice.pem")
        self.tool("keygen", "4", alice_key)
        alice = self.user("alice", self.a, key_file=alice_key)
        bob = self.user("bob", self.b)
        carol = self.user("carol", self.a)
        dave = self.user("dave", self.b)
        erin = self.user("erin", self.a)
        for u in (alice, carol, erin):
            u.wait_sees(bob.uid)
            u.wait_sees(dave.uid)
        bursts, fairs = [], {"dm": [], "list": []}
        for r in range(a.rounds):
            self.phase(f"round {r + 1}: burst of {a.dms} DMs")
            rate, _ = self.burst(alice, bob, a.dms, f"burst{r}")
            bursts.append(rate)
            self.phase(f"round {r + 1}: another burst, other users' DMs and /list meanwhile")
            _, side = self.burst(alice, bob, a.fair_dms, f"busy{r}", window=a.window,
                                 during=lambda busy, r=r: self.fair_probe(carol, dave, erin, busy,
                                                                     f"fair{r}"))
            for k in fairs:
                fairs[k] += side[k]
        self.phase(f"{a.sequential} sequential DMs")
        seq = self.sequential(alice, bob, a.sequential)
        limit_after = self.limit()
        limit = statistics.mean([limit_before, limit_after])
        self.metric("signing_limit_one_core", limit, "sig/s (servers' key, 1 thread)")
        self.metric("signing_limit_spread", abs(limit_before - limit_after) / limit, "fraction")
        burst = statistics.median(bursts)
        self.metric("burst_dm_per_s", burst, f"DM/s (median of {a.rounds}, {a.dms} DMs)")
        self.metric("burst_over_limit", burst / limit, "x one core's signatures/s")
        for k in ("a", "b", "bench"):
            self.metric(f"burst_cpu_{k}_ms_per_dm", statistics.median(self.cpu_per_dm[k]),
                        "ms CPU per DM")
        self.metric("burst_machine_busy_cores", statistics.median(self.cpu_per_dm["machine"]),
                    "cores busy during the burst (everything on the machine)")
        self.metric("fair_dm_median_ms", statistics.median(fairs["dm"] or [float("nan")]), "ms")
        self.metric("fair_dm_p99_ms", pct(fairs["dm"], 0.99), "ms")
        self.metric("fair_list_median_ms", statistics.median(fairs["list"] or [float("nan")]),
                    "ms")
        self.metric("fair_list_p99_ms", pct(fairs["list"], 0.99), "ms")
        self.metric("fair_samples", len(fairs["dm"]), "DMs during the bursts")
        self.metric("one_signature_ms", 1000 / limit, "ms")
        self.metric("sequential_median_ms", statistics.median(seq), "ms")
        self.metric("sequential_p99_ms", pct(seq, 0.99), "ms")
        for u in (alice, bob, carol, dave, erin):
            u.close()
        if a.registrations:
            self.phase(f"{a.registrations} registrations")
            argon = float(self.tool("argon2", "3").strip())
            reg = self.registrations(a.registrations)
            self.metric("registrations_per_s", reg, "users/s (register + login, one at a time)")
            self.metric("argon2id_s", argon, "s per hash")
            self.metric("registrations_over_argon2_one_core", reg * argon,
                        "x one core's Argon2id rate")
        if a.file_mib:
            self.phase(f"a {a.file_mib} MiB file")
            mbs = self.files(a.file_mib)
            self.metric("file_mb_per_s", mbs, f"MB/s ({a.file_mib} MiB, A -> B, socp-cli)")
        self.metric("rss_a_kib", self.a.rss_kb(), "KiB")
        self.metric("rss_b_kib", self.b.rss_kb(), "KiB")
        self.metric("cores", cores, "cores")
        self.summary()

    def summary(self) -> None:
        r = {k: v for k, (v, _) in self.results.items()}
        lim = r["signing_limit_one_core"]
        rows = [("signing limit (one core, servers' key)", f"{lim:.0f} sig/s", "1"),
                ("cross-server DM burst", f"{r['burst_dm_per_s']:.0f} DM/s",
                 f"{r['burst_over_limit']:.2f} of the limit"),
                ("other user's DM during a burst, median / p99",
                 f"{r['fair_dm_median_ms']:.1f} / {r['fair_dm_p99_ms']:.1f} ms",
                 f"{r['fair_dm_median_ms'] / r['one_signature_ms']:.1f} signatures"),
                ("other user's /list during a burst, median / p99",
                 f"{r['fair_list_median_ms']:.1f} / {r['fair_list_p99_ms']:.1f} ms",
                 f"{r['fair_list_median_ms'] / r['one_signature_ms']:.1f} signatures"),
                ("sequential DM latency, median / p99",
                 f"{r['sequential_median_ms']:.1f} / {r['sequential_p99_ms']:.1f} ms",
                 f"{r['sequential_median_ms'] / r['one_signature_ms']:.1f} signatures")]
        if "registrations_per_s" in r:
            rows.append(("registration (Argon2id each)", f"{r['registrations_per_s']:.1f} /s",
                         f"{r['registrations_over_argon2_one_core']:.2f} of one core's "
                         "Argon2id rate"))
        if "file_mb_per_s" in r:
            rows.append(("file, socp-cli A -> B", f"{r['file_mb_per_s']:.2f} MB/s", ""))
        rows.append(("server RSS after the run", f"{r['rss_a_kib'] / 1024:.0f} / "
                     f"{r['rss_b_kib'] / 1024:.0f} MiB (A / B)", ""))
        print()
        print(f"| figure | measured | ratio |\n|---|---|---|")
        for name, val, ratio in rows:
            print(f"| {name} | {val} | {ratio} |")

    def close(self) -> None:
        self.h.stop_all()
        self.ws.cleanup()


def wait_frame(ws, pred, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise SystemExit("timed out waiting for a frame")
        m = ws.recv_json(left)
        if m.get("type") == "ERROR":
            raise SystemExit(f"server error: {m['payload']}")
        if pred(m):
            return m


class User:
    """A logged-in user on a raw WebSocket: a reader thread stamps each delivered message's
    arrival, acknowledges deliveries like socp-cli does, and answers list round trips."""

    def __init__(self, bench: Bench, name: str, port: int, fixture: str | None,
                 key_file: str | None = None) -> None:
        """A fixture user, or (key_file) one with a key socp_bench_tool made: its frames are
        then signed by the tool (a 4-prime key pre-signs a long burst 3x faster)."""
        h = bench.h
        self.h = h
        self.uid = h.new_uuid()
        if key_file is None:
            self.key_file = bench.ws.keys[fixture]
            key = bench.rsa.PrivateKey.from_pem(h.fixture_pem(fixture))
            self.pub = key.public.b64url()
            register = h.user_register(key, self.uid, name)
            # A socp client (caps socp/1, as socp-cli): its DMs are kept until it acknowledges
            # them, and it takes USER_DELIVER_BATCH.
            hello = h.user_hello(key, self.uid, name, caps=["socp/1"])
        else:
            self.key_file = key_file
            self.pub = bench.tool("pub", key_file).strip()
            register, hello = bench.login_frames(key_file, self.pub, self.uid, name)
        self.ws = h.WsClient(port=port)
        self.ws.send_json(register)
        wait_frame(self.ws, lambda m: m["type"] == "ACK"
                   and m["payload"].get("msg_ref") == "USER_REGISTER", 60)
        self.ws.send_json(hello)
        wait_frame(self.ws, lambda m: m["type"] == "ACK"
                   and m["payload"].get("msg_ref") == "USER_HELLO", 60)
        self.cond = threading.Condition()
        self.arrived: dict[str, float] = {}
        self.lists: list[tuple[float, dict]] = []
        self.failed: dict[str, int] = {}  # RECEIPTS failed, by code
        self.send_lock = threading.Lock()
        self.stop = False
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        while not self.stop:
            try:
                m = self.ws.recv_json(0.5)
            except TimeoutError:
                continue
            except Exception:  # noqa: BLE001 - closed socket ends the reader
                return
            now = time.perf_counter()
            t = m.get("type")
            ids = []
            if t == "USER_DELIVER":
                ids = [m["payload"].get("msg_id")]
            elif t == "USER_DELIVER_BATCH":
                ids = [e.get("msg_id") for e in m["payload"].get("messages", [])]
            if ids:
                with self.cond:
                    for i in ids:
                        self.arrived.setdefault(i, now)
                    self.cond.notify_all()
                self.send_json(self.h.envelope("DELIVERY_ACK", self.uid, "server",
                                               {"ids": [i for i in ids if i]}))
            elif t == "LIST_RESPONSE":
                with self.cond:
                    self.lists.append((now, m["payload"]))
                    self.cond.notify_all()
            elif t == "RECEIPTS":
                with self.cond:
                    for f in m["payload"].get("failed", []):
                        code = f.get("code", "?")
                        self.failed[code] = self.failed.get(code, 0) + 1

    def send_json(self, obj) -> None:
        with self.send_lock:
            self.ws.send_json(obj)

    def send_lines(self, lines: list[str]) -> None:
        with self.send_lock:
            for line in lines:
                self.ws.send_text(line)

    def expect(self, ids: set[str]) -> None:
        with self.cond:
            for i in ids:
                self.arrived.pop(i, None)

    def arrived_count(self) -> int:
        with self.cond:
            return len(self.arrived)

    def wait_count(self, n: int, timeout: float) -> None:
        with self.cond:
            if not self.cond.wait_for(lambda: len(self.arrived) >= n, timeout):
                raise SystemExit("the recipient stopped receiving")

    def has_all(self, ids: set[str]) -> bool:
        with self.cond:
            return all(i in self.arrived for i in ids)

    def wait_all(self, ids: set[str], timeout: float, sender: "User | None" = None) -> None:
        """Until every id arrived; with `sender`, stops early (and says why) once the ids that
        did not arrive are accounted for by failed receipts to the sender."""
        deadline = time.monotonic() + timeout
        while True:
            with self.cond:
                missing = len([i for i in ids if i not in self.arrived])
                if missing == 0:
                    return
                self.cond.wait(0.2)
            failed = sender.failed_total() if sender else 0
            if failed >= missing or time.monotonic() > deadline:
                why = f"; the sender was told failed: {sender.failed}" if failed else ""
                raise SystemExit(f"{missing} of {len(ids)} DMs did not arrive{why}")

    def failed_total(self) -> int:
        with self.cond:
            return sum(self.failed.values())

    def arrival(self, mid: str) -> float:
        with self.cond:
            return self.arrived[mid]

    def last_arrival(self, ids: set[str]) -> float:
        with self.cond:
            return max(self.arrived[i] for i in ids)

    def list_rtt(self) -> float:
        with self.cond:
            n = len(self.lists)
        t0 = time.perf_counter()
        self.send_json(self.h.envelope("LIST_REQUEST", self.uid, "server", {}))
        with self.cond:
            if not self.cond.wait_for(lambda: len(self.lists) > n, 120):
                raise SystemExit("no LIST_RESPONSE in 120 s")
            return (self.lists[n][0] - t0) * 1000

    def wait_sees(self, uid: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.list_rtt()
            with self.cond:
                users = self.lists[-1][1].get("users", [])
            if any(u.get("user_id") == uid for u in users):
                return
            time.sleep(0.1)  # polling the directory, a benchmark set-up step
        raise SystemExit(f"user {uid} never appeared in the directory")

    def close(self) -> None:
        self.stop = True
        self.reader.join(2)
        self.ws.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--build", default=os.path.join(ROOT, "build"), help="CMake build directory")
    p.add_argument("--dms", type=int, default=2000, help="DMs per burst")
    p.add_argument("--fair-dms", type=int, default=10000,
                   help="DMs of the burst during which other users' DMs and /list are timed "
                        "(long enough to take several seconds)")
    p.add_argument("--window", type=int, default=800,
                   help="during that burst, at most this many of alice's DMs sent and not yet "
                        "arrived (below the recipient's mailbox bound of 1000)")
    p.add_argument("--rounds", type=int, default=1, help="bursts (median reported)")
    p.add_argument("--sequential", type=int, default=100, help="one-at-a-time DMs")
    p.add_argument("--two-prime", action="store_true", help="2-prime server identities")
    p.add_argument("--file-mib", type=float, default=1.0, help="file size (0: skip)")
    p.add_argument("--registrations", type=int, default=20, help="new users to register (0: skip)")
    p.add_argument("--server-arg", action="append", default=[],
                   help="one more socp-server argument for both servers (repeatable), e.g. "
                        "--server-arg=--sign-threads=1")
    bench = Bench(p.parse_args())
    try:
        bench.run()
    finally:
        bench.close()


if __name__ == "__main__":
    main()
