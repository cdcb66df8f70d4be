"""Nodes that disagree (issue 9): the real depositd binary against real anvil
nodes behind rpc_proxy.RpcProxy, a JSON-RPC proxy that behaves like a load
balancer whose backends lag, switch or serve another chain.

  - eth_getLogs lagging the blocks by a second: no token deposit is lost
    (before the logsBloom check, 8 of 8 were).
  - a failover endpoint on another chain id: taken out of rotation, nothing
    recorded from it, even while the primary is down.
  - chain_id in the config that no endpoint serves: the start-up check names
    file:line:chains[0].chain_id and the chain is not followed (exit 2).
  - a load balancer flipping between two forks, A -> B -> A: the deposit in
    A's block is pending, reverted, pending (its very block is back),
    confirmed: four events, four ids, confirmed exactly once.
  - a fork of the same height while caught up: noticed at the next poll,
    the orphan's deposit reverted and never confirmed.

Forks for flip-back and same-height tests: see rpc_proxy's docstring (two
anvils sharing the blocks below h via --fork-url/--fork-block-number, and
RpcProxy.set(backend=i) to switch between them).
"""
import contextlib
import os
import re
import shutil
import tempfile
import time
import subprocess
import unittest

import harness
from harness import Anvil, Daemon, Receiver, evm_chain_block, pool_addresses, wait_until
from rpc_proxy import RpcProxy


class DisagreeingNodes(unittest.TestCase):
    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="depositd-disagree-")
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

    def daemon(self, chains, sub="d", **kw):
        wd = os.path.join(self.work, sub)
        os.makedirs(wd, exist_ok=True)
        d = Daemon(wd, chains, **kw)
        self.cleanups.append(d.stop)
        return d

    def scanned(self, d):
        status, health = d.get("/health", auth=False)
        return health["chains"][0].get("scanned") or 0 if status == 200 else 0

    def tx_hashes(self, d):
        with contextlib.closing(d.db()) as c:
            return {r[0] for r in c.execute("SELECT tx_hash FROM deposits")}

    def test_lagging_log_index_loses_no_token_deposit(self):
        node = self.anvil()
        token = node.deploy_token()
        proxy = self.proxy([node.url])
        d = self.daemon(evm_chain_block("lagging", proxy.url, token, confirmations=1, poll="200ms"))
        pool = pool_addresses(10, seed=21)
        d.import_addresses(pool)
        d.start()
        wait_until(lambda: self.scanned(d) >= node.block_number(), timeout=30, what="caught up")
        # From now on eth_getLogs answers as a backend that has indexed only
        # the blocks it first served over a second ago: [] for the new ones.
        proxy.set(logs_lag=1.0)
        sent = []
        for i in range(8):
            r = node.transfer_token(token, pool[i], 1_000_000 + i)
            sent.append(r["transactionHash"])
            time.sleep(0.3)  # each block scanned on its own while it is fresh
        head = node.block_number()
        wait_until(lambda: self.scanned(d) >= head, timeout=60, what="scanned past the transfers")
        found = self.tx_hashes(d)
        lost = [h for h in sent if h not in found]
        self.assertEqual(lost, [], f"{len(lost)} of {len(sent)} token deposits lost behind a lagging log index")
        counts = proxy.state()["counts"]
        # The lagging answers were caught by the blooms and asked again by blockHash.
        self.assertGreaterEqual(counts.get("eth_getLogs(blockHash)", 0), 8, counts)
        with contextlib.closing(d.db()) as c:
            amounts = sorted(int(r[0]) for r in c.execute("SELECT raw_amount FROM deposits"))
        self.assertEqual(amounts, [1_000_000 + i for i in range(8)])
        self.assertEqual(d.stop(), 0)

    def test_failover_endpoint_on_another_chain_is_never_used(self):
        a = self.anvil()
        other = self.anvil(extra=["--chain-id", "999"])
        # The same deployer and nonce: the token has the same address on both.
        token = a.deploy_token()
        self.assertEqual(other.deploy_token().lower(), token.lower())
        primary = self.proxy([a.url])
        d = self.daemon(evm_chain_block("main", [primary.url, other.url], token, confirmations=1, poll="200ms"))
        pool = pool_addresses(4, seed=22)
        d.import_addresses(pool)
        d.start()
        wait_until(lambda: "out of rotation" in d.log_text(), timeout=30, what="the other chain's endpoint refused")
        self.assertRegex(d.log_text(), r"127\.0\.0\.1:%d.*reports chain id 999, expected 31337" % other.port)

        good = a.transfer_token(token, pool[0], 111)["transactionHash"]
        wait_until(lambda: good in self.tx_hashes(d), timeout=30, what="deposit on the right chain")
        # The primary goes down while the other chain pays the same address:
        # the daemon waits rather than read the wrong chain.
        primary.set(fail="http500")
        wrong = [other.transfer_token(token, pool[0], 222 + i)["transactionHash"] for i in range(3)]
        other.mine(5)
        time.sleep(3)
        self.assertFalse(set(wrong) & self.tx_hashes(d), "deposits recorded from the endpoint on chain 999")
        primary.set(fail=None)
        later = a.transfer_token(token, pool[1], 333)["transactionHash"]
        wait_until(lambda: later in self.tx_hashes(d), timeout=30, what="deposit after the primary came back")
        self.assertFalse(set(wrong) & self.tx_hashes(d))
        with contextlib.closing(d.db()) as c:
            amounts = sorted(int(r[0]) for r in c.execute("SELECT raw_amount FROM deposits"))
        self.assertEqual(amounts, [111, 333])
        self.assertEqual(d.stop(), 0)

    def test_configured_chain_id_that_no_endpoint_serves_stops_the_start(self):
        node = self.anvil()  # chain id 31337
        token = node.deploy_token()
        d = self.daemon(evm_chain_block("wrongid", node.url, token, confirmations=1, extra="chain_id = 1\n"))
        d.import_addresses(pool_addresses(2, seed=23))
        with open(d.config) as f:
            line = next(i for i, text in enumerate(f, 1) if text.startswith("chain_id = 1"))
        d.log = open(d.log_path, "ab")
        env = {**os.environ, "ASAN_OPTIONS": "detect_leaks=0"}
        d.proc = subprocess.Popen([harness.DEPOSITD, "--config", d.config], stdout=d.log, stderr=d.log, env=env)
        where = re.escape(f"depositd.toml:{line}:chains[0].chain_id")
        wait_until(lambda: re.search(where, d.log_text()) or d.proc.poll() is not None, timeout=30,
                   what="the start-up check's verdict")
        text = d.log_text()
        self.assertRegex(text, where + r".*chain_id = 1.*reports chain id 31337")
        self.assertNotRegex(text, r"wrongid: starting at (block|height)")  # never followed
        rc = d.proc.wait(timeout=30)
        self.assertEqual(rc, 2, text[-2000:])


    # --- forks: two anvils sharing history, one URL ---------------------------------

    def forked_pair(self):
        """a and b share every block up to h0 (b is a --fork-url of a); from
        h0 + 1 on they are two branches. Returns (a, b, token, h0)."""
        a = self.anvil()
        token = a.deploy_token()
        a.mine(2)
        h0 = a.block_number()
        b = self.anvil(extra=["--fork-url", a.url, "--fork-block-number", str(h0)])
        return a, b, token, h0

    def receiver(self):
        r = Receiver()
        self.cleanups.append(r.stop)
        return r

    def events_of(self, hook, deposit_id):
        with hook.lock:
            return [(i, e["type"], e["data"]["status"]) for i, e in hook.events if e["data"]["id"] == deposit_id]

    def test_flip_back_a_b_a_confirms_the_deposit_exactly_once(self):
        a, b, token, h0 = self.forked_pair()
        proxy = self.proxy([a.url, b.url])
        hook = self.receiver()
        d = self.daemon(evm_chain_block("flip", proxy.url, token, confirmations=3, start=h0, poll="200ms"),
                        webhook_url=hook.url)
        d.import_addresses(pool_addresses(3, seed=31))
        d.start()
        addr = d.bind("player_flip")
        tx = a.transfer_token(token, addr, 4_200_000)["transactionHash"]  # block h0+1 on A
        b.mine(1)                                                           # block h0+1 on B: no deposit
        self.assertNotEqual(a.rpc("eth_getBlockByNumber", [hex(h0 + 1), False])["hash"],
                            b.rpc("eth_getBlockByNumber", [hex(h0 + 1), False])["hash"])
        pend = wait_until(lambda: hook.of_type("deposit.pending"), timeout=30, what="pending on A")
        dep = pend[0]["data"]["id"]
        self.assertEqual(pend[0]["data"]["txHash"], tx)

        proxy.set(backend=1)  # the balancer now asks B: A's block h0+1 is not B's
        wait_until(lambda: hook.of_type("deposit.reverted"), timeout=30, what="reverted on B")
        proxy.set(backend=0)  # back to A: the very block is canonical again
        wait_until(lambda: len(hook.of_type("deposit.pending")) >= 2, timeout=30, what="pending again on A")
        a.mine(3)
        wait_until(lambda: hook.of_type("deposit.confirmed"), timeout=30, what="confirmed on A")
        time.sleep(1.0)  # nothing more may come

        evs = self.events_of(hook, dep)
        self.assertEqual([t for _, t, _ in evs],
                         ["deposit.pending", "deposit.reverted", "deposit.pending", "deposit.confirmed"])
        self.assertEqual(len({i for i, _, _ in evs}), 4)  # four ids
        self.assertEqual(hook.bad_signatures, 0)
        self.assertEqual(d.deposits(), {dep: "confirmed"})
        status, body = d.get(f"/api/v1/deposits/{dep}")
        self.assertEqual(body["data"]["status"], "confirmed")
        self.assertEqual(body["data"]["blockHash"], a.rpc("eth_getBlockByNumber", [hex(h0 + 1), False])["hash"])
        self.assertEqual(d.stop(), 0)

    def test_same_height_fork_while_caught_up_never_confirms_the_orphan(self):
        a, b, token, h0 = self.forked_pair()
        proxy = self.proxy([a.url, b.url])
        hook = self.receiver()
        d = self.daemon(evm_chain_block("samefork", proxy.url, token, confirmations=3, start=h0, poll="200ms"),
                        webhook_url=hook.url)
        d.import_addresses(pool_addresses(3, seed=32))
        d.start()
        addr = d.bind("player_orphan")
        a.transfer_token(token, addr, 1_000_000)  # h0+1 on A: soon an orphan
        b.mine(1)                                 # h0+1 on B: the winner, same height
        wait_until(lambda: hook.of_type("deposit.pending"), timeout=30, what="pending on A")
        proxy.set(backend=1)                      # caught up, no new block: only the re-check can tell
        wait_until(lambda: hook.of_type("deposit.reverted"), timeout=30, what="the orphan reverted")
        b.mine(5)                                 # far past the confirmations the orphan would need
        wait_until(lambda: self.scanned(d) >= h0 + 6, timeout=30, what="B followed")
        time.sleep(1.0)
        self.assertEqual(hook.of_type("deposit.confirmed"), [])
        self.assertEqual(set(d.deposits().values()), {"reverted"})
        self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    unittest.main()
