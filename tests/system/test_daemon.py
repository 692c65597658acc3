"""socp-server as a daemon: strict config files, `check`, one server per data directory,
--log-file / --pid-file, SIGHUP (reload, log reopen, never fatal), systemd notifications,
per-frame debug logs, and --help agreeing with the man page.

Every server here is a real process on 127.0.0.1 with fixture-free first starts (each data
directory is fresh, so the server generates its identity: that is what a first start does).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import socp_harness as h  # noqa: E402

MAN_PAGE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "packaging",
                        "socp-server.8")


def read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


class NotifySocket:
    """A unix datagram socket standing in for systemd's $NOTIFY_SOCKET."""

    def __init__(self, path: str):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.seen: list[str] = []

    def expect(self, prefix: str, timeout: float = 30.0) -> str:
        """The next datagram; it must start with `prefix`."""
        self.sock.settimeout(timeout)
        try:
            msg = self.sock.recv(4096).decode()
        except socket.timeout as exc:
            raise AssertionError(f"no {prefix!r} notification within {timeout}s "
                                 f"(seen: {self.seen})") from exc
        self.seen.append(msg)
        if not msg.startswith(prefix):
            raise AssertionError(f"expected {prefix!r}, got {msg!r} (seen: {self.seen})")
        return msg

    def close(self) -> None:
        self.sock.close()


class DaemonTest(unittest.TestCase):
    def setUp(self) -> None:
        reason = h.binaries_available()
        if reason:
            self.skipTest(reason)
        self.ws = h.Workspace("socp-systest-daemon-")
        self.addCleanup(self.ws.cleanup)
        self.addCleanup(h.stop_all)

    def run_server(self, *args: str) -> "h.subprocess.CompletedProcess":
        return h.run_server_command(list(args), cwd=self.ws.root)

    # -- config files ---------------------------------------------------------------------------
    def test_unknown_config_key_is_an_error_naming_it(self) -> None:
        cfg = self.ws.write("bad.conf", f'port = {h.free_port()}\ndata_dir = "elsewhere"\n')
        r = self.run_server("--config", cfg)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(r.stderr.strip().splitlines(),
                         [f"socp-server: config file {cfg}: unknown key 'data_dir' "
                          "(did you mean 'data-dir'?)"])
        self.assertFalse(os.path.exists(os.path.join(self.ws.root, "socp-data")),
                         "no identity may appear in the working directory")
        self.assertFalse(os.path.exists(os.path.join(self.ws.root, "elsewhere")))

    def test_bad_config_value_names_the_option(self) -> None:
        cfg = self.ws.write("bad.conf", 'port = "eighty"\n')
        r = self.run_server("--config", cfg)
        self.assertEqual(r.returncode, 1)
        self.assertIn("--port", r.stderr)
        self.assertNotIn("Traceback", r.stderr)
        cfg = self.ws.write("bad2.conf", 'forget-after = "soon"\n')
        r = self.run_server("--config", cfg)
        self.assertEqual(r.returncode, 1)
        self.assertIn("--forget-after", r.stderr)

    # -- check --------------------------------------------------------------------------------
    def test_check(self) -> None:
        port = h.free_port()
        data = os.path.join(self.ws.root, "fresh", "data")
        r = self.run_server("check", "--port", str(port), "--data-dir", data)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("will be created", r.stdout)
        self.assertIn(f"127.0.0.1:{port} (free)", r.stdout)
        self.assertTrue(r.stdout.rstrip().endswith("OK"), r.stdout)
        self.assertFalse(os.path.exists(data), "check changes nothing")

        # Problems: one line each, exit 1.
        not_a_dir = self.ws.write("plain-file", "x")
        with socket.socket() as busy:
            busy.bind((h.HOST, 0))
            busy.listen(1)
            busy_port = busy.getsockname()[1]
            r = self.run_server("check", "--port", str(busy_port), "--data-dir", not_a_dir,
                                "--log-file", "/nonexistent-dir/socp.log")
        self.assertEqual(r.returncode, 1, r.stdout)
        lines = r.stderr.strip().splitlines()
        self.assertEqual(len(lines), 3, r.stderr)
        self.assertIn("is not a directory", lines[0])
        self.assertIn(f"cannot listen on 127.0.0.1:{busy_port}", lines[1])
        self.assertIn("--log-file", lines[2])

        # A running server (the one real first start of the suite: it generates its key):
        # reported with its pid, identity read, the port not tried.
        server = h.ServerProcess(self.ws, "solo", fresh_identity=True).start()
        self.assertIn("generating server identity", read(server.stderr_path))
        r = self.run_server("check", "--port", str(server.port), "--data-dir", server.data_dir)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(f"running on this data dir (pid {server.pid})", r.stdout)
        self.assertIn(server.server_id, r.stdout)
        self.assertEqual(server.stop(), 0)

    # -- one server per data directory -------------------------------------------------------
    def test_second_server_on_the_same_data_dir_refuses(self) -> None:
        first = h.ServerProcess(self.ws, "first").start()
        r = h.run_server_command(["--port", str(h.free_port()), "--data-dir", first.data_dir],
                                 cwd=self.ws.root, timeout=30)
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"is in use by another socp-server (pid {first.pid})", r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        self.assertTrue(first.alive())
        # --print-identity still works beside it (read-only) and agrees with the server.
        r = h.run_server_command(["--data-dir", first.data_dir, "--print-identity"],
                                 cwd=self.ws.root)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(f"server_id   {first.server_id}", r.stdout)
        self.assertEqual(first.stop(), 0)
        # Stopped: the directory is free again, same identity.
        again = h.ServerProcess(self.ws, "first", data_dir=first.data_dir).start()
        self.assertEqual(again.server_id, first.server_id)
        self.assertEqual(again.stop(), 0)

    # -- SIGHUP, log file, pid file, notifications --------------------------------------------
    def test_sighup_reload_logrotate_and_notify(self) -> None:
        ws = self.ws
        log = ws.path("logs", "server.log")
        pid_file = ws.path("run", "socp.pid")
        cfg_path = ws.path("socp.conf")
        port = h.free_port()

        def write_cfg(extra: str) -> None:
            with open(cfg_path, "w", encoding="utf-8") as f:
                f.write(f'port = {port}\nlog-file = "{log}"\npid-file = "{pid_file}"\n{extra}')

        write_cfg('log-level = "info"\n')
        notify = NotifySocket(ws.path("notify.sock"))
        self.addCleanup(notify.close)
        server = h.ServerProcess(ws, "daemon", port=port,
                                 extra_args=["--config", cfg_path],
                                 env={"NOTIFY_SOCKET": notify.path})
        server.start()
        notify.expect("READY=1")
        self.assertEqual(read(pid_file).strip(), str(server.pid))
        h.wait_until(lambda: "server key fingerprint" in read(log), 10,
                     "the log file gets the log lines")
        line = read(log).splitlines()[0]
        self.assertRegex(line, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (INFO |WARN |DEBUG|ERROR) ")

        # logrotate: move the file away, SIGHUP, lines go to a new file of the same name.
        os.rename(log, log + ".1")
        write_cfg('log-level = "debug"\n')
        server.proc.send_signal(signal.SIGHUP)
        notify.expect("RELOADING=1")
        notify.expect("READY=1")
        h.wait_until(lambda: os.path.exists(log) and "configuration re-read" in
                     read(log), 10, "a new log file after SIGHUP")
        self.assertTrue(server.alive(), "SIGHUP must not stop the server\n" + server.logs())
        # The debug level applies at once (to what the server logs from now on).
        with h.WsClient(port=port) as c:
            c.send_text("this is not json")
            c.collect(5)
        h.wait_until(lambda: " DEBUG " in read(log), 10,
                     "debug lines after the reload to log-level debug")

        # A broken config is refused with the key named; the server runs on.
        write_cfg('log-level = "info"\nmax_peers = 3\n')
        server.proc.send_signal(signal.SIGHUP)
        notify.expect("RELOADING=1")
        notify.expect("READY=1")
        h.wait_until(lambda: "unknown key 'max_peers'" in read(log),
                     10, "the refused reload is logged with the key")
        self.assertIn("reload refused", read(log))
        # A change that needs a restart is named.
        write_cfg('host = "127.0.0.2"\n')
        server.proc.send_signal(signal.SIGHUP)
        notify.expect("RELOADING=1")
        notify.expect("READY=1")
        h.wait_until(lambda: "--host changed; it takes effect after a restart" in
                     read(log), 10, "restart-only change named")
        with h.WsClient(port=port) as c:  # still serving on the old address
            self.assertTrue(c.is_open())

        self.assertEqual(server.stop(), 0, server.logs())
        notify.expect("STOPPING=1")
        self.assertFalse(os.path.exists(pid_file), "the pid file is removed at exit")
        self.assertIn("stopped", read(log))

    def test_sighup_without_config_file_is_harmless(self) -> None:
        server = h.ServerProcess(self.ws, "plain").start()
        for n in (1, 2, 3):  # one at a time: signals sent at once may merge into one
            server.proc.send_signal(signal.SIGHUP)
            h.wait_until(lambda: read(server.stderr_path).count("configuration re-read") == n,
                         10, f"reload {n} logged")
        self.assertIn("(command line only)", read(server.stderr_path))
        self.assertTrue(server.alive())
        self.assertEqual(server.stop(), 0)

    def test_debug_level_logs_every_frame(self) -> None:
        server = h.ServerProcess(self.ws, "debug", extra_args=["--log-level", "debug"]).start()
        with h.WsClient(port=server.port) as c:
            c.send_json(h.envelope("LIST_REQUEST", h.new_uuid(), "*", {}))
            c.collect(5)
        h.wait_until(lambda: re.search(r" DEBUG frame LIST_REQUEST ",
                                       read(server.stderr_path)), 10,
                     "a per-frame debug line")
        self.assertEqual(server.stop(), 0)

    # -- monitoring ------------------------------------------------------------------------------
    def test_health_and_metrics_are_scraped_on_the_server_port(self) -> None:
        import json
        import urllib.error
        import urllib.request
        server = h.ServerProcess(self.ws, "metrics").start()
        base = f"http://127.0.0.1:{server.port}"
        with h.WsClient(port=server.port) as c:  # a frame and an ERROR to count
            c.send_json(h.envelope("LIST_REQUEST", h.new_uuid(), "*", {}))
            c.send_text("this is not json")
            c.collect(3)
        with urllib.request.urlopen(base + "/health", timeout=10) as r:
            self.assertEqual(r.status, 200)
            self.assertTrue(r.headers["Content-Type"].startswith("application/json"))
            health = json.loads(r.read())
        for key in ("id", "uptime_s", "links_up", "users_online", "store_ok"):
            self.assertIn(key, health)
        self.assertTrue(health["store_ok"])
        with urllib.request.urlopen(base + "/metrics", timeout=10) as r:
            self.assertEqual(r.status, 200)
            self.assertIn("version=0.0.4", r.headers["Content-Type"])
            text = r.read().decode()
        samples = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                samples[name] = float(value)
        self.assertGreaterEqual(samples.get('socp_frames_in_total{type="LIST_REQUEST"}', 0), 1,
                                text)
        self.assertTrue(any(k.startswith("socp_errors_sent_total{code=") for k in samples), text)
        for name in ("socp_links_up", "socp_users_online", "socp_sign_queue_depth",
                     "socp_queued_messages", "socp_sign_latency_seconds_count",
                     "socp_store_commit_latency_seconds_count", "socp_frames_out_total"):
            self.assertTrue(any(k.split("{")[0] == name for k in samples), f"{name} in\n{text}")
        with self.assertRaises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(base + "/nothing-here", timeout=10)
        self.assertEqual(e.exception.code, 404)
        self.assertEqual(server.stop(), 0)

    # -- documentation -----------------------------------------------------------------------
    def test_help_and_man_page_agree(self) -> None:
        r = self.run_server("--help")
        self.assertEqual(r.returncode, 0)
        options = set(re.findall(r"(--[a-z][a-z0-9-]+)", r.stdout))
        self.assertIn("--log-file", options)
        self.assertNotIn("--test-heartbeat-ms", options, "test options stay hidden")
        with open(MAN_PAGE, encoding="utf-8") as f:
            man = f.read().replace("\\-", "-")
        missing = sorted(o for o in options if o not in man)
        self.assertEqual(missing, [], "options in --help but not in packaging/socp-server.8")
        self.assertIn("check", r.stdout)
        self.assertIn("admin", r.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
