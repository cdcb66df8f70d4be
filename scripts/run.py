#!/usr/bin/env python3
"""make run: the daemon on a configuration, with a local EVM devnet when the
configuration points at one that is not running.

    python3 scripts/run.py --build build-run --config examples/depositd.toml

For every EVM chain whose RPC URL is http://127.0.0.1:PORT (or localhost)
and nothing listens on PORT, anvil from .peers/evm is started on PORT. Its
state lives in <data_dir>/devnet/ next to the daemon's database, so both
survive a restart together and `rm -rf data` resets both. On a fresh devnet
the example token is deployed from anvil's first account at nonce 0, which
puts it at 0x5FbDB2315678afecb367f032d93F642f64180aa3, the address
examples/depositd.toml lists. The daemon and the devnet stop together
(Ctrl-C, SIGTERM); the exit code is the daemon's.

Standard library only.
"""
import argparse
import ctypes
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
ANVIL = os.path.join(ROOT, ".peers", "evm", "node_modules", ".bin", "anvil")
TOKEN_BIN = os.path.join(ROOT, "tests", "fixtures", "evm", "Token.bin")
DEV = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"  # anvil's first prefunded account (default mnemonic)
# CREATE address of DEV's transaction with nonce 0: keccak256(rlp([DEV, 0]))[12:].
FIRST_CONTRACT = "0x5fbdb2315678afecb367f032d93f642f64180aa3"
TOKEN_SUPPLY = 10**30


def log(msg):
    print(f"run: {msg}", file=sys.stderr, flush=True)


def listening(port):
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def rpc(url, method, params=None, timeout=10):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}).encode()
    req = urllib.request.Request(url, data=body, headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        res = json.loads(r.read())
    if "error" in res:
        raise RuntimeError(f"{method}: {res['error']}")
    return res["result"]


def die_with_parent():
    """Children get SIGTERM if this launcher is killed (prctl PR_SET_PDEATHSIG)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    os.setsid()  # its own process group: Ctrl-C reaches the launcher only, which stops it in order


def local_devnets(cfg):
    """{port: [chain tables]} for EVM chains served from 127.0.0.1/localhost over http."""
    out = {}
    for c in cfg.get("chains", []):
        if c.get("kind") != "evm":
            continue
        for u in c.get("rpc", []):
            p = urllib.parse.urlsplit(u)
            if p.scheme == "http" and p.hostname in ("127.0.0.1", "localhost") and p.port:
                out.setdefault(p.port, []).append(c)
    return out


class Devnet:
    def __init__(self, port, state_dir):
        if not os.access(ANVIL, os.X_OK):
            raise SystemExit("run: anvil is not installed: run `make setup` (it installs it into .peers/evm)")
        os.makedirs(state_dir, mode=0o700, exist_ok=True)
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.state = os.path.join(state_dir, f"anvil-{port}.json")
        self.fresh = not os.path.exists(self.state)
        self.log_path = os.path.join(state_dir, f"anvil-{port}.log")
        self.log = open(self.log_path, "ab")
        # --state loads the chain (blocks and hashes included) and dumps it on
        # exit; --state-interval also every few seconds, so a hard kill loses
        # little (the daemon then sees a short reorg, which it handles).
        args = [ANVIL, "--host", "127.0.0.1", "--port", str(port), "--state", self.state, "--state-interval", "5"]
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=self.log, preexec_fn=die_with_parent,
                                     env={**os.environ, "HOME": state_dir})
        deadline = time.monotonic() + 30
        while True:
            if self.proc.poll() is not None:
                raise SystemExit(f"run: anvil exited with {self.proc.returncode}; see {self.log_path}")
            try:
                rpc(self.url, "eth_chainId", timeout=2)
                break
            except (OSError, RuntimeError, ValueError):
                if time.monotonic() > deadline:
                    self.stop()
                    raise SystemExit(f"run: anvil did not answer on {self.url} within 30 s; see {self.log_path}")
                time.sleep(0.2)
        log(f"devnet (anvil) on {self.url}, state {self.state}{' (new)' if self.fresh else ''}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # dumps the state
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.log.close()
        log(f"devnet on {self.url} stopped")


def ensure_tokens(url, chains, ours):
    """Deploys the example token where the config expects it and the node has no code there."""
    for c in chains:
        for t in c.get("tokens", []):
            contract = str(t.get("contract", "")).lower()
            if rpc(url, "eth_getCode", [contract, "latest"]) not in ("0x", "0x0", ""):
                continue
            nonce = int(rpc(url, "eth_getTransactionCount", [DEV, "latest"]), 16)
            if not ours or contract != FIRST_CONTRACT or nonce != 0:
                log(f"warning: chain {c.get('id')}: token {t.get('symbol')} {contract} has no code on {url}; "
                    f"the daemon will refuse to start (deploy it there, or remove the token from the config)")
                continue
            with open(TOKEN_BIN) as f:
                code = f.read().strip().removeprefix("0x")
            tx = rpc(url, "eth_sendTransaction",
                     [{"from": DEV, "data": "0x" + code + f"{TOKEN_SUPPLY:064x}", "gas": hex(3_000_000)}])
            receipt = None
            for _ in range(100):
                receipt = rpc(url, "eth_getTransactionReceipt", [tx])
                if receipt:
                    break
                time.sleep(0.1)
            if not receipt or (receipt.get("contractAddress") or "").lower() != contract:
                raise SystemExit(f"run: deploying the example token gave {receipt and receipt.get('contractAddress')}, "
                                 f"not {contract}")
            log(f"deployed the example token {t.get('symbol')} ({t.get('decimals')} decimals) at {contract}; "
                f"{DEV} holds the supply")


def followed_before(db_path, chains):
    """Chains the database already follows (a cursor row)."""
    if not os.path.exists(db_path):
        return []
    try:
        with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5) as db:
            ids = {r[0] for r in db.execute("SELECT chain_id FROM chain_cursors")}
    except sqlite3.Error:
        return []
    return [c.get("id") for c in chains if c.get("id") in ids]


def private_dir(path):
    """Creates `path` and what is missing above it 0700, as the daemon makes
    its data_dir (an existing folder is left as it is; the daemon warns when
    other users can read it)."""
    missing = []
    p = path
    while p and not os.path.exists(p):
        missing.append(p)
        parent = os.path.dirname(p)
        if parent == p:
            break
        p = parent
    for d in reversed(missing):
        try:
            os.mkdir(d, 0o700)
        except FileExistsError:
            pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default="build-run", help="build folder with daemon/depositd")
    ap.add_argument("--config", default="examples/depositd.toml")
    ap.add_argument("--no-devnet", action="store_true", help="never start a devnet")
    args = ap.parse_args()
    daemon = os.path.join(os.path.abspath(args.build), "daemon", "depositd")
    if not os.access(daemon, os.X_OK):
        raise SystemExit(f"run: {daemon} is missing: build it first (make run does)")
    config_path = os.path.abspath(args.config)
    try:
        with open(config_path, "rb") as f:
            cfg = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError):
        cfg = {}  # the daemon itself reports what is wrong (file, line, key) and exits 2
    data_dir = cfg.get("daemon", {}).get("data_dir", "./data")
    if not os.path.isabs(data_dir):
        data_dir = os.path.normpath(os.path.join(os.path.dirname(config_path), data_dir))

    # Before the devnet's folder inside it: os.makedirs would make it 0755.
    private_dir(data_dir)

    devnets = []
    stopping = []

    def on_signal(sig, _frame):
        stopping.append(sig)
        if child and child.poll() is None:
            child.send_signal(signal.SIGTERM if len(stopping) == 1 else signal.SIGKILL)

    child = None
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    code = 1
    try:
        if not args.no_devnet:
            for port, chains in sorted(local_devnets(cfg).items()):
                if listening(port):
                    log(f"something listens on 127.0.0.1:{port}: using it (no devnet started)")
                    try:
                        ensure_tokens(f"http://127.0.0.1:{port}", chains, ours=False)
                    except (OSError, RuntimeError, ValueError) as e:
                        log(f"warning: cannot check the tokens on 127.0.0.1:{port}: {e}")
                    continue
                state_dir = os.path.join(data_dir, "devnet")
                net = Devnet(port, state_dir)
                devnets.append(net)
                if net.fresh:
                    stale = followed_before(os.path.join(data_dir, "depositd.sqlite"), chains)
                    if stale:
                        raise SystemExit(
                            f"run: {data_dir}/depositd.sqlite follows chain(s) {', '.join(stale)} of an earlier "
                            f"devnet whose state ({net.state}) is gone; the new devnet is a different chain. "
                            f"Remove {data_dir} to start over.")
                ensure_tokens(net.url, chains, ours=True)
        if stopping:
            return 0
        log(f"{daemon} --config {config_path}")
        child = subprocess.Popen([daemon, "--config", config_path], preexec_fn=die_with_parent)
        while True:
            try:
                code = child.wait()
                break
            except InterruptedError:
                continue
    finally:
        if child and child.poll() is None:
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
        for net in devnets:
            net.stop()
    return code


if __name__ == "__main__":
    sys.exit(main())
