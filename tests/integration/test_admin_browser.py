"""The operator's console (/admin) in a real browser: Debian's chromium,
headless, driven by npm playwright-core (admin_browser.js), against the real
depositd on a real anvil.

An operator logs in (a wrong password first), sees a deposit paid on anvil
appear on the overview without reloading, marks an order paid with a
reason, resends an event, publishes and archives a payment link, tries the
re-check form, and finds all of it in the audit log; a POST without its
CSRF token and a session reused after logout are refused; a second user
logs in with TOTP (RFC 6238, computed here with hmac). Every page is
screenshot in English and Chinese into <build>/screenshots/admin/ for
review. Here the test checks through the API what the browser did: the
order's webhooks say "manual": true, the audit log names the console user.

Skipped (exit 77) only when chromium is not installed (scripts/setup --test).
"""
import base64
import hashlib
import hmac
import json
import os
import shutil
import struct
import subprocess
import tempfile
import time
import unittest

from browser import CHROMIUM, Driver, skip_without_chromium

skip_without_chromium()

from harness import BUILD, DEPOSITCTL, Anvil, Daemon, Receiver, evm_chain_block, pool_addresses, wait_until  # noqa: E402
from orders_shop import orders_toml  # noqa: E402

DRIVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "admin_browser.js")
SHOTS = os.path.join(BUILD, "screenshots", "admin")
PASSWORD = "correct horse battery staple"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def totp(secret_b32, at=None, step=30, digits=6):
    """RFC 6238 TOTP (HMAC-SHA1), written from the RFC."""
    key = base64.b32decode(secret_b32)
    counter = int((time.time() if at is None else at) // step)
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    code = (struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % (10 ** digits)
    return str(code).zfill(digits)


def hash_password(password):
    """depositctl admin hash-password, fed on stdin (never on the command line)."""
    r = subprocess.run([DEPOSITCTL, "admin", "hash-password"], input=password + "\n", capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


class ConsoleInBrowser(unittest.TestCase):
    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="depositd-admin-")
        self.cleanups = []

    def tearDown(self):
        for fn in reversed(self.cleanups):
            try:
                fn()
            except Exception:  # noqa: BLE001
                pass
        shutil.rmtree(self.work, ignore_errors=True)

    def test_console_in_chromium(self):
        # TOTP codes are refused once used: never start right at the end of a step.
        if time.time() % 30 > 20:
            time.sleep(31 - time.time() % 30)
        anvil = Anvil()
        self.cleanups.append(anvil.stop)
        token = anvil.deploy_token()
        hook = Receiver()
        self.cleanups.append(hook.stop)
        hashed = hash_password(PASSWORD)
        self.assertTrue(hashed.startswith("$argon2id$v=19$"), hashed)
        admin = ("[admin]\nusers = [\n"
                 f"  {{ name = \"alice\", password_hash = \"{hashed}\" }},\n"
                 f"  {{ name = \"bob\", password_hash = \"{hashed}\", totp_secret = \"{TOTP_SECRET}\" }},\n]\n\n")
        wd = os.path.join(self.work, "d")
        os.makedirs(wd)
        d = Daemon(wd, evm_chain_block("local", anvil.url, token, confirmations=2), webhook_url=hook.url,
                   extra=admin + orders_toml())
        self.cleanups.append(d.stop)
        d.import_addresses(pool_addresses(6, seed=55))
        d.start()

        address = d.bind("player_77")
        status, res = d.post("/api/v1/orders", {"orderId": "CONSOLE-1", "amount": "7"})
        self.assertEqual(status, 201, res)
        order = res["data"]["id"]
        status, res = d.post("/api/v1/orders", {"orderId": "CONSOLE-2", "amount": "8"})
        self.assertEqual(status, 201, res)
        order2 = res["data"]["id"]
        status, res = d.post("/api/v1/payment-links", {"title": "Gift card 礼品卡", "amount": "25",
                                                       "currencies": [{"currency": "USDT", "chainId": "local"}]})
        self.assertEqual(status, 201, res)
        link = res["data"]["id"]

        os.makedirs(SHOTS, exist_ok=True)
        settings = {
            "chromium": CHROMIUM, "userDataDir": os.path.join(self.work, "profile"), "noSandbox": os.geteuid() == 0,
            "base": d.url(""), "password": PASSWORD, "reference": "player_88", "order": order, "orderId": "CONSOLE-1",
            "order2": order2, "link": link, "reason": "paid by bank transfer, ticket 4711",
            "txHash": "0x" + "ab" * 32, "shots": SHOTS, "deposit": "",
        }
        # A first deposit, whose page the driver will show; the second one (player_88) is paid
        # while the driver watches the overview, which must show it without a reload.
        anvil.transfer_token(token, address, 4_200_000)
        deposit = wait_until(lambda: (d.get("/api/v1/deposits?depositReference=player_77")[1]["data"]["deposits"]
                                      or [None])[0], timeout=30, what="deposit recorded")
        settings["deposit"] = deposit["id"]
        address2 = d.bind("player_88")
        driver = Driver(self, DRIVER, settings, self.work)
        self.cleanups.append(driver.stop)
        expect, send = driver.expect, driver.send
        expect("REFUSED")
        expect("READY")
        paid_tx = anvil.transfer_token(token, address2, 1_000_000)["transactionHash"]
        send("paid")
        expect("DEPOSIT")
        expect("MARKED")
        event_id = expect("RESENT")
        expect("LINKS")
        recheck = expect("RECHECK")
        # The form's hash is one no chain has: the re-check asked the node and says so.
        self.assertTrue(recheck.startswith("404 "), recheck)
        expect("AUDIT")
        expect("CSRF")
        shots = expect("SHOTS")
        self.assertEqual(shots, "20")
        expect("LOGOUT")
        expect("NEED_TOTP")
        send(totp(TOTP_SECRET))
        expect("TOTP")
        driver.finish()

        # What the browser did, seen from the API.
        status, res = d.get(f"/api/v1/orders/{order}")
        self.assertEqual(res["data"]["status"], "completed")
        self.assertTrue(res["data"]["manual"])
        status, res = d.get(f"/api/v1/orders/{order2}")
        self.assertEqual(res["data"]["status"], "waiting", "the forged POST changed nothing")
        status, res = d.get(f"/api/v1/payment-links/{link}")
        self.assertEqual(res["data"]["status"], "archived")
        status, res = d.get("/api/v1/audit?limit=100")
        self.assertEqual(status, 200, res)
        entries = res["data"]["entries"]
        by_action = {}
        for e in entries:
            by_action.setdefault(e["action"], []).append(e)
        mark = by_action["order.mark_paid"][0]
        self.assertEqual((mark["actor"]["kind"], mark["actor"]["name"]), ("console", "alice"))
        self.assertEqual(mark["target"], order)
        self.assertEqual(mark["reason"], "paid by bank transfer, ticket 4711")
        self.assertEqual(by_action["event.resend"][0]["target"], event_id)
        self.assertEqual(len(by_action["link.publish"]), 1)
        self.assertEqual(len(by_action["link.archive"]), 1)
        self.assertEqual({e["actor"]["name"] for e in by_action["console.login"]}, {"alice", "bob"})
        self.assertEqual(len(by_action["console.logout"]), 1)
        self.assertNotIn("deposit.recheck", by_action, "a re-check that found nothing is not an action")
        # A re-check over the API of the transaction the scanner already
        # recorded: found, nothing new, and written to the audit log as the key's.
        status, res = d.post("/api/v1/deposits/recheck", {"chainId": "local", "txHash": paid_tx})
        self.assertEqual(status, 200, res)
        self.assertEqual(res["data"]["recorded"], 0)
        self.assertEqual(len(res["data"]["deposits"]), 1)
        status, res = d.get("/api/v1/audit?action=deposit.recheck")
        self.assertEqual(status, 200, res)
        entry = res["data"]["entries"][0]
        self.assertEqual((entry["actor"]["kind"], entry["target"]), ("api", paid_tx))
        self.assertEqual(json.loads(entry["detail"]) if isinstance(entry["detail"], str) else entry["detail"],
                         {"chainId": "local", "deposits": 1, "recorded": 0})
        # The shop's backend heard of it: order.paid and order.completed, "manual": true, completed resent once more.
        wait_until(lambda: len([e for e in hook.of_type("order.completed") if e["data"]["id"] == order]) >= 2,
                   timeout=30, what="order.completed delivered, then resent")
        paid = [e for e in hook.of_type("order.paid") if e["data"]["id"] == order]
        self.assertTrue(paid and paid[0]["data"]["manual"])
        # Failures were logged without the password.
        log = d.log_text()
        self.assertIn("console login of alice from 127.0.0.1", log)
        self.assertIn("failed: wrong password", log)
        self.assertNotIn("not the password", log)
        self.assertNotIn(PASSWORD, log)
        for name in ("overview-en", "overview-zh", "order-en", "audit-zh", "login-en"):
            path = os.path.join(SHOTS, name + ".png")
            self.assertTrue(os.path.getsize(path) > 5000, path)


if __name__ == "__main__":
    unittest.main(verbosity=2)
