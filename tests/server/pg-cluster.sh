#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for tests, on 127.0.0.1 with a temporary data directory.
#   pg-cluster.sh start DIR PORT              initdb into DIR (must not exist or be empty) and start
#   pg-cluster.sh replica DIR PORT PRIMARY    a streaming replica of the cluster on port PRIMARY
#   pg-cluster.sh stop DIR                    stop it (fast) and remove DIR
# initdb and postgres refuse to run as root: as root they run as the `postgres` user (the package's).
# Durability is off (fsync, synchronous_commit): these clusters live for one test run.
set -euo pipefail
bin=/usr/lib/postgresql/15/bin
cmd=$1 dir=$2
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
settings=(-c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off
          -c max_connections=200 -c wal_level=replica -c max_wal_senders=4 -c hot_standby=on)

start() {  # $1 = port
  as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 \
    -o "-p $1 -k $dir $(printf '%s ' "${settings[@]}")" start >/dev/null
}

case "$cmd" in
  start)
    port=$3
    mkdir -p "$dir" && chmod 755 "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    as_pg "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
    echo "host replication all 127.0.0.1/32 trust" >> "$dir/data/pg_hba.conf"
    start "$port"
    ;;
  replica)
    port=$3 primary=$4
    mkdir -p "$dir" && chmod 755 "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    as_pg "$bin/pg_basebackup" -h 127.0.0.1 -p "$primary" -U postgres -D "$dir/data" -R -X stream >/dev/null
    start "$port"
    ;;
  stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
      as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null || true
    fi
    rm -rf "$dir"
    ;;
  *) echo "usage: pg-cluster.sh start|replica|stop DIR [PORT [PRIMARY_PORT]]" >&2; exit 2 ;;
esac
