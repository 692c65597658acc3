#!/usr/bin/env python3
"""Bulk files between real processes (not run by ctest): two socp-servers (B joins A), alice on
A sends bob on B a file of SOCP_BENCH_BULK_MIB MiB (default 64) with /file, in bulk mode.

Prints METRIC lines: the transfer time and MB/s, the CPU seconds each process spent on it, (from alice's /file to bob's file_received),
one core's XChaCha20-Poly1305 + SHA-256 throughput measured in the same run (the
socp_bench_files "[bulk]" case prints it; here `openssl speed` for ChaCha20-Poly1305 and
SHA-256 stands in, both figures one core), the ratio, and each server's peak RSS (VmHWM)
before and after the transfer -- the per-transfer memory bound is 16 chunks in flight
(docs/protocol-notes.md "Bulk files").

  python3 tests/bench/bench_bulk_system.py [build-dir]
"""
import hashlib
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "build"))
sys.path.insert(0, os.path.join(HERE, "..", "system"))
os.environ.setdefault("SOCP_SERVER_BIN", os.path.join(BUILD, "server", "socp-server"))
os.environ.setdefault("SOCP_CLI_BIN", os.path.join(BUILD, "client", "socp-cli"))
os.environ.setdefault("SOCP_VECTORS_DIR", os.path.join(HERE, "..", "vectors"))
os.environ.setdefault("SOCP_FIXTURES_DIR", os.path.join(HERE, "..", "fixtures"))
import socp_harness as h  # noqa: E402


def openssl_mb_per_s(alg: str) -> float:
    """One core, 256 KiB blocks (the bulk chunk size), in MB/s."""
    out = subprocess.run(["openssl", "speed", "-seconds", "2", "-bytes", "262144", "-evp", alg],
                         capture_output=True, text=True).stdout
    line = [ln for ln in out.splitlines() if ln.lower().startswith(alg.lower())]
    if not line:
        return float("nan")
    m = re.findall(r"([\d.]+)k", line[-1])
    return float(m[-1]) * 1000 / 1e6 if m else float("nan")


def vm_hwm_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def cpu_s(pid: int) -> float:
    """User + system CPU seconds the process used so far."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    mib = int(os.environ.get("SOCP_BENCH_BULK_MIB", "64"))
    aead = openssl_mb_per_s("chacha20-poly1305")
    sha = openssl_mb_per_s("sha256")
    hw = 1 / (1 / aead + 1 / sha)  # one pass: seal and hash each byte once, one core
    h.metric("hw_chacha20poly1305_mb_per_s", aead, "MB/s (openssl speed, one core)")
    h.metric("hw_sha256_mb_per_s", sha, "MB/s (openssl speed, one core)")
    h.metric("hw_aead_plus_sha256_mb_per_s", hw, "MB/s (one core, both per byte)")
    ws = h.Workspace("socp-bench-bulk-")
    try:
        a = h.ServerProcess(ws, "A").start()
        b = h.ServerProcess(ws, "B", introducers=[a.port]).start()
        alice = h.CliProcess.register(ws, "alice", a.port)
        bob = h.CliProcess.register(ws, "bob", b.port)
        alice.logged_in(60)
        bob.logged_in(60)
        alice.wait_list(lambda us: any(u["display_name"] == "bob" and u["online"] for u in us),
                        30, "alice sees bob")
        hwm0 = {s.name: vm_hwm_kb(s.pid) for s in (a, b)}
        src = os.path.join(ws.root, "big.bin")
        digest = hashlib.sha256()
        with open(src, "wb") as f:
            for _ in range(mib):
                block = os.urandom(1 << 20)
                digest.update(block)
                f.write(block)
        for size_mib, path in ((1, None), (mib, src)):
            if path is None:
                path = os.path.join(ws.root, "one.bin")
                with open(path, "wb") as f:
                    f.write(os.urandom(1 << 20))
            procs = {"server_A": a.pid, "server_B": b.pid, "cli_alice": alice.proc.pid,
                     "cli_bob": bob.proc.pid}
            cpu0 = {k: cpu_s(p) for k, p in procs.items()}
            since = bob.mark()
            t0 = time.monotonic()
            alice.send(f"/file bob {path}")
            got = bob.wait_event("file_received", 600, since=since)
            s = time.monotonic() - t0
            assert got["size"] == size_mib << 20, got
            if path == src:
                assert got["sha256"] == digest.hexdigest(), got
            os.unlink(got["path"])
            mbps = (size_mib << 20) / 1e6 / s
            h.metric(f"bulk_{size_mib}mib_real_servers_s", s, "s")
            h.metric(f"bulk_{size_mib}mib_real_servers_mb_per_s", mbps, "MB/s")
            h.metric(f"bulk_{size_mib}mib_real_servers_vs_hw", mbps / hw,
                     "x of one core's AEAD+SHA-256")
            for k, p in procs.items():
                h.metric(f"bulk_{size_mib}mib_cpu_{k}_s", cpu_s(p) - cpu0[k], "CPU s")
        for srv in (a, b):
            h.metric(f"server_{srv.name}_peak_rss_before_mib", hwm0[srv.name] / 1024, "MiB")
            h.metric(f"server_{srv.name}_peak_rss_after_mib", vm_hwm_kb(srv.pid) / 1024, "MiB")
    finally:
        h.stop_all()
        ws.cleanup()


if __name__ == "__main__":
    main()
