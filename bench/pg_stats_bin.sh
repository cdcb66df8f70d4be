#!/bin/sh
# A PostgreSQL bin folder whose `postgres` also loads pg_stat_statements
# (bench/pg_bin.sh), so a benchmark can say which statements the server's
# time went to. With DEPOSITD_BENCH_PG_STATS=1, bench/webhook_bench prints
# the statements of each delivery benchmark by server time.
#
#   DEPOSITD_BENCH_STORE=postgresql DEPOSITD_BENCH_PG_STATS=1 DEPOSITD_PG_BIN=$(bench/pg_stats_bin.sh) \
#       build-release/bench/webhook_bench --benchmark_filter=SignedDeliveries
exec sh "$(dirname "$0")/pg_bin.sh" stats -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all
