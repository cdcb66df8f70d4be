#!/usr/bin/env python3
"""API latency under load: wrk (Debian package) against the real daemon with
1,000 pool addresses and 200 bindings. Usage: bench/e2e_api.py --build DIR"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
import harness  # noqa: E402
from harness import API_KEY, Anvil, Daemon, evm_chain_block, pool_addresses  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build-release")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        print("wrk is not installed (apt-get install wrk); skipping")
        return
    build = os.path.abspath(args.build)
    harness.DEPOSITD = os.path.join(build, "daemon", "depositd")
    harness.DEPOSITCTL = os.path.join(build, "tools", "depositctl")
    work = tempfile.mkdtemp(prefix="depositd-api-bench-")
    node = Anvil()
    d = Daemon(work, evm_chain_block("x", node.url, poll="1s"))
    try:
        d.import_addresses(pool_addresses(1000, seed=4))
        d.start()
        for i in range(200):
            d.bind(f"user_{i}")
        print("| endpoint (wrk -t2 -c16 -d8s) | p50 | p99 | requests/s |\n|---|---|---|---|")
        for path in ["/health", "/api/v1/deposits/references/user_7", "/api/v1/deposits?limit=20"]:
            r = subprocess.run(["wrk", "-t2", "-c16", "-d8s", "--latency", "-H", f"Authorization: Bearer {API_KEY}",
                                d.url(path)], capture_output=True, text=True, timeout=60)
            vals = {}
            for line in r.stdout.splitlines():
                parts = line.split()
                if parts and parts[0] in ("50%", "99%"):
                    vals[parts[0]] = parts[1]
                if line.startswith("Requests/sec"):
                    vals["rps"] = parts[1]
            print(f"| `GET {path}` | {vals.get('50%')} | {vals.get('99%')} | {vals.get('rps')} |")
    finally:
        d.stop()
        node.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
