"""EVM deposits end to end: the real depositd binary against a real anvil
node, real webhooks checked by an independent signature verifier."""
import os
import random
import shutil
import tempfile
import threading
import time
import unittest
import json
import http.server
import urllib.request

from harness import (Anvil, Daemon, Receiver, evm_chain_block, pool_addresses, wait_until, DEV)


class EvmEndToEnd(unittest.TestCase):
    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="depositd-e2e-")
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

    def test_erc20_and_eth_deposits_pending_then_confirmed(self):
        node = self.anvil()
        token = node.deploy_token()
        hook = self.receiver()
        d = self.daemon(evm_chain_block("local", node.url, token, confirmations=3), hook.url)
        d.import_addresses(pool_addresses(5))
        d.start()
        addr = d.bind("player_42")
        self.assertEqual(d.bind("player_42"), addr)  # idempotent

        node.transfer_token(token, addr, 125_500_000)
        node.send_eth(addr, 10**18 + 5)
        pend = wait_until(lambda: len(hook.of_type("deposit.pending")) >= 2 and hook.of_type("deposit.pending"),
                          timeout=30, what="two pending webhooks")
        by_currency = {e["data"]["currency"]: e["data"] for e in pend}
        self.assertEqual(by_currency["USDT"]["amount"], "125.5")
        self.assertEqual(by_currency["USDT"]["rawAmount"], "125500000")
        self.assertEqual(by_currency["USDT"]["depositReference"], "player_42")
        self.assertEqual(by_currency["USDT"]["from"].lower(), DEV)
        self.assertEqual(by_currency["ETH"]["amount"], "1.000000000000000005")
        self.assertIsNone(by_currency["ETH"]["contract"])
        self.assertEqual(by_currency["USDT"]["status"], "pending")

        node.mine(3)
        conf = wait_until(lambda: len(hook.of_type("deposit.confirmed")) >= 2 and hook.of_type("deposit.confirmed"),
                          timeout=30, what="two confirmed webhooks")
        self.assertEqual({e["data"]["status"] for e in conf}, {"confirmed"})
        self.assertEqual(hook.bad_signatures, 0)
        # Each (deposit, type) exactly one event id; pending arrived before confirmed.
        ids = [i for i, _ in hook.events]
        self.assertEqual(len(ids), len(set(ids)))
        order = [(e["data"]["id"], e["type"]) for _, e in hook.events]
        for dep in {e["data"]["id"] for e in conf}:
            self.assertLess(order.index((dep, "deposit.pending")), order.index((dep, "deposit.confirmed")))

        status, res = d.get("/api/v1/deposits?depositReference=player_42")
        self.assertEqual(status, 200, res)
        self.assertEqual(res["data"]["pagination"]["total"], 2)
        status, res = d.get("/api/v1/deposits/references/player_42")
        self.assertEqual(status, 200, res)
        totals = {t["currency"]: t["amount"] for t in res["data"]["totals"]}
        self.assertEqual(totals["USDT"], "125.5")
        status, health = d.get("/health", auth=False)
        self.assertEqual(health["chains"][0]["chainId"], "local")
        self.assertEqual(d.stop(), 0)

    def test_unbound_pool_address_is_recorded_and_failed_tx_is_not(self):
        node = self.anvil()
        token = node.deploy_token()
        hook = self.receiver()
        d = self.daemon(evm_chain_block("local", node.url, token, confirmations=1), hook.url)
        pool = pool_addresses(3, seed=7)
        d.import_addresses(pool)
        d.start()
        node.transfer_token(token, pool[2], 42)
        # A reverted transfer (more than the balance, sent from an empty account) logs nothing.
        ev = wait_until(lambda: hook.of_type("deposit.confirmed"), timeout=30, what="confirmed webhook")
        self.assertIsNone(ev[0]["data"]["depositReference"])
        self.assertEqual(ev[0]["data"]["rawAmount"], "42")

    def test_reorg_reverts_and_remined_transfer_is_new_deposit(self):
        node = self.anvil()
        token = node.deploy_token()
        hook = self.receiver()
        d = self.daemon(evm_chain_block("local", node.url, token, confirmations=20), hook.url)
        d.import_addresses(pool_addresses(2, seed=3))
        d.start()
        addr = d.bind("reorg_user")
        node.mine(2)
        node.transfer_token(token, addr, 777)
        node.mine(2)
        first = wait_until(lambda: hook.of_type("deposit.pending"), timeout=30, what="pending")[0]["data"]
        # Replace the last 3 blocks (the transfer's block among them); the same
        # transfer is mined again in the replacement chain.
        replacement = {"from": DEV, "to": token, "data": "0xa9059cbb" + addr[2:].lower().rjust(64, "0") +
                       f"{777:064x}", "gas": hex(100_000)}
        node.rpc("anvil_reorg", [3, [[replacement, 1]]])
        node.mine(1)
        reverted = wait_until(lambda: hook.of_type("deposit.reverted"), timeout=30, what="reverted")[0]["data"]
        self.assertEqual(reverted["id"], first["id"])
        self.assertEqual(reverted["status"], "reverted")
        second = wait_until(lambda: [e["data"] for e in hook.of_type("deposit.pending")
                                     if e["data"]["id"] != first["id"]], timeout=30, what="re-mined pending")[0]
        self.assertNotEqual(second["blockHash"], first["blockHash"])
        self.assertEqual(second["rawAmount"], "777")
        deps = d.deposits()
        self.assertEqual(deps[first["id"]], "reverted")
        self.assertEqual(deps[second["id"]], "pending")

    def test_kill9_during_catch_up_gives_same_deposits_and_event_ids(self):
        node = self.anvil()
        token = node.deploy_token()
        pool = pool_addresses(20, seed=11)
        rnd = random.Random(5)
        # ~1,500 blocks with 150 token transfers and 30 ETH transfers spread among them.
        for i in range(150):
            node.mine(rnd.randint(1, 15))
            node.transfer_token(token, pool[i % len(pool)], 1000 + i)
            if i % 5 == 0:
                node.send_eth(pool[(i * 7) % len(pool)], 10**15 + i)
        node.mine(5)
        chain = evm_chain_block("local", node.url, token, confirmations=2, extra="max_block_range = 40")

        reference = self.daemon(chain, sub="reference")
        reference.import_addresses(pool)
        reference.start()
        head = node.block_number()
        wait_until(lambda: reference.get("/health", auth=False)[1]["chains"][0]["scanned"] >= head,
                   timeout=180, interval=0.2, what="reference catch-up")
        reference.stop()
        want_deposits, want_events = reference.deposits(), reference.event_ids()
        self.assertGreaterEqual(len(want_deposits), 180)

        crashed = self.daemon(chain, sub="crashed")
        crashed.import_addresses(pool)
        for _ in range(5):
            crashed.start()
            time.sleep(rnd.uniform(0.2, 1.2))
            crashed.kill9()
        crashed.start()
        wait_until(lambda: crashed.get("/health", auth=False)[1]["chains"][0]["scanned"] >= head,
                   timeout=180, interval=0.2, what="crashed catch-up")
        crashed.stop()
        self.assertEqual(crashed.deposits(), want_deposits)
        self.assertEqual(crashed.event_ids(), want_events)

    def test_node_restart_mid_run_recovers_without_gap(self):
        state = os.path.join(self.work, "anvil-state.json")
        node = self.anvil(state=state)
        token = node.deploy_token()
        hook = self.receiver()
        d = self.daemon(evm_chain_block("local", node.url, token, confirmations=1), hook.url)
        pool = pool_addresses(4, seed=21)
        d.import_addresses(pool)
        d.start()
        node.transfer_token(token, pool[0], 1)
        wait_until(lambda: len(hook.of_type("deposit.confirmed")) >= 1, timeout=30, what="first deposit")
        port = node.port
        node.stop()  # SIGTERM: anvil dumps its state
        time.sleep(1.5)  # the daemon sees the node down and backs off
        node2 = self.anvil(state=state, port=port)
        node2.transfer_token(token, pool[1], 2)
        node2.mine(3)
        node2.transfer_token(token, pool[2], 3)
        got = wait_until(lambda: len(hook.of_type("deposit.confirmed")) >= 3 and hook.of_type("deposit.confirmed"),
                         timeout=60, what="deposits after node restart")
        self.assertEqual(sorted(e["data"]["rawAmount"] for e in got), ["1", "2", "3"])
        self.assertIsNone(d.proc.poll(), "daemon must survive the node restart")


class RangeLimitingProxy:
    """Forwards JSON-RPC to anvil but refuses eth_getLogs over 10 blocks with
    a real provider error string."""

    def __init__(self, upstream):
        self.refusals = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                req = json.loads(body)
                reqs = req if isinstance(req, list) else [req]
                for r in reqs:
                    if r.get("method") == "eth_getLogs":
                        f = r["params"][0]
                        if "fromBlock" in f and int(f["toBlock"], 16) - int(f["fromBlock"], 16) + 1 > 10:
                            outer.refusals += 1
                            out = json.dumps({"jsonrpc": "2.0", "id": r["id"], "error": {
                                "code": -32602, "message": "query exceeds max block range 10"}}).encode()
                            self.send_response(200)
                            self.send_header("content-type", "application/json")
                            self.send_header("content-length", str(len(out)))
                            self.end_headers()
                            self.wfile.write(out)
                            return
                up = urllib.request.Request(upstream, data=body, headers={"content-type": "application/json"})
                with urllib.request.urlopen(up, timeout=30) as resp:
                    out = resp.read()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class EvmRangeLimits(EvmEndToEnd.__base__):
    def test_provider_range_limit_still_complete(self):
        work = tempfile.mkdtemp(prefix="depositd-range-")
        node = Anvil()
        proxy = RangeLimitingProxy(node.url)
        d = None
        try:
            token = node.deploy_token()
            pool = pool_addresses(5, seed=31)
            for i in range(30):
                node.mine(3)
                node.transfer_token(token, pool[i % 5], 10 + i)
            node.mine(2)
            d = Daemon(work, evm_chain_block("limited", proxy.url, token, confirmations=1,
                                             extra="max_block_range = 200"))
            d.import_addresses(pool)
            d.start()
            head = node.block_number()
            wait_until(lambda: d.get("/health", auth=False)[1]["chains"][0]["scanned"] >= head,
                       timeout=120, interval=0.2, what="catch-up behind the range-limiting proxy")
            self.assertEqual(len(d.deposits()), 30)
            self.assertGreater(proxy.refusals, 0)
        finally:
            if d:
                d.stop()
            proxy.stop()
            node.stop()
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
