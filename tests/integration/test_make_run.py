"""The path `make run` takes (scripts/run.py) with examples/depositd.toml,
moved to free ports and a temporary data folder: it starts the anvil devnet
when nothing listens on the config's RPC port, deploys the example token at
the address the config lists, and ends with a daemon whose /health shows the
devnet chain `ok` (token decimals verified). SIGTERM stops the daemon and
the devnet; a second run resumes the same chain from the saved state. A
fresh machine cannot be tested here: the packages are already installed.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

import harness
from harness import Anvil, free_port, http_json, wait_until

RUN = os.path.join(harness.SOURCE, "scripts", "run.py")
EXAMPLE = os.path.join(harness.SOURCE, "examples", "depositd.toml")
TOKEN = "0x5fbdb2315678afecb367f032d93f642f64180aa3"


def listening(port):
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


class MakeRunTest(unittest.TestCase):
    def setUp(self):
        if not os.path.exists(harness.ANVIL):
            self.skipTest("anvil is not installed (scripts/setup)")
        self.dir = tempfile.mkdtemp(prefix="depositd-run-")
        self.rpc_port = free_port()
        self.api_port = free_port()
        with open(EXAMPLE) as f:
            text = f.read()
        # The example as shipped, moved to free ports and a temporary data folder.
        for old, new in (("127.0.0.1:8545", f"127.0.0.1:{self.rpc_port}"),
                         ('listen = "127.0.0.1:8080"', f'listen = "127.0.0.1:{self.api_port}"'),
                         ('data_dir  = "../data"', 'data_dir  = "data"')):
            self.assertIn(old, text)
            text = text.replace(old, new)
        self.assertIn(f'contract = "{TOKEN}"', text.lower())  # the token line is enabled
        self.config = os.path.join(self.dir, "depositd.toml")
        with open(self.config, "w") as f:
            f.write(text)
        self.data = os.path.join(self.dir, "data")
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)

    def launch(self):
        self.out = open(os.path.join(self.dir, "run.log"), "ab")
        p = subprocess.Popen([sys.executable, RUN, "--build", harness.BUILD, "--config", self.config],
                             stdout=self.out, stderr=self.out,
                             env={**os.environ, "ASAN_OPTIONS": "detect_leaks=0"})
        self.procs.append(p)
        return p

    def output(self):
        with open(os.path.join(self.dir, "run.log"), "rb") as f:
            return f.read().decode(errors="replace")

    def chain(self):
        status, h = http_json("GET", f"http://127.0.0.1:{self.api_port}/health", timeout=5)
        return {c["chainId"]: c for c in h["chains"]}["local"] if status in (200, 503) else None

    def stop(self, p):
        p.send_signal(signal.SIGTERM)
        rc = p.wait(timeout=60)
        self.out.close()
        return rc

    def test_devnet_started_token_deployed_health_ok_and_resumed(self):
        p = self.launch()
        wait_until(lambda: (self.chain() or {}).get("status") == "ok", timeout=90, what="/health local ok")
        out = self.output()
        self.assertIn(f"devnet (anvil) on http://127.0.0.1:{self.rpc_port}", out)
        self.assertIn(f"deployed the example token USDT (6 decimals) at {TOKEN}", out)
        # data/ is made 0700 from the start (the devnet's folder inside it
        # too), so the daemon has nothing to warn about.
        self.assertEqual(os.stat(self.data).st_mode & 0o777, 0o700)
        self.assertEqual(os.stat(os.path.join(self.data, "devnet")).st_mode & 0o777, 0o700)
        self.assertNotIn("accessible to every local user", out)
        self.assertRegex(out, rf"token USDT {TOKEN} decimals 6 verified".replace(TOKEN, "(?i:" + TOKEN + ")"))
        first = self.chain()

        self.assertEqual(self.stop(p), 0)
        self.assertFalse(listening(self.rpc_port), "the devnet outlived make run")
        self.assertFalse(listening(self.api_port))
        self.assertIn(f"devnet on http://127.0.0.1:{self.rpc_port} stopped", self.output())
        state = os.path.join(self.data, "devnet", f"anvil-{self.rpc_port}.json")
        self.assertTrue(os.path.exists(state))

        # Second run: the same chain (state restored), no new deployment, not halted.
        n = len(self.output())
        p = self.launch()
        wait_until(lambda: (self.chain() or {}).get("status") == "ok", timeout=90, what="/health ok again")
        second = self.output()[n:]
        self.assertNotIn("deployed the example token", second)
        self.assertNotIn("(new)", second)
        self.assertGreaterEqual(self.chain()["scanned"], first["scanned"])
        self.assertEqual(self.stop(p), 0)

        # The devnet's state gone but the database still following it: refused, with what to do.
        os.remove(state)
        p = self.launch()
        self.assertEqual(p.wait(timeout=60), 1)
        self.assertIn("Remove " + self.data + " to start over", self.output())
        self.assertFalse(listening(self.rpc_port))

    def test_an_existing_node_is_used_not_replaced(self):
        node = Anvil(port=self.rpc_port)
        try:
            # Another node without the token: the launcher says so, the daemon refuses (exit 2).
            p = self.launch()
            self.assertEqual(p.wait(timeout=90), 2)
            out = self.output()
            self.assertIn(f"something listens on 127.0.0.1:{self.rpc_port}", out)
            self.assertIn("has no code", out)
            self.assertTrue(listening(self.rpc_port))  # not ours: left running
            # The same token deployed there by anvil's first account at nonce 0: the daemon runs.
            shutil.rmtree(self.data, ignore_errors=True)
            self.assertEqual(node.deploy_token().lower(), TOKEN)
            p = self.launch()
            wait_until(lambda: (self.chain() or {}).get("status") == "ok", timeout=90, what="/health ok")
            self.assertEqual(self.stop(p), 0)
            self.assertTrue(listening(self.rpc_port))
        finally:
            node.stop()


if __name__ == "__main__":
    unittest.main()
