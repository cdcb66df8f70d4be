#!/bin/sh
# A PostgreSQL bin folder for benchmarks whose cluster must be durable.
# The throwaway cluster (tests/integration/pg_cluster.py) runs with fsync
# and full_page_writes off (tests do not check power-loss durability); SQLite
# runs synchronous=FULL. For a fair store comparison, point DEPOSITD_PG_BIN at
# the folder this prints: its `postgres` appends fsync=on and
# full_page_writes=on (the last -c wins), the other tools are the real ones.
#
#   DEPOSITD_PG_BIN=$(bench/pg_durable_bin.sh) python3 bench/e2e_evm.py --store both ...
#   DEPOSITD_BENCH_STORE=postgresql DEPOSITD_PG_BIN=$(bench/pg_durable_bin.sh) build-release/bench/webhook_bench
set -eu
real=${DEPOSITD_PG_REAL_BIN:-/usr/lib/postgresql/15/bin}
dir=${TMPDIR:-/tmp}/depositd-pg-durable-bin
mkdir -p "$dir"
chmod 0755 "$dir"
for tool in "$real"/*; do
    name=$(basename "$tool")
    [ "$name" = postgres ] && continue
    ln -sf "$tool" "$dir/$name"
done
cat > "$dir/postgres.new" <<WRAP
#!/bin/sh
exec "$real/postgres" "\$@" -c fsync=on -c full_page_writes=on
WRAP
chmod 0755 "$dir/postgres.new"
mv -f "$dir/postgres.new" "$dir/postgres"
echo "$dir"
