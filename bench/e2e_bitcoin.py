#!/usr/bin/env python3
"""End-to-end Bitcoin catch-up against a real bcoin regtest node (issue 11):

  depositd's wall time to catch up N blocks (some holding payments to watched
  addresses) vs a plain keep-alive client issuing the same RPC calls on the
  same node in the same run: per step of max_block_range blocks one
  getblockcount, one getblockhash, then getblock [hash, true, true] for each
  block following nextblockhash, every answer parsed.

Usage: python3 bench/e2e_bitcoin.py --build build-release [--blocks 2000] [--range 10]
Prints a Markdown table for docs/performance.md.
"""
import argparse
import base64
import contextlib
import http.client
import json
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
import harness  # noqa: E402
from harness import Bcoin, Daemon, bitcoin_chain_block, p2wpkh, wait_until  # noqa: E402


class PlainClient:
    def __init__(self, node):
        self.conn = http.client.HTTPConnection("127.0.0.1", node.port, timeout=60)
        self.auth = "Basic " + base64.b64encode(f"x:{node.api_key}".encode()).decode()
        self.id = 0

    def call(self, method, *params):
        self.id += 1
        body = json.dumps({"jsonrpc": "2.0", "id": self.id, "method": method, "params": list(params)})
        self.conn.request("POST", "/", body, {"content-type": "application/json", "authorization": self.auth})
        res = json.loads(self.conn.getresponse().read())
        if res.get("error"):
            raise RuntimeError(res["error"])
        return res["result"]


def plain_catch_up(node, first, head, step, watched):
    c = PlainClient(node)
    t0 = time.monotonic()
    found = 0
    h = first
    while h <= head:
        tip = c.call("getblockcount")
        to = min(tip, h + step - 1)
        block_hash = c.call("getblockhash", h)
        while True:
            b = c.call("getblock", block_hash, True, True)
            for tx in b["tx"]:
                for out in tx["vout"]:
                    if out["scriptPubKey"]["hex"] in watched:
                        found += 1
            if b["height"] >= to or not b["nextblockhash"]:
                break
            block_hash = b["nextblockhash"]
        h = to + 1
    c.conn.close()
    return time.monotonic() - t0, found


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build-release")
    ap.add_argument("--blocks", type=int, default=2000)
    ap.add_argument("--payments", type=int, default=300)
    ap.add_argument("--range", type=int, default=10, help="max_block_range (the bitcoin default is 10)")
    ap.add_argument("--rounds", type=int, default=5, help="alternating depositd / plain passes (a shared machine is noisy)")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    harness.DEPOSITD = os.path.join(build, "daemon", "depositd")
    harness.DEPOSITCTL = os.path.join(build, "tools", "depositctl")
    work = tempfile.mkdtemp(prefix="depositd-btc-bench-")
    node = Bcoin()
    daemons = []
    rows = []
    times = []
    try:
        node.mine(110)
        first = node.height() + 1
        pool = [p2wpkh(f"bench-{i}") for i in range(100)]
        t0 = time.monotonic()
        per_block = 3
        paying_blocks = args.payments // per_block
        empty_between = max(0, (args.blocks - paying_blocks) // max(1, paying_blocks))
        made = 0
        for i in range(paying_blocks):
            for k in range(per_block):
                node.send(pool[(i * per_block + k) % len(pool)], 0.001 + k / 1e5)
            node.mine(1)
            made += 1
            if empty_between:
                node.mine(empty_between)
                made += empty_between
        if made < args.blocks:
            node.mine(args.blocks - made)
        head = node.height()
        blocks = head - first + 1
        print(f"chain: {blocks} blocks after {first - 1}, {paying_blocks * per_block} payments, "
              f"built in {time.monotonic() - t0:.1f}s", flush=True)

        watched = {"0014" + harness.btc_key_hash(f"bench-{i}").hex() for i in range(100)}
        # bcoin indexes (--index-tx/--index-address) in the background after
        # generatetoaddress returns, on the node's one JavaScript thread: a
        # first pass lets it finish, so neither client pays for it.
        t_warm, _ = plain_catch_up(node, first, head, args.range, watched)
        print(f"warm-up pass (plain client): {t_warm:.2f}s", flush=True)
        for rnd in range(args.rounds):
            wd = os.path.join(work, f"catchup{rnd}")
            os.makedirs(wd)
            d = Daemon(wd, bitcoin_chain_block("bench", node.url, confirmations=1, start=first, poll="1s",
                                               extra=f"max_block_range = {args.range}"))
            daemons.append(d)
            d.import_addresses(pool, protocol="bitcoin")
            t0 = time.monotonic()
            d.start()
            wait_until(lambda: d.get("/health", auth=False)[1]["chains"][0]["scanned"] >= head, timeout=900,
                       interval=0.02, what="catch-up")
            t_daemon = time.monotonic() - t0
            with contextlib.closing(d.db()) as c:
                deposits = c.execute("SELECT count(*) FROM deposits").fetchone()[0]
            d.stop()
            t_plain, found = plain_catch_up(node, first, head, args.range, watched)
            times.append((t_daemon, t_plain))
            print(f"round {rnd + 1}: depositd {t_daemon:.2f}s ({deposits} deposits), plain {t_plain:.2f}s "
                  f"({found} matches), ratio {t_daemon / t_plain:.2f}x", flush=True)
        td = sorted(t for t, _ in times)
        tp = sorted(t for _, t in times)
        ratios = sorted(a / b for a, b in times)
        mid = len(times) // 2
        rows.append((f"catch-up {blocks} blocks / {deposits} deposits: depositd incl. process start, best / median of {len(times)}",
                     f"{td[0]:.2f} s ({blocks / td[0]:.0f} blocks/s) / {td[mid]:.2f} s"))
        rows.append(("same RPC calls, plain Python keep-alive client (json.loads + match), best / median",
                     f"{tp[0]:.2f} s ({blocks / tp[0]:.0f} blocks/s) / {tp[mid]:.2f} s"))
        rows.append(("ratio depositd / plain: best times / median of the per-round ratios",
                     f"{td[0] / tp[0]:.2f}x / {ratios[mid]:.2f}x"))
    finally:
        for dm in daemons:
            dm.stop()
        node.stop()
        shutil.rmtree(work, ignore_errors=True)

    print("\n| measurement | result |\n|---|---|")
    for k, v in rows:
        print(f"| {k} | {v} |")


if __name__ == "__main__":
    main()
