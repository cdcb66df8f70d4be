"""The PostgreSQL dialect of the schema (schema/pg/, applied by the store on
PostgreSQL) against the SQLite one (schema/, applied with python3's sqlite3
in order, as the store does):
 - the same migrations by name; every PostgreSQL file applies, in order, on a
   fresh database, leaving transactions and the migration record
   (schema_migrations) to the store;
 - the same tables, columns, types (INTEGER -> bigint, TEXT -> text COLLATE
   "C", BLOB -> bytea, INTEGER PRIMARY KEY -> identity), NOT NULL, defaults,
   keys, foreign keys, named indexes (columns, uniqueness, partiality,
   NOCASE) and triggers;
 - SQLite's implicit rowid is a real rowid column wherever the store's SQL
   reads it (lib/ is scanned for that), and means the same: insertion order;
 - the triggers keep the same counts after the same writes;
 - the data migrations mean the same: rows written between migrations on both
   backends end up identical after the last one, and the store's rowid and
   NOCASE queries (the same SQL text) answer the same.
Skipped without PostgreSQL's server binaries."""
import glob
import os
import re
import sqlite3
import unittest

from harness import SOURCE
from pg_cluster import PgCluster, pg_unavailable

SQLITE_DIR = os.path.join(SOURCE, "schema")
PG_DIR = os.path.join(SOURCE, "schema", "pg")
LIB_DIR = os.path.join(SOURCE, "lib")
# Tables whose SQLite rowid the store's SQL reads (ORDER BY ..., rowid DESC;
# d.rowid, o.rowid, l.rowid): on PostgreSQL a real column named rowid.
ROWID_TABLES = {"deposits", "orders", "payment_links"}
PG_ONLY_COLUMNS = {(t, "rowid") for t in ROWID_TABLES}
# Triggers whose PostgreSQL form differs by design: event_counts_update counts
# an UPDATE's status changes once per statement (schema/pg/012), and a
# trigger with transition tables may have neither a column list nor WHEN.
# The same counts after the same writes (WRITES) is what shows they agree.
PG_STATEMENT_TRIGGERS = {"event_counts_update": ("after update events", False)}

# The same statements on both backends: portable SQL (ON CONFLICT DO NOTHING
# is SQLite's INSERT OR IGNORE, in the syntax both understand; x'..' blobs
# become '\x..' for PostgreSQL).
WRITES = [
    "INSERT INTO addresses (protocol, address, watch_key, source, state, created_at) VALUES "
    "('evm', '0xA1', x'01', 'file:a', 'free', 1), ('evm', '0xA2', x'02', 'file:a', 'free', 1), "
    "('tron', 'TA3', x'03', 'file:b', 'free', 1)",
    "INSERT INTO addresses (protocol, address, watch_key, source, state, created_at) VALUES "
    "('evm', '0xA1', x'01', 'file:a', 'free', 2) ON CONFLICT DO NOTHING",
    "UPDATE addresses SET state = 'bound' WHERE address = '0xA1'",
    "UPDATE addresses SET state = 'bound' WHERE address = '0xA1'",  # no change: no count
    "UPDATE addresses SET state = 'cooling', cooldown_until = 5 WHERE address = '0xA1'",
    "UPDATE addresses SET cooldown_until = 6 WHERE address = '0xA1'",  # not the state: no count
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
    "UPDATE deposits SET confirmations = 2 WHERE id = 'dep_3'",  # no counted column: no count
    "INSERT INTO events (id, deposit_id, type, payload, next_attempt_at, created_at, stream) VALUES "
    "('evt_1', 'dep_1', 'deposit.pending', '{}', 0, 0, 'dep_1'), "
    "('evt_2', 'dep_1', 'deposit.confirmed', '{}', 0, 0, 'dep_1'), "
    "('evt_3', 'dep_2', 'deposit.pending', '{}', 0, 0, 'dep_2')",
    "UPDATE events SET status = 'delivered', attempts = attempts + 1 WHERE id = 'evt_1'",
    "UPDATE events SET status = 'failed' WHERE id = 'evt_3'",
    "UPDATE events SET status = 'failed' WHERE id = 'evt_3'",  # no change: no count
    # Several rows, from two statuses, in one statement (PostgreSQL counts an
    # UPDATE's rows per statement since 012); then one not changing status.
    "UPDATE events SET status = 'pending', attempts = 0 WHERE id IN ('evt_1', 'evt_3')",
    "UPDATE events SET status = 'delivered' WHERE id IN ('evt_1', 'evt_2', 'evt_3')",
    "UPDATE events SET attempts = attempts + 1 WHERE id = 'evt_2'",  # not the status: no count
    "DELETE FROM deposits WHERE id = 'dep_3'",
]
COUNT_TABLES = ["pool_counts", "event_counts", "deposit_counts"]

ADDR = "(SELECT id FROM addresses WHERE address = '{}')"
DEPOSIT_COLUMNS = ("id, chain_id, tx_hash, idx, block_hash, block_number, address_id, address, reference, currency, "
                   "contract, raw_amount, decimals, from_address, confirmations, required_confirmations, status, "
                   "detected_at, confirmed_at, reverted_at")
ADDRESS_COLUMNS = "protocol, address, watch_key, source, derivation_path, state, cooldown_until, created_at"
ORDER_COLUMNS = ("id, order_id, source, mode, status, chain_id, currency, contract, decimals, amount, pay_raw, "
                 "paid_raw, fiat_amount, fiat_currency, rate, address_id, address, redirect_url, notify_url, "
                 "merchant, metadata, link_id, created_at, expires_at, paid_at, completed_at, expired_at")
EVENT_COLUMNS = "id, deposit_id, type, payload, status, attempts, next_attempt_at, last_error, created_at, delivered_at"

# Rows written after each migration (before the next), on both backends: the
# data migrations of the later files must treat them alike.
STAGES = {
    1: [
        f"INSERT INTO addresses ({ADDRESS_COLUMNS}) VALUES "
        "('evm', '0xA1', x'a1', 'file:a', NULL, 'free', NULL, 1), "
        "('evm', '0xA2', x'a2', 'xpub:f00d', '0/1', 'bound', NULL, 2), "
        "('tron', 'TA3', x'a3', 'file:b', NULL, 'cooling', 50, 3), "
        "('bitcoin', 'bc1q4', x'0014a4', 'file:c', NULL, 'free', NULL, 4)",
        "INSERT INTO bindings (reference, protocol, address_id, metadata, bound_at, unbound_at) VALUES "
        f"('ref-1', 'evm', {ADDR.format('0xA2')}, '{{\"k\":1}}', 5, NULL), "
        f"('ref-0', 'tron', {ADDR.format('TA3')}, NULL, 1, 4)",
        "INSERT INTO xpub_cursors (xpub, protocol, next_index) VALUES ('xpub6A', 'evm', 2)",
        "INSERT INTO chain_cursors (chain_id, height, hash, head, halted, updated_at) VALUES "
        "('eth', 100, '0xh100', 105, NULL, 7), ('tron', 50, 'th50', NULL, 'reorg deeper than 20', 8)",
        "INSERT INTO chain_blocks (chain_id, height, hash, parent) VALUES "
        "('eth', 99, '0xh99', '0xh98'), ('eth', 100, '0xh100', '0xh99')",
        f"INSERT INTO deposits ({DEPOSIT_COLUMNS}) VALUES "
        f"('dep_1', 'eth', '0xt1', 0, '0xh99', 99, {ADDR.format('0xA2')}, '0xA2', 'ref-1', 'USDT', '0xdac', "
        "'1000000', 6, '0xF1', 1, 3, 'pending', 100, NULL, NULL), "
        "('dep_2', 'eth', '0xt2', 1, '0xh100', 100, NULL, '0xB9', NULL, 'ETH', NULL, '5', 18, NULL, 3, 3, "
        "'confirmed', 100, 110, NULL), "
        f"('dep_3', 'tron', 'tt3', 0, 'tb3', 40, {ADDR.format('TA3')}, 'TA3', NULL, 'USDT', 'TR7', '7', 6, NULL, "
        "0, 19, 'reverted', 99, NULL, 120)",
        f"INSERT INTO events ({EVENT_COLUMNS}) VALUES "
        "('evt_1', 'dep_1', 'deposit.pending', '{\"a\":1}', 'pending', 0, 100, NULL, 100, NULL), "
        "('evt_2', 'dep_2', 'deposit.pending', '{}', 'delivered', 1, 100, NULL, 100, 101), "
        "('evt_3', 'dep_2', 'deposit.confirmed', '{}', 'failed', 5, 200, 'HTTP 500', 110, NULL), "
        "('evt_4', 'dep_3', 'deposit.pending', '{}', 'delivered', 1, 90, NULL, 90, 91), "
        "('evt_5', 'dep_3', 'deposit.reverted', '{}', 'pending', 0, 120, NULL, 120, NULL)",
        "INSERT INTO delivery_attempts (event_id, attempted_at, status_code, latency_ms, error, response_excerpt) "
        "VALUES ('evt_2', 101, 200, 12, NULL, 'ok'), ('evt_3', 111, 500, 40, 'HTTP 500', 'oops'), "
        "('evt_3', 150, NULL, 5000, 'timeout', NULL)",
    ],
    2: [  # the counters' triggers are live
        f"INSERT INTO addresses ({ADDRESS_COLUMNS}) VALUES ('evm', '0xA5', x'a5', 'file:a', NULL, 'free', NULL, 9)",
        "UPDATE addresses SET state = 'bound' WHERE address = '0xA1'",
        "UPDATE addresses SET state = 'bound' WHERE address = '0xA1'",
        f"INSERT INTO deposits ({DEPOSIT_COLUMNS}, changes, finality) VALUES "
        f"('dep_4', 'eth', '0xt4', 0, '0xh100', 100, {ADDR.format('0xA1')}, '0xA1', NULL, 'USDT', '0xdac', '250', 6, "
        "NULL, 0, 3, 'pending', 130, NULL, NULL, 1, NULL)",
        "UPDATE deposits SET status = 'confirmed', confirmations = 3, confirmed_at = 140, changes = changes + 1, "
        "finality = 'finalized' WHERE id = 'dep_1'",
        # A second pending event of one deposit: allowed since 002.
        f"INSERT INTO events ({EVENT_COLUMNS}) VALUES "
        "('evt_6', 'dep_3', 'deposit.pending', '{}', 'pending', 0, 130, NULL, 130, NULL)",
        "UPDATE events SET status = 'delivered', attempts = attempts + 1, delivered_at = 131 WHERE id = 'evt_1'",
        "UPDATE chain_cursors SET block_height = height, finalized = 95, status = 'ok', last_success_at = 140 "
        "WHERE chain_id = 'eth'",
        "UPDATE chain_cursors SET finalized = 30, status = 'halted', last_error = 'reorg' WHERE chain_id = 'tron'",
    ],
    3: [
        # detected_at 100 like dep_1 and dep_2: the rowid breaks the tie.
        f"INSERT INTO deposits ({DEPOSIT_COLUMNS}) VALUES "
        "('dep_5', 'tron', 'tt5', 2, 'tb5', 45, NULL, 'TZ5', NULL, 'TRX', NULL, '9', 6, NULL, 0, 19, 'pending', 100, "
        "NULL, NULL), "
        "('dep_6', 'tron', 'tt6', 0, 'tb6', 46, NULL, 'TZ6', NULL, 'TRX', NULL, '1', 6, NULL, 0, 19, 'pending', 101, "
        "NULL, NULL)",
        "DELETE FROM deposits WHERE id = 'dep_6'",
        "UPDATE deposits SET currency = 'USDC' WHERE id = 'dep_3'",
        "UPDATE deposits SET status = 'pending', changes = changes + 1 WHERE id = 'dep_3'",
    ],
    4: [
        "UPDATE addresses SET state = 'receive' WHERE address = 'bc1q4'",
        "INSERT INTO payment_links (id, slug, title, description, amount, fiat, currencies, inventory_total, "
        "expires_at, metadata, status, created_at, updated_at) VALUES "
        "('plink_1', 'coffee', 'Coffee', NULL, '3', 'USD', '[{\"currency\":\"USDT\",\"chainId\":\"eth\"}]', NULL, "
        "NULL, NULL, 'active', 500, 500), "
        "('plink_2', 'tea', 'Tea', 'Green', '0', NULL, '[]', 10, 900, '{}', 'draft', 500, 501), "
        "('plink_3', 'cake', 'Cake', NULL, '5', NULL, '[]', NULL, NULL, NULL, 'archived', 499, 499)",
        f"INSERT INTO orders ({ORDER_COLUMNS}) VALUES "
        f"('ord_1', 'm-1', 'api', 'address', 'paid', 'eth', 'USDT', '0xdac', 6, '1', '1000000', '1000000', NULL, NULL, "
        f"NULL, {ADDR.format('0xA2')}, '0xA2', NULL, NULL, NULL, NULL, NULL, 600, 900, 610, NULL, NULL), "
        f"('ord_2', 'm-2', 'link', 'amount', 'waiting', 'eth', 'USDT', '0xdac', 6, '3', '3000001', '0', '3', 'USD', "
        f"'1', {ADDR.format('bc1q4')}, 'bc1q4', 'https://shop/ok', NULL, NULL, NULL, 'plink_1', 600, 1500, NULL, NULL, "
        "NULL), "
        f"('ord_3', 'm-1', 'epay', 'address', 'expired', 'eth', 'ETH', NULL, 18, '0.1', '100000000000000000', '0', "
        f"NULL, NULL, NULL, {ADDR.format('0xA1')}, '0xA1', NULL, 'https://shop/notify', '{{\"type\":\"usdt\"}}', NULL, "
        "NULL, 590, 800, NULL, NULL, 800)",
        "INSERT INTO order_deposits (order_id, deposit_id, linked_at) VALUES ('ord_1', 'dep_1', 610)",
        "INSERT INTO events (id, deposit_id, type, payload, status, attempts, next_attempt_at, created_at, kind, "
        "target, stream, order_id) VALUES "
        "('evt_7', NULL, 'order.paid', '{}', 'pending', 0, 610, 610, 'webhook', NULL, 'ord_1', 'ord_1'), "
        "('evt_8', NULL, 'order.paid', 'a=1', 'pending', 0, 610, 610, 'epay', 'https://shop/notify?a=1', "
        "'ord_1/notify', 'ord_1')",
        "UPDATE deposits SET block_time = 99000 WHERE id = 'dep_1'",
    ],
    5: [
        f"INSERT INTO orders ({ORDER_COLUMNS}, client, visitor) VALUES "
        f"('ord_4', 'm-4', 'link', 'address', 'waiting', 'tron', 'USDT', 'TR7', 6, '2', '2000000', '0', NULL, NULL, "
        f"NULL, {ADDR.format('TA3')}, 'TA3', NULL, NULL, NULL, NULL, 'plink_1', 700, 1600, NULL, NULL, NULL, "
        "'203.0.113.0', 'vis-1'), "
        f"('ord_5', 'm-5', 'link', 'address', 'waiting', 'tron', 'USDT', 'TR7', 6, '2', '2000000', '0', NULL, NULL, "
        f"NULL, {ADDR.format('TA3')}, 'TA3', NULL, NULL, NULL, NULL, 'plink_1', 700, 1600, NULL, NULL, NULL, "
        "'203.0.113.0', 'vis-1')",
        "INSERT INTO order_deposits (order_id, deposit_id, linked_at, late) VALUES ('ord_3', 'dep_4', 700, 1)",
    ],
    6: [
        "UPDATE chain_cursors SET finalized = 100, finalized_hash = '0xh100' WHERE chain_id = 'eth'",
    ],
    7: [  # pool_counts, event_counts
        f"INSERT INTO addresses ({ADDRESS_COLUMNS}) VALUES ('solana', 'So1', x'50', 'file:d', NULL, 'free', NULL, 20)",
        "UPDATE addresses SET state = 'cooling', cooldown_until = 900 WHERE address = '0xA2'",
        "INSERT INTO events (id, deposit_id, type, payload, status, attempts, next_attempt_at, created_at, stream) "
        "VALUES ('evt_9', 'dep_4', 'deposit.confirmed', '{}', 'pending', 0, 800, 800, 'dep_4')",
        "UPDATE events SET status = 'failed', last_error = 'x' WHERE id = 'evt_7'",
        "UPDATE deposits SET status = 'confirmed', changes = changes + 1 WHERE id = 'dep_4'",
    ],
    8: [
        "INSERT INTO audit_log (at, actor_kind, actor, action, target, reason, detail, client) VALUES "
        "(900, 'api', 'ops', 'order.mark_paid', 'ord_4', 'paid by bank', '{\"from\":\"waiting\",\"to\":\"paid\"}', "
        "'127.0.0.1'), (901, 'console', 'alice', 'console.login', NULL, NULL, NULL, '::1')",
        "UPDATE orders SET status = 'paid', manual = 1, paid_at = 900 WHERE id = 'ord_4'",
        "INSERT INTO notify_state (key, value, changed_at) VALUES ('relay_seq', '8', 900), "
        "('alert:chain:eth', 'lagging', 901)",
    ],
    9: [
        "INSERT INTO leases (name, holder, epoch, expires_at, acquired_at) VALUES "
        "('chain:eth', 'gw1:4711', 3, 1800000000000, 1700000000000), ('chain:tron', '', 1, 0, 1700000000001)",
        "INSERT INTO instances (id, host, pid, boot_id, pid_ns, version, api, started_at, seen_at) VALUES "
        "('gw1:4711', 'gw1', 4711, 'b00t', 'pid:[4026531836]', '0.1.0', '127.0.0.1:8080', 1700000000000, "
        "1700000000500)",
    ],
    14: [  # attempts by the event's seq; those of version 1 were moved over
        "INSERT INTO delivery_attempts (event_seq, attempted_at, status_code, latency_ms, error, response_excerpt) "
        "SELECT seq, 1000, 204, 3, NULL, '' FROM events WHERE id = 'evt_6'",
    ],
}

# The store's kinds of queries, the same text on both backends: rowid as the
# last sort key and in keyset cursors, rowid sets, NOCASE, 0/1 flags.
SAME_ANSWERS = [
    "SELECT id, detected_at FROM deposits ORDER BY detected_at DESC, rowid DESC",
    "SELECT id FROM deposits WHERE detected_at <= 100 AND (detected_at < 100 OR rowid < "
    "(SELECT rowid FROM deposits WHERE id = 'dep_5')) ORDER BY detected_at DESC, rowid DESC LIMIT 10",
    "SELECT d.id, d.detected_at FROM deposits d WHERE d.rowid IN ("
    "SELECT rowid FROM deposits WHERE reference = 'ref-1' "
    "UNION SELECT rowid FROM deposits WHERE address = '0xa1' COLLATE NOCASE "
    "UNION SELECT x.rowid FROM orders o JOIN order_deposits od ON od.order_id = o.id "
    "JOIN deposits x ON x.id = od.deposit_id WHERE o.order_id = 'm-1') ORDER BY d.detected_at DESC, d.rowid DESC",
    "SELECT o.id, o.created_at FROM orders o WHERE 1 = 1 ORDER BY o.created_at DESC, o.rowid DESC",
    "SELECT o.id FROM orders o WHERE o.rowid IN (SELECT rowid FROM orders WHERE address = 'ta3' COLLATE NOCASE "
    "UNION SELECT y.rowid FROM deposits d JOIN order_deposits od ON od.deposit_id = d.id "
    "JOIN orders y ON y.id = od.order_id WHERE d.id = 'dep_4') ORDER BY o.created_at DESC, o.rowid DESC",
    "SELECT id FROM orders WHERE link_id = 'plink_1' AND visitor = 'vis-1' AND status IN ('waiting', 'paid') "
    "ORDER BY created_at DESC, rowid DESC LIMIT 1",
    "SELECT l.id FROM payment_links l ORDER BY l.created_at DESC, l.rowid DESC",
    "SELECT order_id, deposit_id, late FROM order_deposits WHERE late = 1",
    "SELECT id, manual FROM orders WHERE manual = 0 ORDER BY id",
    "SELECT id FROM deposits WHERE tx_hash = '0xt4'",
]


def migrations(folder):
    out = []
    for path in sorted(glob.glob(os.path.join(folder, "[0-9][0-9][0-9]_*.sql"))):
        name = os.path.basename(path)[:-4]
        with open(path) as f:
            out.append((int(name[:3]), name[4:], f.read()))
    return out


def for_pg(stmt):
    """x'..' blob literals as bytea literals."""
    return re.sub(r"(?<=[\s,(])x'([0-9a-fA-F]*)'", r"'\\x\1'", stmt)


def lite_value(v):
    """A SQLite value as psql --csv prints it."""
    if v is None:
        return None
    if isinstance(v, bytes):
        return "\\x" + v.hex()
    return str(v)


def lite_rows(con, query):
    return [[lite_value(v) for v in row] for row in con.execute(query)]


def sorted_rows(rows):
    return sorted(rows, key=lambda r: [(c is None, c or "") for c in r])


def rowid_tables_in_lib():
    """Tables whose rowid the C++ SQL reads: '<alias>.rowid' with the alias
    of a FROM/JOIN in the same file, and 'rowid FROM <table>'."""
    found = {}
    for path in glob.glob(os.path.join(LIB_DIR, "**", "*.[ch]pp"), recursive=True):
        with open(path, errors="replace") as f:
            text = f.read()
        text = re.sub(r"last_insert_rowid|WITHOUT ROWID", "", text)
        where = os.path.relpath(path, SOURCE)
        for alias in set(re.findall(r"\b(\w+)\.rowid\b", text)):
            for table in re.findall(rf"\b(?:FROM|JOIN)\s+(\w+)\s+(?:AS\s+)?{alias}\b", text):
                found.setdefault(table, where)
        for table in re.findall(r"\browid\s+FROM\s+(\w+)", text):
            found.setdefault(table, where)
    return found


class PgSchemaDraftTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        reason = pg_unavailable()
        if reason:
            raise unittest.SkipTest(reason)
        cls.pg = PgCluster()
        cls.lite_migrations = migrations(SQLITE_DIR)
        cls.pg_migrations = migrations(PG_DIR)
        # Fresh: every migration, nothing written in between.
        cls.db = cls.pg.create_database().rsplit("/", 1)[1]
        for version, name, sql in cls.pg_migrations:
            try:
                cls.pg.sql(sql, db=cls.db)  # one transaction per file (psql -c)
            except RuntimeError as e:
                raise AssertionError(f"schema/pg/{version:03d}_{name}.sql does not apply: {e}") from e
        cls.lite = sqlite3.connect(":memory:")
        for _, _, sql in cls.lite_migrations:
            cls.lite.executescript(sql)
        # Staged: STAGES[v] written after migration v, on both.
        cls.staged = cls.pg.create_database().rsplit("/", 1)[1]
        cls.lite_staged = sqlite3.connect(":memory:")
        pg_files = {v: (n, sql) for v, n, sql in cls.pg_migrations}
        for version, name, sql in cls.lite_migrations:
            cls.lite_staged.executescript(sql)
            if version in pg_files:
                cls.pg.sql(pg_files[version][1], db=cls.staged)
            writes = STAGES.get(version, [])
            for stmt in writes:
                cls.lite_staged.execute(stmt)
            cls.lite_staged.commit()
            if writes and version in pg_files:
                try:
                    cls.pg.sql(";\n".join(for_pg(w) for w in writes), db=cls.staged)
                except RuntimeError as e:
                    raise AssertionError(f"writes after {version:03d}_{name} fail on PostgreSQL: {e}") from e

    @classmethod
    def tearDownClass(cls):
        cls.pg.close()

    def q(self, query, db=None):
        return self.pg.sql(query, db=db or self.db)

    # -- files ------------------------------------------------------------

    def test_same_migrations(self):
        self.assertEqual([(v, n) for v, n, _ in self.lite_migrations], [(v, n) for v, n, _ in self.pg_migrations])

    def test_files_leave_transactions_and_the_record_to_the_store(self):
        for version, name, sql in self.pg_migrations:
            with self.subTest(f"{version:03d}_{name}"):
                bare = re.sub(r"--[^\n]*", "", sql)
                bare = re.sub(r"\$\$.*?\$\$", "", bare, flags=re.S)  # plpgsql bodies say BEGIN ... END
                self.assertIsNone(re.search(r"\b(BEGIN|COMMIT|ROLLBACK|START\s+TRANSACTION|SAVEPOINT)\b",
                                            bare, re.I), "transaction control: the store runs each file in one")
                self.assertIsNone(re.search(r"\bschema_(migrations|version)\b", bare, re.I),
                                  "the migration record is the store's")
                self.assertNotIn("DRAFT", sql)

    # -- structure --------------------------------------------------------

    def lite_tables(self, con=None):
        con = con or self.lite
        return [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                          "AND name NOT LIKE 'sqlite_%' ORDER BY name")]

    def test_same_tables_and_columns(self):
        lite = {t: {r[1] for r in self.lite.execute(f"PRAGMA table_info({t})")} for t in self.lite_tables()}
        pg = {}
        for table, column in self.q("SELECT table_name, column_name FROM information_schema.columns "
                                    "WHERE table_schema = 'public'"):
            if (table, column) not in PG_ONLY_COLUMNS:
                pg.setdefault(table, set()).add(column)
        self.assertEqual(lite, pg)

    def test_same_types_nullability_and_defaults(self):
        pg = {(r[0], r[1]): r[2:] for r in self.q(
            "SELECT table_name, column_name, data_type, collation_name, is_nullable, column_default, is_identity, "
            "identity_generation FROM information_schema.columns WHERE table_schema = 'public'")}
        for table in self.lite_tables():
            info = list(self.lite.execute(f"PRAGMA table_info({table})"))
            pk_columns = [r for r in info if r[5]]
            for _, column, decl, notnull, default, pk in info:
                with self.subTest(f"{table}.{column}"):
                    data_type, collation, nullable, pg_default, identity, generation = pg[(table, column)]
                    rowid_alias = decl.upper() == "INTEGER" and pk and len(pk_columns) == 1
                    want = {"INTEGER": "bigint", "TEXT": "text", "BLOB": "bytea"}[decl.upper()]
                    self.assertEqual(data_type, want)
                    self.assertEqual(collation, "C" if want == "text" else None)
                    # PostgreSQL's keys are NOT NULL; SQLite's TEXT keys of rowid tables happen not to be.
                    self.assertEqual(nullable, "NO" if notnull or pk else "YES")
                    if rowid_alias:
                        self.assertEqual((identity, generation), ("YES", "BY DEFAULT"))
                    else:
                        self.assertEqual(identity, "NO")
                    if pg_default is not None:
                        pg_default = re.sub(r"::(text|bigint)$", "", pg_default)
                    self.assertEqual(pg_default, default)

    def test_integers_are_64_bit(self):
        narrow = self.q("SELECT table_name || '.' || column_name FROM information_schema.columns "
                        "WHERE table_schema = 'public' AND data_type NOT IN ('bigint', 'text', 'bytea')")
        self.assertEqual(narrow, [])

    def test_same_keys_and_foreign_keys(self):
        lite = set()
        for table in self.lite_tables():
            info = sorted((r for r in self.lite.execute(f"PRAGMA table_info({table})") if r[5]), key=lambda r: r[5])
            if info:
                lite.add(("p", table, ",".join(r[1] for r in info), "", ""))
            for _, index, unique, origin, _ in self.lite.execute(f"PRAGMA index_list({table})"):
                if origin == "u":
                    cols = [r[2] for r in self.lite.execute(f"PRAGMA index_info({index})")]
                    lite.add(("u", table, ",".join(cols), "", ""))
            fks = {}
            for fk_id, seq, ref, frm, to, *_ in self.lite.execute(f"PRAGMA foreign_key_list({table})"):
                fks.setdefault((ref, fk_id), []).append((seq, frm, to))
            for (ref, _), cols in fks.items():
                cols.sort()
                lite.add(("f", table, ",".join(c[1] for c in cols), ref, ",".join(c[2] for c in cols)))
        cols = ("array_to_string(array(SELECT a.attname FROM unnest(c.{k}) WITH ORDINALITY k(n, o) "
                "JOIN pg_attribute a ON a.attrelid = c.{rel} AND a.attnum = k.n ORDER BY k.o), ',')")
        pg = {tuple(r) for r in self.q(
            f"SELECT c.contype, t.relname, {cols.format(k='conkey', rel='conrelid')}, coalesce(f.relname, ''), "
            f"coalesce({cols.format(k='confkey', rel='confrelid')}, '') "
            "FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid "
            "JOIN pg_namespace s ON s.oid = t.relnamespace LEFT JOIN pg_class f ON f.oid = c.confrelid "
            "WHERE s.nspname = 'public' AND c.contype IN ('p', 'u', 'f')")}
        pg -= {("u", t, "rowid", "", "") for t in ROWID_TABLES}
        self.assertEqual(lite, pg)

    def lite_indexes(self):
        """name -> (table, [(column, nocase)], unique, partial) of the named indexes."""
        out = {}
        for name, table in self.lite.execute("SELECT name, tbl_name FROM sqlite_master "
                                             "WHERE type = 'index' AND sql IS NOT NULL"):
            keys = [(r[2], r[4] == "NOCASE") for r in self.lite.execute(f"PRAGMA index_xinfo({name})") if r[5]]
            flags = {r[1]: (bool(r[2]), bool(r[4])) for r in self.lite.execute(f"PRAGMA index_list({table})")}
            out[name] = (table, keys, *flags[name])
        return out

    def pg_indexes(self):
        out = {}
        for name, table, unique, partial, keys in self.q(
                "SELECT i.relname, t.relname, ix.indisunique, ix.indpred IS NOT NULL, "
                "array_to_string(array(SELECT coalesce(a.attname, '(expr)') || ':' || coalesce(co.collname, '') "
                "FROM unnest(ix.indkey::int2[], ix.indcollation::oid[]) WITH ORDINALITY k(n, coll, o) "
                "LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.n "
                "LEFT JOIN pg_collation co ON co.oid = k.coll ORDER BY k.o), ' ') "
                "FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid JOIN pg_class t ON t.oid = ix.indrelid "
                "JOIN pg_namespace s ON s.oid = t.relnamespace WHERE s.nspname = 'public' "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = ix.indexrelid)"):
            cols = []
            for key in keys.split(" "):
                column, collation = key.rsplit(":", 1)
                self.assertIn(collation, ("", "C", "nocase"), f"{name}: {key}")
                cols.append((column, collation == "nocase"))
            out[name] = (table, cols, unique == "t", partial == "t")
        return out

    def test_same_named_indexes(self):
        lite, pg = self.lite_indexes(), self.pg_indexes()
        self.assertEqual(set(lite), set(pg))
        for name, (table, keys, unique, partial) in lite.items():
            with self.subTest(name):
                p_table, p_keys, p_unique, p_partial = pg[name]
                self.assertEqual((p_table, p_unique, p_partial), (table, unique, partial))
                # SQLite ends every index with the rowid implicitly; PostgreSQL may
                # spell it out: the rowid column, or the INTEGER PRIMARY KEY alias.
                alias = [r[1] for r in self.lite.execute(f"PRAGMA table_info({table})")
                         if r[5] and r[2].upper() == "INTEGER"]
                rowid = ["rowid"] if table in ROWID_TABLES else alias
                self.assertIn(p_keys, [keys] + [keys + [(c, False)] for c in rowid])

    def test_rowid_ordered_indexes_end_with_rowid(self):
        """The indexes of the store's "..., rowid DESC" lists end with rowid,
        as SQLite's do implicitly (003)."""
        pg = self.pg_indexes()
        for name in ("deposits_time", "deposits_status_time", "deposits_chain_time", "deposits_currency_time",
                     "deposits_chain_status_time", "deposits_chain_currency_time", "deposits_currency_status_time",
                     "deposits_chain_currency_status_time", "deposits_by_reference", "orders_by_order_id",
                     "orders_by_created", "orders_by_status_created", "payment_links_by_created"):
            with self.subTest(name):
                self.assertEqual(pg[name][1][-1], ("rowid", False))

    def test_rowid_columns(self):
        rows = {r[0]: r[1:] for r in self.q(
            "SELECT table_name, data_type, is_nullable, is_identity, identity_generation "
            "FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'rowid'")}
        unique = {r[0] for r in self.q(
            "SELECT t.relname FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid "
            "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
            "WHERE c.contype = 'u' AND array_length(c.conkey, 1) = 1 AND a.attname = 'rowid'")}
        self.assertEqual(set(rows), ROWID_TABLES)
        for table in ROWID_TABLES:
            with self.subTest(table):
                self.assertEqual(rows[table], ["bigint", "NO", "YES", "BY DEFAULT"])
                self.assertIn(table, unique)

    def test_every_table_the_code_reads_rowid_from_has_one(self):
        if not os.path.isdir(LIB_DIR):
            self.skipTest(f"no {LIB_DIR}")
        found = rowid_tables_in_lib()
        self.assertTrue({"deposits", "orders", "payment_links"} <= set(found), found)
        for table, where in found.items():
            with self.subTest(table):
                self.assertIn(table, ROWID_TABLES, f"{where} reads {table}.rowid")

    def test_no_sqlite_record_tables(self):
        tables = {r[0] for r in self.q("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        self.assertFalse(tables & {"schema_migrations", "schema_version"})

    # -- triggers ---------------------------------------------------------

    def test_same_triggers(self):
        def event(sql):
            m = re.search(r"\b(BEFORE|AFTER)\s+(INSERT|DELETE|UPDATE(?:\s+OF\s+.+?)?)\s+ON\s+(?:public\.)?(\w+)",
                          sql, re.I | re.S)
            return " ".join(" ".join(m.groups()).split()).lower()

        lite = {name: (event(sql), " WHEN " in " ".join(sql.upper().split()))
                for name, sql in self.lite.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")}
        pg = {name: (event(sql), " WHEN " in sql.upper())
              for name, sql in self.q("SELECT t.tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t "
                                      "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace s "
                                      "ON s.oid = c.relnamespace WHERE s.nspname = 'public' AND NOT t.tgisinternal")}
        self.assertEqual({**lite, **PG_STATEMENT_TRIGGERS}, pg)
        self.assertEqual(lite["event_counts_update"], ("after update of status events", True))
        self.assertTrue(lite)

    def test_counts_agree_after_the_same_writes(self):
        for stmt in WRITES:
            self.lite.execute(stmt)
        self.lite.commit()
        self.q(";\n".join(for_pg(w) for w in WRITES))
        for table in COUNT_TABLES:
            with self.subTest(table):
                query = f"SELECT * FROM {table}"
                lite = sorted_rows(lite_rows(self.lite, query))
                self.assertEqual(lite, sorted_rows(self.q(query)))
                self.assertTrue(lite)

    # -- data -------------------------------------------------------------

    def test_staged_data_ends_up_the_same(self):
        """Rows written between the migrations (STAGES): every table holds the
        same rows on both after the last migration, counts included."""
        for table in self.lite_tables(self.lite_staged):
            with self.subTest(table):
                columns = ", ".join(r[1] for r in self.lite_staged.execute(f"PRAGMA table_info({table})"))
                query = f"SELECT {columns} FROM {table}"
                lite = sorted_rows(lite_rows(self.lite_staged, query))
                self.assertEqual(lite, sorted_rows(self.q(query, db=self.staged)))
                self.assertTrue(lite, f"no rows written to {table}")

    def test_staged_counts_match_a_recount(self):
        checks = [
            ("SELECT protocol, state, n FROM pool_counts WHERE n <> 0",
             "SELECT protocol, state, count(*) FROM addresses GROUP BY protocol, state"),
            ("SELECT status, n FROM event_counts WHERE n <> 0", "SELECT status, count(*) FROM events GROUP BY status"),
            ("SELECT chain_id, currency, status, n FROM deposit_counts WHERE n <> 0",
             "SELECT chain_id, currency, status, count(*) FROM deposits GROUP BY chain_id, currency, status"),
        ]
        for kept, recount in checks:
            with self.subTest(kept):
                self.assertEqual(sorted_rows(self.q(kept, db=self.staged)),
                                 sorted_rows(self.q(recount, db=self.staged)))
                self.assertEqual(sorted_rows(lite_rows(self.lite_staged, kept)),
                                 sorted_rows(lite_rows(self.lite_staged, recount)))

    def test_rowid_is_insertion_order(self):
        for table in sorted(ROWID_TABLES):
            with self.subTest(table):
                query = f"SELECT id FROM {table} ORDER BY rowid"
                lite = lite_rows(self.lite_staged, query)
                self.assertEqual(lite, self.q(query, db=self.staged))
                self.assertTrue(lite)

    def test_the_stores_queries_answer_the_same(self):
        for query in SAME_ANSWERS:
            with self.subTest(query):
                lite = lite_rows(self.lite_staged, query)
                self.assertEqual(lite, self.q(query, db=self.staged))
                self.assertTrue(lite)


if __name__ == "__main__":
    unittest.main()
