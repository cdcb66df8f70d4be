"""Truth under a node that is not there yet: the real depositd binary
started before its node (a host reboot where the node boots slower) keeps
retrying its start-up checks, says "starting" in /health, and follows the
chain as soon as the node answers — nothing is lost."""
import os
import shutil
import tempfile
import unittest

from harness import Anvil, Daemon, Receiver, evm_chain_block, free_port, pool_addresses, wait_until


class NodeStartsLater(unittest.TestCase):
    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="depositd-truth-")
        self.cleanups = []

    def tearDown(self):
        for fn in reversed(self.cleanups):
            try:
                fn()
            except Exception:  # noqa: BLE001
                pass
        shutil.rmtree(self.work, ignore_errors=True)

    def test_a_node_that_starts_after_depositd_is_followed_once_it_is_up(self):
        port = free_port()
        hook = Receiver()
        self.cleanups.append(hook.stop)
        wd = os.path.join(self.work, "d")
        os.makedirs(wd)
        d = Daemon(wd, evm_chain_block("late", f"http://127.0.0.1:{port}", confirmations=2, start=0), hook.url)
        self.cleanups.append(d.stop)
        d.import_addresses(pool_addresses(3))
        d.start()
        addr = d.bind("player_late")

        def chain_health():
            status, body = d.get("/health", auth=False)
            self.assertEqual(status, 200)
            return {c["chainId"]: c for c in body["chains"]}["late"]

        h = wait_until(lambda: chain_health()["lastError"] and chain_health(), timeout=20, what="a start-up error")
        self.assertEqual(h["status"], "starting")
        self.assertIsNone(h["updatedAt"])
        status, body = d.get("/health", auth=False)
        self.assertEqual(body["status"], "degraded")

        node = Anvil(port=port)
        self.cleanups.append(node.stop)
        node.send_eth(addr, 7 * 10**17)
        pend = wait_until(lambda: hook.of_type("deposit.pending"), timeout=60, what="the deposit once the node is up")
        self.assertEqual(pend[0]["data"]["amount"], "0.7")
        self.assertEqual(pend[0]["data"]["depositReference"], "player_late")
        node.mine(2)
        wait_until(lambda: hook.of_type("deposit.confirmed"), timeout=30, what="confirmed")
        h = wait_until(lambda: chain_health()["status"] == "ok" and chain_health(), timeout=20, what="chain ok")
        self.assertIsNotNone(h["updatedAt"])
        self.assertEqual(h["lag"], 0)
        self.assertEqual(hook.bad_signatures, 0)
        self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    unittest.main()
