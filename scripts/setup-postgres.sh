#!/usr/bin/env bash
# Idempotent local PostgreSQL for itilflow tests (Debian/Ubuntu, run as root or with sudo).
#
#  - installs Debian's `postgresql` package if it is missing,
#  - starts the cluster(s),
#  - creates role `itilflow` (password `itilflow`, CREATEDB: the production Temporal server tests create
#    their own databases) and database `itilflow_test` if missing,
#  - prints the URL to export as ITILFLOW_TEST_DATABASE_URL.
#
# Override with env vars: PG_USER, PG_PASSWORD, PG_DB, PG_HOST, PG_PORT; PG_FRESH=1 drops the database first.
set -euo pipefail

PG_USER="${PG_USER:-itilflow}"
PG_PASSWORD="${PG_PASSWORD:-itilflow}"
PG_DB="${PG_DB:-itilflow_test}"
PG_HOST="${PG_HOST:-127.0.0.1}"
PG_PORT="${PG_PORT:-5432}"

SUDO=""
AS_POSTGRES=(runuser -u postgres --)
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
    AS_POSTGRES=(sudo -u postgres)
fi

log() { echo "setup-postgres: $*" >&2; }

install_postgres() {
    if command -v pg_lsclusters >/dev/null 2>&1 && ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
        return
    fi
    log "installing postgresql"
    $SUDO apt-get update
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql
}

psql_admin() {
    # Run from / so that `sudo -u postgres` does not complain about the current directory.
    (cd / && "${AS_POSTGRES[@]}" psql -p "$PG_PORT" -v ON_ERROR_STOP=1 -qtA "$@")
}

start_clusters() {
    if ! pg_lsclusters -h | grep -q .; then
        local version
        version="$(ls /usr/lib/postgresql | sort -V | tail -1)"
        log "creating cluster $version/main"
        $SUDO pg_createcluster "$version" main
    fi
    # Columns: version cluster port status owner datadir logfile
    pg_lsclusters -h | while read -r version cluster _port status _rest; do
        if [ "${status%%,*}" != "online" ]; then
            log "starting cluster $version/$cluster"
            $SUDO pg_ctlcluster "$version" "$cluster" start || $SUDO service postgresql start
        fi
    done
    for _ in $(seq 1 30); do
        if psql_admin -c 'SELECT 1' >/dev/null 2>&1; then
            return
        fi
        sleep 1
    done
    log "PostgreSQL did not become ready on port $PG_PORT"
    exit 1
}

create_role_and_db() {
    if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$PG_USER'")" != "1" ]; then
        log "creating role $PG_USER"
        psql_admin -c "CREATE ROLE \"$PG_USER\" LOGIN CREATEDB PASSWORD '$PG_PASSWORD'"
    else
        psql_admin -c "ALTER ROLE \"$PG_USER\" LOGIN CREATEDB PASSWORD '$PG_PASSWORD'" >/dev/null
    fi
    if [ "${PG_FRESH:-0}" = "1" ]; then
        # A test run starts from an empty database: no schema left from an older checkout.
        psql_admin -c "DROP DATABASE IF EXISTS \"$PG_DB\" WITH (FORCE)" >/dev/null
    fi
    if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'")" != "1" ]; then
        log "creating database $PG_DB"
        psql_admin -c "CREATE DATABASE \"$PG_DB\" OWNER \"$PG_USER\""
    fi
}

install_postgres
start_clusters
create_role_and_db

URL="postgresql+psycopg://${PG_USER}:${PG_PASSWORD}@${PG_HOST}:${PG_PORT}/${PG_DB}"
if ! PGPASSWORD="$PG_PASSWORD" psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d "$PG_DB" -qtAc 'SELECT 1' >/dev/null; then
    log "cannot log in as $PG_USER over TCP at $PG_HOST:$PG_PORT"
    exit 1
fi
echo "$URL"
