"""The PostgreSQL dialect of the schema (schema/pg/, a draft the store does
not apply yet) against the SQLite one (schema/): every migration applies on
a fresh PostgreSQL database, both have the same migrations, tables, columns
and named indexes, and the trigger-kept counts agree after the same writes.
While the draft is not wired, SQLite migrations newer than the last
translated one are compared without (and named in the output): a branch
that adds schema/005 does not fail here; one that changes 001-004 does.
Skipped without PostgreSQL's server binaries."""
import glob
import os
import sqlite3
import sys
import unittest

from harness import SOURCE
from pg_cluster import PgCluster, pg_unavailable

SQLITE_DIR = os.path.join(SOURCE, "schema")
PG_DIR = os.path.join(SOURCE, "schema", "pg")
# Columns only the PostgreSQL dialect spells out: SQLite's implicit rowid.
PG_ONLY_COLUMNS = {("deposits", "seq"), ("orders", "seq")}

# The same statements on both backends: portable SQL (ON CONFLICT DO NOTHING
# is SQLite's INSERT OR IGNORE, in the syntax both understand).
WRITES = [
    "INSERT INTO addresses (protocol, address, watch_key, source, state, created_at) VALUES "
    "('evm', '0xA1', x'01', 'file:a', 'free', 1), ('evm', '0xA2', x'02', 'file:a', 'free', 1), "
    "('tron', 'TA3', x'03', 'file:b', 'free', 1)",
    "INSERT INTO addresses (protocol, address, watch_key, source, state, created_at) VALUES "
    "('evm', '0xA1', x'01', 'file:a', 'free', 2) ON CONFLICT DO NOTHING",
    "UPDATE addresses SET state = 'bound' WHERE address = '0xA1'",
    "UPDATE addresses SET state = 'bound' WHERE address = '0xA1'",  # no change: no count
    "UPDATE addresses SET state = 'cooling', cooldown_until = 5 WHERE address = '0xA1'",
    "INSERT INTO deposits (id, chain_id, tx_hash, idx, block_hash, block_number, address, currency, raw_amount, "
    "decimals, confirmations, required_confirmations, status, detected_at) VALUES "
    "('dep_1', 'eth', '0x1', 0, '0xb1', 10, '0xA1', 'USDT', '1000000', 6, 0, 3, 'pending', 100), "
    "('dep_2', 'eth', '0x2', 0, '0xb1', 10, '0xA2', 'ETH', '5', 18, 0, 3, 'pending', 101), "
    "('dep_3', 'tron', '0x3', 1, '0xb2', 20, 'TA3', 'USDT', '7', 6, 0, 19, 'pending', 102)",
    "INSERT INTO deposits (id, chain_id, tx_hash, idx, block_hash, block_number, address, currency, raw_amount, "
    "decimals, confirmations, required_confirmations, status, detected_at) VALUES "
    "('dep_1', 'eth', '0x1', 0, '0xb1', 10, '0xA1', 'USDT', '1000000', 6, 0, 3, 'pending', 100) "
    "ON CONFLICT DO NOTHING",
    "UPDATE deposits SET status = 'confirmed', changes = changes + 1 WHERE id = 'dep_1'",
    "UPDATE deposits SET status = 'reverted' WHERE id = 'dep_2'",
    "UPDATE deposits SET currency = 'USDC' WHERE id = 'dep_3'",
    "INSERT INTO events (id, deposit_id, type, payload, next_attempt_at, created_at, stream) VALUES "
    "('evt_1', 'dep_1', 'deposit.pending', '{}', 0, 0, 'dep_1'), "
    "('evt_2', 'dep_1', 'deposit.confirmed', '{}', 0, 0, 'dep_1'), "
    "('evt_3', 'dep_2', 'deposit.pending', '{}', 0, 0, 'dep_2')",
    "UPDATE events SET status = 'delivered', attempts = attempts + 1 WHERE id = 'evt_1'",
    "UPDATE events SET status = 'failed' WHERE id = 'evt_3'",
    "DELETE FROM deposits WHERE id = 'dep_3'",
]


def migrations(folder):
    out = []
    for path in sorted(glob.glob(os.path.join(folder, "[0-9][0-9][0-9]_*.sql"))):
        name = os.path.basename(path)[:-4]
        with open(path) as f:
            out.append((int(name[:3]), name[4:], f.read()))
    return out


class PgSchemaDraftTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        reason = pg_unavailable()
        if reason:
            raise unittest.SkipTest(reason)
        cls.pg = PgCluster()
        cls.db = cls.pg.create_database().rsplit("/", 1)[1]
        for version, name, sql in migrations(PG_DIR):
            try:
                cls.pg.sql(sql, db=cls.db)  # one transaction per file (psql -c)
            except RuntimeError as e:
                raise AssertionError(f"schema/pg/{version:03d}_{name}.sql does not apply: {e}") from e
        cls.translated = max((v for v, _, _ in migrations(PG_DIR)), default=0)
        cls.lite = sqlite3.connect(":memory:")
        for version, name, sql in migrations(SQLITE_DIR):
            if version <= cls.translated:
                cls.lite.executescript(sql)
            else:
                print(f"schema/{version:03d}_{name}.sql has no PostgreSQL twin yet (schema/pg/)", file=sys.stderr)

    @classmethod
    def tearDownClass(cls):
        cls.pg.close()

    def test_same_migrations(self):
        lite = [(v, n) for v, n, _ in migrations(SQLITE_DIR) if v <= self.translated]
        self.assertEqual(lite, [(v, n) for v, n, _ in migrations(PG_DIR)])

    def test_same_tables_and_columns(self):
        lite = {}
        for (table,) in self.lite.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
            lite[table] = {r[1] for r in self.lite.execute(f"PRAGMA table_info({table})")}
        pg = {}
        for table, column in self.pg.sql("SELECT table_name, column_name FROM information_schema.columns "
                                         "WHERE table_schema = 'public'", db=self.db):
            if (table, column) not in PG_ONLY_COLUMNS:
                pg.setdefault(table, set()).add(column)
        self.assertEqual(lite, pg)

    def test_named_indexes_exist_on_both(self):
        lite = {r[0] for r in self.lite.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")}
        pg = {r[0] for r in self.pg.sql("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'", db=self.db)}
        self.assertEqual(lite - pg, set())

    def test_integers_are_64_bit(self):
        narrow = self.pg.sql("SELECT table_name || '.' || column_name FROM information_schema.columns "
                             "WHERE table_schema = 'public' AND data_type IN ('integer', 'smallint')", db=self.db)
        self.assertEqual(narrow, [])

    def test_counters_agree_after_the_same_writes(self):
        for stmt in WRITES:
            self.lite.execute(stmt)
        self.lite.commit()
        self.pg.sql(";\n".join(w.replace("x'", "'\\x") for w in WRITES), db=self.db)
        for query in ("SELECT kind, a, b, n FROM counters WHERE n <> 0 ORDER BY kind, a, b",
                      "SELECT chain_id, currency, status, n FROM deposit_counts WHERE n <> 0 "
                      "ORDER BY chain_id, currency, status"):
            lite = [[str(c) for c in row] for row in self.lite.execute(query)]
            pg = self.pg.sql(query, db=self.db)
            self.assertEqual(lite, pg, query)
            self.assertTrue(lite)


if __name__ == "__main__":
    unittest.main()
