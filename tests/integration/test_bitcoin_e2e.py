"""Bitcoin deposits end to end: the real depositd binary against a real bcoin
regtest node (bcoin's dialect of Bitcoin Core's JSON-RPC), real webhooks
checked by an independent signature verifier."""
import contextlib
import os
import random
import shutil
import subprocess
import tempfile
import time
import unittest

import harness
from harness import (Bcoin, Daemon, Receiver, base58check, bitcoin_chain_block, p2pkh, p2sh_p2wpkh, p2wpkh,
                     segwit_address, wait_until)

# BIP84 test vector (mnemonic "abandon x11 about"), account m/84'/0'/0'.
ZPUB = "zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs"
ZPUB_0_0_PROGRAM = "c0cebcd6c3d3ca8c75dc5ec62ebe55330ef910e2"  # bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu
# The BIP44 vector's account key (m/44'/0'/0'), re-encoded as a vpub (SLIP-0132 0x045f1cf6).
XPUB44 = "xpub6BosfCnifzxcFwrSzQiqu2DBVTshkCXacvNsWGYJVVhhawA7d4R5WSWGFNbi8Aw6ZRc1brxMyWMzG3DSSSSoekkudhUd9yLb6qx39T9nMdj"


def b58decode_check(text):
    n = 0
    for c in text:
        n = n * 58 + harness._B58.index(c)
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    raw = b"\0" * (len(text) - len(text.lstrip("1"))) + raw
    return raw[:-4]


def reversion(xpub, version):
    return base58check(version.to_bytes(4, "big") + b58decode_check(xpub)[4:])


class BitcoinEndToEnd(unittest.TestCase):
    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="depositd-btc-")
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

    def bcoin(self, blocks=110):
        node = Bcoin()
        self.cleanups.append(node.stop)
        node.mine(blocks)  # coinbase maturity: the wallet can spend from block 1 on
        return node

    def receiver(self):
        r = Receiver()
        self.cleanups.append(r.stop)
        return r

    def daemon(self, chains, hook=None, sub="d", **kw):
        wd = os.path.join(self.work, sub)
        os.makedirs(wd, exist_ok=True)
        d = Daemon(wd, chains, webhook_url=hook, **kw)
        self.cleanups.append(d.stop)
        return d

    def scanned(self, d):
        return d.get("/health", auth=False)[1]["chains"][0]["scanned"]

    def test_three_script_types_two_in_one_tx_pending_then_confirmed(self):
        node = self.bcoin()
        hook = self.receiver()
        pool = [p2wpkh("e2e-1"), p2sh_p2wpkh("e2e-2"), p2pkh("e2e-3")]
        kinds = {pool[0]: "p2wpkh", pool[1]: "p2sh-p2wpkh", pool[2]: "p2pkh"}
        d = self.daemon(bitcoin_chain_block("btc", node.url, confirmations=3, start=node.height()), hook.url)
        r = d.import_addresses(pool, protocol="bitcoin")
        self.assertIn("imported 3", r.stdout)
        d.start()
        by_ref = {ref: d.bind(ref, protocol="bitcoin") for ref in ("alice", "bob", "carol")}
        self.assertEqual(set(by_ref.values()), set(pool))
        ref_of = {a: ref for ref, a in by_ref.items()}

        segwit, nested, legacy = pool
        both = node.send_many({segwit: 0.125, nested: 0.00000546})  # one tx, two watched outputs
        single = node.send(legacy, 21.5)
        stranger = node.send(p2wpkh("nobody-watches-this"), 3.0)
        node.mine(1)
        pend = wait_until(lambda: len(hook.of_type("deposit.pending")) >= 3 and hook.of_type("deposit.pending"),
                          timeout=30, what="three pending webhooks")
        got = {e["data"]["address"]: e["data"] for e in pend}
        self.assertEqual(set(got), set(pool))
        self.assertEqual(got[segwit]["amount"], "0.125")
        self.assertEqual(got[segwit]["rawAmount"], "12500000")
        self.assertEqual(got[nested]["amount"], "0.00000546")
        self.assertEqual(got[nested]["rawAmount"], "546")
        self.assertEqual(got[legacy]["amount"], "21.5")
        self.assertEqual(got[segwit]["txHash"], both)
        self.assertEqual(got[nested]["txHash"], both)
        self.assertNotEqual(got[segwit]["index"], got[nested]["index"])
        self.assertEqual(got[legacy]["txHash"], single)
        for a, dep in got.items():
            self.assertEqual(dep["chainId"], "btc", kinds[a])
            self.assertEqual(dep["currency"], "BTC")
            self.assertIsNone(dep["contract"])
            self.assertEqual(dep["decimals"], 8)
            self.assertEqual(dep["status"], "pending")
            self.assertEqual(dep["depositReference"], ref_of[a])
            self.assertEqual(dep["requiredConfirmations"], 3)
            self.assertEqual(dep["blockNumber"], node.height())
        tx = node.rpc("getrawtransaction", both, True)
        for a in (segwit, nested):
            out = tx["vout"][got[a]["index"]]
            self.assertEqual(out["scriptPubKey"]["addresses"], [a])

        node.mine(2)
        conf = wait_until(lambda: len(hook.of_type("deposit.confirmed")) >= 3 and hook.of_type("deposit.confirmed"),
                          timeout=30, what="three confirmed webhooks")
        self.assertEqual({e["data"]["address"] for e in conf}, set(pool))
        self.assertEqual(hook.bad_signatures, 0)
        ids = [i for i, _ in hook.events]
        self.assertEqual(len(ids), len(set(ids)))
        order = [(e["data"]["id"], e["type"]) for _, e in hook.events]
        for e in conf:
            self.assertLess(order.index((e["data"]["id"], "deposit.pending")),
                            order.index((e["data"]["id"], "deposit.confirmed")))
        # Nothing for the unwatched payment, and nothing more at all.
        time.sleep(0.5)
        self.assertEqual(len(hook.events), 6)
        self.assertFalse(any(e["data"]["txHash"] == stranger for _, e in hook.events))
        status, res = d.get("/api/v1/deposits?chainId=btc")
        self.assertEqual(status, 200, res)
        self.assertEqual(res["data"]["pagination"]["total"], 3)
        status, res = d.get("/api/v1/deposits/references/carol")
        self.assertEqual(status, 200, res)
        self.assertEqual(res["data"]["address"], by_ref["carol"])
        status, health = d.get("/health", auth=False)
        self.assertEqual(health["chains"][0]["chainId"], "btc")
        self.assertEqual(health["chains"][0]["head"], node.height())
        log = d.log_text()
        self.assertIn("bcoin node on chain \"regtest\"", log)
        self.assertNotIn(node.api_key, log)  # the password in the rpc URL is never logged
        self.assertEqual(d.stop(), 0)

    def test_invalidated_block_reverts_and_is_never_confirmed(self):
        node = self.bcoin()
        hook = self.receiver()
        addr = p2wpkh("reorg-1")
        d = self.daemon(bitcoin_chain_block("btc", node.url, confirmations=4, start=node.height()), hook.url)
        d.import_addresses([addr], protocol="bitcoin")
        d.start()
        txid = node.send(addr, 1.75)
        block = node.mine(1)[0]
        first = wait_until(lambda: hook.of_type("deposit.pending"), timeout=30, what="pending")[0]["data"]
        self.assertEqual(first["blockHash"], block)
        self.assertEqual(first["txHash"], txid)

        node.rpc("invalidateblock", block)
        self.assertEqual(node.height(), first["blockNumber"] - 1)
        # New blocks take the height (to an address nobody watches).
        replaced = node.mine(6, to=p2wpkh("other-miner"))
        self.assertNotEqual(node.rpc("getblockhash", first["blockNumber"]), block)
        reverted = wait_until(lambda: hook.of_type("deposit.reverted"), timeout=30, what="reverted")[0]["data"]
        self.assertEqual(reverted["id"], first["id"])
        wait_until(lambda: self.scanned(d) >= node.height(), timeout=30, what="scanner at the new tip")
        time.sleep(0.5)
        self.assertEqual(d.deposits()[first["id"]], "reverted")
        self.assertFalse([e for e in hook.of_type("deposit.confirmed") if e["data"]["id"] == first["id"]])
        # If the transaction was mined again, it is another deposit in another block.
        for e in hook.of_type("deposit.pending"):
            if e["data"]["id"] != first["id"]:
                self.assertIn(e["data"]["blockHash"], replaced)
                self.assertEqual(e["data"]["txHash"], txid)
        self.assertEqual(hook.bad_signatures, 0)

    def test_kill9_during_catch_up_loses_and_doubles_nothing(self):
        node = self.bcoin()
        start = node.height() + 1
        pool = [p2wpkh(f"k9-{i}") for i in range(8)] + [p2pkh(f"k9p-{i}") for i in range(4)]
        rnd = random.Random(11)
        for i in range(40):
            if i % 5 == 0:
                node.send_many({pool[i % len(pool)]: 0.001 + i / 1e6, pool[(i + 3) % len(pool)]: 0.0002})
            else:
                node.send(pool[i % len(pool)], 0.01 + i / 1e8)
            node.mine(rnd.randint(1, 40))
        node.mine(2)  # every deposit confirmed at the head
        head = node.height()
        chain = bitcoin_chain_block("btc", node.url, confirmations=2, start=start, extra="max_block_range = 7")

        reference = self.daemon(chain, sub="reference")
        reference.import_addresses(pool, protocol="bitcoin")
        reference.start()
        wait_until(lambda: self.scanned(reference) >= head, timeout=180, interval=0.2, what="reference catch-up")
        reference.stop()
        want_deposits, want_events = reference.deposits(), reference.event_ids()
        self.assertEqual(len(want_deposits), 48)  # 32 single + 8 x 2
        self.assertEqual(set(want_deposits.values()), {"confirmed"})

        crashed = self.daemon(chain, sub="crashed")
        crashed.import_addresses(pool, protocol="bitcoin")
        cut_short = 0
        for _ in range(5):
            crashed.start()
            time.sleep(rnd.uniform(0.1, 0.8))
            crashed.kill9()
            with contextlib.closing(crashed.db()) as c:
                row = c.execute("SELECT height FROM chain_cursors").fetchone()
            cut_short += bool(row is None or row[0] < head)
        self.assertGreaterEqual(cut_short, 3, "the kills must land during the catch-up")
        crashed.start()
        wait_until(lambda: self.scanned(crashed) >= head, timeout=180, interval=0.2, what="crashed catch-up")
        crashed.stop()
        self.assertEqual(crashed.deposits(), want_deposits)
        self.assertEqual(crashed.event_ids(), want_events)
        with contextlib.closing(crashed.db()) as c:
            rows = c.execute("SELECT tx_hash, idx, raw_amount FROM deposits ORDER BY tx_hash, idx").fetchall()
        with contextlib.closing(reference.db()) as c:
            self.assertEqual(rows, c.execute("SELECT tx_hash, idx, raw_amount FROM deposits ORDER BY tx_hash, idx").fetchall())

    def test_zpub_and_vpub_derived_pool_end_to_end(self):
        node = self.bcoin()
        hook = self.receiver()
        d = self.daemon(bitcoin_chain_block("btc", node.url, confirmations=1, start=node.height()), hook.url)
        r = d.ctl("pool", "derive", "--protocol", "bitcoin", "--xpub", ZPUB, "--count", "3", "--network", "bcoin-regtest")
        self.assertIn("imported 3", r.stdout)
        first_zpub = segwit_address("rb", 0, bytes.fromhex(ZPUB_0_0_PROGRAM))  # the BIP84 vector's 0/0, bcoin prefix
        self.assertIn(first_zpub, r.stdout)
        vpub = reversion(XPUB44, 0x045f1cf6)
        self.assertTrue(vpub.startswith("vpub"))
        r = d.ctl("pool", "derive", "--protocol", "bitcoin", "--xpub", vpub, "--count", "2", "--network", "bcoin-regtest")
        self.assertIn("imported 2", r.stdout)
        d.start()
        addrs = [d.bind(f"user-{i}", protocol="bitcoin") for i in range(5)]
        self.assertIn(first_zpub, addrs)
        self.assertTrue(all(a.startswith("rb1q") for a in addrs))
        amounts = [0.5, 0.00012345, 1.0, 2.25, 0.0001]
        for a, v in zip(addrs, amounts):
            node.send(a, v)
        node.mine(1)
        conf = wait_until(lambda: len(hook.of_type("deposit.confirmed")) >= 5 and hook.of_type("deposit.confirmed"),
                          timeout=30, what="five confirmed webhooks")
        got = {e["data"]["address"]: e["data"]["rawAmount"] for e in conf}
        self.assertEqual(got, {a: str(round(v * 1e8)) for a, v in zip(addrs, amounts)})
        self.assertEqual(hook.bad_signatures, 0)

    def test_mainnet_pool_on_a_regtest_node_is_a_start_up_error(self):
        node = self.bcoin(blocks=1)
        d = self.daemon(bitcoin_chain_block("btc", node.url, confirmations=3))
        d.import_addresses(["bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH"],
                           protocol="bitcoin")
        log = open(d.log_path, "ab")
        env = {**os.environ, "ASAN_OPTIONS": "detect_leaks=0"}
        proc = subprocess.Popen([harness.DEPOSITD, "--config", d.config], stdout=log, stderr=log, env=env)
        try:
            rc = proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
            log.close()
        self.assertEqual(rc, 2, d.log_text())
        text = d.log_text()
        self.assertIn("regtest", text)
        self.assertTrue("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4" in text or
                        "1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH" in text, text)
        self.assertNotIn(node.api_key, text)


if __name__ == "__main__":
    unittest.main()
