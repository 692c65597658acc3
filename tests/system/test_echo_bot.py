"""examples/echo_bot on a 2-server mesh: alice (socp-cli, server A) sends the bot (server B) a
DM and gets it back, echoed; both directions report "delivered"."""

from __future__ import annotations

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import socp_harness as h  # noqa: E402

BOT_BIN = os.environ.get("SOCP_ECHO_BOT_BIN", "")


class EchoBotTest(unittest.TestCase):
    def setUp(self) -> None:
        reason = h.binaries_available()
        if reason:
            self.skipTest(reason)
        if not os.path.exists(BOT_BIN):
            self.skipTest("SOCP_ECHO_BOT_BIN not built")
        self.ws = h.Workspace("socp-systest-echo-")
        self.addCleanup(self.ws.cleanup)
        self.addCleanup(h.stop_all)

    def test_echo(self) -> None:
        ws = self.ws
        fast = h.FAST_MESH_TIMERS
        a = h.ServerProcess(ws, "A", extra_args=fast).start()
        b = h.ServerProcess(ws, "B", introducers=[a.port], extra_args=fast).start()
        # The bot's identity: registered with socp-cli (fixture key "bob"), then the bot logs in.
        reg = h.CliProcess.register(ws, "bob", b.port, extra=["--no-session"])
        bot_id = reg.logged_in()["user_id"]
        self.assertEqual(reg.wait_exit(15), 0)
        bot = h.CliProcess(ws, "echo-bot", [ws.dir("home"), "bob", ws.password_file,
                                            f"{h.HOST}:{b.port}"], binary=BOT_BIN)
        self.assertEqual(bot.logged_in()["user_id"], bot_id)

        alice = h.CliProcess.register(ws, "alice", a.port)
        alice.logged_in()
        alice.wait_list(lambda us: any(u["user_id"] == bot_id and u["online"] for u in us), 30,
                        "alice sees the bot online")
        since = alice.mark()
        alice.send("/tell bob ping ✓")
        echo = alice.wait_event("message", 30, since=since, text="echo: ping ✓")
        self.assertEqual(echo["from"], bot_id)
        self.assertTrue(echo["verified"])
        self.assertTrue(alice.wait_event("delivered", 30, since=since, to=bot_id))
        # The bot heard of its echo's fate too.
        self.assertTrue(bot.wait_event("delivered", 30, since=0))
        self.assertEqual(alice.close(), 0)
        bot.kill()


if __name__ == "__main__":
    unittest.main()
