"""The payment page in a real browser: Debian's chromium, headless, driven by
npm playwright-core (pay_browser.js). An EPay order on a real anvil: the page
shows the address, the amount and the QR code without a script error (the
strict CSP admits its script), the status changes without a reload after a
real payment, the browser is sent to the shop's return URL with parameters
signed like the notify (checked here with hashlib), and a zh-CN browser gets
the page in Chinese.

Skipped (exit 77, ctest SKIP_RETURN_CODE) only when chromium is not
installed; `make test` installs it (scripts/setup --test).
"""
import os
import shutil
import tempfile
import unittest
import urllib.parse

from browser import CHROMIUM, Driver, skip_without_chromium

skip_without_chromium()

from harness import Anvil, Daemon, evm_chain_block, pool_addresses, wait_until  # noqa: E402
from orders_shop import MERCHANT_PID, Shop, epay_sign, http_raw, orders_toml  # noqa: E402

DRIVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pay_browser.js")


class PayPageInBrowser(unittest.TestCase):
    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="depositd-browser-")
        self.cleanups = []

    def tearDown(self):
        for fn in reversed(self.cleanups):
            try:
                fn()
            except Exception:  # noqa: BLE001
                pass
        shutil.rmtree(self.work, ignore_errors=True)

    def submit(self, d, shop, out_trade_no):
        params = {"pid": str(MERCHANT_PID), "type": "usdt.local", "out_trade_no": out_trade_no,
                  "notify_url": shop.base + "/epay/notify", "return_url": shop.base + "/return",
                  "name": "会员 VIP", "money": "35"}
        params["sign"] = epay_sign(params)
        params["sign_type"] = "MD5"
        status, headers, body = http_raw("GET", d.url("/submit.php") + "?" + urllib.parse.urlencode(params))
        self.assertEqual(status, 302, body)
        return headers["location"].rsplit("/", 1)[1]

    def test_payment_page_in_chromium(self):
        anvil = Anvil()
        self.cleanups.append(anvil.stop)
        token = anvil.deploy_token()
        shop = Shop()
        self.cleanups.append(shop.stop)
        wd = os.path.join(self.work, "d")
        os.makedirs(wd)
        d = Daemon(wd, evm_chain_block("local", anvil.url, token, confirmations=3), extra=orders_toml())
        self.cleanups.append(d.stop)
        d.import_addresses(pool_addresses(3, seed=77))
        d.start()

        trade_no = self.submit(d, shop, "WEB-1")
        zh_trade_no = self.submit(d, shop, "WEB-2")
        order = d.get(f"/api/v1/orders/{trade_no}")[1]["data"]
        self.assertEqual(order["payAmount"], "5")  # 35 CNY at 7

        settings = {
            "chromium": CHROMIUM, "userDataDir": os.path.join(self.work, "profile"),
            "noSandbox": os.geteuid() == 0,
            "url": d.url(f"/pay/{trade_no}"), "zhUrl": d.url(f"/pay/{zh_trade_no}"),
            "address": order["address"], "amount": "5", "currency": "USDT", "uri": order["paymentUri"],
            "returnPrefix": shop.base + "/return",
        }
        driver = Driver(self, DRIVER, settings, self.work)
        self.cleanups.append(driver.stop)
        expect, send = driver.expect, driver.send

        expect("READY")
        anvil.transfer_token(token, order["address"], 5_000_000)   # one block: seen, not confirmed
        send("paid")
        expect("PAID")
        anvil.mine(3)
        send("mined")
        back = expect("REDIRECT")
        self.assertTrue(back.startswith(shop.base + "/return?"), back)
        params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(back).query))
        self.assertEqual(params["sign"], epay_sign(params))
        self.assertEqual((params["trade_no"], params["out_trade_no"], params["trade_status"], params["money"]),
                         (trade_no, "WEB-1", "TRADE_SUCCESS", "35"))
        self.assertEqual(shop.returns[-1], params)
        expect("ZH")
        driver.finish()
        wait_until(lambda: d.get(f"/api/v1/orders/{trade_no}")[1]["data"]["status"] == "completed", timeout=10,
                   what="order completed")


if __name__ == "__main__":
    unittest.main(verbosity=2)
