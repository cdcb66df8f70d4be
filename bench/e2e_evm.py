#!/usr/bin/env python3
"""End-to-end EVM measurements against a real anvil node (issue 3):

  catch-up   N blocks with N token transfers (and --native ETH transfers) to
             the pool: depositd's wall time, its start-up (process start to
             the first scanned block) and its scan alone, against
             - the minimal client: only the calls the work needs, on one
               keep-alive connection (eth_getLogs of the token in 500-block
               ranges, blocks with full transactions in 100-block batches),
               median of three runs: the node's own speed (issue 22)
             - a plain client repeating depositd's own call pattern (the
               figure of rounds 1-2)
  latency    block mined -> pending deposit committed, p50/p99 (poll 1s)
  memory     RSS following one chain with 100k (and optionally 1M) watched addresses
  webhooks (--webhooks)  the same catch-up delivering every event to a
             receiver that answers 200 at once, and with a receiver refusing
             connections (issue 22: a dead receiver costs the scan <= 5 %)
  false positives (--false-positives)  the same catch-up when every block's
             logsBloom says "maybe" but the eth_getLogs answer has no deposit:
             the watched set holds the SENDER of every transfer (its topic is in
             each bloom), the recipients are not watched, so every block is asked
             again by blockHash (the worst case of the completeness check)

Usage: python3 bench/e2e_evm.py --build build-release [--blocks 5000] [--native 300] [--million] [--webhooks]
                                [--repeat 3]
                                [--store sqlite|postgresql|both]
--store postgresql gives every daemon a fresh database of a throwaway
PostgreSQL 15 cluster (tests/integration/pg_cluster.py) as `[store] url`;
--store both measures SQLite, then PostgreSQL, on the same anvil chain.
Prints a Markdown table (one result column per store) for docs/performance.md.
"""
import argparse
import contextlib
import datetime
import http.client
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
import harness  # noqa: E402
from harness import Anvil, Daemon, DEV, evm_chain_block, pool_addresses, wait_until  # noqa: E402


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def batch(conn, calls):
    body = json.dumps([{"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(calls)])
    conn.request("POST", "/", body, {"content-type": "application/json"})
    res = json.loads(conn.getresponse().read())
    return sorted(res, key=lambda r: r["id"])


def make_chain(node, token, recipients, n):
    """n blocks, one token transfer each: on one keep-alive connection, with
    automine off, each transfer sent and then mined by anvil_mine (which
    answers once the block is mined): exactly one transfer per block. With
    automine on, the sends ran ahead of anvil's mining and its pool backlog
    grew; with a few thousand pending transactions anvil 1.7.1 stopped mining
    altogether (head stuck at 786 to 7,185 blocks in four runs, with or
    without explicit nonces) while its memory grew by 5-25 MB/s (4.6 GB after
    12 minutes)."""
    conn = http.client.HTTPConnection("127.0.0.1", node.port, timeout=60)
    first_nonce = int(node.rpc("eth_getTransactionCount", [DEV, "latest"]), 16)

    def call(i, method, params):
        conn.request("POST", "/", json.dumps({"jsonrpc": "2.0", "id": i, "method": method, "params": params}),
                     {"content-type": "application/json"})
        r = json.loads(conn.getresponse().read())
        if "error" in r:
            raise RuntimeError(f"{method}: {r['error']}")

    node.rpc("evm_setAutomine", [False])
    try:
        for i in range(n):
            to = recipients[i % len(recipients)]
            data = "0xa9059cbb" + to[2:].rjust(64, "0") + f"{1000 + i:064x}"
            call(i, "eth_sendTransaction", [{"from": DEV, "to": token, "data": data, "gas": hex(100000),
                                             "nonce": hex(first_nonce + i)}])
            call(i, "anvil_mine", ["0x1"])
    finally:
        conn.close()
        node.rpc("evm_setAutomine", [True])
    wait_until(lambda: int(node.rpc("eth_getTransactionCount", [DEV, "latest"]), 16) >= first_nonce + n,
               timeout=120, what="all transfers mined")


def plain_client(node, token, head, step=500, per_batch=50):
    """The RPC calls depositd makes for a catch-up, issued by a minimal client."""
    conn = http.client.HTTPConnection("127.0.0.1", node.port, timeout=60)
    t0 = time.monotonic()
    logs = 0
    h = 1
    while h <= head:
        to = min(head, h + step - 1)
        heights = list(range(h, to + 1))
        for i in range(0, len(heights), per_batch):
            batch(conn, [("eth_getBlockByNumber", [hex(x), True]) for x in heights[i:i + per_batch]])
        r = batch(conn, [("eth_getLogs", [{"fromBlock": hex(h), "toBlock": hex(to), "address": [token],
                                           "topics": ["0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"]}])])
        logs += len(r[0]["result"])
        h = to + 1
    conn.close()
    return time.monotonic() - t0, logs


class Sink:
    """A webhook receiver that answers 200 at once (keep-alive, no checks)."""

    def __init__(self):
        import http.server
        outer = self
        self.count = 0

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers.get("content-length", "0")))
                outer.count += 1
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def log_time(text, needle):
    """Unix time of the first log line holding `needle` (ms resolution)."""
    for line in text.splitlines():
        if needle in line:
            stamp = line.split()[0]
            return datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
                tzinfo=datetime.timezone.utc).timestamp()
    raise AssertionError(f"no log line with {needle!r}")


def quiet_logs(d):
    """The harness logs at debug level (for failing tests); measure at the
    production default."""
    with open(d.config) as f:
        text = f.read()
    with open(d.config, "w") as f:
        f.write(text.replace('log_level = "debug"', 'log_level = "info"'))


def minimal_client(node, token, head, log_step=500, block_batch=100):
    """The least a catch-up needs from the node: the token's Transfer logs in
    500-block ranges and every block with its transactions (for native
    deposits) in 100-block batches, on one keep-alive connection, nothing
    decoded beyond JSON. Returns (seconds, logs)."""
    conn = http.client.HTTPConnection("127.0.0.1", node.port, timeout=120)
    t0 = time.monotonic()
    logs = 0
    for h in range(1, head + 1, log_step):
        to = min(head, h + log_step - 1)
        r = batch(conn, [("eth_getLogs", [{"fromBlock": hex(h), "toBlock": hex(to), "address": [token],
                                           "topics": ["0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"]}])])
        logs += len(r[0]["result"])
    for h in range(1, head + 1, block_batch):
        batch(conn, [("eth_getBlockByNumber", [hex(x), True]) for x in range(h, min(head, h + block_batch - 1) + 1)])
    conn.close()
    return time.monotonic() - t0, logs


def measure(store, node, token, recipients, head, work, args, daemons):
    """Every measurement of one store ("sqlite" or "postgresql": a fresh
    database of the throwaway cluster per daemon) on the chain already built.
    Returns [(measurement, result)]."""
    pg = store == "postgresql"

    def location():
        return harness.pg_cluster().create_database() if pg else "sqlite"

    def new_daemon(name, chains_toml, webhook_url=None):
        wd = os.path.join(work, store, name)
        os.makedirs(wd)
        dm = Daemon(wd, chains_toml, store=location(), webhook_url=webhook_url, schedule='["1s", "2s", "4s"]')
        daemons.append(dm)
        return dm

    rows = []

    def catch_up(name, webhook_url=None):
        """A fresh daemon's catch-up of the whole chain. Returns (daemon,
        total s, start-up to ready s, process start to first committed range s)."""
        d = new_daemon(name, evm_chain_block("bench", node.url, token, confirmations=1, start=1, poll="1s"),
                       webhook_url)
        quiet_logs(d)
        d.import_addresses(recipients)
        # Start-up: process start to the first committed block. SQLite: the
        # cursor row read from the database every 2 ms by a thread started
        # first. PostgreSQL (no client library here, psql per poll would load the
        # machine): /health's scanned height, polled every 5 ms by the wait below.
        first_scan = []
        stop_watch = threading.Event()
        db_path = os.path.join(d.data, "depositd.sqlite")

        def watch_cursor():
            while not stop_watch.is_set() and not first_scan:
                try:
                    with contextlib.closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=0.1)) as c:
                        row = c.execute("SELECT height FROM chain_cursors").fetchone()
                    if row and row[0] and row[0] > 0:
                        first_scan.append(time.monotonic() - t0)
                        return
                except sqlite3.Error:
                    pass
                time.sleep(0.002)

        def caught_up():
            scanned = d.get("/health", auth=False)[1]["chains"][0]["scanned"]
            if pg and not first_scan and scanned and scanned > 0:
                first_scan.append(time.monotonic() - t0)
            return scanned >= head
        watcher = threading.Thread(target=watch_cursor, daemon=True)
        wall0 = time.time()
        t0 = time.monotonic()
        if not pg:
            watcher.start()
        d.start()
        wait_until(caught_up, timeout=900, interval=0.005, what="catch-up")
        t_daemon = time.monotonic() - t0
        stop_watch.set()
        if not pg:
            watcher.join(timeout=5)
        t_start = first_scan[0] if first_scan else 0.0
        # Ready to scan: the log line the scanner writes once it verified the
        # node, read the head and set its cursor (before the first range).
        t_ready = log_time(d.log_text(), "bench: starting at height") - wall0
        return d, t_daemon, t_ready, t_start

    def median_catch_up(name, webhook_url=None):
        """catch_up() --repeat times (fresh databases), the run with the median
        scan time; the others are stopped."""
        runs = sorted((catch_up(f"{name}{i}", webhook_url) for i in range(args.repeat)), key=lambda r: r[1] - r[2])
        for r in runs[:len(runs) // 2] + runs[len(runs) // 2 + 1:]:
            r[0].stop()
        return runs[len(runs) // 2]

    d, t_daemon, t_ready, t_start = median_catch_up("catchup")
    with contextlib.closing(d.db()) as c:
        found = c.execute("SELECT count(*) FROM deposits").fetchone()[0]

    t_plain, logs = plain_client(node, token, head)
    minimal = sorted(minimal_client(node, token, head) for _ in range(3))
    t_min, min_logs = minimal[1]
    rows.append((f"catch-up of the chain ({args.blocks} token + {args.native} ETH transfers to {args.pool} "
                 "addresses): depositd (incl. start-up), the median of --repeat runs", f"{t_daemon:.2f} s, {head} blocks, {found} deposits"))
    rows.append(("depositd start-up: process start to ready to scan (node verified, head read, cursor set; log time)",
                 f"{t_ready * 1000:.0f} ms"))
    rows.append(("depositd: process start to the first committed range (SQLite: database polled every 2 ms; "
                 "PostgreSQL: /health polled every 5 ms)", f"{t_start * 1000:.0f} ms"))
    rows.append(("minimal client (getLogs 500-block ranges + blocks in 100-block batches), median of 3",
                 f"{t_min:.2f} s ({min_logs} logs)"))
    rows.append(("ratio depositd scan alone (from ready to scan) / minimal client", f"{(t_daemon - t_ready) / t_min:.2f}x"))
    rows.append(("ratio depositd incl. start-up / minimal client", f"{t_daemon / t_min:.2f}x"))
    rows.append(("same RPC calls as depositd, plain Python client", f"{t_plain:.2f} s ({logs} logs)"))
    rows.append(("ratio depositd / plain", f"{t_daemon / t_plain:.2f}x"))
    rows.append((f"RSS after catch-up ({args.pool} watched)", f"{rss_kib(d.proc.pid) / 1024:.1f} MiB"))

    # detection latency at the head (poll_interval 1s): detected_at is the
    # daemon's own timestamp, so how often it is read does not matter (psql
    # per read on PostgreSQL: every 50 ms, not 5).
    lat = []
    for i in range(args.samples):
        r = node.transfer_token(token, recipients[i % len(recipients)], 7_000_000 + i)
        mined = time.time()
        tx = r["transactionHash"]

        def seen():
            with contextlib.closing(d.db()) as c:
                row = c.execute("SELECT detected_at FROM deposits WHERE tx_hash = ?", (tx,)).fetchone()
            return row and row[0]
        detected = wait_until(seen, timeout=10, interval=0.05 if pg else 0.005, what="detection")
        lat.append(detected / 1000.0 - mined)
    lat.sort()
    p50 = lat[len(lat) // 2]
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    rows.append((f"detection latency, poll 1s ({len(lat)} samples) p50 / p99",
                 f"{p50 * 1000:.0f} ms / {p99 * 1000:.0f} ms"))
    d.stop()

    if args.webhooks:
        # The same catch-up delivering every event to a receiver that answers
        # 200 at once, and with the receiver refusing connections (a port
        # nobody listens on): what deliveries and failed attempts cost the scan.
        scan_alone = t_daemon - t_ready
        sink = Sink()
        try:
            counts = []
            runs = []
            for i in range(args.repeat):
                before = sink.count
                r = catch_up(f"webhooks-sink{i}", sink.url)
                counts.append(sink.count - before)
                r[0].stop()
                runs.append((r[1] - r[2], counts[-1]))
            runs.sort()
            tw_scan, delivered_at_head = runs[len(runs) // 2]
        finally:
            sink.stop()
        rows.append(("catch-up with webhooks to a receiver answering 200 at once: scan alone / minimal client "
                     "(events delivered when the scan reached the head)",
                     f"{tw_scan / t_min:.2f}x ({delivered_at_head} events); {tw_scan / scan_alone:.2f}x the scan "
                     "without webhooks"))
        x, tx_, rx, _ = median_catch_up("webhooks-dead", f"http://127.0.0.1:{harness.free_port()}/webhooks")
        x.stop()
        rows.append(("catch-up with the receiver refusing connections: scan alone / minimal client",
                     f"{(tx_ - rx) / t_min:.2f}x; {(tx_ - rx) / scan_alone:.2f}x the scan without webhooks"))

    if args.false_positives:
        # A second token whose transfers go from DEV to unwatched
        # addresses; DEV itself is watched (its topic is in every bloom).
        token2 = node.deploy_token()
        first = node.block_number() + 1
        make_chain(node, token2, pool_addresses(100, seed=98), args.blocks)
        head2 = node.block_number()
        f = new_daemon("fp", evm_chain_block("bench", node.url, token2, confirmations=1, start=first, poll="1s"))
        f.import_addresses([DEV] + recipients)
        t0 = time.monotonic()
        f.start()
        wait_until(lambda: f.get("/health", auth=False)[1]["chains"][0]["scanned"] >= head2, timeout=900,
                   interval=0.05, what="false-positive catch-up")
        t_fp = time.monotonic() - t0
        conn = http.client.HTTPConnection("127.0.0.1", f.port, timeout=30)
        conn.request("GET", "/metrics")
        text = conn.getresponse().read().decode()
        conn.close()
        rechecked = sum(float(line.split()[-1]) for line in text.splitlines()
                        if line.startswith("depositd_evm_log_rechecks_total") and 'step="token_logs"' in line)
        with contextlib.closing(f.db()) as c:
            fp_found = c.execute("SELECT count(*) FROM deposits").fetchone()[0]
        rows.append((f"catch-up {head2 - first + 1} blocks, every block a bloom false positive",
                     f"{t_fp:.2f} s, {int(rechecked)} blocks asked again, {fp_found} deposits"))
        f.stop()

    # memory with many watched addresses
    if not args.no_memory:
        for n in ([100_000, 1_000_000] if args.million else [100_000]):
            m = new_daemon(f"mem{n}", evm_chain_block("bench", node.url, token, confirmations=1, poll="1s"))
            m.import_addresses(pool_addresses(n, seed=5))
            m.start()
            wait_until(lambda: f"watching {n} evm addresses" in m.log_text(), timeout=300, what="watch set load")
            time.sleep(2)
            rows.append((f"RSS following one chain, {n:,} watched addresses", f"{rss_kib(m.proc.pid) / 1024:.1f} MiB"))
            m.stop()
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build-release")
    ap.add_argument("--blocks", type=int, default=5000)
    ap.add_argument("--native", type=int, default=0, help="also this many ETH transfers to the pool")
    ap.add_argument("--pool", type=int, default=100, help="pool addresses the transfers go to")
    ap.add_argument("--samples", type=int, default=40)
    ap.add_argument("--million", action="store_true", help="also measure RSS with 1M watched addresses")
    ap.add_argument("--repeat", type=int, default=1,
                    help="each catch-up this many times on fresh databases; the median run counts")
    ap.add_argument("--webhooks", action="store_true",
                    help="also the catch-up delivering webhooks to a sink, and with the receiver refusing connections")
    ap.add_argument("--no-memory", action="store_true", help="skip the RSS runs with 100k (1M) watched addresses")
    ap.add_argument("--false-positives", action="store_true",
                    help="also catch up with every block a bloom false positive")
    ap.add_argument("--store", choices=["sqlite", "postgresql", "both"], default="sqlite",
                    help="the daemon's store: SQLite, a fresh database of a throwaway PostgreSQL cluster "
                         "(tests/integration/pg_cluster.py) per daemon, or both one after the other on the same chain")
    args = ap.parse_args()
    stores = ["sqlite", "postgresql"] if args.store == "both" else [args.store]
    build = os.path.abspath(args.build)
    harness.DEPOSITD = os.path.join(build, "daemon", "depositd")
    harness.DEPOSITCTL = os.path.join(build, "tools", "depositctl")
    if "postgresql" in stores:
        harness.pg_cluster()  # started before the chain is built: fails early without PostgreSQL
    work = tempfile.mkdtemp(prefix="depositd-bench-")
    results = {}
    daemons = []  # stopped in `finally`, whatever fails
    # Cancun, not anvil's default (Prague and later): from Prague on every block
    # writes its parent's hash into the EIP-2935 history contract (8191 slots),
    # and anvil 1.7.1 recomputes the state root from the whole state at every
    # block: mining slowed from ~550 to ~60 blocks/s by 8,000 blocks. depositd
    # reads no field that differs (a Cancun header only lacks requestsHash).
    node = Anvil(extra=["--hardfork", "cancun"])
    try:
        token = node.deploy_token()
        recipients = pool_addresses(args.pool, seed=99)
        t0 = time.monotonic()
        make_chain(node, token, recipients, args.blocks)
        for i in range(args.native):
            node.send_eth(recipients[i % len(recipients)], 10**15 + i)
        head = node.block_number()
        print(f"chain: {head} blocks, {args.blocks} transfers, built in {time.monotonic() - t0:.1f}s", flush=True)
        for store in stores:
            # The head now: a store measured earlier added its latency samples (a few blocks).
            t1 = time.monotonic()
            results[store] = measure(store, node, token, recipients, node.block_number(), work, args, daemons)
            print(f"{store}: measured in {time.monotonic() - t1:.1f}s", flush=True)
    finally:
        for dm in daemons:
            dm.stop()
        node.stop()
        shutil.rmtree(work, ignore_errors=True)
        if harness._pg is not None:
            harness._pg.close()

    # Rows in the order of the first store; one result column per store.
    keys = [k for k, _ in results[stores[0]]] if stores[0] in results else []
    print("\n| measurement | " + " | ".join(stores) + " |\n|---|" + "---|" * len(stores))
    for k in keys:
        print(f"| {k} | " + " | ".join(dict(results.get(s, [])).get(k, "—") for s in stores) + " |")


if __name__ == "__main__":
    main()
