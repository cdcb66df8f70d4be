"""TRON deposits end to end: the real depositd binary against a replay
server that serves a scripted TRON chain in java-tron's HTTP shapes
(tests/fixtures/tron/: getnowblock, getblockbylimitnext, getblockbynum,
gettransactioninfobyblocknum), with faults injected now and then.

The chain: blockID = 8-byte height || 24 bytes, parentHash links, TRX
TransferContract and USDT TRC20 Transfer logs to pool addresses, a
counterfeit USDT contract, failed transactions (contractRet REVERT / receipt
REVERT + result FAILED), a TRC10 airdrop, a reorg replacing the last blocks,
{} and {"Error"} answers, 429 / 403 "suspended" / 503 rate-limit answers,
gettransactioninfobyblocknum [] for a block with transactions. Solidified
head = head - 19.
"""
import contextlib
import hashlib
import http.server
import json
import os
import random
import shutil
import tempfile
import threading
import unittest

from harness import DEPOSITD, DEPOSITCTL, Daemon, Receiver, wait_until

B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
TRANSFER_TOPIC = "ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
USDT_HEX = "a614f803b6fd780986a42c78ec9c7f77e6ded13c"          # TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t
USDT_T = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
FAKE_HEX = "54eaab3f6da1d05b2a5b3d0bb4ef96d0bc3e5fab"           # a "USDT" nobody configured
API_KEY_HEADER = "TRON-PRO-API-KEY"
API_KEY = "tron-test-key-42"
SOLID_LAG = 19
START = 1000


def b58check(payload: bytes) -> str:
    data = payload + hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    n = int.from_bytes(data, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = B58[r] + out
    pad = len(data) - len(data.lstrip(b"\0"))
    return "1" * pad + out


def tron_addr(hex20: str) -> str:
    return b58check(bytes.fromhex("41" + hex20))


def h(*parts) -> str:
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()


def word(n: int) -> str:
    return f"{n:064x}"


def topic_addr(hex20: str) -> str:
    return "0" * 24 + hex20


SENDER = h("sender")[:40]
assert tron_addr(USDT_HEX) == USDT_T


class Chain:
    """Blocks by height on the canonical branch; each block is (block json, info list)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.blocks = {}
        self.infos = {}
        self.tip = -1
        self.salt = "main"

    def block_id(self, height):
        return f"{height:016x}" + h(self.salt, "block", height)[:48]

    def add(self, txs=()):
        """Append a block holding `txs` (list of (tx json, info json))."""
        with self.lock:
            n = self.tip + 1
            parent = self.blocks[n - 1]["blockID"] if n > 0 else "0" * 64
            bid = self.block_id(n)
            raw = {"number": n, "txTrieRoot": h("trie", n), "witness_address": "41" + h("sr", n % 27)[:40],
                   "parentHash": parent, "version": 30, "timestamp": 1700000000000 + 3000 * n}
            block = {"blockID": bid, "block_header": {"raw_data": raw, "witness_signature": h("sig", bid) * 2}}
            infos = []
            if txs:
                block["transactions"] = []
                for tx, info in txs:
                    block["transactions"].append(tx)
                    info = dict(info, blockNumber=n, blockTimeStamp=raw["timestamp"])
                    infos.append(info)
            self.blocks[n] = block
            self.infos[n] = infos
            self.tip = n
            return n

    def rewind(self, height, salt):
        """Drop blocks above `height`; new blocks get ids from another branch."""
        with self.lock:
            for k in [k for k in self.blocks if k > height]:
                del self.blocks[k]
                del self.infos[k]
            self.tip = height
            self.salt = salt

    def extend_to(self, height):
        while self.tip < height:
            self.add()


def trx_tx(key, to_hex, amount, ok=True):
    tid = h("trx", key)
    value = {"amount": amount, "owner_address": "41" + SENDER, "to_address": "41" + to_hex}
    tx = {"raw_data": {"contract": [{"parameter": {"type_url": "type.googleapis.com/protocol.TransferContract",
                                                   "value": value}, "type": "TransferContract"}],
                       "ref_block_bytes": "f49e", "ref_block_hash": "bf6a4ff33cc1c160",
                       "expiration": 1700000060000, "timestamp": 1700000000000},
          "raw_data_hex": "0a02f49e", "ret": [{"contractRet": "SUCCESS" if ok else "REVERT"}],
          "signature": [h("s", tid) * 2], "txID": tid}
    info = {"id": tid, "fee": 1100000, "contractResult": [""], "receipt": {"net_fee": 268000}}
    return tx, info


def trc10_tx(key, to_hex):
    tid = h("trc10", key)
    value = {"amount": 468000, "asset_name": "31303034303833", "owner_address": "41" + SENDER,
             "to_address": "41" + to_hex}
    tx = {"raw_data": {"contract": [{"parameter": {"type_url": "type.googleapis.com/protocol.TransferAssetContract",
                                                   "value": value}, "type": "TransferAssetContract"}],
                       "data": "42495320697320746865206d617070696e67", "timestamp": 1700000000000},
          "ret": [{"contractRet": "SUCCESS"}], "signature": [h("s", tid) * 2], "txID": tid}
    return tx, {"id": tid, "fee": 0, "contractResult": [""], "receipt": {"net_usage": 283}}


def trc20_tx(key, contract_hex, transfers, ok=True):
    """A TriggerSmartContract whose execution logged `transfers` [(to_hex, amount)]."""
    tid = h("trc20", key)
    first_to, first_amount = transfers[0]
    call = "a9059cbb" + topic_addr(first_to) + word(first_amount)
    value = {"data": call, "owner_address": "41" + SENDER, "contract_address": "41" + contract_hex}
    tx = {"raw_data": {"contract": [{"parameter": {"type_url": "type.googleapis.com/protocol.TriggerSmartContract",
                                                   "value": value}, "type": "TriggerSmartContract"}],
                       "fee_limit": 100000000, "timestamp": 1700000000000},
          "ret": [{"contractRet": "SUCCESS" if ok else "REVERT"}], "signature": [h("s", tid) * 2], "txID": tid}
    logs = [{"address": contract_hex, "topics": [TRANSFER_TOPIC, topic_addr(SENDER), topic_addr(to)],
             "data": word(amount)} for to, amount in transfers]
    info = {"id": tid, "fee": 345000, "contractResult": [word(1 if ok else 0)],
            "contract_address": "41" + contract_hex, "log": logs,
            "receipt": {"energy_usage_total": 14631, "net_usage": 345, "result": "SUCCESS" if ok else "REVERT"}}
    if not ok:
        info["result"] = "FAILED"
        info["resMessage"] = "5452414e534645525f4641494c4544"
    return tx, info


class TronReplay:
    """java-tron's HTTP API over a Chain, with scripted faults."""

    def __init__(self, chain, seed=6):
        self.chain = chain
        self.faults = False
        self.rng = random.Random(seed)
        self.counts = {}
        self.faulted = {}
        self.missing_key = 0
        self.bad_range = 0
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length", "0")) or 0)
                if self.headers.get(API_KEY_HEADER) != API_KEY:
                    with outer.lock:
                        outer.missing_key += 1
                status, payload, headers = outer.answer(self.path, json.loads(body or b"{}"))
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST  # noqa: N815

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def fault(self, path):
        """A scripted fault for this request, or None."""
        if not self.faults or path == "/wallet/triggerconstantcontract":
            return None
        with self.lock:
            x = self.rng.random()
        choice = None
        if x < 0.06:
            choice = (200, {"Error": "class java.lang.NullPointerException : null"}, {})
        elif x < 0.09:
            choice = (200, {"Error": "The key exceeds the frequency limit(30), and the query server is suspended for 1s"}, {})
        elif x < 0.14 and path != "/wallet/getblockbynum":  # {} from getblockbynum means "beyond the tip"
            choice = (200, {}, {})
        elif x < 0.16:
            choice = (429, {"Error": "Too Many Requests"}, {"Retry-After": "1"})
        elif x < 0.18:
            choice = (403, {"success": False, "error": "The key exceeds the frequency limit(15), and the query "
                                                       "server is suspended for 1s", "statusCode": 403}, {})
        elif x < 0.20:
            choice = (503, b"<html>503 Service Temporarily Unavailable</html>", {})
        elif x < 0.26 and path == "/wallet/gettransactioninfobyblocknum":
            choice = (200, [], {})  # not indexed yet
        elif x < 0.32 and path == "/wallet/getblockbylimitnext":
            choice = "gap"  # an answer with a block missing in the middle
        if choice:
            with self.lock:
                self.faulted[path] = self.faulted.get(path, 0) + 1
        return choice

    def answer(self, path, req):
        path = path.split("?")[0]
        with self.lock:
            self.counts[path] = self.counts.get(path, 0) + 1
        f = self.fault(path)
        if f and f != "gap":
            return f
        c = self.chain
        with c.lock:
            tip = c.tip
            if path == "/wallet/getnowblock":
                return 200, c.blocks[tip], {}
            if path == "/walletsolidity/getnowblock":
                return 200, c.blocks[max(0, tip - SOLID_LAG)], {}
            if path in ("/wallet/getblockbynum", "/walletsolidity/getblockbynum"):
                n = req.get("num", 0)
                return 200, c.blocks.get(n, {}), {}
            if path == "/wallet/getblockbylimitnext":
                a, b = req.get("startNum", 0), req.get("endNum", 0)
                if b - a > 100 or b <= a:
                    with self.lock:
                        self.bad_range += 1
                    return 200, {"Error": "startNum/endNum out of range"}, {}
                blocks = [c.blocks[n] for n in range(a, b) if n in c.blocks]
                if f == "gap" and len(blocks) >= 3:
                    del blocks[len(blocks) // 2]
                return 200, ({"block": blocks} if blocks else {}), {}
            if path == "/wallet/gettransactioninfobyblocknum":
                n = req.get("num", 0)
                if n not in c.infos:
                    return 200, [], {}  # java-tron: an unknown block has no infos
                return 200, c.infos[n], {}
            if path == "/wallet/triggerconstantcontract":
                return 200, {"result": {"result": True}, "energy_used": 269, "constant_result": [word(6)],
                             "transaction": {"ret": [{}], "txID": h("call")}}, {}
        return 200, {"Error": f"no such path {path}"}, {}


def tron_chain_toml(url, poll="150ms", max_range=7, extra=""):
    return (f'[[chains]]\nid = "tron"\nkind = "tron"\nrpc = ["{url}"]\n'
            f'confirmations = "finalized"\npoll_interval = "{poll}"\nstart = {START}\n'
            f'max_block_range = {max_range}\nrequest_timeout = "3s"\n'
            f'native = {{ symbol = "TRX", decimals = 6 }}\n'
            f'tokens = [{{ symbol = "USDT", contract = "{USDT_T}", decimals = 6 }}]\n'
            f'headers = {{ "{API_KEY_HEADER}" = "{API_KEY}" }}\n{extra}')


class TronReplayEndToEnd(unittest.TestCase):
    def setUp(self):
        for exe in (DEPOSITD, DEPOSITCTL):
            if not os.path.exists(exe):
                self.skipTest(f"{exe} is not built (set DEPOSITD_BUILD)")
        self.work = tempfile.mkdtemp(prefix="depositd-tron-")
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

    def deposits(self, d):
        with contextlib.closing(d.db()) as c:
            rows = c.execute("SELECT tx_hash, idx, block_number, block_hash, address, currency, contract, "
                             "raw_amount, decimals, from_address, status FROM deposits").fetchall()
        return [dict(zip(("tx", "idx", "height", "block", "address", "currency", "contract", "raw", "decimals",
                          "from", "status"), r)) for r in rows]

    def test_scripted_chain_with_faults_reorg_and_counterfeits(self):
        pool_hex = [h("pool", i)[:40] for i in range(6)]
        pool = [tron_addr(x) for x in pool_hex]
        chain = Chain()
        chain.extend_to(START - 1)
        expected = {}  # (tx, idx) -> (address, currency, raw)

        def expect(tx_info, idx, addr_i, currency, raw):
            expected[(tx_info[0]["txID"], idx)] = (pool[addr_i], currency, str(raw))

        # 1000..1001 empty, then deposits and decoys.
        chain.extend_to(START + 1)
        t = trx_tx("a", pool_hex[0], 50_000_000)                              # 1002: 50 TRX
        expect(t, 1 << 32, 0, "TRX", 50_000_000)
        chain.add([t, trx_tx("noise", h("stranger")[:40], 7)])
        t = trc20_tx("b", USDT_HEX, [(pool_hex[1], 532_079_999)])             # 1003: 532.079999 USDT
        expect(t, 0, 1, "USDT", 532_079_999)
        chain.add([t])
        chain.add([trc20_tx("fake", FAKE_HEX, [(pool_hex[0], 10**22)]),       # 1004: decoys only
                   trc20_tx("failed", USDT_HEX, [(pool_hex[2], 999)], ok=False),
                   trx_tx("failed-trx", pool_hex[1], 123, ok=False),
                   trc10_tx("airdrop", pool_hex[0]),
                   trc20_tx("zero", USDT_HEX, [(pool_hex[3], 0)])])
        for i in range(5):                                                    # busy blocks
            chain.add([trx_tx(("busy", i, k), h("x", i, k)[:40], 1000 + k) for k in range(3)])
        t = trc20_tx("multi", USDT_HEX, [(pool_hex[2], 1_000_000), (h("other")[:40], 5), (pool_hex[2], 2_500_000)])
        expect(t, 0, 2, "USDT", 1_000_000)
        expect(t, 2, 2, "USDT", 2_500_000)
        t2 = trx_tx("c", pool_hex[3], 1)
        expect(t2, 1 << 32, 3, "TRX", 1)
        chain.add([t, t2])                                                    # 1010
        chain.extend_to(START + 24)
        doomed = trc20_tx("doomed", USDT_HEX, [(pool_hex[3], 777_000_000)])
        chain.add([doomed])                                                   # 1025: reorged away later
        chain.extend_to(START + 30)

        node = TronReplay(chain)
        self.cleanups.append(node.stop)
        hook = Receiver()
        self.cleanups.append(hook.stop)
        wd = os.path.join(self.work, "d")
        os.makedirs(wd)
        d = Daemon(wd, tron_chain_toml(node.url), webhook_url=hook.url)
        self.cleanups.append(d.stop)
        d.import_addresses(pool, protocol="tron")
        node.faults = True
        d.start()

        # Everything up to 1030 detected; <= 1011 (solid) confirmed.
        def seen():
            return {(r["tx"], r["idx"]): r for r in self.deposits(d)}
        wait_until(lambda: len(seen()) >= len(expected) + 1, timeout=90, what="all deposits detected")
        wait_until(lambda: all(seen()[k]["status"] == "confirmed" for k in expected), timeout=60,
                   what="deposits at or below the solidified head confirmed")
        got = seen()
        dk = (doomed[0]["txID"], 0)
        self.assertEqual(got[dk]["status"], "pending")  # 1025 > solid 1011
        self.assertEqual(got[dk]["height"], START + 25)
        self.assertEqual(got[dk]["block"], chain.blocks[START + 25]["blockID"])

        # Reorg: replace 1023.. with another branch; the doomed transfer is gone,
        # a new TRX deposit lands at 1027.
        chain.rewind(START + 22, salt="branch-b")
        chain.extend_to(START + 26)
        t = trx_tx("after-reorg", pool_hex[4], 42_000_000)
        expect(t, 1 << 32, 4, "TRX", 42_000_000)
        chain.add([t])                                                        # 1027
        chain.extend_to(START + 35)
        wait_until(lambda: seen().get(dk, {}).get("status") == "reverted", timeout=60, what="reorged deposit reverted")
        newk = (t[0]["txID"], 1 << 32)
        wait_until(lambda: newk in seen(), timeout=60, what="post-reorg deposit detected")
        self.assertEqual(seen()[newk]["status"], "pending")

        # Solid head passes 1027: confirmed.
        chain.extend_to(START + 50)
        wait_until(lambda: seen()[newk]["status"] == "confirmed", timeout=60, what="post-reorg deposit confirmed")
        wait_until(lambda: len(hook.of_type("deposit.confirmed")) >= len(expected), timeout=60,
                   what="confirmed webhooks")
        node.faults = False

        got = seen()
        # Exactly the expected deposits (plus the reverted one), nothing from
        # the counterfeit, failed, TRC10 or zero-value transactions.
        self.assertEqual(set(got) - {dk}, set(expected))
        for k, (addr, currency, raw) in expected.items():
            r = got[k]
            self.assertEqual((r["address"], r["currency"], r["raw"], r["status"]), (addr, currency, raw, "confirmed"), k)
            self.assertEqual(r["decimals"], 6)
            self.assertEqual(r["from"], tron_addr(SENDER))
            self.assertEqual(r["contract"], USDT_T if currency == "USDT" else None)
            self.assertEqual(r["block"], chain.blocks[r["height"]]["blockID"])
        self.assertEqual(got[dk]["status"], "reverted")

        # Webhooks: pending then confirmed for each; the reorged one reverted.
        pend = {e["data"]["id"] for e in hook.of_type("deposit.pending")}
        self.assertGreaterEqual(len(pend), len(expected) + 1)
        self.assertEqual(len(hook.of_type("deposit.reverted")), 1)
        self.assertEqual(hook.bad_signatures, 0)

        # The faults really happened, the key was always sent, ranges were legal.
        self.assertEqual(node.missing_key, 0)
        self.assertEqual(node.bad_range, 0)
        self.assertGreater(sum(node.faulted.values()), 5, node.faulted)
        self.assertGreater(node.faulted.get("/wallet/getblockbylimitnext", 0), 0, node.faulted)
        self.assertGreater(node.faulted.get("/wallet/gettransactioninfobyblocknum", 0), 0, node.faulted)
        log = d.log_text()
        self.assertNotIn(API_KEY, log)
        self.assertEqual(d.stop(), 0)

    def test_catch_up_over_blocks_larger_than_max_response_size(self):
        """Busy blocks (~15 KB each here; ~270 KB on mainnet): 100 of them are
        far above max_response_size (64 KiB). getblockbylimitnext's range is
        halved and asked again at once until the answer fits (issue 19),
        instead of the same oversized request for ever."""
        pool_hex = [h("pool-big", i)[:40] for i in range(4)]
        pool = [tron_addr(x) for x in pool_hex]
        chain = Chain()
        chain.extend_to(START - 1)
        expected = {}
        for i in range(120):
            txs = [trx_tx(("busy", i, k), h("x", i, k)[:40], 1000 + k) for k in range(20)]
            if i % 17 == 3:
                t = trx_tx(("big-trx", i), pool_hex[i % 4], 1_000_000 + i)
                expected[(t[0]["txID"], 1 << 32)] = (pool[i % 4], "TRX", str(1_000_000 + i))
                txs.append(t)
            if i % 23 == 5:
                t = trc20_tx(("big-usdt", i), USDT_HEX, [(pool_hex[(i + 1) % 4], 7_000_000 + i)])
                expected[(t[0]["txID"], 0)] = (pool[(i + 1) % 4], "USDT", str(7_000_000 + i))
                txs.append(t)
            chain.add(txs)
        chain.extend_to(START + 120 + SOLID_LAG + 1)  # everything above is solidified
        self.assertGreater(len(json.dumps([chain.blocks[START + i] for i in range(100)])), 10 * 65536)

        node = TronReplay(chain)
        self.cleanups.append(node.stop)
        wd = os.path.join(self.work, "big")
        os.makedirs(wd)
        d = Daemon(wd, tron_chain_toml(node.url, max_range=100, extra='max_response_size = "64KiB"\n'))
        self.cleanups.append(d.stop)
        d.import_addresses(pool, protocol="tron")
        d.start()

        def seen():
            return {(r["tx"], r["idx"]): r for r in self.deposits(d)}
        wait_until(lambda: set(expected) <= set(seen()) and all(seen()[k]["status"] == "confirmed" for k in expected),
                   timeout=120, interval=0.2, what="every deposit of the busy blocks confirmed")
        wait_until(lambda: (d.get("/health", auth=False)[1]["chains"][0]["scanned"] or 0) >= chain.tip,
                   timeout=60, what="caught up")
        got = seen()
        self.assertEqual(set(got), set(expected))
        for k, (addr, currency, raw) in expected.items():
            self.assertEqual((got[k]["address"], got[k]["currency"], got[k]["raw"]), (addr, currency, raw), k)
        log = d.log_text()
        self.assertIn("larger than max_response_size", log)
        self.assertRegex(log, r"blocks \d+-\d+: /wallet/getblockbylimitnext: .*larger than max_response_size.*; "
                              r"range now \d+ blocks")
        self.assertEqual(node.bad_range, 0)
        self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    unittest.main()
