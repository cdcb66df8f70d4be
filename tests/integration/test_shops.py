"""Real shop code against the real depositd on a real anvil (issue 18): the
payment plugins of V2Board (app/Payments/EPay.php), dujiaoka
(YipayController, EpusdtController) and SSPanel-UIM (Gateway/Epay), vendored
unchanged under tests/shops/<shop>/ (licences and origin in their README),
run by `php -S` inside a small stand-in for their framework (shop.php).

For each: the plugin builds and signs the request, depositd creates the
order, the test pays on anvil, depositd's notify reaches the plugin's own
verification which accepts it (the shop's order is paid), and the return
URL opens the shop's order page (V2Board: the hash route #/order/<no>).
"""
import html
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.parse

from harness import SOURCE, Anvil, Daemon, evm_chain_block, free_port, http_json, pool_addresses, wait_until
from orders_shop import MERCHANT_KEY, MERCHANT_PID, http_raw, orders_toml

SHOPS = os.path.join(SOURCE, "tests", "shops")


class PhpShop:
    """One shop's stand-in under `php -S` on a free port (stopped by PID)."""

    def __init__(self, name, work, env):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = os.path.join(work, f"{name}-php.log")
        self.log = open(self.log_path, "wb")
        full = dict(os.environ, SHOP_STATE=os.path.join(work, f"{name}-state.json"), PHP_CLI_SERVER_WORKERS="4", **env)
        self.proc = subprocess.Popen([shutil.which("php"), "-S", f"127.0.0.1:{self.port}", "shop.php"],
                                     cwd=os.path.join(SHOPS, name), env=full, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        wait_until(lambda: socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close() or True,
                   timeout=20, what=f"php -S ({name})")

    def get_json(self, path):
        status, res = http_json("GET", self.base + path)
        return res

    def log_text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.log.close()


def form_of(page):
    """(action, method, fields) of the auto-submitting form a plugin prints."""
    text = page.decode() if isinstance(page, bytes) else page
    form = re.search(r"<form[^>]*action='([^']*)'[^>]*method='([^']*)'", text)
    fields = dict(re.findall(r"<input type='hidden' name='([^']*)' value='([^']*)'/>", text))
    return html.unescape(form.group(1)), form.group(2).upper(), fields


class RealShops(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not shutil.which("php"):
            raise unittest.SkipTest("php is not installed (apt-get install php-cli)")
        cls.work = tempfile.mkdtemp(prefix="depositd-shops-")
        cls.cleanups = []
        try:
            cls.node = Anvil()
            cls.cleanups.append(cls.node.stop)
            cls.token = cls.node.deploy_token()
            wd = os.path.join(cls.work, "d")
            os.makedirs(wd)
            # Shop prices in CNY at 7 CNY per USDT; the shops run on this machine.
            cls.d = Daemon(wd, evm_chain_block("local", cls.node.url, cls.token, confirmations=1),
                           extra=orders_toml())
            cls.cleanups.append(cls.d.stop)
            cls.d.import_addresses(pool_addresses(8, seed=7))
            cls.d.start()
            base = cls.d.url("")
            common = {"EPAY_PID": str(MERCHANT_PID), "EPAY_KEY": MERCHANT_KEY}
            # As docs/merchant.md tells an operator to fill in each admin.
            cls.v2board = PhpShop("v2board", cls.work, {**common, "EPAY_URL": base})
            cls.cleanups.append(cls.v2board.stop)
            cls.sspanel = PhpShop("sspanel", cls.work, {**common, "EPAY_URL": base + "/"})
            cls.cleanups.append(cls.sspanel.stop)
            cls.dujiaoka = PhpShop("dujiaoka", cls.work, {
                "MERCHANT_PID": str(MERCHANT_PID), "MERCHANT_KEY": MERCHANT_KEY,
                "YIPAY_URL": base + "/submit.php", "EPUSDT_URL": base + "/api/v1/order/create-transaction"})
            cls.cleanups.append(cls.dujiaoka.stop)
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for fn in reversed(cls.cleanups):
            try:
                fn()
            except Exception:  # noqa: BLE001
                pass
        if os.environ.get("KEEP_WORK"):
            print("work dir kept:", cls.work)
        else:
            shutil.rmtree(cls.work, ignore_errors=True)

    # --- helpers -------------------------------------------------------------------

    def order(self, oid):
        status, res = self.d.get(f"/api/v1/orders/{oid}")
        self.assertEqual(status, 200, res)
        return res["data"]

    def pay_and_complete(self, trade_no, expect_usdt):
        """Pays the order on anvil; returns it completed, and its payment page's redirect."""
        o = self.order(trade_no)
        self.assertEqual((o["fiatAmount"], o["payAmount"]), ("10", expect_usdt))
        self.node.transfer_token(self.token, o["address"], int(round(float(expect_usdt) * 1_000_000)))
        self.node.mine(1)
        wait_until(lambda: self.order(trade_no)["status"] == "completed", timeout=30, what=f"{trade_no} completed")
        status, st = http_json("GET", self.d.url(f"/pay/{trade_no}/status"))
        self.assertEqual(st["status"], "completed")
        return st["redirectUrl"]

    def delivered(self, trade_no, kind):
        def check():
            status, res = self.d.get(f"/api/v1/events?type={kind}&limit=100")
            return [e for e in res["data"]["events"] if e["order"] == trade_no and e["status"] == "delivered"]
        return wait_until(check, timeout=30, what=f"{kind} of {trade_no} delivered")

    def follow_once(self, url):
        status, headers, body = http_raw("GET", url, timeout=20)
        return status, headers, body

    # --- the shops -----------------------------------------------------------------

    def test_v2board_epay(self):
        res = self.v2board.get_json("/_test/pay?trade_no=2024061812345&total_amount=1000")
        self.assertEqual(res["type"], 1)
        submit = res["data"]
        self.assertTrue(submit.startswith(self.d.url("/submit.php?")), submit)
        status, headers, body = http_raw("GET", submit)
        self.assertEqual(status, 302, body)
        trade_no = headers["location"].rsplit("/", 1)[1]
        back = self.pay_and_complete(trade_no, "1.43")
        self.delivered(trade_no, "epay.notify")
        shop_order = self.v2board.get_json("/_test/order/2024061812345")
        self.assertEqual((shop_order["status"], shop_order["callback_no"]), (1, trade_no))
        self.assertNotIn("", shop_order["notified"].values())  # V2Board signs empty values too: none sent
        # Back to the SPA's hash route, the signed parameters after the fragment.
        url = urllib.parse.urlsplit(back)
        self.assertEqual(f"{url.scheme}://{url.netloc}{url.path}", self.v2board.base + "/")
        route, _, query = url.fragment.partition("?")
        self.assertEqual(route, "/order/2024061812345")
        params = dict(urllib.parse.parse_qsl(query))
        self.assertEqual((params["trade_no"], params["out_trade_no"], params["money"]), (trade_no, "2024061812345", "10"))
        # Those parameters pass V2Board's own check too (its notify route, idempotent).
        status, _, body = http_raw("GET", self.v2board.base + "/api/v1/guest/payment/notify/EPay/c0ffee00?" + query)
        self.assertEqual((status, body), (200, b"success"))
        status, _, page = http_raw("GET", self.v2board.base + "/")
        self.assertEqual(status, 200)
        self.assertIn(b"#\\/order\\/([^?]+)", page)  # the page routes by the fragment it is given

    def test_dujiaoka_yipay(self):
        status, _, _ = http_raw("POST", self.dujiaoka.base + "/_test/order",
                                "order_sn=DJY20240618&actual_price=10.00&pay_id=1",
                                {"content-type": "application/x-www-form-urlencoded"})
        self.assertEqual(status, 200)
        status, _, page = http_raw("GET", self.dujiaoka.base + "/pay/yipay/usdt.local/DJY20240618")
        self.assertEqual(status, 200, page)
        action, method, fields = form_of(page)
        self.assertEqual((action, method), (self.d.url("/submit.php"), "GET"))
        status, headers, body = http_raw("GET", action + "?" + urllib.parse.urlencode(fields))
        self.assertEqual(status, 302, body)
        trade_no = headers["location"].rsplit("/", 1)[1]
        back = self.pay_and_complete(trade_no, "1.43")
        self.delivered(trade_no, "epay.notify")
        shop_order = self.dujiaoka.get_json("/_test/order/DJY20240618")
        self.assertEqual((shop_order["status"], shop_order["trade_no"], shop_order["paid_amount"]), (4, trade_no, "10"))
        # The return URL already had a query: the signed parameters follow it.
        self.assertTrue(back.startswith(self.dujiaoka.base + "/pay/yipay/return_url?order_id=DJY20240618&"), back)
        status, headers, _ = self.follow_once(back)
        self.assertEqual(status, 302)
        self.assertEqual(headers["location"], self.dujiaoka.base + "/detail-order-sn/DJY20240618")
        status, _, page = http_raw("GET", headers["location"])
        self.assertIn(b'<p id="status">completed</p>', page)

    def test_dujiaoka_epusdt(self):
        status, _, _ = http_raw("POST", self.dujiaoka.base + "/_test/order",
                                "order_sn=DJE20240618&actual_price=10.00&pay_id=2",
                                {"content-type": "application/x-www-form-urlencoded"})
        self.assertEqual(status, 200)
        # The plugin posts the signed JSON to depositd itself and sends the payer on.
        status, headers, body = http_raw("GET", self.dujiaoka.base + "/pay/epusdt/epusdt/DJE20240618", timeout=20)
        self.assertEqual(status, 302, body + self.dujiaoka.log_text().encode())
        self.assertTrue(headers["location"].startswith(self.d.url("/pay/ord_")), headers["location"])
        trade_no = headers["location"].rsplit("/", 1)[1]
        back = self.pay_and_complete(trade_no, "1.43")
        self.delivered(trade_no, "epusdt.callback")
        shop_order = self.dujiaoka.get_json("/_test/order/DJE20240618")
        self.assertEqual((shop_order["status"], shop_order["trade_no"]), (4, trade_no))
        self.assertEqual(back, self.dujiaoka.base + "/pay/epusdt/return_url?order_id=DJE20240618")
        status, headers, _ = self.follow_once(back)
        self.assertEqual((status, headers["location"]), (302, self.dujiaoka.base + "/detail-order-sn/DJE20240618"))
        status, _, page = http_raw("GET", headers["location"])
        self.assertIn(b'<p id="status">completed</p>', page)

    def test_sspanel_epay(self):
        status, _, page = http_raw("POST", self.sspanel.base + "/user/payment/purchase/epay",
                                   "price=10&invoice_id=7&type=usdt.local",
                                   {"content-type": "application/x-www-form-urlencoded"})
        self.assertEqual(status, 200, page)
        action, method, fields = form_of(page)
        self.assertEqual((action, method), (self.d.url("/submit.php?"), "POST"))
        self.assertEqual(fields["sitename"], "SSPanel test")
        status, headers, body = http_raw("POST", action, urllib.parse.urlencode(fields),
                                         {"content-type": "application/x-www-form-urlencoded"})
        self.assertEqual(status, 302, body)
        trade_no = headers["location"].rsplit("/", 1)[1]
        back = self.pay_and_complete(trade_no, "1.43")
        # SSPanel answers {"state":"success",...}: delivered on the first attempt.
        events = self.delivered(trade_no, "epay.notify")
        self.assertEqual(events[0]["attempts"], 1)
        row = self.sspanel.get_json("/_test/paylist/" + fields["out_trade_no"])
        self.assertEqual(row["status"], 1)
        self.assertTrue(back.startswith(self.sspanel.base + "/user/payment/return/epay?"), back)
        status, _, page = http_raw("GET", back)
        self.assertEqual(status, 200)
        self.assertIn("你已成功充值 10 元", page.decode())


if __name__ == "__main__":
    unittest.main(verbosity=2)
