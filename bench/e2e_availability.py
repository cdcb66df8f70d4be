#!/usr/bin/env python3
"""Availability under load (issue 10): does anything a client or an operator
does slow down detection or delivery?

Against a real anvil node and the real daemon (Release build) watching a
pool of 200,000 addresses, poll interval 200 ms, it measures the time from
"the transfer's block is mined" to "the deposit.pending webhook arrived"
(signature verified) for token transfers to bound addresses, in three
scenarios:

  unloaded    nothing else happens
  polled      16 connections hammer GET /health and GET /metrics (wrk)
  importing   `depositctl pool import` of 100,000 more addresses runs at the
              same time, and 50 binds are made through the API meanwhile

and reports p50/p99/max latency, /health and /metrics throughput under
load, bind failures, and webhooks delivered twice (must be 0).

Usage: python3 bench/e2e_availability.py --build build-release [--pool 200000] [--samples 20]
Prints a Markdown table for docs/performance.md.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
import harness  # noqa: E402
from harness import Anvil, Daemon, Receiver, evm_chain_block, pool_addresses, wait_until  # noqa: E402


def percentile(xs, p):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = min(len(xs) - 1, max(0, int(round(p / 100.0 * (len(xs) - 1)))))
    return xs[k]


class Wrk:
    """wrk on one path for the duration of a scenario; reports requests/s."""

    def __init__(self, url, connections):
        self.proc = subprocess.Popen(["wrk", "-t1", f"-c{connections}", "-d120s", "--latency", url],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def stop(self):
        self.proc.send_signal(subprocess.signal.SIGINT)
        out, _ = self.proc.communicate(timeout=30)
        rps = 0.0
        for line in out.splitlines():
            if line.startswith("Requests/sec:"):
                rps = float(line.split()[1])
        return rps


def measure(node, token, d, hook, addresses, samples, label):
    lat = []
    for i in range(samples):
        to = addresses[i % len(addresses)]
        before = len(hook.of_type("deposit.pending"))
        receipt = node.transfer_token(token, to, 1000 + i)
        mined = time.monotonic()
        want_tx = receipt["transactionHash"]
        wait_until(lambda: any(e["data"]["txHash"] == want_tx for e in hook.of_type("deposit.pending")[before:]),
                   timeout=60, interval=0.005, what=f"{label} deposit {i}")
        lat.append((time.monotonic() - mined) * 1000.0)
        time.sleep(0.05)
    return lat


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build-release")
    ap.add_argument("--pool", type=int, default=200_000)
    ap.add_argument("--import-size", type=int, default=100_000)
    ap.add_argument("--samples", type=int, default=20)
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    harness.DEPOSITD = os.path.join(build, "daemon", "depositd")
    harness.DEPOSITCTL = os.path.join(build, "tools", "depositctl")
    if not shutil.which("wrk"):
        print("wrk is not installed (apt-get install wrk); skipping")
        return

    work = tempfile.mkdtemp(prefix="depositd-avail-")
    node = hook = d = None
    try:
        node = Anvil()
        token = node.deploy_token()
        hook = Receiver()
        d = Daemon(work, evm_chain_block("local", node.url, token, confirmations=1000, start=0, poll="200ms"),
                   hook.url, extra="")
        t0 = time.monotonic()
        d.import_addresses(pool_addresses(args.pool, seed=1))
        import_s = time.monotonic() - t0
        d.start()
        wait_until(lambda: d.get("/health", auth=False)[1]["chains"][0]["status"] == "ok", timeout=120,
                   what="chain ok")
        addresses = [d.bind(f"player_{i}") for i in range(args.samples)]

        rows = []
        unloaded = measure(node, token, d, hook, addresses, args.samples, "unloaded")
        rows.append(("unloaded", unloaded, "", ""))

        w1 = Wrk(d.url("/health"), 8)
        w2 = Wrk(d.url("/metrics"), 8)
        time.sleep(1.0)
        polled = measure(node, token, d, hook, addresses, args.samples, "polled")
        rps_health, rps_metrics = w1.stop(), w2.stop()
        rows.append(("16 connections on /health + /metrics", polled,
                     f"/health {rps_health:,.0f} req/s, /metrics {rps_metrics:,.0f} req/s", ""))

        path = os.path.join(work, "more.txt")
        with open(path, "w") as f:
            f.write("\n".join(pool_addresses(args.import_size, seed=2)) + "\n")
        imp = subprocess.Popen([harness.DEPOSITCTL, "--config", d.config, "pool", "import", "--protocol", "evm",
                                "--file", path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        bind_failures = []

        def binder():
            for i in range(50):
                status, res = d.post("/api/v1/deposits/bind", {"depositReference": f"during_{i}", "protocol": "evm"})
                if status not in (200, 201):
                    bind_failures.append((status, res))
                time.sleep(0.02)

        bt = threading.Thread(target=binder)
        bt.start()
        importing = measure(node, token, d, hook, addresses, args.samples, "importing")
        bt.join()
        out, _ = imp.communicate(timeout=600)
        rows.append((f"`pool import` of {args.import_size:,} addresses running, 50 binds", importing,
                     f"binds failed: {len(bind_failures)}", out.strip().splitlines()[-1] if out.strip() else ""))

        ids = [i for i, _ in hook.events]
        dup = len(ids) - len(set(ids))
        print(f"\npool {args.pool:,} addresses (imported in {import_s:.1f} s), poll 200 ms, "
              f"{args.samples} transfers per scenario, webhooks delivered twice: {dup}, "
              f"bad signatures: {hook.bad_signatures}\n")
        print("| scenario | p50 | p99 | max | notes |\n|---|---|---|---|---|")
        for name, lat, note, extra in rows:
            print(f"| {name} | {percentile(lat, 50):.0f} ms | {percentile(lat, 99):.0f} ms | {max(lat):.0f} ms | "
                  f"{note} {extra} |")
    finally:
        if d:
            d.stop()
        if hook:
            hook.stop()
        if node:
            node.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
