"""Solana deposits end to end: the real depositd binary against a scripted
Solana JSON-RPC node (tests/integration/solana_node.py) serving blocks in
Agave's getBlock "accounts" shape, built from the real captured transactions
in tests/fixtures/solana/.

Covered: SOL and USDT deposits (a v0 recipient loaded from a lookup table, a
USDT transfer to an owner not among the account keys, a token account
created in the same transaction, SOL and USDT in one transaction), decoys
(failed, outgoing, an unconfigured mint, rent into a new token account),
skipped slots (single, several, a range of only skipped slots longer than
max_block_range), pending at `confirmed` and confirmed at `finalized`, a slot
dropped by fork choice before finality (reverted), faults (429 with
Retry-After, JSON-RPC 429, {}, HTML, truncated JSON, -32004 and null for
blocks that exist, lagging block lists, a per-method request limit), refused
JSON-RPC batches, and kill -9 during catch-up (same deposits, same event ids).
"""
import contextlib
import os
import random
import shutil
import tempfile
import time
import unittest

from harness import DEPOSITCTL, DEPOSITD, Daemon, Receiver, wait_until
from solana_node import (USDC, USDT, Chain, Node, close_token_account, create_ata_and_fund, create_ata_only, key,
                         sol_and_spl, sol_transfer, spl_transfer)

START = 1000


def sol_chain_toml(url, poll="150ms", max_range=10, extra=""):
    return (f'[[chains]]\nid = "solana"\nkind = "solana"\nrpc = ["{url}"]\n'
            f'confirmations = "finalized"\npoll_interval = "{poll}"\nstart = {START}\n'
            f'max_block_range = {max_range}\nrequest_timeout = "3s"\n'
            f'native = {{ symbol = "SOL", decimals = 9 }}\n'
            f'tokens = [{{ symbol = "USDT", contract = "{USDT}", decimals = 6 }}]\n{extra}')


def sig(tx):
    return tx["transaction"]["signatures"][0]


class SolanaEndToEnd(unittest.TestCase):
    def setUp(self):
        for exe in (DEPOSITD, DEPOSITCTL):
            if not os.path.exists(exe):
                self.skipTest(f"{exe} is not built (set DEPOSITD_BUILD)")
        self.work = tempfile.mkdtemp(prefix="depositd-solana-")
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

    def node(self, chain, **kw):
        n = Node(chain, **kw)
        self.cleanups.append(n.stop)
        return n

    def daemon(self, chain_toml, sub, webhook_url=None):
        wd = os.path.join(self.work, sub)
        os.makedirs(wd)
        d = Daemon(wd, chain_toml, webhook_url=webhook_url)
        self.cleanups.append(d.stop)
        return d

    @staticmethod
    def deposits(d):
        with contextlib.closing(d.db()) as c:
            rows = c.execute("SELECT tx_hash, idx, block_number, block_hash, address, currency, contract, "
                             "raw_amount, decimals, from_address, status, id FROM deposits").fetchall()
        return {(r[0], r[1]): dict(zip(("tx", "idx", "height", "block", "address", "currency", "contract", "raw",
                                        "decimals", "from", "status", "id"), r)) for r in rows}

    @staticmethod
    def scanned(d):
        return d.get("/health", auth=False)[1]["chains"][0]["scanned"] or 0

    def test_deposits_skipped_slots_faults_and_a_dropped_slot(self):
        pool = [key("pool", i) for i in range(8)]
        sender, stranger = key("sender"), key("stranger")
        chain = Chain(fin_lag=8)
        expected = {}  # (signature, index) -> (address, currency, raw, from)

        def expect(tx, idx, addr, currency, raw, frm=sender):
            expected[(sig(tx), idx)] = (addr, currency, str(raw), frm)

        for s in range(990, START + 1):
            if s % 4 != 3:
                chain.produce(s)
        t = sol_transfer("a", sender, pool[0], 5 * 10 ** 9)                   # 1001: 5 SOL
        expect(t, 1, pool[0], "SOL", 5 * 10 ** 9)
        chain.produce(1001, [t])
        # 1002 skipped (one slot)
        t = spl_transfer("b", sender, pool[1], USDT, 532_079_999)             # 1003: owner not among the keys
        expect(t, 1, pool[1], "USDT", 532_079_999)
        chain.produce(1003, [t])
        # 1004..1006 skipped (several)
        t = sol_transfer("c", sender, pool[2], 1, lookup=True)                # 1007: v0, recipient from a table
        expect(t, 2, pool[2], "SOL", 1)
        chain.produce(1007, [t])
        t = create_ata_and_fund("d", sender, pool[3], USDT, 7_000_000)        # 1008: account created + funded
        expect(t, 1, pool[3], "USDT", 7_000_000)
        chain.produce(1008, [t,
                             spl_transfer("failed", sender, pool[4], USDT, 999, ok=False),
                             sol_transfer("failed-sol", sender, pool[4], 999, ok=False),
                             sol_transfer("outgoing", pool[5], stranger, 10 ** 9),
                             spl_transfer("outgoing-usdt", pool[5], stranger, USDT, 10 ** 6),
                             spl_transfer("unconfigured", sender, pool[4], USDC, 10 ** 6),
                             create_ata_only("rent", sender, pool[4], USDT)])
        # 1009..1034 skipped: 26 slots, more than max_block_range (10)
        t = sol_and_spl("e", sender, pool[6], 250_000_000, USDT, 1)           # 1035: SOL and USDT in one tx
        expect(t, 1, pool[6], "USDT", 1)
        expect(t, 4, pool[6], "SOL", 250_000_000)
        chain.produce(1035, [t])
        for s in range(1036, 1051):
            if s % 5 != 2:
                chain.produce(s)
        tip = chain.confirmed

        node = self.node(chain)
        node.method_limit = (25, 1.0)
        hook = Receiver()
        self.cleanups.append(hook.stop)
        d = self.daemon(sol_chain_toml(node.url), "d", webhook_url=hook.url)
        d.import_addresses(pool, protocol="solana")
        node.faults = True
        d.start()

        wait_until(lambda: set(expected) <= set(self.deposits(d)), timeout=120, what="all deposits detected")
        wait_until(lambda: self.scanned(d) >= tip, timeout=60, what="scanned to the tip")
        fin = chain.finalized
        got = self.deposits(d)
        for k in expected:
            self.assertEqual(got[k]["status"], "confirmed" if got[k]["height"] <= fin else "pending", k)

        # A deposit at 1053 (confirmed, not finalized), then fork choice drops
        # 1052..1056 before the cluster roots them: the other fork continues
        # from 1051 at 1057 and a new deposit lands at 1058. Agave answers
        # -32004 for the dropped slots until the root passes them; the
        # deposit must be reverted before that (below finality the scanner
        # would refuse and stop the chain).
        doomed = sol_transfer("doomed", sender, pool[7], 777_000_000)
        chain.produce(1052)
        chain.produce(1053, [doomed])
        for s in range(1054, 1057):
            chain.produce(s)
        dk = (sig(doomed), 1)
        wait_until(lambda: dk in self.deposits(d), timeout=60, what="deposit in the doomed slot detected")
        self.assertEqual(self.deposits(d)[dk]["status"], "pending")
        self.assertEqual(self.deposits(d)[dk]["block"], chain.blocks[1053]["blockhash"])

        chain.hold_finalized()  # 1048: nothing of the old fork above 1051 is rooted
        chain.fork(1051, "b")
        after = sol_transfer("after-fork", sender, pool[7], 42_000_000)
        expect(after, 1, pool[7], "SOL", 42_000_000)
        chain.produce(1057)
        chain.produce(1058, [after])
        for s in range(1059, 1066):
            chain.produce(s)
        wait_until(lambda: self.deposits(d).get(dk, {}).get("status") == "reverted", timeout=90,
                   what="deposit of the dropped slot reverted")
        self.assertLess(chain.finalized, 1052)
        ak = (sig(after), 1)
        wait_until(lambda: ak in self.deposits(d), timeout=60, what="post-fork deposit detected")
        self.assertEqual(self.deposits(d)[ak]["status"], "pending")
        chain.finalize_all()
        chain.produce(1076)
        chain.finalize_all()
        wait_until(lambda: all(self.deposits(d)[k]["status"] == "confirmed" for k in expected), timeout=90,
                   what="every deposit confirmed at finalized")
        wait_until(lambda: len(hook.of_type("deposit.confirmed")) >= len(expected), timeout=60,
                   what="confirmed webhooks")
        node.faults = False

        got = self.deposits(d)
        self.assertEqual(set(got) - {dk}, set(expected))
        for k, (addr, currency, raw, frm) in expected.items():
            r = got[k]
            self.assertEqual((r["address"], r["currency"], r["raw"], r["status"]), (addr, currency, raw, "confirmed"), k)
            self.assertEqual(r["decimals"], 9 if currency == "SOL" else 6)
            self.assertEqual(r["contract"], USDT if currency == "USDT" else None)
            self.assertEqual(r["from"], frm)
            self.assertEqual(r["block"], chain.blocks[r["height"]]["blockhash"])
        self.assertEqual(got[dk]["status"], "reverted")
        self.assertEqual(len(hook.of_type("deposit.reverted")), 1)
        self.assertEqual(hook.bad_signatures, 0)
        # The faults really happened, the requests were well-formed.
        self.assertEqual(node.bad_requests, [])
        self.assertGreater(sum(node.faulted.values()), 10, node.faulted)
        for kind in ("getBlock -32004", "getBlocks lagging"):
            self.assertGreater(node.faulted.get(kind, 0), 0, node.faulted)
        self.assertGreater(node.batch_requests, 0)
        self.assertEqual(d.stop(), 0)

    def test_kill9_during_catch_up_gives_same_deposits_and_event_ids(self):
        pool = [key("pool-k", i) for i in range(12)]
        sender = key("sender-k")
        chain = Chain(fin_lag=8)
        rnd = random.Random(9)
        made = 0
        n = 0  # deposits at or after the configured start slot (the ones before it are never scanned)
        for s in range(START - 5, START + 320):
            if (s % 11 == 4) or (START + 150 <= s < START + 185):  # scattered skips and 35 in a row
                continue
            txs = []
            if rnd.random() < 0.3:
                made += 1
                n += s >= START
                to = pool[made % len(pool)]
                txs.append(sol_transfer(("k", made), sender, to, 10 ** 6 + made) if made % 2 else
                           spl_transfer(("k", made), sender, to, USDT, 10 ** 4 + made))
            chain.produce(s, txs)
        chain.finalize_all()
        tip = chain.confirmed

        ref_node = self.node(chain)
        reference = self.daemon(sol_chain_toml(ref_node.url, max_range=20), "reference")
        reference.import_addresses(pool, protocol="solana")
        reference.start()
        wait_until(lambda: self.scanned(reference) >= tip, timeout=180, interval=0.2, what="reference catch-up")
        wait_until(lambda: all(v == "confirmed" for v in reference.deposits().values()), timeout=60,
                   what="reference confirmed")
        reference.stop()
        want_deposits, want_events = reference.deposits(), reference.event_ids()
        self.assertEqual(len(want_deposits), n)

        node = self.node(chain)
        node.batches = False  # this endpoint refuses batches: one getBlock per request
        node.delay = 0.03     # a slow node: the catch-up takes several seconds
        crashed = self.daemon(sol_chain_toml(node.url, max_range=20), "crashed")
        crashed.import_addresses(pool, protocol="solana")
        for _ in range(4):
            crashed.start()
            time.sleep(rnd.uniform(0.3, 1.5))
            crashed.kill9()
        with contextlib.closing(crashed.db()) as c:
            row = c.execute("SELECT height FROM chain_cursors WHERE chain_id = 'solana'").fetchone()
        self.assertTrue(row is None or row[0] < tip, "the kills should land during the catch-up")
        crashed.start()
        wait_until(lambda: self.scanned(crashed) >= tip, timeout=180, interval=0.2, what="crashed catch-up")
        wait_until(lambda: all(v == "confirmed" for v in crashed.deposits().values()) and
                   len(crashed.deposits()) == n, timeout=60, what="crashed confirmed")
        crashed.stop()
        self.assertEqual(crashed.deposits(), want_deposits)
        self.assertEqual(crashed.event_ids(), want_events)
        # At most one refused batch per daemon start, then single calls.
        self.assertTrue(1 <= node.batch_requests <= 5, node.batch_requests)

    def test_ledger_gap_answers_during_a_reorg_walk_revert_nothing(self):
        """Issue 19: a backend whose ledger has a hole (booted from a recent
        snapshot, or long-term storage missing slots) answers -32007 "skipped"
        for slots that hold blocks. During a reorg walk that is "unknown,
        retry", not "our block left the chain": nothing is reverted until the
        chain itself proves what changed. Also: the wallet closing its own
        token account (rent back to it, a transaction it signed) is not a SOL
        deposit."""
        pool = [key("pool-gap", i) for i in range(4)]
        sender = key("sender-gap")
        chain = Chain(fin_lag=8)
        for s in range(START - 6, START + 6):
            if s % 5 != 2:
                chain.produce(s)
        chain.hold_finalized()  # nothing from here on is rooted yet
        kept = sol_transfer("kept", sender, pool[0], 3 * 10**9)
        chain.produce(START + 8, [kept])
        chain.produce(START + 9, [close_token_account("refund", pool[1], USDT)])
        for s in range(START + 10, START + 14):
            chain.produce(s)
        doomed = sol_transfer("doomed-gap", sender, pool[2], 10**9)
        chain.produce(START + 14, [doomed])
        node = self.node(chain)
        hook = Receiver()
        self.cleanups.append(hook.stop)
        d = self.daemon(sol_chain_toml(node.url), "gap", webhook_url=hook.url)
        d.import_addresses(pool, protocol="solana")
        d.start()
        kk, dk = (sig(kept), 1), (sig(doomed), 1)
        wait_until(lambda: {kk, dk} <= set(self.deposits(d)), timeout=60, what="deposits detected")
        wait_until(lambda: self.scanned(d) >= START + 14, timeout=60, what="caught up")
        self.assertEqual(self.deposits(d)[kk]["status"], "pending")

        # The node restarts from a snapshot with a hole in its ledger, and fork
        # choice drops the top slot: our last block is gone (proven: the next
        # confirmed block's parent is below it), the walk below it meets -32007.
        node.gap = set(range(START + 6, START + 14))
        chain.fork(START + 13, "b")
        chain.produce(START + 15)
        chain.produce(START + 16)
        wait_until(lambda: "does not know block" in d.log_text() or hook.of_type("deposit.reverted"), timeout=30,
                   what="the walk meeting the gap")
        time.sleep(2)
        got = self.deposits(d)
        self.assertEqual(got[kk]["status"], "pending", "a block the node has no ledger for was reverted")
        self.assertEqual(got[dk]["status"], "pending")
        self.assertEqual(hook.of_type("deposit.reverted"), [])

        # The hole is repaired: the walk ends at START+13, only the dropped slot is reverted.
        node.gap = set()
        wait_until(lambda: self.deposits(d)[dk]["status"] == "reverted", timeout=60, what="dropped slot reverted")
        self.assertEqual(self.deposits(d)[kk]["status"], "pending")
        chain.finalize_all()
        chain.produce(START + 17)
        chain.finalize_all()
        wait_until(lambda: self.deposits(d)[kk]["status"] == "confirmed", timeout=60, what="kept deposit confirmed")
        got = self.deposits(d)
        self.assertEqual(set(got), {kk, dk}, "the rent refund of the wallet's own transaction became a deposit")
        self.assertEqual(len(hook.of_type("deposit.reverted")), 1)
        self.assertEqual(node.bad_requests, [])
        self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    unittest.main()
