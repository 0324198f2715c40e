#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL 15 on 127.0.0.1: PB_TEST_DATABASE_URL points at it while
# the command runs; the cluster and its temporary directory are gone afterwards, whatever happened.
#   with-postgres.sh COMMAND [ARGS...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d /tmp/pb-pg-XXXXXX)
chmod 755 "$dir"  # the cluster runs as the postgres user
cleanup() { "$here/pg-cluster.sh" stop "$dir/cluster" || true; rm -rf "$dir"; }
trap cleanup EXIT

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for attempt in 1 2 3 4 5; do
  port=$((20000 + RANDOM % 30000))
  port_free "$port" || continue
  if "$here/pg-cluster.sh" start "$dir/cluster" "$port" 2>"$dir/start.err"; then started=1; break; fi
  "$here/pg-cluster.sh" stop "$dir/cluster" || true
done
if [ -z "${started:-}" ]; then
  echo "with-postgres: could not start PostgreSQL:" >&2; cat "$dir/start.err" >&2; exit 1
fi
export PB_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
"$@"
