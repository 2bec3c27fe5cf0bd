#!/bin/sh
# Builds the benchmark inputs in .bench-work/lzo (ignored by git): a PostgreSQL 15 cluster filled by
# pgbench, then copies of one busy WAL segment and of the heap files. PostgreSQL refuses to run as root,
# so the cluster belongs to the "postgres" user when run as root.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
work="$root/.bench-work/lzo"
bin=${PG_BIN:-/usr/lib/postgresql/15/bin}
scale=${PGBENCH_SCALE:-40}
mkdir -p "$work"
pgdata="$work/pgdata"
run() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
rm -rf "$pgdata" "$work/heap" "$work/wal-segment"
mkdir -p "$pgdata"
[ "$(id -u)" = 0 ] && chown postgres "$pgdata" "$work"
run "$bin/initdb" -D "$pgdata" -A trust >/dev/null
run "$bin/pg_ctl" -D "$pgdata" -o "-p 54329 -k /tmp -c max_wal_size=4GB -c full_page_writes=on" -l "$work/pg.log" -w start >/dev/null
trap 'run "$bin/pg_ctl" -D "$pgdata" -m fast -w stop >/dev/null' EXIT
run "$bin/pgbench" -h /tmp -p 54329 -i -s "$scale" postgres >/dev/null 2>&1
run psql -h /tmp -p 54329 -qc 'CHECKPOINT' postgres
# Busy OLTP traffic right after a checkpoint: full-page images plus small records, the worst case for WAL.
run "$bin/pgbench" -h /tmp -p 54329 -c 4 -T 20 postgres >/dev/null 2>&1
run psql -h /tmp -p 54329 -qc 'CHECKPOINT' postgres
# The fullest finished segment (not the newest, which is still being written).
seg=$(ls -S "$pgdata/pg_wal" | grep -E '^[0-9A-F]{24}$' | sort | tail -n 3 | head -n 1)
cp "$pgdata/pg_wal/$seg" "$work/wal-segment"
mkdir -p "$work/heap"
cp -r "$pgdata/base" "$work/heap/"
du -sh "$work/heap" "$work/wal-segment"
