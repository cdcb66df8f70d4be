#!/usr/bin/env python3
"""make demo: a local EVM devnet (anvil) and one deposit end to end.

Starts anvil on a free port, deploys a test USDT-like token, imports a small
address pool with depositctl, starts depositd with a webhook receiver, binds
an address for "player_42", sends 125.5 tokens and 0.25 ETH to it, mines
blocks and prints every signed webhook as it arrives. Everything runs on
127.0.0.1 and is stopped at the end.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import harness  # noqa: E402
from harness import Anvil, Daemon, Receiver, evm_chain_block, pool_addresses, wait_until  # noqa: E402


def show(title, obj):
    print(f"\n== {title}")
    print(json.dumps(obj, indent=2) if not isinstance(obj, str) else obj)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    harness.DEPOSITD = os.path.join(build, "daemon", "depositd")
    harness.DEPOSITCTL = os.path.join(build, "tools", "depositctl")
    work = tempfile.mkdtemp(prefix="depositd-demo-")
    node = hook = d = None
    try:
        node = Anvil()
        print(f"anvil devnet on {node.url}")
        token = node.deploy_token()
        print(f"test token (6 decimals) deployed at {token}")
        hook = Receiver()
        d = Daemon(work, evm_chain_block("devnet", node.url, token, confirmations=3, poll="500ms"), hook.url)
        r = d.import_addresses(pool_addresses(10, seed=42))
        print("depositctl pool import:", r.stdout.strip())
        d.start()
        print(f"depositd API on http://127.0.0.1:{d.port} (log: {d.log_path})")
        address = d.bind("player_42")
        show("POST /api/v1/deposits/bind player_42", {"address": address})

        node.transfer_token(token, address, 125_500_000)
        node.send_eth(address, 250_000_000_000_000_000)
        print("\nsent 125.5 TST and 0.25 ETH; waiting for deposit.pending ...")
        wait_until(lambda: len(hook.of_type("deposit.pending")) >= 2, timeout=30, what="pending webhooks")
        for e in hook.of_type("deposit.pending"):
            show(f"webhook {e['type']} ({e['id']})", e)
        print("\nmining 3 blocks for confirmations ...")
        node.mine(3)
        wait_until(lambda: len(hook.of_type("deposit.confirmed")) >= 2, timeout=30, what="confirmed webhooks")
        for e in hook.of_type("deposit.confirmed"):
            print(f"webhook deposit.confirmed {e['data']['amount']} {e['data']['currency']} "
                  f"({e['data']['confirmations']} confirmations), signature verified")
        show("GET /api/v1/deposits/references/player_42", d.get("/api/v1/deposits/references/player_42")[1])
        show("GET /health", d.get("/health", auth=False)[1])
        print("\ndemo ok")
    finally:
        for fn in (d.stop if d else None, hook.stop if hook else None, node.stop if node else None):
            if fn:
                fn()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
