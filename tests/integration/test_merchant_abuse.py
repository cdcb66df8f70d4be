"""The EPay / epusdt endpoints against strangers (SPEC §9, issue 18), the
real depositd:

- EPay's parameter list is closed: a value carrying "&out_trade_no=" (the
  signature joins values unescaped), an unknown or a repeated parameter is
  refused with a 400 naming it, even correctly signed, and creates nothing;
- notify_url / callback destinations on loopback, private, link-local or
  metadata addresses are refused unless [merchant].allow_private_notify;
- a [merchant].key of 20 characters fails `depositd --check-config` (exit 2)
  and the message says how to make one.

The node is never needed here: the chain points at a closed port.
"""
import json
import os
import shutil
import subprocess
import tempfile
import unittest
import urllib.parse

from harness import DEPOSITD, Daemon, evm_chain_block, free_port, http_json, pool_addresses
from orders_shop import MERCHANT_KEY, MERCHANT_PID, epay_sign, epusdt_sign, http_raw, orders_toml

TOKEN = "0x5FbDB2315678afecb367f032d93F642f64180aa3"


class MerchantEndpointsUnderAbuse(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="depositd-merchant-abuse-")
        wd = os.path.join(cls.work, "d")
        os.makedirs(wd)
        dead = f"http://127.0.0.1:{free_port()}"
        cls.d = Daemon(wd, evm_chain_block("local", dead, TOKEN), extra=orders_toml(private_notify=False))
        cls.d.import_addresses(pool_addresses(4, seed=99))
        cls.d.start()

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        shutil.rmtree(cls.work, ignore_errors=True)

    def orders_total(self):
        status, res = self.d.get("/api/v1/orders")
        self.assertEqual(status, 200, res)
        return res["data"]["pagination"]["total"]

    def params(self, **over):
        p = {"pid": str(MERCHANT_PID), "type": "usdt.local", "out_trade_no": "SHOP-1",
             "notify_url": "https://shop.example/epay/notify", "return_url": "https://shop.example/return",
             "name": "VIP", "money": "70.00"}
        p.update(over)
        return p

    @staticmethod
    def signed(p):
        p = dict(p)
        p["sign"] = epay_sign(p)
        p["sign_type"] = "MD5"
        return p

    def submit(self, query_text, path="/submit.php"):
        return http_raw("GET", self.d.url(path) + "?" + query_text)

    def test_smuggled_epay_parameters_create_nothing(self):
        before = self.orders_total()
        cases = [
            # A name the shop signed that carries another order's number.
            (urllib.parse.urlencode(self.signed(self.params(name="VIP&out_trade_no=VIP-9"))), "out_trade_no"),
            (urllib.parse.urlencode(self.signed(self.params(param="x&money=0.01"))), "money"),
            (urllib.parse.urlencode(self.signed(self.params(foo="bar"))), "foo"),
            (urllib.parse.urlencode(self.signed(self.params())) + "&out_trade_no=VIP-9", "twice"),
        ]
        for query, word in cases:
            status, headers, body = self.submit(query)
            self.assertEqual(status, 400, (query, body[:300]))
            self.assertIn("text/html", headers["content-type"])
            self.assertIn(word, body.decode())
            status, _, body = http_raw("POST", self.d.url("/mapi.php"), query,
                                       {"content-type": "application/x-www-form-urlencoded"})
            answer = json.loads(body)
            self.assertEqual(answer["code"], -1, answer)
            self.assertIn(word, answer["msg"])
        self.assertEqual(self.orders_total(), before)
        # What was refused before works as a real shop sends it.
        status, headers, body = self.submit(urllib.parse.urlencode(self.signed(self.params(out_trade_no="OK-1"))))
        self.assertEqual(status, 302, body)
        self.assertEqual(self.orders_total(), before + 1)

    def test_notify_urls_on_private_addresses_are_refused(self):
        before = self.orders_total()
        for i, url in enumerate(["http://127.0.0.1:8080/notify", "http://10.0.0.5/notify", "http://[::1]/n",
                                 "http://169.254.169.254/latest/meta-data", "http://localhost/n",
                                 "http://2130706433/n", "http://192.168.1.10:8000/n"]):
            p = self.signed(self.params(out_trade_no=f"PRIV-{i}", notify_url=url))
            status, _, body = self.submit(urllib.parse.urlencode(p))
            self.assertEqual(status, 400, (url, body[:300]))
            self.assertIn("allow_private_notify", body.decode())
            cb = {"order_id": f"EPU-{i}", "amount": 70, "notify_url": url}
            cb["signature"] = epusdt_sign(cb)
            status, res = http_json("POST", self.d.url("/api/v1/order/create-transaction"), cb)
            self.assertEqual(res["status_code"], 400, res)
            self.assertIn("allow_private_notify", res["message"])
        self.assertEqual(self.orders_total(), before)

    def test_a_20_character_merchant_key_fails_check_config(self):
        with open(self.d.config) as f:
            text = f.read()
        path = os.path.join(self.work, "short-key.toml")
        with open(path, "w") as f:
            f.write(text.replace(f'key = "{MERCHANT_KEY}"', 'key = "0123456789abcdefghij"'))
        r = subprocess.run([DEPOSITD, "--config", path, "--check-config"], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("merchant.key", r.stderr)
        self.assertIn("openssl rand -hex 16", r.stderr)
        # And the configuration as it was passes.
        r = subprocess.run([DEPOSITD, "--config", self.d.config, "--check-config"], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_a_cooldown_shorter_than_the_skew_fails_check_config(self):
        with open(self.d.config) as f:
            text = f.read()
        path = os.path.join(self.work, "short-cooldown.toml")
        with open(path, "w") as f:
            f.write(text.replace('cooldown = "1h"', 'cooldown = "30s"'))
        r = subprocess.run([DEPOSITD, "--config", path, "--check-config"], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("orders.cooldown", r.stderr)
        self.assertIn("attribution_skew", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
