"""depositctl migrate-store: a SQLite database with real content (pool,
bindings, a deposit on anvil with its events and deliveries, an order) is
copied into a fresh PostgreSQL database; both sides are compared table by
table; a second run into the non-empty database is refused and changes
nothing; the daemon then runs on PostgreSQL ([store] url) with the same
deposits, and a new binding's id continues after the copied ones.
Skipped without PostgreSQL's server binaries."""
import contextlib
import os
import unittest

from harness import Anvil, Daemon, DaemonTestCase, Receiver, evm_chain_block, pool_addresses, wait_until
from orders_shop import orders_toml
from pg_cluster import PgCluster, pg_unavailable

# Copied tables and the column that orders / identifies their rows.
COPIED = {
    "addresses": "id", "bindings": "id", "xpub_cursors": None, "chain_cursors": None, "chain_blocks": None,
    "deposits": "rowid", "events": "seq", "delivery_attempts": "id", "orders": "rowid",
    "order_deposits": None, "payment_links": "rowid", "audit_log": "seq", "notify_state": None,
}
COUNT_TABLES = {"deposit_counts": "chain_id, currency, status", "pool_counts": "protocol, state",
                "event_counts": "status"}


class MigrateStore(DaemonTestCase):
    work_prefix = "depositd-migrate-"

    @classmethod
    def setUpClass(cls):
        if reason := pg_unavailable():
            raise unittest.SkipTest(reason)
        cls.pg = PgCluster()

    @classmethod
    def tearDownClass(cls):
        cls.pg.close()

    def sqlite(self, d, query):
        with contextlib.closing(d.db()) as c:
            return [[None if v is None else str(v) for v in row] for row in c.execute(query)]

    def pg_db(self):
        url = self.pg.create_database()
        return url, url.rsplit("/", 1)[1]

    def snapshot_pg(self, db):
        return {t: self.pg.sql(f"SELECT count(*) FROM {t}", db=db)[0][0] for t in COPIED}

    def test_copy_check_refuse_again_and_run_on_postgresql(self):
        node = Anvil()
        self.cleanups.append(node.stop)
        token = node.deploy_token()
        hook = Receiver()
        self.cleanups.append(hook.stop)
        wd = os.path.join(self.work, "d")
        os.makedirs(wd)
        d = Daemon(wd, evm_chain_block("local", node.url, token, confirmations=2), webhook_url=hook.url,
                   extra=orders_toml())
        self.cleanups.append(d.stop)
        d.import_addresses(pool_addresses(8, seed=61))
        d.start()

        # Bindings, a real deposit (pending, then confirmed: events, deliveries), an order.
        addr = d.bind("alice")
        d.bind("bob")
        node.transfer_token(token, addr, 2_500_000)
        node.mine(2)
        wait_until(lambda: len(hook.of_type("deposit.confirmed")) >= 1, timeout=40, what="confirmed webhook")
        status, res = d.post("/api/v1/orders", {"orderId": "MS-1", "amount": "5"})
        self.assertEqual(status, 201, res)
        wait_until(lambda: self.sqlite(d, "SELECT count(*) FROM delivery_attempts")[0][0] != "0",
                   timeout=20, what="a delivery attempt")
        status, before = d.get("/api/v1/deposits")
        self.assertEqual(status, 200, before)
        self.assertGreaterEqual(len(before["data"]["deposits"]), 1)

        # Refused while the daemon has the database open; the target stays empty.
        busy_url, busy_db = self.pg_db()
        r = d.ctl("migrate-store", "--to", busy_url, check=False)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("stop the daemon", r.stderr)
        self.assertEqual(self.pg.sql("SELECT count(*) FROM information_schema.tables "
                                     "WHERE table_schema = 'public'", db=busy_db)[0][0], "0")

        self.assertEqual(d.stop(), 0)
        url, db = self.pg_db()
        r = d.ctl("migrate-store", "--to", url)
        self.assertIn("addresses", r.stdout)
        self.assertNotIn(url.split("@")[0].split(":")[-1], r.stdout + r.stderr)  # no password printed

        # Row counts and ids, table by table.
        for table, key in COPIED.items():
            self.assertEqual(self.sqlite(d, f"SELECT count(*) FROM {table}"),
                             self.pg.sql(f"SELECT count(*) FROM {table}", db=db), table)
            if key:
                self.assertEqual(self.sqlite(d, f"SELECT {key} FROM {table} ORDER BY {key}"),
                                 self.pg.sql(f"SELECT {key} FROM {table} ORDER BY {key}", db=db), table)
        for table, key in {"addresses": "id", "bindings": "id", "deposits": "id", "events": "id",
                           "orders": "id", "chain_cursors": "chain_id"}.items():
            self.assertEqual(self.sqlite(d, f"SELECT {key} FROM {table} ORDER BY {key}"),
                             self.pg.sql(f"SELECT {key} FROM {table} ORDER BY {key}", db=db), table)
        for table, keys in COUNT_TABLES.items():
            q = f"SELECT {keys}, n FROM {table} WHERE n <> 0 ORDER BY {keys}"
            self.assertEqual(self.sqlite(d, q), self.pg.sql(q, db=db), table)
        # Content, where it matters most.
        q = ("SELECT id, rowid, address_id, reference, raw_amount, status, confirmations, detected_at "
             "FROM deposits ORDER BY id")
        self.assertEqual(self.sqlite(d, q), self.pg.sql(q, db=db))
        q = "SELECT id, protocol, address, state FROM addresses ORDER BY id"
        self.assertEqual(self.sqlite(d, q), self.pg.sql(q, db=db))
        self.assertEqual(self.sqlite(d, "SELECT hex(watch_key) FROM addresses ORDER BY id"),
                         self.pg.sql("SELECT upper(encode(watch_key, 'hex')) FROM addresses ORDER BY id", db=db))
        q = "SELECT id, order_id, status, address_id, pay_raw FROM orders ORDER BY id"
        self.assertEqual(self.sqlite(d, q), self.pg.sql(q, db=db))
        for table in ("deposits", "events", "orders", "bindings"):
            self.assertGreater(int(self.pg.sql(f"SELECT count(*) FROM {table}", db=db)[0][0]), 0, table)

        # Again into the now non-empty database: refused, nothing changes.
        copied = self.snapshot_pg(db)
        r = d.ctl("migrate-store", "--to", url, check=False)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("not empty", r.stderr)
        self.assertEqual(self.snapshot_pg(db), copied)
        # And with [store] url in the configuration: the source must be SQLite.
        with open(d.config, "a") as f:
            f.write(f'\n[store]\nurl = "{url}"\n')
        r = d.ctl("migrate-store", "--to", url, check=False)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)

        # The daemon on PostgreSQL: the same deposits; a new binding's id
        # continues after the copied ones (the sequence moved).
        max_binding = int(self.pg.sql("SELECT max(id) FROM bindings", db=db)[0][0])
        d.start()
        status, after = d.get("/api/v1/deposits")
        self.assertEqual(status, 200, after)
        keys = ("id", "depositReference", "address", "rawAmount", "status", "txHash", "chainId")
        self.assertEqual([{k: x.get(k) for k in keys} for x in after["data"]["deposits"]],
                         [{k: x.get(k) for k in keys} for x in before["data"]["deposits"]])
        self.assertEqual(after["data"]["pagination"]["total"], before["data"]["pagination"]["total"])
        d.bind("carol")
        self.assertEqual(self.pg.sql("SELECT id FROM bindings WHERE reference = 'carol'", db=db),
                         [[str(max_binding + 1)]])
        self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    unittest.main()
