"""[notify.telegram] end to end: the real depositd against a real anvil and a
local fake of the Telegram Bot API (fake_telegram.py) that answers like the
real one (ok/result, 429 with parameters.retry_after, 400 on bad MarkdownV2).

Checks: the pool.low alert at start, a deposit.confirmed message after a real
payment, order.paid, a failing webhook receiver reported once, a 429
retried after retry_after, every text valid MarkdownV2, and the bot token
nowhere in the log or the database.
"""
import contextlib
import json
import os
import shutil
import tempfile
import time
import unittest

from fake_telegram import FakeBotApi, markdown_v2_problem
from harness import Anvil, Daemon, evm_chain_block, free_port, pool_addresses, wait_until

TOKEN = "4242424242:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"
SECRET_PART = TOKEN.split(":", 1)[1]
CHAT = -1001234567890


class TelegramEndToEnd(unittest.TestCase):
    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="depositd-telegram-")
        self.cleanups = []

    def tearDown(self):
        for fn in reversed(self.cleanups):
            try:
                fn()
            except Exception:  # noqa: BLE001
                pass
        shutil.rmtree(self.work, ignore_errors=True)

    def test_messages_arrive_throttling_is_retried_and_the_token_stays_secret(self):
        bot = FakeBotApi(TOKEN, CHAT)
        self.cleanups.append(bot.stop)
        bot.throttle = 1  # the very first message is answered 429, retry_after 1
        node = Anvil()
        self.cleanups.append(node.stop)
        token = node.deploy_token()
        dead_receiver = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens: webhooks fail
        extra = (
            "[pool]\nlow_water = 5\n\n"
            "[orders]\ndefault = \"usdt.local\"\n\n"
            f"[notify.telegram]\nbot_token = \"${{TG_TOKEN}}\"\nchat_id = {CHAT}\n"
            f"api_base = \"{bot.base}\"\nalert_interval = \"1s\"\n"
        )
        wd = os.path.join(self.work, "d")
        os.makedirs(wd)
        d = Daemon(wd, evm_chain_block("local", node.url, token, confirmations=2), webhook_url=dead_receiver,
                   schedule='["200ms"]', extra=extra)
        self.cleanups.append(d.stop)
        d.import_addresses(pool_addresses(4, seed=91))
        os.environ["TG_TOKEN"] = TOKEN
        try:
            d.start()
        finally:
            del os.environ["TG_TOKEN"]

        # 4 free addresses, low water 5: the pool alert, after one 429.
        wait_until(lambda: any("Address pool low" in t for t in bot.texts()), timeout=30, what="pool.low message")
        first = bot.requests[0]
        self.assertEqual(first[2], 429)
        def attempts():
            with contextlib.closing(d.db()) as c:
                return c.execute("SELECT a.status_code, a.attempted_at FROM delivery_attempts a JOIN events e "
                                 "ON e.seq = a.event_seq WHERE e.kind = 'telegram' ORDER BY a.id").fetchall()
        # The attempt is recorded just after the Bot API answered: wait for it.
        rows = wait_until(lambda: (r := attempts()) and any(x[0] == 200 for x in r) and r, timeout=10,
                          what="the delivered attempt recorded")
        self.assertEqual(rows[0][0], 429)
        ok_after = [r for r in rows if r[0] == 200]
        self.assertTrue(ok_after, rows)
        self.assertGreaterEqual(ok_after[0][1] - rows[0][1], 1000, "retried before retry_after")

        # A real deposit: deposit.confirmed, with its amount.
        address = d.bind("player_7")
        node.transfer_token(token, address, 12_500_000)
        node.mine(3)
        wait_until(lambda: any("Deposit confirmed" in t for t in bot.texts()), timeout=40,
                   what="deposit.confirmed message")
        text = next(t for t in bot.texts() if "Deposit confirmed" in t)
        self.assertIn("12\\.5 USDT", text)
        self.assertIn("player\\_7", text)
        self.assertIn(address, text)

        # An order paid on chain: order.paid.
        status, res = d.post("/api/v1/orders", {"orderId": "TG-1", "amount": "3"})
        self.assertEqual(status, 201, res)
        node.transfer_token(token, res["data"]["address"], 3_000_000)
        wait_until(lambda: any("Order paid" in t and "TG\\-1" in t for t in bot.texts()), timeout=40,
                   what="order.paid message")

        # The webhook receiver is down: its events fail, reported once.
        wait_until(lambda: any("Deliveries failing" in t for t in bot.texts()), timeout=40,
                   what="webhook.failing message")
        time.sleep(3)
        self.assertEqual(sum("Deliveries failing" in t for t in bot.texts()), 1, bot.texts())

        # Every message was valid MarkdownV2 for the same chat; none was refused.
        for path, body, code in bot.requests:
            self.assertTrue(path.endswith("/sendMessage"))
            self.assertNotEqual(code, 400, body)
            self.assertEqual(str(body["chat_id"]), str(CHAT))
            self.assertEqual(body["parse_mode"], "MarkdownV2")
            self.assertIsNone(markdown_v2_problem(body["text"]), body["text"])

        # The outbox lists them, without the token.
        status, res = d.get("/api/v1/events?type=notify.telegram&limit=100")
        self.assertEqual(status, 200, res)
        self.assertTrue(res["data"]["events"])
        self.assertNotIn(SECRET_PART, json.dumps(res))

        d.stop()
        log = d.log_text()
        self.assertIn("telegram", log)
        self.assertNotIn(SECRET_PART, log)
        with contextlib.closing(d.db()) as c:
            for (table,) in c.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
                for row in c.execute(f"SELECT * FROM \"{table}\"").fetchall():
                    self.assertNotIn(SECRET_PART, repr(row), table)


if __name__ == "__main__":
    unittest.main(verbosity=2)
