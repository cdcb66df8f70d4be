"""depositd --print-config (SPEC §10) with the real binary: a `preset = "bsc"`
chain prints chain id 56 and both stablecoins with 18 decimals, secrets
written literally come out masked, the output passes --check-config, the
daemon refuses to start on it until the masks are filled in, and no node is
contacted (the chain's RPC port is a listener that counts connections).

Standard library only.
"""
import os
import socket
import subprocess
import tempfile
import threading
import tomllib
import unittest

import harness
from harness import DEPOSITD


class ConnectionCounter:
    """A TCP listener on 127.0.0.1 that only counts who connects."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            conn.close()

    def stop(self):
        self.stopping = True
        self.thread.join(timeout=5)
        self.sock.close()


class PrintConfigTest(unittest.TestCase):
    def setUp(self):
        if not os.path.exists(DEPOSITD):
            self.skipTest("depositd is not built")
        self.dir = tempfile.mkdtemp(prefix="depositd-print-")
        self.node = ConnectionCounter()
        self.addCleanup(self.node.stop)
        self.config = self.write("depositd.toml", f"""[daemon]
data_dir = "data"

[api]
listen = "127.0.0.1:{harness.free_port()}"
keys = ["{harness.API_KEY}"]

[webhook]
url = "http://127.0.0.1:9/hooks"
secret = "${{PRINT_TEST_SECRET}}"

[[chains]]
preset = "bsc"
rpc    = ["http://user:pa55word@127.0.0.1:{self.node.port}/?key=provider-key"]
tokens = ["USDT", "USDC"]
""")
        self.env = {**os.environ, "PRINT_TEST_SECRET": harness.SECRET, "ASAN_OPTIONS": "detect_leaks=0"}

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def depositd(self, *args, timeout=60):
        return subprocess.run([DEPOSITD, *args], capture_output=True, text=True, timeout=timeout, env=self.env)

    def test_bsc_preset_printed_masked_and_checked(self):
        r = self.depositd("--config", self.config, "--print-config")
        self.assertEqual(r.returncode, 0, r.stderr)
        printed = r.stdout
        doc = tomllib.loads(printed)
        chain = doc["chains"][0]
        self.assertEqual(chain["preset"], "bsc")
        self.assertEqual(chain["id"], "bsc")
        self.assertEqual(chain["kind"], "evm")
        self.assertEqual(chain["chain_id"], 56)
        self.assertEqual(chain["confirmations"], "finalized")
        self.assertEqual(chain["native"], {"symbol": "BNB", "decimals": 18})
        self.assertEqual(chain["tokens"], [
            {"symbol": "USDT", "contract": "0x55d398326f99059fF775485246999027B3197955", "decimals": 18},
            {"symbol": "USDC", "contract": "0x8AC76a51cc950d9822D68b83fE1Ad97B32Cd580d", "decimals": 18},
        ])
        # Defaults filled in: what the daemon would run with.
        self.assertEqual(doc["daemon"]["data_dir"], os.path.join(self.dir, "data"))
        self.assertEqual(doc["api"]["max_body_bytes"], 65536)
        self.assertEqual(chain["max_block_range"], 500)
        self.assertEqual(doc["pool"]["cooldown"], "never")
        # Secrets: the literal ones masked, the ${VAR} one as written.
        self.assertEqual(doc["api"]["keys"], ["********"])
        self.assertEqual(doc["webhook"]["secret"], "${PRINT_TEST_SECRET}")
        self.assertEqual(chain["rpc"], [f"http://user:********@127.0.0.1:{self.node.port}/?key=********"])
        for secret in (harness.API_KEY, "pa55word", "provider-key", harness.SECRET):
            self.assertNotIn(secret, printed)
        self.assertEqual(self.node.accepted, 0, "--print-config contacted the node")

        # The output passes --check-config, which says where the masks are.
        printed_path = self.write("printed.toml", printed)
        r = self.depositd("--config", printed_path, "--check-config")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(f"{printed_path}: ok (1 chain(s))", r.stdout)
        self.assertRegex(r.stderr, rf"{printed_path}:\d+:api.keys\[0\]: masked")
        self.assertRegex(r.stderr, rf"{printed_path}:\d+:chains\[0\].rpc\[0\]: masked")
        # Printing it again gives the same text (but for the path in the header).
        r = self.depositd("--config", printed_path, "--print-config")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.replace(printed_path, self.config), printed)

        # The daemon refuses the masks, naming file:line:key, before touching anything.
        r = self.depositd("--config", printed_path, timeout=60)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertRegex(r.stderr, rf"{printed_path}:\d+:api.keys\[0\]: holds a masked secret")
        self.assertFalse(os.path.exists(os.path.join(self.dir, "data")))
        self.assertEqual(self.node.accepted, 0)

    def test_unknown_preset_and_symbol_are_located(self):
        bad = self.write("bad.toml", """[api]
keys = ["0123456789abcdef"]

[[chains]]
preset = "bnb"
rpc = ["http://127.0.0.1:9"]

[[chains]]
preset = "base"
rpc = ["http://127.0.0.1:9"]
tokens = ["USDC", "USDT"]
""")
        for flag in ("--check-config", "--print-config"):
            r = self.depositd("--config", bad, flag)
            self.assertEqual(r.returncode, 2, r.stdout)
            self.assertEqual(r.stdout, "")
            self.assertIn(f'{bad}:5:chains[0].preset: "bnb" is not a preset (did you mean "bsc"?)', r.stderr)
            self.assertIn(f'{bad}:11:chains[1].tokens[1]: "USDT" is not a token preset base knows', r.stderr)


if __name__ == "__main__":
    unittest.main()
