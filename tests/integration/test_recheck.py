"""Re-check of a transaction by hash (SPEC §10), end to end: the real
depositd binary and depositctl against real anvil and bcoin nodes, real
webhooks. Deposits made before the scan start are found by a re-check,
with the webhooks, amounts and reference the scanner would have given; a
second re-check records nothing and sends nothing; unknown, malformed and
not-mined transactions get 404, 400 and 409."""
import json
import os
import shutil
import tempfile
import time
import unittest

from harness import (Anvil, Bcoin, Daemon, Receiver, bitcoin_chain_block, evm_chain_block, p2wpkh, pool_addresses,
                     wait_until, DEV)
import solana_node as sol
import test_tron_replay as tron



def recheck(d, chain, tx, **extra):
    """POST /api/v1/deposits/recheck as a client honouring Retry-After: a
    daemon still starting (its adapter has not met the node yet) answers 503."""
    deadline = time.monotonic() + 20
    while True:
        st, res = d.post("/api/v1/deposits/recheck", {"chainId": chain, "txHash": tx, **extra})
        if st != 503 or time.monotonic() > deadline:
            return st, res
        time.sleep(0.2)

class RecheckEvm(unittest.TestCase):
    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="depositd-recheck-")
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

    def recheck(self, d, chain, tx, **extra):
        return recheck(d, chain, tx, **extra)

    def test_deposits_below_the_scan_start_are_found_once(self):
        node = Anvil()
        self.cleanups.append(node.stop)
        token = node.deploy_token()
        hook = Receiver()
        self.cleanups.append(hook.stop)

        # The address is bound before the payments; the daemon starts after them.
        wd = os.path.join(self.work, "d")
        os.makedirs(wd)
        probe = Daemon(wd, evm_chain_block("local", node.url, token, confirmations=3, start=0), webhook_url=hook.url)
        probe.import_addresses(pool_addresses(3))
        addr = json.loads(probe.ctl("bind", "player_7", "--protocol", "evm", "--json").stdout)["address"]
        time.sleep(1.1)  # block time after the binding began (seconds resolution)
        tok_tx = node.transfer_token(token, addr, 42_000_000)["transactionHash"]
        eth_tx = node.send_eth(addr, 3 * 10**17)["transactionHash"]
        node.mine(5)
        start = node.block_number() + 1
        d = Daemon(wd, evm_chain_block("local", node.url, token, confirmations=3, start=start), webhook_url=hook.url)
        self.cleanups.append(d.stop)
        d.start()
        wait_until(lambda: any(c["scanned"] is not None and c["scanned"] >= start - 1
                               for c in d.get("/health")[1]["chains"]), timeout=30, what="scanner started")
        time.sleep(0.5)
        self.assertEqual(d.deposits(), {})  # below the start: not scanned

        # Token: found, attributed, webhooks with the right amount and reference.
        st, res = self.recheck(d, "local", tok_tx)
        self.assertEqual(st, 200, res)
        self.assertTrue(res["success"])
        self.assertEqual(res["data"]["recorded"], 1)
        [dep] = res["data"]["deposits"]
        self.assertEqual(dep["currency"], "USDT")
        self.assertEqual(dep["amount"], "42")
        self.assertEqual(dep["depositReference"], "player_7")
        self.assertEqual(dep["txHash"].lower(), tok_tx.lower())
        # Native, through depositctl (which asks the running daemon), upper-case hash accepted.
        r = d.ctl("recheck", "--chain", "local", "--tx", "0x" + eth_tx[2:].upper(), "--json")
        data = json.loads(r.stdout)
        self.assertEqual(data["recorded"], 1)
        self.assertEqual(data["deposits"][0]["currency"], "ETH")
        self.assertEqual(data["deposits"][0]["amount"], "0.3")
        self.assertEqual(data["deposits"][0]["depositReference"], "player_7")

        pend = wait_until(lambda: len(hook.of_type("deposit.pending")) >= 2 and hook.of_type("deposit.pending"),
                          timeout=30, what="two pending webhooks")
        self.assertEqual({e["data"]["currency"]: e["data"]["amount"] for e in pend}, {"USDT": "42", "ETH": "0.3"})
        self.assertEqual({e["data"]["depositReference"] for e in pend}, {"player_7"})
        # Deep enough already: the scanner's confirmation pass confirms them.
        conf = wait_until(lambda: len(hook.of_type("deposit.confirmed")) >= 2 and hook.of_type("deposit.confirmed"),
                          timeout=30, what="two confirmed webhooks")
        self.assertEqual({e["data"]["status"] for e in conf}, {"confirmed"})

        # A second re-check records nothing and sends nothing.
        events_before = d.event_ids()
        st, res = self.recheck(d, "local", tok_tx)
        self.assertEqual(st, 200, res)
        self.assertEqual(res["data"]["recorded"], 0)
        self.assertEqual(len(res["data"]["deposits"]), 1)
        self.assertEqual(res["data"]["deposits"][0]["status"], "confirmed")
        r = d.ctl("recheck", "--chain", "local", "--tx", eth_tx)
        self.assertIn("0 newly recorded", r.stdout)
        time.sleep(1.0)
        self.assertEqual(d.event_ids(), events_before)
        self.assertEqual(len(hook.events), 4)
        self.assertEqual(hook.bad_signatures, 0)

        # Unknown, malformed, unknown chain.
        st, res = self.recheck(d, "local", "0x" + "ab" * 32)
        self.assertEqual((st, res["error"]), (404, "NotFound"), res)
        for bad in ["0x1234", "zz" * 32, "0x" + "g" * 64, ""]:
            st, res = self.recheck(d, "local", bad)
            self.assertEqual((st, res["error"]), (400, "ValidationError"), (bad, res))
        st, res = self.recheck(d, "nope", tok_tx)
        self.assertEqual((st, res["error"]), (400, "ValidationError"), res)
        st, res = d.post("/api/v1/deposits/recheck", {"chainId": "local"})
        self.assertEqual(st, 400, res)
        r = d.ctl("recheck", "--chain", "local", "--tx", "0x" + "cd" * 32, check=False)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("NotFound", r.stderr)
        r = d.ctl("recheck", "--chain", "local", "--tx", "0x12", check=False)
        self.assertEqual(r.returncode, 2, r.stderr)

        # Not mined yet: 409; once mined, recorded (the scanner or the re-check, once).
        node.rpc("evm_setAutomine", [False])
        pending_tx = node.rpc("eth_sendTransaction", [{"from": DEV, "to": addr, "value": hex(7 * 10**16)}])
        st, res = self.recheck(d, "local", pending_tx)
        self.assertEqual((st, res["error"]), (409, "Conflict"), res)
        self.assertIn("not mined", res["message"])
        node.rpc("evm_setAutomine", [True])
        node.mine(1)
        st, res = self.recheck(d, "local", pending_tx)
        self.assertEqual(st, 200, res)
        self.assertEqual(len(res["data"]["deposits"]), 1)
        wait_until(lambda: len([e for e in hook.of_type("deposit.pending") if e["data"]["amount"] == "0.07"]) == 1,
                   timeout=30, what="the late deposit's webhook")
        time.sleep(1.0)
        self.assertEqual(len([e for e in hook.of_type("deposit.pending") if e["data"]["amount"] == "0.07"]), 1)
        self.assertEqual(len([k for k in d.deposits()]), 3)

    def test_a_transfer_to_an_unwatched_address_records_nothing(self):
        node = Anvil()
        self.cleanups.append(node.stop)
        token = node.deploy_token()
        tx = node.transfer_token(token, "0x" + "11" * 20, 5_000_000)["transactionHash"]
        os.makedirs(os.path.join(self.work, "d2"))
        d = Daemon(os.path.join(self.work, "d2"),
                   evm_chain_block("local", node.url, token, start=node.block_number() + 1))
        self.cleanups.append(d.stop)
        d.import_addresses(pool_addresses(2))
        d.start()
        st, res = self.recheck(d, "local", tx)
        self.assertEqual(st, 200, res)
        self.assertEqual(res["data"], {"deposits": [], "recorded": 0})


class RecheckOtherChains(unittest.TestCase):
    """bcoin regtest (real), and the scripted TRON and Solana nodes built from real samples."""

    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="depositd-recheck-")
        self.cleanups = []

    def tearDown(self):
        for fn in reversed(self.cleanups):
            try:
                fn()
            except Exception:  # noqa: BLE001
                pass
        shutil.rmtree(self.work, ignore_errors=True)

    def daemon(self, chains, hook, sub):
        wd = os.path.join(self.work, sub)
        os.makedirs(wd)
        d = Daemon(wd, chains, webhook_url=hook.url)
        self.cleanups.append(d.stop)
        return d

    def receiver(self):
        r = Receiver()
        self.cleanups.append(r.stop)
        return r

    def recheck(self, d, chain, tx, **extra):
        return recheck(d, chain, tx, **extra)

    def test_bitcoin_below_the_start(self):
        node = Bcoin()
        self.cleanups.append(node.stop)
        node.mine(110)
        addr = p2wpkh("recheck-1")
        txid = node.send(addr, 1.25)
        node.mine(3)
        hook = self.receiver()
        d = self.daemon(bitcoin_chain_block("btc", node.url, confirmations=2, start=node.height() + 1), hook, "b")
        d.import_addresses([addr], protocol="bitcoin")
        d.start()
        st, res = self.recheck(d, "btc", txid)
        self.assertEqual(st, 200, res)
        self.assertEqual(res["data"]["recorded"], 1)
        [dep] = res["data"]["deposits"]
        self.assertEqual((dep["currency"], dep["amount"], dep["address"]), ("BTC", "1.25", addr))
        wait_until(lambda: hook.of_type("deposit.confirmed"), timeout=30, what="confirmed webhook")
        st, res = self.recheck(d, "btc", txid.upper())
        self.assertEqual((st, res["data"]["recorded"]), (200, 0), res)
        st, res = self.recheck(d, "btc", "00" * 32)
        self.assertEqual(st, 404, res)
        st, res = self.recheck(d, "btc", "xyz")
        self.assertEqual(st, 400, res)
        # In the mempool: not mined yet.
        pending = node.send(addr, 0.5)
        st, res = self.recheck(d, "btc", pending)
        self.assertEqual((st, res["error"]), (409, "Conflict"), res)
        time.sleep(0.5)
        self.assertEqual(len(hook.events), 2)

    def test_tron_below_the_start(self):
        pool_hex = [tron.h("pool", i)[:40] for i in range(2)]
        pool = [tron.tron_addr(x) for x in pool_hex]
        chain = tron.Chain()
        chain.extend_to(tron.START - 20)
        trx = tron.trx_tx("early-trx", pool_hex[0], 12_000_000)
        usdt = tron.trc20_tx("early-usdt", tron.USDT_HEX, [(pool_hex[1], 3_500_000), (tron.h("x")[:40], 1)])
        chain.add([trx, usdt])
        chain.extend_to(tron.START + 25)
        chain.pending["ff" * 32] = {"txID": "ff" * 32, "raw_data": {}}
        node = tron.TronReplay(chain)
        self.cleanups.append(node.stop)
        hook = self.receiver()
        d = self.daemon(tron.tron_chain_toml(node.url), hook, "t")
        d.import_addresses(pool, protocol="tron")
        d.start()
        st, res = self.recheck(d, "tron", usdt[0]["txID"])
        self.assertEqual(st, 200, res)
        self.assertEqual(res["data"]["recorded"], 1)
        [dep] = res["data"]["deposits"]
        self.assertEqual((dep["currency"], dep["amount"], dep["address"]), ("USDT", "3.5", pool[1]))
        st, res = self.recheck(d, "tron", trx[0]["txID"].upper())
        self.assertEqual(st, 200, res)
        self.assertEqual([(x["currency"], x["amount"]) for x in res["data"]["deposits"]], [("TRX", "12")])
        # finalized chain, the block far below the solid head: both confirm.
        wait_until(lambda: len(hook.of_type("deposit.confirmed")) == 2, timeout=30, what="two confirmed webhooks")
        st, res = self.recheck(d, "tron", usdt[0]["txID"])
        self.assertEqual((st, res["data"]["recorded"]), (200, 0), res)
        self.assertEqual(self.recheck(d, "tron", "ab" * 32)[0], 404)
        self.assertEqual(self.recheck(d, "tron", "ff" * 32)[0], 409)
        self.assertEqual(self.recheck(d, "tron", "T" * 34)[0], 400)
        time.sleep(0.5)
        self.assertEqual(len(hook.events), 4)

    def test_solana_below_the_start(self):
        pool = [sol.key("pool", i) for i in range(2)]
        sender = sol.key("sender")
        chain = sol.Chain(fin_lag=8)
        start = 1000
        for s in range(950, start - 10):
            chain.produce(s)
        t_sol = sol.sol_transfer("early-sol", sender, pool[0], 2 * 10 ** 9)
        t_usdt = sol.spl_transfer("early-usdt", sender, pool[1], sol.USDT, 4_200_000)
        chain.produce(start - 10, [t_sol, t_usdt])
        for s in range(start - 9, start + 20):
            if s % 4 != 3:
                chain.produce(s)
        chain.pending[sol.signature("pending")] = {}
        node = sol.Node(chain)
        self.cleanups.append(node.stop)
        hook = self.receiver()
        toml = (f'[[chains]]\nid = "solana"\nkind = "solana"\nrpc = ["{node.url}"]\n'
                f'confirmations = "finalized"\npoll_interval = "150ms"\nstart = {start}\n'
                f'native = {{ symbol = "SOL", decimals = 9 }}\n'
                f'tokens = [{{ symbol = "USDT", contract = "{sol.USDT}", decimals = 6 }}]\n')
        d = self.daemon(toml, hook, "s")
        d.import_addresses(pool, protocol="solana")
        d.start()
        for t, cur, amount, addr in [(t_sol, "SOL", "2", pool[0]), (t_usdt, "USDT", "4.2", pool[1])]:
            st, res = self.recheck(d, "solana", t["transaction"]["signatures"][0])
            self.assertEqual(st, 200, res)
            self.assertEqual(res["data"]["recorded"], 1)
            [dep] = res["data"]["deposits"]
            self.assertEqual((dep["currency"], dep["amount"], dep["address"]), (cur, amount, addr))
        wait_until(lambda: len(hook.of_type("deposit.confirmed")) == 2, timeout=30, what="two confirmed webhooks")
        st, res = self.recheck(d, "solana", t_sol["transaction"]["signatures"][0])
        self.assertEqual((st, res["data"]["recorded"]), (200, 0), res)
        self.assertEqual(self.recheck(d, "solana", sol.signature("never"))[0], 404)
        self.assertEqual(self.recheck(d, "solana", sol.signature("pending"))[0], 409)
        self.assertEqual(self.recheck(d, "solana", "0x" + "ab" * 32)[0], 400)
        self.assertEqual(node.bad_requests, [])
        time.sleep(0.5)
        self.assertEqual(len(hook.events), 4)


if __name__ == "__main__":
    unittest.main()
