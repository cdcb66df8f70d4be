"""Finality proven by hash, and native deposits whose receipts a node will not
give (issue 19): the real depositd binary against real anvil nodes behind
rpc_proxy.RpcProxy.

  - A load balancer whose backends answer different methods: the head and its
    `finalized` block come from A, the block bodies from B, which holds a
    losing fork. B's deposit sits at or below A's finalized height, yet is
    never confirmed (our block there is not A's finalized block); the chain
    does not halt, not even after a restart; once the balancer serves A only,
    B's deposit is reverted and A's deposit confirmed exactly once. Both
    anvils run with --slots-in-an-epoch 1 so `finalized` moves (latest - 2).
  - eth_getTransactionReceipt answering null (geth past --txlookuplimit): the
    native deposit is found through eth_getBlockReceipts and the chain goes
    on.
  - Without eth_getBlockReceipts ("method not found"), a primary endpoint
    whose receipts are null and a second endpoint that has them: the missing
    receipt is "unknown, ask another endpoint", not a reorg retried for ever
    on the same node.
"""
import contextlib
import os
import shutil
import tempfile
import time
import unittest

from harness import Anvil, Daemon, Receiver, evm_chain_block, pool_addresses, wait_until
from rpc_proxy import RpcProxy

EPOCH = ["--slots-in-an-epoch", "1"]  # anvil: finalized = latest - 2, safe = latest - 1


class EvmFinality(unittest.TestCase):
    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="depositd-finality-")
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

    def anvil(self, **kw):
        a = Anvil(**kw)
        self.cleanups.append(a.stop)
        return a

    def proxy(self, backends):
        p = RpcProxy(backends)
        self.cleanups.append(p.stop)
        return p

    def receiver(self):
        r = Receiver()
        self.cleanups.append(r.stop)
        return r

    def daemon(self, chains, sub="d", **kw):
        wd = os.path.join(self.work, sub)
        os.makedirs(wd, exist_ok=True)
        d = Daemon(wd, chains, **kw)
        self.cleanups.append(d.stop)
        return d

    @staticmethod
    def chain_health(d):
        status, health = d.get("/health", auth=False)
        return health["chains"][0] if status == 200 else {}

    @staticmethod
    def by_tx(d):
        with contextlib.closing(d.db()) as c:
            return {r[0]: (r[1], r[2]) for r in c.execute("SELECT tx_hash, status, block_hash FROM deposits")}

    @staticmethod
    def cursor(d):
        with contextlib.closing(d.db()) as c:
            return c.execute("SELECT height, halted, finalized, finalized_hash FROM chain_cursors").fetchone()

    @staticmethod
    def events_count(d):
        with contextlib.closing(d.db()) as c:
            return c.execute("SELECT count(*) FROM events").fetchone()[0]

    def events_of(self, hook, tx):
        with hook.lock:
            return [e["type"] for _, e in hook.events if e["data"]["txHash"] == tx]

    def test_finalized_block_of_another_fork_confirms_nothing_and_halts_nothing(self):
        a = self.anvil(extra=EPOCH)
        token = a.deploy_token()
        a.mine(3)
        h0 = a.block_number()
        b = self.anvil(extra=EPOCH + ["--fork-url", a.url, "--fork-block-number", str(h0)])
        proxy = self.proxy([a.url, b.url])
        hook = self.receiver()
        d = self.daemon(evm_chain_block("fin", proxy.url, token, confirmations='"finalized"', start=h0 - 1,
                                        poll="200ms"), webhook_url=hook.url)
        d.import_addresses(pool_addresses(4, seed=41))
        d.start()
        wait_until(lambda: (self.chain_health(d).get("scanned") or 0) >= h0, timeout=30, what="caught up on the shared blocks")
        addr_a, addr_b = d.bind("player_a"), d.bind("player_b")

        # The fork: A's block h0+1 pays player_a, B's block h0+1 pays player_b.
        tx_a = a.transfer_token(token, addr_a, 1_000_000)["transactionHash"]
        tx_b = b.transfer_token(token, addr_b, 2_000_000)["transactionHash"]
        a.mine(5)
        b.mine(5)
        fin_a = a.rpc("eth_getBlockByNumber", ["finalized", False])
        self.assertGreaterEqual(int(fin_a["number"], 16), h0 + 1)
        b_block = b.rpc("eth_getBlockByNumber", [fin_a["number"], False])
        self.assertNotEqual(b_block["hash"], fin_a["hash"])

        # The balancer: head and finalized from A, everything else from B.
        proxy.set(backend=1, routes={"eth_blockNumber": 0, "eth_getBlockByNumber(finalized)": 0})
        wait_until(lambda: tx_b in self.by_tx(d), timeout=30, what="B's deposit seen (pending)")
        deadline = time.monotonic() + 6
        while time.monotonic() < deadline:  # the finalized height keeps passing B's block
            self.assertEqual(self.by_tx(d)[tx_b][0], "pending", "a block of another fork was confirmed as final")
            a.mine(1)
            b.mine(1)
            time.sleep(0.4)
        self.assertEqual(self.by_tx(d)[tx_b][0], "pending")
        self.assertIsNone(self.cursor(d)[1], "the chain halted")
        wait_until(lambda: "finalized block" in (self.chain_health(d).get("lastError") or ""), timeout=30,
                   what="the disagreement reported")
        self.assertNotEqual(self.chain_health(d).get("status"), "halted")
        self.assertEqual(hook.of_type("deposit.confirmed"), [])

        # A restart while the balancer still mixes its backends: no halt.
        self.assertEqual(d.stop(), 0)
        d.start()
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            self.assertIsNone(self.cursor(d)[1], "the chain halted after a restart")
            self.assertNotEqual(self.chain_health(d).get("status"), "halted")
            time.sleep(0.3)
        self.assertEqual(self.by_tx(d)[tx_b][0], "pending")

        # B is gone from the balancer: A's chain is followed, B's deposit reverted.
        proxy.set(backend=0, routes={})
        a.mine(3)
        wait_until(lambda: self.by_tx(d).get(tx_b, ("",))[0] == "reverted", timeout=60, what="B's deposit reverted")
        wait_until(lambda: self.by_tx(d).get(tx_a, ("",))[0] == "confirmed", timeout=60, what="A's deposit confirmed")
        block_a = a.rpc("eth_getTransactionReceipt", [tx_a])["blockHash"]
        self.assertEqual(self.by_tx(d)[tx_a][1], block_a)
        cur = self.cursor(d)
        self.assertIsNone(cur[1])
        self.assertGreaterEqual(cur[2], h0 + 1)
        self.assertEqual(cur[3], a.rpc("eth_getBlockByNumber", [hex(cur[2]), False])["hash"])
        wait_until(lambda: "deposit.confirmed" in self.events_of(hook, tx_a), timeout=30, what="confirmed webhook")
        self.assertEqual(d.stop(), 0)
        d.start()  # once more: nothing new
        a.mine(3)
        time.sleep(2)
        self.assertEqual(self.events_of(hook, tx_a), ["deposit.pending", "deposit.confirmed"])
        self.assertEqual(self.events_of(hook, tx_b), ["deposit.pending", "deposit.reverted"])
        self.assertEqual(hook.bad_signatures, 0)
        self.assertNotIn("refusing to revert", d.log_text())
        self.assertEqual(d.stop(), 0)

    def test_null_transaction_receipts_do_not_stall_native_deposits(self):
        node = self.anvil()
        proxy = self.proxy([node.url])
        proxy.set(null_receipts=True)  # geth past --txlookuplimit: null for every tx receipt
        d = self.daemon(evm_chain_block("nulls", proxy.url, confirmations=1, poll="200ms"))
        pool = pool_addresses(3, seed=42)
        d.import_addresses(pool)
        d.start()
        tx = node.send_eth(pool[0], 10**18)["transactionHash"]
        node.mine(2)
        wait_until(lambda: self.by_tx(d).get(tx, ("",))[0] == "confirmed", timeout=30, what="native deposit confirmed")
        head = node.block_number()
        wait_until(lambda: (self.chain_health(d).get("scanned") or 0) >= head, timeout=30, what="the chain goes on")
        counts = proxy.state()["counts"]
        self.assertGreater(counts.get("eth_getBlockReceipts", 0), 0, counts)
        with contextlib.closing(d.db()) as c:
            self.assertEqual(c.execute("SELECT raw_amount, currency FROM deposits").fetchall(), [(str(10**18), "ETH")])
        self.assertEqual(d.stop(), 0)

    def test_missing_receipts_ask_another_endpoint_without_block_receipts(self):
        node = self.anvil()
        pruned = self.proxy([node.url])   # the primary: a pruned transaction index, no eth_getBlockReceipts
        pruned.set(null_receipts=True, no_block_receipts=True)
        full = self.proxy([node.url])     # the failover: an old node that still has every receipt
        full.set(no_block_receipts=True)
        d = self.daemon(evm_chain_block("fallback", [pruned.url, full.url], confirmations=1, poll="200ms"))
        pool = pool_addresses(3, seed=43)
        d.import_addresses(pool)
        d.start()
        first = node.send_eth(pool[1], 5)["transactionHash"]
        tx = node.send_eth(pool[0], 3 * 10**17)["transactionHash"]
        node.mine(2)
        wait_until(lambda: self.by_tx(d).get(tx, ("",))[0] == "confirmed", timeout=30,
                   what="native deposit confirmed through the other endpoint")
        self.assertEqual(self.by_tx(d)[first][0], "confirmed")
        head = node.block_number()
        wait_until(lambda: (self.chain_health(d).get("scanned") or 0) >= head, timeout=30, what="the chain goes on")
        self.assertGreater(full.state()["counts"].get("eth_getTransactionReceipt", 0), 0)
        self.assertGreater(pruned.state()["counts"].get("eth_getBlockReceipts", 0), 0)  # asked once, then remembered
        self.assertLessEqual(pruned.state()["counts"].get("eth_getBlockReceipts", 0), 2)
        self.assertIn("does not serve eth_getBlockReceipts", d.log_text())
        self.assertEqual(self.events_count(d), 4)  # pending + confirmed each: no reorg, nothing reverted
        self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    unittest.main()
