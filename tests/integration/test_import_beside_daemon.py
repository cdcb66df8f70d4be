"""Issue 10: `depositctl pool import` of 100,000 addresses beside a running
daemon (real depositd, real anvil). The import writes in small transactions,
so the daemon's own writes (binds through the API, deposits of a running
chain) go through while it runs, and the import's totals are right."""
import os
import shutil
import subprocess
import tempfile
import threading
import time
import unittest

from harness import (API_KEY, DEPOSITCTL, Anvil, Daemon, Receiver, evm_chain_block, http_json, pool_addresses,
                     wait_until)


class ImportBesideDaemon(unittest.TestCase):
    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="depositd-import-")
        self.cleanups = []

    def tearDown(self):
        for fn in reversed(self.cleanups):
            try:
                fn()
            except Exception:  # noqa: BLE001
                pass
        shutil.rmtree(self.work, ignore_errors=True)

    def test_hundred_thousand_addresses_while_binding_and_detecting(self):
        node = Anvil()
        self.cleanups.append(node.stop)
        token = node.deploy_token()
        hook = Receiver()
        self.cleanups.append(hook.stop)
        wd = os.path.join(self.work, "d")
        os.makedirs(wd)
        d = Daemon(wd, evm_chain_block("local", node.url, token, confirmations=1), webhook_url=hook.url)
        self.cleanups.append(d.stop)
        d.import_addresses(pool_addresses(2_000, seed=1))
        d.start()

        n = 100_000
        big = os.path.join(self.work, "big.txt")
        with open(big, "w") as f:
            f.write("\n".join(pool_addresses(n, seed=2)) + "\n")
        imp = subprocess.Popen([DEPOSITCTL, "--config", d.config, "pool", "import", "--protocol", "evm",
                                "--file", big], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "ASAN_OPTIONS": "detect_leaks=0"})
        self.cleanups.append(lambda: imp.poll() is None and imp.kill())

        # Bind through the API for as long as the import runs.
        results, latencies = [], []
        during = 0
        bound = []
        deadline = time.monotonic() + 300
        i = 0
        while time.monotonic() < deadline:
            running = imp.poll() is None
            t0 = time.monotonic()
            status, res = http_json("POST", d.url("/api/v1/deposits/bind"),
                                    {"depositReference": f"during_{i}", "protocol": "evm"},
                                    headers={"authorization": f"Bearer {API_KEY}"}, timeout=30)
            latencies.append(time.monotonic() - t0)
            results.append((status, res))
            if status == 201:
                bound.append(res["data"]["address"])
                if len(bound) == 1:  # a deposit to it, to be detected while the import runs
                    node.transfer_token(token, bound[0], 1_000_000)
            if running and imp.poll() is None:
                during += 1
            i += 1
            if not running:
                break
            time.sleep(0.02)
        out, err = imp.communicate(timeout=300)
        self.assertEqual(imp.returncode, 0, err)
        self.assertIn(f"imported {n}, duplicates 0, invalid 0", out)

        failed = [(s, r) for s, r in results if s != 201]
        self.assertEqual(failed, [], "every bind during the import succeeds")
        self.assertGreaterEqual(during, 3, "binds were made while the import ran")
        self.assertEqual(len(set(bound)), len(bound), "no address handed out twice")
        print(f"\n{len(results)} binds ({during} during the import): slowest {max(latencies) * 1000:.0f} ms, "
              f"median {sorted(latencies)[len(latencies) // 2] * 1000:.0f} ms")

        # Totals: the pool has everything, once.
        with d.db() as c:
            total = c.execute("SELECT count(*) FROM addresses WHERE protocol = 'evm'").fetchone()[0]
            bound_rows = c.execute("SELECT count(*) FROM bindings WHERE unbound_at IS NULL").fetchone()[0]
        self.assertEqual(total, 2_000 + n)
        self.assertEqual(bound_rows, len(bound))
        r = d.ctl("pool", "stats", "--json")
        self.assertIn(f'"total":{2_000 + n}', r.stdout.replace(" ", ""))

        # The deposit sent at the start of the import was detected and announced.
        wait_until(lambda: hook.of_type("deposit.confirmed"), timeout=60, what="the deposit's webhook")
        self.assertEqual(hook.of_type("deposit.confirmed")[0]["data"]["address"].lower(), bound[0].lower())
        self.assertEqual(hook.bad_signatures, 0)


if __name__ == "__main__":
    unittest.main()
