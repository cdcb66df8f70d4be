"""Money goes to the right order (SPEC §8, §10 "Attribution", issue 18), the
real depositd on a real anvil:

- mode amount: order A expires, order B at the same price gets another
  amount (A's is held for [orders].amount_hold); A's buyer pays late: B
  stays waiting, A reports order.late_payment (webhook, and on the order);
- mode address: a payment after expiry is the order's late payment;
- block clocks: a bind and an order followed by a payment in a block dated
  40 s before them are attributed (default attribution_skew 2m), and are
  not with attribution_skew = "5s". Anvil's chain clock is set with
  evm_setNextBlockTimestamp (and starts an hour back, --timestamp).
"""
import os
import shutil
import tempfile
import time
import unittest

from harness import Anvil, Daemon, Receiver, evm_chain_block, pool_addresses, wait_until
from orders_shop import orders_toml

RECEIVE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"  # anvil's second account


class LateAndSkew(unittest.TestCase):
    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="depositd-late-")
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

    def start(self, orders, chain_extra="", anvil_extra=None, pool=6, sub="d"):
        self.node = Anvil(extra=anvil_extra)
        self.cleanups.append(self.node.stop)
        self.token = self.node.deploy_token()
        self.hook = Receiver()
        self.cleanups.append(self.hook.stop)
        wd = os.path.join(self.work, sub)
        os.makedirs(wd, exist_ok=True)
        self.d = Daemon(wd, evm_chain_block("local", self.node.url, self.token, confirmations=1, extra=chain_extra),
                        webhook_url=self.hook.url, extra=orders)
        self.cleanups.append(self.d.stop)
        if pool:
            self.d.import_addresses(pool_addresses(pool, seed=81))
        self.d.start()

    def order(self, oid):
        status, res = self.d.get(f"/api/v1/orders/{oid}")
        self.assertEqual(status, 200, res)
        return res["data"]

    def create(self, order_id, amount, **extra):
        status, res = self.d.post("/api/v1/orders", {"orderId": order_id, "amount": amount, **extra})
        self.assertEqual(status, 201, res)
        return res["data"]

    def deposits(self):
        return self.d.get("/api/v1/deposits?limit=100")[1]["data"]["deposits"]

    # --- late payments ---------------------------------------------------------------

    def test_a_late_payment_in_amount_mode_leaves_the_next_order_waiting(self):
        self.start(orders_toml(mode="amount", receive=RECEIVE, fiat=False), pool=0)
        a = self.create("LATE-A", "10", expiresIn=2)
        wait_until(lambda: self.order(a["id"])["status"] == "expired", timeout=15, what="A expired")
        b = self.create("LATE-B", "10")
        self.assertEqual((a["payAmount"], b["payAmount"]), ("10", "10.01"))  # A's amount is held
        time.sleep(1.2)  # block times are whole seconds: late means more than a second late
        receipt = self.node.transfer_token(self.token, RECEIVE, 10_000_000)  # A's buyer, late
        self.node.mine(1)
        ev = wait_until(lambda: self.hook.of_type("order.late_payment"), timeout=30, what="order.late_payment")
        self.assertEqual(len(ev), 1)
        data = ev[0]["data"]
        self.assertEqual((data["id"], data["orderId"], data["status"], data["paidAmount"]),
                         (a["id"], "LATE-A", "expired", "0"))
        self.assertEqual(data["deposit"]["txHash"], receipt["transactionHash"])
        self.assertEqual(data["deposit"]["amount"], "10")
        self.assertEqual([d["txHash"] for d in data["latePayments"]], [receipt["transactionHash"]])
        # Shown on the order; never another order's money.
        shown = self.order(a["id"])
        self.assertEqual((shown["status"], shown["paidAmount"], shown["deposits"]), ("expired", "0", []))
        self.assertEqual(len(shown["latePayments"]), 1)
        time.sleep(0.5)
        bb = self.order(b["id"])
        self.assertEqual((bb["status"], bb["paidAmount"], bb["latePayments"]), ("waiting", "0", []))
        self.assertFalse(self.hook.of_type("order.paid"))
        self.assertFalse(self.hook.of_type("order.completed"))
        # B's own payment completes B.
        self.node.transfer_token(self.token, RECEIVE, 10_010_000)
        self.node.mine(1)
        wait_until(lambda: self.order(b["id"])["status"] == "completed", timeout=30, what="B completed")
        self.assertEqual(self.order(a["id"])["status"], "expired")

    def test_a_payment_after_expiry_in_address_mode_is_a_late_payment(self):
        self.start(orders_toml(fiat=False))
        o = self.create("LATE-ADDR", "5", expiresIn=2)
        wait_until(lambda: self.order(o["id"])["status"] == "expired", timeout=15, what="expired")
        time.sleep(1.2)
        self.node.transfer_token(self.token, o["address"], 5_000_000)
        self.node.mine(1)
        ev = wait_until(lambda: self.hook.of_type("order.late_payment"), timeout=30, what="order.late_payment")
        self.assertEqual(ev[0]["data"]["id"], o["id"])
        shown = self.order(o["id"])
        self.assertEqual((shown["status"], shown["paidAmount"], len(shown["latePayments"])), ("expired", "0", 1))
        # The deposit itself is recorded and announced like any other (nobody held the address).
        dep = wait_until(lambda: [d for d in self.deposits() if d["status"] == "confirmed"], timeout=30, what="deposit")
        self.assertIsNone(dep[0]["depositReference"])

    # --- block clocks ----------------------------------------------------------------

    def pay_dated(self, to, raw, at_s):
        """A token transfer mined in a block dated `at_s` (unix seconds)."""
        self.node.rpc("evm_setNextBlockTimestamp", [at_s])
        receipt = self.node.transfer_token(self.token, to, raw)
        block = self.node.rpc("eth_getBlockByNumber", [receipt["blockNumber"], False])
        self.assertEqual(int(block["timestamp"], 16), at_s)
        return receipt

    def bind_and_order_then_pay_40s_earlier(self, skew_line):
        # The chain's clock starts an hour back; every block is dated by hand below.
        genesis = int(time.time()) - 3600
        self.start(orders_toml(fiat=False), chain_extra=skew_line, anvil_extra=["--timestamp", str(genesis)])
        o = self.create("SKEW-ORDER", "7")
        ordered_at = int(time.time())
        time.sleep(1.1)
        address = self.d.bind("skew_player")
        bound_at = int(time.time())
        # Paid right after, mined in blocks whose clock runs 40 s behind.
        to_order = self.pay_dated(o["address"], 7_000_000, ordered_at - 40)
        to_player = self.pay_dated(address, 3_000_000, bound_at - 40)
        self.node.mine(1)
        deps = wait_until(lambda: len([d for d in self.deposits() if d["status"] == "confirmed"]) == 2 and
                          {d["txHash"]: d for d in self.deposits()}, timeout=30, what="two confirmed deposits")
        return o, deps[to_order["transactionHash"]], deps[to_player["transactionHash"]]

    def test_a_payment_dated_40s_before_the_bind_or_order_is_attributed(self):
        o, paid_order, paid_player = self.bind_and_order_then_pay_40s_earlier("")
        self.assertEqual(paid_player["depositReference"], "skew_player")
        self.assertEqual(paid_order["depositReference"], o["id"])
        done = wait_until(lambda: self.order(o["id"])["status"] == "completed" and self.order(o["id"]),
                          timeout=30, what="order completed")
        self.assertEqual(done["paidAmount"], "7")
        status, res = self.d.get("/api/v1/deposits/references/skew_player")
        self.assertEqual(res["data"]["totalDeposits"], 1)

    def test_with_a_5s_skew_a_payment_dated_40s_before_is_nobodys(self):
        o, paid_order, paid_player = self.bind_and_order_then_pay_40s_earlier('attribution_skew = "5s"\n')
        self.assertIsNone(paid_player["depositReference"])
        self.assertIsNone(paid_order["depositReference"])
        time.sleep(0.5)
        shown = self.order(o["id"])
        self.assertEqual((shown["status"], shown["paidAmount"], shown["latePayments"]), ("waiting", "0", []))
        status, res = self.d.get("/api/v1/deposits/references/skew_player")
        self.assertEqual(res["data"]["totalDeposits"], 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
