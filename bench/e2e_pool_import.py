#!/usr/bin/env python3
"""End-to-end benchmark: `depositctl pool import` of N (default 1 M) EVM addresses.

Generates N distinct valid EVM addresses deterministically (lower-case hex, so
every one goes through parsing and EIP-55 canonicalisation), writes a temporary
config + data dir, runs the real binary and reports wall time, rows per second
and peak RSS; then imports the same file again (every row a duplicate).
During the first import a second writer (standing in for the daemon: a small
transaction every 10 ms through SQLite's busy handler, as the daemon writes)
measures how long it waits for the write lock.

    python3 bench/e2e_pool_import.py --build build-ctl-rel [--count 1000000] [--keep DIR]

Use a Release build: cmake -S . -B build-ctl-rel -G Ninja -DCMAKE_BUILD_TYPE=Release
-DDEPOSITD_TESTS=OFF && cmake --build build-ctl-rel --target depositctl
"""
import argparse
import hashlib
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

CONFIG = """\
[daemon]
data_dir = "data"
[api]
keys = ["bench-key-0123456789abcdef-0123456789"]
[[chains]]
id = "ethereum"
kind = "evm"
rpc = ["http://127.0.0.1:9"]
confirmations = 12
native = { symbol = "ETH", decimals = 18 }
"""


def generate(path, count):
    with open(path, "w") as f:
        block = []
        for i in range(count):
            block.append("0x" + hashlib.sha256(i.to_bytes(8, "big")).hexdigest()[:40] + "\n")
            if len(block) == 10000:
                f.write("".join(block))
                block = []
        f.write("".join(block))


def run(ctl, config, path):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    r = subprocess.run([ctl, "--config", config, "pool", "import", "--protocol", "evm", "--file", path],
                       capture_output=True, text=True)
    took = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        sys.exit(f"depositctl failed ({r.returncode}): {r.stderr}")
    user, system = after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime
    print(f"  depositctl: user {user:.2f} s, system {system:.2f} s", file=sys.stderr)
    return r.stdout.strip(), took, user + system, after.ru_maxrss  # maxrss: KiB on Linux, max over children


class Writer(threading.Thread):
    """Small write transactions every 10 ms; records the wait for the lock."""

    def __init__(self, db):
        super().__init__(daemon=True)
        self.db = db
        self.waits = []
        self.errors = 0
        self.stop = threading.Event()

    def run(self):
        con = sqlite3.connect(self.db, timeout=5, isolation_level=None)
        while not self.stop.is_set():
            t0 = time.monotonic()
            try:
                con.execute("BEGIN IMMEDIATE")
                self.waits.append(time.monotonic() - t0)
                con.execute("INSERT INTO xpub_cursors VALUES ('bench-writer', 'evm', 1) ON CONFLICT (xpub, protocol) "
                            "DO UPDATE SET next_index = next_index + 1")
                con.execute("COMMIT")
            except sqlite3.OperationalError:
                self.errors += 1
                if con.in_transaction:
                    con.execute("ROLLBACK")
            time.sleep(0.01)
        con.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build-release")
    ap.add_argument("--count", type=int, default=1_000_000)
    ap.add_argument("--keep", help="work in this directory and keep it")
    ap.add_argument("--store", choices=["sqlite", "postgresql"], default="sqlite",
                    help="the store imported into: SQLite (with the stand-in writer beside it) or a fresh "
                         "database of a throwaway PostgreSQL cluster (tests/integration/pg_cluster.py; no "
                         "stand-in writer: PostgreSQL's writers do not wait for one another's inserts)")
    a = ap.parse_args()
    pg = None
    if a.store == "postgresql":
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
        from pg_cluster import PgCluster, pg_unavailable
        if reason := pg_unavailable():
            sys.exit(f"PostgreSQL unavailable: {reason}")
        pg = PgCluster()
    ctl = os.path.join(a.build, "tools", "depositctl")
    if not os.path.exists(ctl):
        sys.exit(f"{ctl} not built")
    work = a.keep or tempfile.mkdtemp(prefix="bench-pool-import-")
    os.makedirs(work, exist_ok=True)
    try:
        config = os.path.join(work, "depositd.toml")
        url = pg.create_database() if pg else None
        with open(config, "w") as f:
            f.write(CONFIG)
            if url:
                f.write(f'[store]\nurl = "{url}"\n')
        data = os.path.join(work, "addresses.txt")
        t0 = time.monotonic()
        generate(data, a.count)
        gen = time.monotonic() - t0
        size = os.path.getsize(data)
        shutil.rmtree(os.path.join(work, "data"), ignore_errors=True)
        subprocess.run([ctl, "--config", config, "pool", "stats"], capture_output=True, check=True)  # creates it
        db = os.path.join(work, "data", "depositd.sqlite")

        writer = None if pg else Writer(db)
        if writer:
            writer.start()
        out1, t1, cpu1, rss1 = run(ctl, config, data)
        if writer:
            writer.stop.set()
            writer.join()
        out2, t2, cpu2, rss2 = run(ctl, config, data)
        if pg:
            name = url.rsplit("/", 1)[1].split("?")[0]
            rows = int(pg.sql("SELECT count(*) FROM addresses", db=name)[0][0])
            db_size = int(pg.sql(f"SELECT pg_database_size('{name}')")[0][0])
        else:
            con = sqlite3.connect(db)
            rows = con.execute("SELECT count(*) FROM addresses").fetchone()[0]
            con.close()
            db_size = sum(os.path.getsize(os.path.join(work, "data", f))
                          for f in os.listdir(os.path.join(work, "data")))
        if rows != a.count:
            sys.exit(f"expected {a.count} rows, found {rows}")
        print(f"file: {a.count} lines, {size / 1e6:.1f} MB (generated in {gen:.1f} s)")
        print(f"first import:  {out1}  wall {t1:.2f} s, cpu {cpu1:.2f} s, {a.count / t1:,.0f} rows/s")
        print(f"second import: {out2}  wall {t2:.2f} s, cpu {cpu2:.2f} s")
        print(f"peak RSS of depositctl: {max(rss1, rss2) / 1024:.0f} MiB; "
              f"{'database' if pg else 'database + WAL'}: {db_size / 1e6:.0f} MB ({a.store})")
        w = sorted(writer.waits) if writer else []
        if w:
            print(f"writer beside the first import: {len(w)} transactions, {writer.errors} failed; lock wait "
                  f"p50 {w[len(w) // 2] * 1000:.1f} ms, p99 {w[min(len(w) - 1, int(len(w) * 0.99))] * 1000:.1f} ms, "
                  f"max {w[-1] * 1000:.1f} ms")
    finally:
        if pg:
            pg.close()
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
