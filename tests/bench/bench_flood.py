#!/usr/bin/env python3
"""Signature budget under a flood, measured on a real socp-server (not run by ctest).

mallory floods LIST_REQUESTs (each answer costs the server one RSA signature) while bob does
/list round trips. Prints METRIC lines: how many signatures mallory's connection caused,
whether it was closed, and bob's round trip before and during the flood, next to the
signatures per second one core makes on this machine (openssl speed, same run).

  SOCP_SERVER_BIN=build/server/socp-server python3 tests/bench/bench_flood.py [seconds]
"""
import os
import re
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "system"))
os.environ.setdefault("SOCP_SERVER_BIN", os.path.join(HERE, "..", "..", "build", "server",
                                                      "socp-server"))
os.environ.setdefault("SOCP_CLI_BIN", os.path.join(HERE, "..", "..", "build", "client",
                                                   "socp-cli"))
import socp_harness as h  # noqa: E402
import socp_rsa  # noqa: E402


def signing_limit() -> float:
    """RSA-4096 signatures per second of one core (openssl speed, 2-prime)."""
    out = subprocess.run(["openssl", "speed", "-seconds", "2", "rsa4096"], capture_output=True,
                         text=True).stdout
    m = re.search(r"rsa 4096 bits\s+\S+s\s+\S+s\s+([\d.]+)", out)
    return float(m.group(1)) if m else float("nan")


def login(port: int, name: str, key) -> tuple[h.WsClient, str]:
    ws = h.WsClient(port=port)
    uid = h.new_uuid()
    ws.send_json(h.user_register(key, uid, name))
    assert ws.recv_json(10)["payload"]["msg_ref"] == "USER_REGISTER"
    ws.send_json(h.user_hello(key, uid, name))
    while True:
        m = ws.recv_json(10)
        if m["type"] == "ACK" and m["payload"].get("msg_ref") == "USER_HELLO":
            return ws, uid


def list_rtt(ws: h.WsClient, uid: str) -> float:
    t0 = time.perf_counter()
    ws.send_json(h.envelope("LIST_REQUEST", uid, "server", {}, h.now_ms()))
    while True:
        m = ws.recv_json(30)
        if m.get("type") == "LIST_RESPONSE":
            return (time.perf_counter() - t0) * 1000


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0
    limit = signing_limit()
    ws_root = h.Workspace("socp-bench-flood-")
    try:
        server = h.ServerProcess(ws_root, "flood").start()
        keys = {n: socp_rsa.PrivateKey.from_pem(h.fixture_pem(n)) for n in ("carol", "bob")}
        mallory, mid = login(server.port, "mallory", keys["carol"])
        bob, bid = login(server.port, "bob", keys["bob"])
        before = [list_rtt(bob, bid) for _ in range(20)]
        answered = 0
        closed = threading.Event()
        stop = threading.Event()

        def reader() -> None:
            nonlocal answered
            while not stop.is_set():
                try:
                    op, _ = mallory.recv(1)
                except TimeoutError:
                    continue
                except OSError:
                    closed.set()
                    return
                if op == h.OP_TEXT:
                    answered += 1
                elif op is None or op == h.OP_CLOSE:
                    closed.set()
                    return

        t = threading.Thread(target=reader, daemon=True)
        t.start()
        sent = 0
        during = []
        t_end = time.monotonic() + seconds
        next_probe = time.monotonic()
        while time.monotonic() < t_end:
            if not closed.is_set():
                try:
                    for _ in range(50):
                        mallory.send_json(h.envelope("LIST_REQUEST", mid, "server", {},
                                                     h.now_ms()))
                        sent += 1
                except OSError:
                    closed.set()
            if time.monotonic() >= next_probe:
                during.append(list_rtt(bob, bid))
                next_probe = time.monotonic() + 0.1
        stop.set()
        t.join(2)

        def pct(v, q):
            v = sorted(v)
            return v[min(len(v) - 1, int(q * len(v)))]

        h.metric("signing_limit_one_core", limit, "sig/s")
        h.metric("flood_frames_sent", sent, "frames")
        h.metric("flood_signatures_caused", answered, "signatures")
        h.metric("flood_connection_closed", 1 if closed.is_set() else 0, "bool")
        h.metric("flood_signatures_over_limit_second", answered / limit, "x one core-second")
        h.metric("list_rtt_before_median", statistics.median(before), "ms")
        h.metric("list_rtt_during_median", statistics.median(during), "ms")
        h.metric("list_rtt_during_p99", pct(during, 0.99), "ms")
        h.metric("list_rtt_during_median_over_one_signature",
                 statistics.median(during) / (1000 / limit), "x")
        server.stop()
    finally:
        h.stop_all()
        ws_root.cleanup()


if __name__ == "__main__":
    main()
