#!/usr/bin/env bash
# The offline bundle (make bundle) installed and run where there is no network: inside a new network
# namespace (`unshare -n`, as root), whose only interface is its own loopback. Checks that the network
# is really gone, installs the bundle, runs `itilflow dev` (a record started through its API), then
# the production processes: the Temporal server on a PostgreSQL of its own (Debian's binaries,
# initdb'd here; PostgreSQL is the operator's, not in the bundle), a worker and the API.
#
#   bash scripts/test-bundle.sh dist/itilflow-<version>-linux-<arch>.tar.gz
set -euo pipefail
archive=$(realpath "$1")
[ "$(id -u)" = 0 ] || { echo "test-bundle: needs root (unshare -n)" >&2; exit 2; }
work=$(mktemp -d /tmp/itilflow-bundle-test-XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)

unshare -n env -i PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin HOME="$work" LANG=C.UTF-8 \
  bash -s "$archive" "$work" "$pgbin" <<'INNER'
set -euo pipefail
archive=$1 work=$2 pgbin=$3
ip link set lo up
export PYTHONUNBUFFERED=1  # the logs are read while the processes run
say() { echo "test-bundle: $*"; }
pids=()
cleanup() { for p in "${pids[@]}"; do kill -TERM -- "-$p" 2>/dev/null || true; done; sleep 2;
            for p in "${pids[@]}"; do kill -KILL -- "-$p" 2>/dev/null || true; done;
            [ -f "$work/pg/data/postmaster.pid" ] && runuser -u postgres -- "$pgbin/pg_ctl" -D "$work/pg/data" -m immediate stop >/dev/null 2>&1 || true; }
trap cleanup EXIT
wait_for() {  # wait_for SECONDS COMMAND...: until COMMAND succeeds
  local until=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do [ $SECONDS -lt $until ] || return 1; sleep 1; done
}
healthy() { python3 -c "import sys,urllib.request; sys.exit(urllib.request.urlopen('$1/healthz',timeout=3).status!=200)"; }

if python3 -c "import socket; socket.create_connection(('1.1.1.1', 443), timeout=3)" 2>/dev/null; then
  say "the namespace has network: the test would prove nothing"; exit 1
fi
say "no network here"
tar -C "$work" -xzf "$archive"
bash "$work"/itilflow-*/install.sh "$work/prefix"
itilflow=$work/prefix/bin/itilflow

# 1. itilflow dev
cd "$work"
setsid "$itilflow" dev --data-dir "$work/dev" --api-port 18000 --temporal-port 17233 --no-ui > "$work/dev.log" 2>&1 &
pids+=($!)
wait_for 180 grep -q "is ready" "$work/dev.log" || { tail -40 "$work/dev.log"; say "itilflow dev did not start"; exit 1; }
healthy http://127.0.0.1:18000
token=$(python3 -c "import json;print(json.load(open('$work/dev/demo-tokens.json'))['requester']['token'])")
state=$(curl -sf -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -d '{"definition":"incident","title":"Offline","fields":{"impact":"3","urgency":"3"}}' \
  http://127.0.0.1:18000/api/v1/processes | python3 -c "import json,sys;print(json.load(sys.stdin)['state'])")
[ "$state" = new ] || { say "record not started: $state"; exit 1; }
curl -sf http://127.0.0.1:18000/static/vendor/mermaid.min.js -o /dev/null
say "itilflow dev: healthy, a record started, the web page's vendor files served"
kill -INT "${pids[0]}"; wait "${pids[0]}" || true; pids=()

# 2. the production processes on PostgreSQL
mkdir -p "$work/pg" && chown postgres "$work/pg"
runuser -u postgres -- "$pgbin/initdb" -D "$work/pg/data" -U itilflow -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
printf "port = 15432\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\n" "$work/pg" >> "$work/pg/data/postgresql.conf"
runuser -u postgres -- "$pgbin/pg_ctl" -D "$work/pg/data" -l "$work/pg/log" -w start >/dev/null
"$pgbin/createdb" -h 127.0.0.1 -p 15432 -U itilflow itilflow
export ITILFLOW_TEMPORAL_DATABASE_URL=postgresql://itilflow:x@127.0.0.1:15432/temporal
"$itilflow" server schema
setsid "$itilflow" server start-cluster --port 17234 --run-dir "$work/cluster" > "$work/cluster.log" 2>&1 &
pids+=($!)
wait_for 180 grep -q "Temporal server" "$work/cluster.log" || { tail -40 "$work/cluster.log"; exit 1; }
export TEMPORAL_ADDRESS=127.0.0.1:17234 DATABASE_URL=postgresql+psycopg://itilflow:x@127.0.0.1:15432/itilflow
export ITILFLOW_DATA_DIR=$work/prod
"$itilflow" db upgrade
setsid "$itilflow" worker > "$work/worker.log" 2>&1 &
pids+=($!)
setsid "$itilflow" api --port 18001 > "$work/api.log" 2>&1 &
pids+=($!)
wait_for 120 grep -q "worker polling" "$work/worker.log" || { tail -40 "$work/worker.log"; exit 1; }
wait_for 120 healthy http://127.0.0.1:18001 || { tail -40 "$work/api.log"; exit 1; }
say "production processes: Temporal server on PostgreSQL, a worker and the API, healthy"
say "ok"
INNER
