"""Orders end to end (SPEC §8, §9): the real depositd against a real anvil,
a scripted shop receiving EPay notifies and epusdt callbacks, every
signature checked here with hashlib (orders_shop.py), independently of the
C++ signer."""
import json
import os
import shutil
import tempfile
import time
import unittest
import urllib.parse

from harness import Anvil, Daemon, Receiver, evm_chain_block, pool_addresses, wait_until, http_json, API_KEY
from orders_shop import (MERCHANT_KEY, MERCHANT_PID, RateServer, Shop, epay_sign, epusdt_sign, go_number, http_raw,
                         orders_toml)

RECEIVE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"  # anvil's second account (a shared receive address)


class OrdersEndToEnd(unittest.TestCase):
    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="depositd-orders-")
        self.cleanups = []

    def tearDown(self):
        for fn in reversed(self.cleanups):
            try:
                fn()
            except Exception:  # noqa: BLE001
                pass
        if os.environ.get("KEEP_WORK"):
            print("work dir kept:", self.work)
        else:
            shutil.rmtree(self.work, ignore_errors=True)

    # --- fixtures -------------------------------------------------------------

    def start(self, orders=None, hook=False, confirmations=2, pool=5, sub="d"):
        self.node = Anvil()
        self.cleanups.append(self.node.stop)
        self.token = self.node.deploy_token()
        self.shop = Shop()
        self.cleanups.append(self.shop.stop)
        self.hook = None
        if hook:
            self.hook = Receiver()
            self.cleanups.append(self.hook.stop)
        wd = os.path.join(self.work, sub)
        os.makedirs(wd, exist_ok=True)
        self.d = Daemon(wd, evm_chain_block("local", self.node.url, self.token, confirmations=confirmations),
                        webhook_url=self.hook.url if self.hook else None, extra=orders or orders_toml())
        self.cleanups.append(self.d.stop)
        if pool:
            self.d.import_addresses(pool_addresses(pool, seed=41))
        self.d.start()
        return self.d

    def pay(self, address, raw):
        self.node.transfer_token(self.token, address, raw)

    def order(self, id_):
        status, res = self.d.get(f"/api/v1/orders/{id_}")
        self.assertEqual(status, 200, res)
        return res["data"]

    def wait_order(self, id_, status, timeout=30):
        return wait_until(lambda: self.order(id_)["status"] == status and self.order(id_), timeout=timeout,
                          what=f"order {id_} {status}")

    def submit_url(self, path="/submit.php", **over):
        params = {"pid": str(MERCHANT_PID), "type": "usdt.local", "out_trade_no": "SHOP-1001",
                  "notify_url": self.shop.base + "/epay/notify", "return_url": self.shop.base + "/return",
                  "name": "VIP 会员", "money": "70.00", "sitename": "Test shop"}
        params.update(over)
        params = {k: v for k, v in params.items() if v is not None}
        params["sign"] = epay_sign(params)
        params["sign_type"] = "MD5"
        return self.d.url(path) + "?" + urllib.parse.urlencode(params), params

    def orders_total(self):
        status, res = self.d.get("/api/v1/orders")
        self.assertEqual(status, 200, res)
        return res["data"]["pagination"]["total"]

    # --- EPay -------------------------------------------------------------------

    def test_epay_cny_order_completes_and_notifies_until_the_shop_says_success(self):
        self.start(hook=True)
        # Only a 2xx whose body, trimmed, is "success" (any case) delivers:
        # "unsuccessful" and a page that merely contains the word are retried.
        self.shop.epay_answers = ["unsuccessful", "<html>success</html>", " Success\n"]
        url, sent = self.submit_url()
        status, headers, body = http_raw("GET", url)
        self.assertEqual(status, 302, body)
        location = headers["location"]
        self.assertTrue(location.startswith("/pay/ord_"), location)
        trade_no = location.rsplit("/", 1)[1]
        o = self.order(trade_no)
        self.assertEqual(o["orderId"], "SHOP-1001")
        self.assertEqual((o["payAmount"], o["amount"], o["fiatAmount"], o["fiatCurrency"], o["rate"]),
                         ("10", "10", "70", "CNY", "7"))
        self.assertEqual(o["status"], "waiting")
        self.assertEqual(o["paymentUrl"], self.d.url(location))

        # The same out_trade_no while the order waits reopens it (POST form, as SSPanel sends it).
        status, headers, _ = http_raw("POST", self.d.url("/submit.php"), urllib.parse.urlencode(sent),
                                      {"content-type": "application/x-www-form-urlencoded"})
        self.assertEqual((status, headers.get("location")), (302, location))
        # mapi.php answers JSON for the same order.
        status, headers, body = http_raw("POST", self.d.url("/mapi.php"), urllib.parse.urlencode(sent),
                                         {"content-type": "application/x-www-form-urlencoded"})
        m = json.loads(body)
        self.assertEqual((m["code"], m["trade_no"], m["payurl"]), (1, trade_no, o["paymentUrl"]))
        self.assertEqual(self.orders_total(), 1)

        self.pay(o["address"], 10_000_000)
        self.node.mine(2)
        done = self.wait_order(trade_no, "completed")
        self.assertEqual(done["paidAmount"], "10")
        notes = wait_until(lambda: len(self.shop.epay) >= 3 and self.shop.epay, timeout=30, what="three notifies")
        self.assertEqual(set(self.shop.epay_methods), {"GET"})
        for n in notes:
            self.assertEqual(n, notes[0], "every retry sends the same signed parameters")
        n = notes[0]
        self.assertEqual(n["sign"], epay_sign(n), n)
        self.assertEqual(n["sign_type"], "MD5")
        self.assertEqual((n["pid"], n["trade_no"], n["out_trade_no"], n["type"], n["name"], n["money"],
                          n["trade_status"]),
                         (str(MERCHANT_PID), trade_no, "SHOP-1001", "usdt.local", "VIP 会员", "70.00", "TRADE_SUCCESS"))
        self.assertNotIn("param", n)  # empty: left out
        self.assertTrue(all(v != "" for v in n.values()))
        # Delivered on the third answer; then no more.
        status, res = self.d.get("/api/v1/events?type=epay.notify")
        ev = res["data"]["events"][0]
        wait_until(lambda: self.d.get("/api/v1/events?type=epay.notify")[1]["data"]["events"][0]["status"] == "delivered",
                   timeout=10, what="notify delivered")
        self.assertEqual(ev["kind"], "epay")
        time.sleep(1.0)
        self.assertEqual(len(self.shop.epay), 3)
        # Resend delivers it again (same id, same parameters).
        status, res = self.d.post(f"/api/v1/events/{ev['id']}/resend", {})
        self.assertEqual(status, 200, res)
        wait_until(lambda: len(self.shop.epay) == 4, timeout=10, what="resent notify")
        self.assertEqual(self.shop.epay[3], n)
        # The order query says paid; the webhooks of the order arrived too.
        status, res = http_json("GET", self.d.url(f"/api.php?act=order&pid={MERCHANT_PID}&key={MERCHANT_KEY}"
                                                  f"&out_trade_no=SHOP-1001"))
        self.assertEqual((res["code"], res["status"], res["trade_no"], res["money"]), (1, 1, trade_no, "70.00"))
        status, res = http_json("GET", self.d.url(f"/api.php?act=order&pid={MERCHANT_PID}&key=wrong-key-000"
                                                  f"&out_trade_no=SHOP-1001"))
        self.assertEqual(res["code"], -3)
        types = wait_until(lambda: {e["type"] for _, e in self.hook.events} >= {"order.paid", "order.completed"} and
                           [e["type"] for _, e in self.hook.events], timeout=20, what="order webhooks")
        self.assertLess(types.index("order.paid"), types.index("order.completed"))
        completed = [e for _, e in self.hook.events if e["type"] == "order.completed"][0]
        self.assertEqual(completed["data"]["id"], trade_no)
        self.assertEqual(self.hook.bad_signatures, 0)
        # After completion the same out_trade_no shows the (paid) order again, never a new one.
        status, headers, _ = http_raw("GET", url)
        self.assertEqual((status, headers.get("location")), (302, location))
        self.assertEqual(self.orders_total(), 1)

    def test_bad_sign_pid_or_money_creates_nothing(self):
        self.start(pool=2)
        url, params = self.submit_url()
        bad = dict(params, sign="0" * 32)
        for query, word in ((bad, "sign"), (dict(params, pid="9999"), "pid")):
            status, headers, body = http_raw("GET", self.d.url("/submit.php") + "?" + urllib.parse.urlencode(query))
            self.assertEqual(status, 400, body)
            self.assertIn("text/html", headers["content-type"])
            self.assertIn(word, body.decode())
        _, signed = self.submit_url(money="-5")
        status, _, body = http_raw("GET", self.d.url("/submit.php") + "?" + urllib.parse.urlencode(signed))
        self.assertEqual(status, 400)
        self.assertIn("money", body.decode())
        # A tampered amount under the original sign.
        tampered = dict(params, money="0.01")
        status, _, body = http_raw("GET", self.d.url("/submit.php") + "?" + urllib.parse.urlencode(tampered))
        self.assertEqual(status, 400)
        status, _, body = http_raw("POST", self.d.url("/mapi.php"), urllib.parse.urlencode(bad),
                                   {"content-type": "application/x-www-form-urlencoded"})
        self.assertEqual(json.loads(body)["code"], -1)
        self.assertEqual(self.orders_total(), 0)
        # V2Board sends no type: the default currency is used, and the notify will carry it.
        _, no_type = self.submit_url(type=None, out_trade_no="V2B-1")
        status, headers, body = http_raw("GET", self.d.url("/submit.php") + "?" + urllib.parse.urlencode(no_type))
        self.assertEqual(status, 302, body)
        self.assertEqual(self.orders_total(), 1)

    # --- epusdt -------------------------------------------------------------------

    def test_epusdt_order_calls_back_signed_with_status_2(self):
        self.start(pool=2)
        body = {"order_id": "EP-77", "amount": 70.5, "notify_url": self.shop.base + "/epusdt/notify",
                "redirect_url": self.shop.base + "/return"}
        body["signature"] = epusdt_sign(body)
        status, res = http_json("POST", self.d.url("/api/v1/order/create-transaction"), body)
        self.assertEqual((status, res["status_code"]), (200, 200), res)
        data = res["data"]
        self.assertEqual((data["order_id"], data["amount"], data["actual_amount"]), ("EP-77", 70.5, 10.08))
        self.assertTrue(data["trade_id"].startswith("ord_"))
        self.assertTrue(data["payment_url"].endswith("/pay/" + data["trade_id"]))
        self.assertGreater(data["expiration_time"], time.time())
        # A bad signature: 401, and nothing is created.
        wrong = dict(body, order_id="EP-78", signature="0" * 32)
        status, res = http_json("POST", self.d.url("/api/v1/order/create-transaction"), wrong)
        self.assertEqual(res["status_code"], 401, res)
        self.assertEqual(self.orders_total(), 1)

        self.shop.epusdt_answers = ["fail", "ok"]
        self.pay(data["token"], 10_080_000)
        self.node.mine(2)
        self.wait_order(data["trade_id"], "completed")
        calls = wait_until(lambda: len(self.shop.epusdt) >= 2 and self.shop.epusdt, timeout=30, what="two callbacks")
        headers, raw = calls[-1]
        self.assertEqual(headers["content-type"], "application/json")
        cb = json.loads(raw)
        self.assertEqual(cb["status"], 2)
        self.assertEqual((cb["trade_id"], cb["order_id"], cb["amount"], cb["actual_amount"], cb["token"]),
                         (data["trade_id"], "EP-77", 70.5, 10.08, data["token"]))
        self.assertTrue(cb["block_transaction_id"].startswith("0x"))
        self.assertEqual(cb["signature"], epusdt_sign(cb))
        self.assertEqual(calls[0][1], raw, "the retry sends the same bytes")
        self.assertEqual(go_number(70.5), "70.5")

    # --- mode amount --------------------------------------------------------------

    def test_amount_mode_orders_get_different_amounts_and_complete_on_the_exact_one(self):
        self.start(orders_toml(mode="amount", receive=RECEIVE, fiat=False), pool=0)
        ids = []
        for n in ("AM-1", "AM-2"):
            status, res = self.d.post("/api/v1/orders", {"orderId": n, "amount": "10"})
            self.assertEqual(status, 201, res)
            ids.append(res["data"])
        a, b = ids
        self.assertEqual((a["payAmount"], b["payAmount"]), ("10", "10.01"))
        self.assertEqual(a["address"], RECEIVE)
        self.assertEqual(b["address"], RECEIVE)
        self.pay(RECEIVE, 10_005_000)   # matches nobody
        self.pay(RECEIVE, 10_010_000)   # b's amount
        self.node.mine(2)
        self.wait_order(b["id"], "completed")
        self.assertEqual(self.order(a["id"])["status"], "waiting")
        self.assertEqual(self.order(a["id"])["paidAmount"], "0")
        self.pay(RECEIVE, 10_000_000)
        self.node.mine(2)
        self.wait_order(a["id"], "completed")
        status, res = self.d.get("/api/v1/deposits")
        self.assertEqual(res["data"]["pagination"]["total"], 3)  # every payment is recorded

    # --- expiry -------------------------------------------------------------------

    def test_expiry_holds_across_a_restart_and_against_a_late_payment(self):
        self.start(hook=True)
        status, res = self.d.post("/api/v1/orders", {"orderId": "EXP-1", "amount": "5", "expiresIn": 2})
        self.assertEqual(status, 201, res)
        o = res["data"]
        self.assertEqual(self.d.stop(), 0)
        time.sleep(2.5)
        self.d.start()
        self.assertEqual(self.order(o["id"])["status"], "expired")  # expired at start, before anything else
        wait_until(lambda: self.hook.of_type("order.expired"), timeout=20, what="order.expired webhook")
        # Block times are whole seconds (anvil, like Ethereum): a payment in
        # the second the order expired may be dated before its expiry. Late
        # here means more than a second late.
        time.sleep(1.2)
        self.pay(o["address"], 5_000_000)
        self.node.mine(2)
        wait_until(lambda: self.d.get("/api/v1/deposits?status=confirmed")[1]["data"]["pagination"]["total"] == 1,
                   timeout=30, what="late deposit recorded")
        time.sleep(0.5)
        late = self.order(o["id"])
        self.assertEqual((late["status"], late["paidAmount"]), ("expired", "0"))
        self.assertEqual(len(self.hook.of_type("order.expired")), 1)
        self.assertFalse(self.hook.of_type("order.completed"))
        # It is the order's late payment: shown on it and announced, never credited.
        self.assertEqual(len(late["latePayments"]), 1)
        ev = wait_until(lambda: self.hook.of_type("order.late_payment"), timeout=20, what="order.late_payment")
        self.assertEqual((ev[0]["data"]["id"], ev[0]["data"]["deposit"]["amount"]), (o["id"], "5"))

    def test_a_payment_mined_in_time_while_the_daemon_is_down_is_not_lost(self):
        self.start(hook=True)
        status, res = self.d.post("/api/v1/orders", {"orderId": "DOWN-1", "amount": "5", "expiresIn": 6})
        self.assertEqual(status, 201, res)
        o = res["data"]
        self.assertEqual(self.d.stop(), 0)
        self.pay(o["address"], 5_000_000)  # mined before expiresAt, while nobody watches
        self.node.mine(2)
        time.sleep(6.5)
        self.d.start()  # the order expires at start; the catch-up then finds its payment
        done = self.wait_order(o["id"], "completed")
        self.assertEqual(done["paidAmount"], "5")
        types = wait_until(lambda: {"order.expired", "order.paid", "order.completed"} <=
                           {e["type"] for _, e in self.hook.events} and [e["type"] for _, e in self.hook.events
                                                                         if e["type"].startswith("order.")],
                           timeout=20, what="order webhooks")
        self.assertEqual(types, ["order.expired", "order.paid", "order.completed"])

    # --- rate source --------------------------------------------------------------

    def test_rate_source_prices_fiat_and_a_stale_rate_refuses_new_orders(self):
        rates = RateServer('{"data":{"CNY":"6.9"}}')
        self.cleanups.append(rates.stop)
        self.start(orders_toml(rate="+0.1", rate_source=rates.url), pool=3)
        wait_until(lambda: self.d.post("/api/v1/orders", {"orderId": "R-1", "amount": "70", "fiat": "CNY"})[0] == 201,
                   timeout=10, what="first fiat order")
        o = self.d.get("/api/v1/orders?orderId=R-1")[1]["data"]["orders"][0]
        self.assertEqual((o["rate"], o["payAmount"]), ("7", "10"))
        rates.status = 500
        time.sleep(2.6)  # rate_max_age = 2s
        status, res = self.d.post("/api/v1/orders", {"orderId": "R-2", "amount": "70", "fiat": "CNY"})
        self.assertEqual((status, res["error"]), (503, "RateUnavailable"), res)
        # Amounts in the pay currency need no rate.
        status, res = self.d.post("/api/v1/orders", {"orderId": "R-3", "amount": "10"})
        self.assertEqual(status, 201, res)
        rates.status = 200
        wait_until(lambda: self.d.post("/api/v1/orders", {"orderId": "R-2", "amount": "70", "fiat": "CNY"})[0] == 201,
                   timeout=10, what="fiat orders again")

    def test_rate_sources_median_and_a_jump_waits_for_a_second_fetch(self):
        # Three feeds, one of them hijacked; the base rate is the median.
        feeds = [RateServer('{"data":{"CNY":"6.9"}}'), RateServer('{"data":{"CNY":"7.0"}}'),
                 RateServer('{"data":{"CNY":"0.01"}}')]
        for f in feeds:
            self.cleanups.append(f.stop)
        urls = [feeds[0].url, feeds[1].url, feeds[2].url + "?apikey=SECRET-RATE-KEY"]
        sources = ", ".join(f'{{ url = "{u}", path = "data.CNY" }}' for u in urls)
        extra = (f"rate_sources = [{sources}]\nrate_refresh = \"1500ms\"\nrate_max_age = \"1m\"\n"
                 "rate_max_change = \"10%\"\n")
        self.start(orders_toml(rate="+0.1", extra=extra), pool=4)

        def fiat_order(oid):
            status, res = self.d.post("/api/v1/orders", {"orderId": oid, "amount": "70", "fiat": "CNY"})
            return res["data"] if status == 201 else None

        o = wait_until(lambda: fiat_order("MED-1"), timeout=15, what="first fiat order")
        self.assertEqual((o["rate"], o["payAmount"]), ("7", "10"))  # median 6.9 + 0.1
        # Every feed jumps to a price near zero: refused, the last rate stays.
        for f in feeds:
            f.body = '{"data":{"CNY":"0.07"}}'
        wait_until(lambda: "refused: it moves more than rate_max_change" in self.d.log_text(), timeout=15,
                   what="the jump refused")
        for f in feeds:
            f.body = '{"data":{"CNY":"6.9"}}'
        o = fiat_order("MED-2")
        self.assertEqual((o["rate"], o["payAmount"]), ("7", "10"))
        # A real move is accepted once the next fetch confirms it.
        for f in feeds:
            f.body = '{"data":{"CNY":"3.4"}}'
        wait_until(lambda: "confirmed the move" in self.d.log_text(), timeout=20, what="the move confirmed")
        o = fiat_order("MED-3")
        self.assertEqual((o["rate"], o["payAmount"]), ("3.5", "20"))
        log = self.d.log_text()
        self.assertNotIn("SECRET-RATE-KEY", log)  # source URLs are logged without their query
        import urllib.request
        with urllib.request.urlopen(self.d.url("/metrics"), timeout=10) as r:
            text = r.read().decode()
        refused = [line for line in text.splitlines() if line.startswith("depositd_rate_refused_total")]
        self.assertTrue(refused and float(refused[0].split()[-1]) >= 1, refused)


if __name__ == "__main__":
    unittest.main(verbosity=2)
