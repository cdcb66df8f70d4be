"""examples/merchant/epay_notify.php, the PHP receiver of docs/merchant.md,
checked with `php -S`: a notify signed here with hashlib is accepted
("success"), a tampered or unsigned one is refused; then the same receiver
takes a real notify from depositd after a real payment on anvil."""
import os
import shutil
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

from harness import SOURCE, Anvil, Daemon, evm_chain_block, pool_addresses, wait_until
from orders_shop import MERCHANT_KEY, MERCHANT_PID, epay_sign, http_raw, orders_toml

RECEIVER = os.path.join(SOURCE, "examples", "merchant")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PhpEpayReceiver(unittest.TestCase):
    def setUp(self):
        php = shutil.which("php")
        if not php:
            self.skipTest("php is not installed (apt-get install php-cli)")
        self.port = free_port()
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([php, "-S", f"127.0.0.1:{self.port}", "epay_notify.php"], cwd=RECEIVER,
                                     env=dict(os.environ, EPAY_KEY=MERCHANT_KEY), stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        wait_until(lambda: socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close() or True,
                   timeout=20, what="php -S")
        self.url = f"http://127.0.0.1:{self.port}/notify"
        self.work = tempfile.mkdtemp(prefix="depositd-php-")

    def tearDown(self):
        os.killpg(self.proc.pid, 15)
        self.proc.wait(timeout=10)
        self.log.close()
        shutil.rmtree(self.work, ignore_errors=True)

    def get(self, params):
        status, _, body = http_raw("GET", self.url + "?" + urllib.parse.urlencode(params))
        return status, body.decode()

    def test_signed_notify_is_accepted_and_a_tampered_one_refused(self):
        params = {"pid": str(MERCHANT_PID), "trade_no": "ord_0123", "out_trade_no": "SHOP-1", "type": "usdt.tron",
                  "name": "VIP 会员", "money": "70.00", "trade_status": "TRADE_SUCCESS"}
        params["sign"] = epay_sign(params)
        params["sign_type"] = "MD5"
        self.assertEqual(self.get(params), (200, "success"))
        self.assertEqual(self.get(dict(params, money="700.00"))[0], 400)
        self.assertEqual(self.get(dict(params, sign="0" * 32))[0], 400)
        self.assertEqual(self.get({k: v for k, v in params.items() if k != "sign"})[0], 400)
        unpaid = dict(params, trade_status="WAIT_BUYER_PAY")
        unpaid["sign"] = epay_sign(unpaid)
        self.assertEqual(self.get(unpaid)[0], 400)

    def test_receiver_takes_a_real_notify_from_depositd(self):
        node = Anvil()
        self.addCleanup(node.stop)
        token = node.deploy_token()
        wd = os.path.join(self.work, "d")
        os.makedirs(wd)
        d = Daemon(wd, evm_chain_block("local", node.url, token, confirmations=1), extra=orders_toml())
        self.addCleanup(d.stop)
        d.import_addresses(pool_addresses(2, seed=5))
        d.start()
        params = {"pid": str(MERCHANT_PID), "type": "usdt.local", "out_trade_no": "PHP-1", "notify_url": self.url,
                  "return_url": "https://shop.example/return", "name": "Book", "money": "14", "param": "cart=9"}
        params["sign"] = epay_sign(params)
        status, headers, body = http_raw("GET", d.url("/submit.php") + "?" + urllib.parse.urlencode(params))
        self.assertEqual(status, 302, body)
        trade_no = headers["location"].rsplit("/", 1)[1]
        order = d.get(f"/api/v1/orders/{trade_no}")[1]["data"]
        node.transfer_token(token, order["address"], 2_000_000)  # 14 CNY at 7
        ev = wait_until(lambda: [e for e in d.get("/api/v1/events?type=epay.notify")[1]["data"]["events"]
                                 if e["status"] == "delivered"], timeout=30, what="notify delivered to PHP")
        self.assertEqual(ev[0]["attempts"], 1)
        self.log.seek(0)
        self.assertIn(b"paid: PHP-1", self.log.read())


if __name__ == "__main__":
    unittest.main(verbosity=2)
