#!/bin/sh
# A PostgreSQL bin folder for benchmarks whose cluster must be durable.
# The throwaway cluster (tests/integration/pg_cluster.py) runs with fsync
# and full_page_writes off (tests do not check power-loss durability); SQLite
# runs synchronous=FULL. For a fair store comparison, point DEPOSITD_PG_BIN at
# the folder this prints: its `postgres` appends fsync=on and
# full_page_writes=on (bench/pg_bin.sh).
#
#   DEPOSITD_PG_BIN=$(bench/pg_durable_bin.sh) python3 bench/e2e_evm.py --store both ...
#   DEPOSITD_BENCH_STORE=postgresql DEPOSITD_PG_BIN=$(bench/pg_durable_bin.sh) build-release/bench/webhook_bench
exec sh "$(dirname "$0")/pg_bin.sh" durable -c fsync=on -c full_page_writes=on
