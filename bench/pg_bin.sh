#!/bin/sh
# A PostgreSQL bin folder whose `postgres` appends settings to the ones the
# throwaway cluster (tests/integration/pg_cluster.py) starts it with (the
# last -c wins); the other tools are the real ones. Prints the folder: point
# DEPOSITD_PG_BIN at it. Used by pg_durable_bin.sh and pg_stats_bin.sh.
#
#   bench/pg_bin.sh NAME -c setting=value ...
set -eu
name=$1
shift
real=${DEPOSITD_PG_REAL_BIN:-/usr/lib/postgresql/15/bin}
dir=${TMPDIR:-/tmp}/depositd-pg-$name-bin
mkdir -p "$dir"
chmod 0755 "$dir"
for tool in "$real"/*; do
    tool_name=$(basename "$tool")
    [ "$tool_name" = postgres ] && continue
    ln -sf "$tool" "$dir/$tool_name"
done
cat > "$dir/postgres.new" <<WRAP
#!/bin/sh
exec "$real/postgres" "\$@" $*
WRAP
chmod 0755 "$dir/postgres.new"
mv -f "$dir/postgres.new" "$dir/postgres"
echo "$dir"
