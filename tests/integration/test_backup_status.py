"""depositctl backup and status against the real daemon and anvil.

The proof docs/operations.md cites: a backup taken while the daemon catches
up (its writer committing batches, its dispatcher delivering webhooks) is a
consistent database; restored by the documented steps (stop, copy, remove
the -wal/-shm files, start), the daemon re-sends no event the backup records
as delivered, sends every other event exactly once, and ends with exactly
the deposits and event ids of the uninterrupted run.
"""
import contextlib
import json
import os
import shutil
import sqlite3
import stat
import tempfile
import time
import unittest

import harness
from harness import Anvil, Daemon, Receiver, evm_chain_block, pool_addresses, wait_until
from rpc_proxy import RpcProxy

DEPOSITS = 30
EMPTY_BLOCKS = 120


def ids_by_status(path):
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        out = {}
        for eid, status in db.execute("SELECT id, status FROM events"):
            out.setdefault(status, set()).add(eid)
        return out


def cursor_height(path, chain):
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        row = db.execute("SELECT height FROM chain_cursors WHERE chain_id = ?", (chain,)).fetchone()
        return row[0] if row else None


def health_chain(d, chain):
    status, h = d.get("/health", auth=False)
    if status != 200:
        return None
    return {c["chainId"]: c for c in h["chains"]}[chain]


class BackupRestoreTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="depositd-backup-")
        self.node = Anvil()
        self.hook = Receiver()
        self.proxy = None
        self.d = None

    def tearDown(self):
        if self.d:
            self.d.stop()
        if self.proxy:
            self.proxy.stop()
        self.hook.stop()
        self.node.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_backup_during_catch_up_restores_without_resending_delivered_events(self):
        node = self.node
        token = node.deploy_token()
        start = node.block_number()
        # Every request to the node takes 30 ms and a batch is 4 blocks: the
        # catch-up below takes seconds, so the backup lands in the middle of it.
        self.proxy = RpcProxy([node.url])
        self.proxy.set(delay=0.03)
        d = self.d = Daemon(self.dir, evm_chain_block("devnet", self.proxy.url, token, confirmations=3, start=start,
                                                     poll="200ms", extra="max_block_range = 4\n"), self.hook.url)
        d.import_addresses(pool_addresses(DEPOSITS + 10, seed=7))
        addresses = []
        for i in range(DEPOSITS):
            r = d.ctl("bind", f"player_{i}", "--protocol", "evm", "--json")
            addresses.append(json.loads(r.stdout)["address"])
        for i, a in enumerate(addresses):
            node.transfer_token(token, a, 1_000_000 + i)
            node.mine(EMPTY_BLOCKS // DEPOSITS)
        node.mine(5)
        head = node.block_number()

        d.start()
        # Mid catch-up: some webhooks delivered, the cursor well below the head.
        wait_until(lambda: len(self.hook.events) >= 6, timeout=60, what="first deliveries")
        before = health_chain(d, "devnet")
        backup = os.path.join(self.dir, "backup.sqlite")
        r = d.ctl("backup", "--to", backup)
        after = health_chain(d, "devnet")
        self.assertIn("written to " + backup, r.stdout)
        self.assertLess(after["scanned"], head - 20, "the backup did not overlap the catch-up")
        # The backup never stopped the daemon: it keeps committing (a fast
        # backup may fall between two commits, so this waits a little).
        wait_until(lambda: health_chain(d, "devnet")["scanned"] > before["scanned"], timeout=15,
                   what="the daemon committing across the backup")

        # The copy: 0600, a sound database, one consistent snapshot.
        self.assertEqual(stat.S_IMODE(os.stat(backup).st_mode), 0o600)
        with contextlib.closing(sqlite3.connect(f"file:{backup}?mode=ro", uri=True)) as db:
            self.assertEqual(db.execute("PRAGMA integrity_check").fetchone()[0], "ok")
            # Trigger-kept counts (schema 007's event_counts) agree with the
            # rows: nothing torn between tables.
            counts = db.execute("SELECT status, n FROM event_counts").fetchall()
            self.assertTrue(counts)
            for status, n in counts:
                self.assertEqual(n, db.execute("SELECT count(*) FROM events WHERE status = ?", (status,)).fetchone()[0])
        self.assertFalse([f for f in os.listdir(self.dir) if f.startswith(".backup.sqlite.tmp")])
        in_backup = ids_by_status(backup)
        delivered_in_backup = in_backup.get("delivered", set())
        self.assertTrue(delivered_in_backup)
        backup_height = cursor_height(backup, "devnet")
        self.assertLess(backup_height, head - 20)

        # The uninterrupted run goes on to the end: every event delivered.
        wait_until(lambda: (health_chain(d, "devnet") or {}).get("scanned") == head, timeout=120, what="caught up")
        wait_until(lambda: set(ids_by_status(os.path.join(d.data, "depositd.sqlite"))) == {"delivered"}
                   and len(self.hook.events) >= 2 * DEPOSITS, timeout=60, what="all delivered")
        self.assertEqual(d.stop(), 0)
        live = os.path.join(d.data, "depositd.sqlite")
        all_ids = ids_by_status(live)["delivered"]
        self.assertEqual(len(all_ids), 2 * DEPOSITS)  # pending + confirmed per deposit
        deposits_first_run = d.deposits()
        received_first_run = [eid for eid, _ in self.hook.events]
        self.assertTrue(delivered_in_backup <= set(received_first_run))

        # Restore exactly as docs/operations.md says: stop (done), copy, drop the WAL, start.
        shutil.copyfile(backup, live)
        for suffix in ("-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.remove(live + suffix)
        n0 = len(self.hook.events)
        self.proxy.set(delay=0)
        d.start()
        wait_until(lambda: (health_chain(d, "devnet") or {}).get("scanned") == head, timeout=120,
                   what="restored daemon caught up")
        wait_until(lambda: set(ids_by_status(live)) == {"delivered"} and
                   len(ids_by_status(live)["delivered"]) == 2 * DEPOSITS, timeout=60, what="restored: all delivered")
        time.sleep(1)  # anything sent twice would arrive now
        resent = [eid for eid, _ in self.hook.events[n0:]]

        self.assertEqual(set(resent) & delivered_in_backup, set(), "re-sent an event the backup had delivered")
        self.assertEqual(sorted(resent), sorted(all_ids - delivered_in_backup), "each other event exactly once")
        self.assertEqual(ids_by_status(live)["delivered"], all_ids)  # the same event ids as the first run
        self.assertEqual(d.deposits(), deposits_first_run)
        self.assertEqual(self.hook.bad_signatures, 0)

    def test_backup_refuses_to_overwrite_and_status_reports(self):
        node = self.node
        node.mine(2)
        d = self.d = Daemon(self.dir, evm_chain_block("devnet", node.url, confirmations=1, poll="200ms"),
                            self.hook.url)
        # No database yet: nothing to back up (runtime failure, exit 1).
        r = d.ctl("backup", "--to", os.path.join(self.dir, "none.sqlite"), check=False)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("no database", r.stderr)

        d.import_addresses(pool_addresses(12, seed=3))
        d.ctl("bind", "alice", "--protocol", "evm")
        d.start()
        wait_until(lambda: (health_chain(d, "devnet") or {}).get("status") == "ok", timeout=30, what="ok")
        wait_until(lambda: json.loads(d.ctl("status", "--json").stdout)["chains"][0]["status"] == "ok", timeout=40,
                   what="status stored")

        target = os.path.join(self.dir, "b.sqlite")
        with open(target, "w") as f:
            f.write("keep me")
        r = d.ctl("backup", "--to", target, check=False)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("--force", r.stderr)
        with open(target) as f:
            self.assertEqual(f.read(), "keep me")
        r = d.ctl("backup", "--to", target, "--force")
        with contextlib.closing(sqlite3.connect(f"file:{target}?mode=ro", uri=True)) as db:
            self.assertEqual(db.execute("PRAGMA quick_check").fetchone()[0], "ok")
            self.assertEqual(db.execute("SELECT count(*) FROM addresses").fetchone()[0], 12)
        self.assertEqual(stat.S_IMODE(os.stat(target).st_mode), 0o600)
        r = d.ctl("backup", "--to", os.path.join(self.dir, "no-such-dir", "x.sqlite"), check=False)
        self.assertEqual(r.returncode, 2)
        r = d.ctl("backup", "--to", os.path.join(d.data, "depositd.sqlite"), "--force", check=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn("live database", r.stderr)
        r = d.ctl("backup", check=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--to", r.stderr)

        # status --json: the chain as stored, the outbox, the pool.
        s = json.loads(d.ctl("status", "--json").stdout)
        chain = s["chains"][0]
        self.assertEqual((chain["id"], chain["kind"], chain["status"]), ("devnet", "evm", "ok"))
        self.assertEqual(chain["lag"], chain["head"] - chain["scanned"])
        self.assertIsNotNone(chain["lastSuccessAt"])
        self.assertEqual(s["pool"]["evm"], {"free": 11, "bound": 1, "cooling": 0, "low": True})  # under 100
        self.assertEqual(s["pool"]["tron"], {"free": 0, "bound": 0, "cooling": 0, "low": False})  # not configured
        self.assertEqual(s["lowWater"], 100)
        self.assertEqual(set(s["outbox"]), {"pending", "delivered", "failed"})

        # A deposit: the outbox shows its event delivered.
        r = d.ctl("bind", "alice", "--protocol", "evm", "--json")
        node.send_eth(json.loads(r.stdout)["address"], 10**15)
        wait_until(lambda: json.loads(d.ctl("status", "--json").stdout)["outbox"]["delivered"] >= 1, timeout=30,
                   what="a delivered event")
        text = d.ctl("status").stdout
        self.assertRegex(text, r"devnet\s+evm\s+ok\s+\d+\s+\d+\s+\d+")
        self.assertRegex(text, r"webhook outbox: \d+ pending, [1-9]\d* delivered, 0 failed")
        self.assertRegex(text, r"evm\s+11\s+1\s+0\s+LOW \(< 100\)")
        self.assertEqual(d.stop(), 0)

        # A stopped daemon's state is still readable; an unknown option is a usage error.
        self.assertEqual(json.loads(d.ctl("status", "--json").stdout)["chains"][0]["id"], "devnet")
        self.assertEqual(d.ctl("status", "--bogus", check=False).returncode, 2)


if __name__ == "__main__":
    unittest.main()
