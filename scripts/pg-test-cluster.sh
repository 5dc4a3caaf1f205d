#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the store conformance tests.
#
#   scripts/pg-test-cluster.sh start DIR   init (first time) and start; prints the URL last
#   scripts/pg-test-cluster.sh url DIR     prints the URL of the running cluster
#   scripts/pg-test-cluster.sh stop DIR    stops it (no error if it is not running)
#
# Typical use:
#   export FLEETWARD_TEST_PG_URL=$(scripts/pg-test-cluster.sh start /tmp/fleetward-pg | tail -n1)
#   cargo test -p fleetward-store
#   scripts/pg-test-cluster.sh stop /tmp/fleetward-pg
#
# The cluster listens on 127.0.0.1 only, on a free port, with its unix socket in DIR, and
# trusts the superuser role `fleetward`, whose database `fleetward` the URL names (tests use
# it as the admin URL and create a database per test). It runs with fsync off: it is for
# tests, its data is disposable. PostgreSQL refuses to run as root, so as root the server
# runs as the system user `fleetward-pg` (created if missing), which gets DIR. If PostgreSQL
# is not installed, it is installed from Debian (root only). Everything but the URL goes to
# stderr. Starting an already running cluster just prints its URL again.
set -euo pipefail

ROLE=fleetward
DATABASE=fleetward
SYSTEM_USER=fleetward-pg

log() { echo "pg-test-cluster: $*" >&2; }
die() {
    log "error: $*"
    exit 1
}
usage() {
    echo "usage: $0 start|stop|url DIR" >&2
    exit 2
}

is_root() { [[ $(id -u) -eq 0 ]]; }

# Runs a server-side command (initdb, pg_ctl) as the cluster's owner.
as_owner() {
    if is_root; then
        runuser -u "$SYSTEM_USER" -- "$@"
    else
        "$@"
    fi
}

find_bindir() {
    local dir
    for dir in $(compgen -G '/usr/lib/postgresql/*/bin' | sort -V -r); do
        if [[ -x $dir/initdb && -x $dir/pg_ctl && -x $dir/pg_isready ]]; then
            echo "$dir"
            return 0
        fi
    done
    return 1
}

ensure_postgres() {
    if BINDIR=$(find_bindir); then
        return
    fi
    is_root || die "PostgreSQL is not installed; as root run: apt-get install -y postgresql"
    log "PostgreSQL not found, installing it from Debian"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update >&2
    apt-get install -y postgresql >&2
    BINDIR=$(find_bindir) || die "no initdb under /usr/lib/postgresql/*/bin after installing"
}

ensure_system_user() {
    is_root || return 0
    if ! id -u "$SYSTEM_USER" >/dev/null 2>&1; then
        log "creating system user $SYSTEM_USER"
        # A concurrent start may have created it meanwhile: only fail if it is still missing.
        useradd --system --user-group --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin "$SYSTEM_USER" 2>/dev/null ||
            id -u "$SYSTEM_USER" >/dev/null 2>&1 ||
            die "cannot create user $SYSTEM_USER"
    fi
    chown "$SYSTEM_USER:" "$DIR"
    if [[ -d $DATA ]]; then
        chown -R "$SYSTEM_USER:" "$DATA"
    fi
    as_owner test -w "$DIR" -a -x "$DIR" ||
        die "$SYSTEM_USER cannot use $DIR: its parent directories must be searchable (o+x)"
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
    local port tries
    for ((tries = 0; tries < 200; tries++)); do
        port=$((20000 + RANDOM % 30000))
        if ! port_in_use "$port"; then
            echo "$port"
            return 0
        fi
    done
    return 1
}

postmaster_pid() { head -n1 "$DATA/postmaster.pid" 2>/dev/null; }

# Stricter than `pg_ctl status`: a postmaster killed with -9 can linger as a zombie (in a
# container PID 1 may never reap it), and its PID may be reused by another program.
is_running() {
    local pid state
    pid=$(postmaster_pid) || return 1
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    [[ $(cat "/proc/$pid/comm" 2>/dev/null) == postgres ]] || return 1
    state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
    [[ -n $state && $state != Z ]]
}

url() { echo "postgres://$ROLE@127.0.0.1:$1/$DATABASE"; }

wait_ready() {
    local port=$1 tries
    for ((tries = 0; tries < 120; tries++)); do
        if "$BINDIR/pg_isready" -q -h 127.0.0.1 -p "$port" -U "$ROLE" -d postgres; then
            return 0
        fi
        sleep 0.5
    done
    die "server on port $port not ready after 60 s (see $DIR/log)"
}

init_cluster() {
    log "initialising a cluster in $DATA"
    # 9>&- everywhere a server process may be forked: it must not inherit the lock.
    as_owner "$BINDIR/initdb" -D "$DATA" -U "$ROLE" -A trust -E UTF8 --locale=C --no-sync \
        >"$DIR/initdb.log" 2>&1 9>&- || die "initdb failed, see $DIR/initdb.log"
    echo "include_if_exists = 'fleetward-test.conf'" >>"$DATA/postgresql.conf"
}

# Writes the settings that change per start (the port) and starts the server.
start_server() {
    local port=$1
    as_owner tee "$DATA/fleetward-test.conf" >/dev/null <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$DIR'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
    as_owner "$BINDIR/pg_ctl" start -D "$DATA" -w -t 60 -l "$DIR/log" >&2 9>&-
}

cmd_start() {
    ensure_postgres
    ensure_system_user
    local port=""
    if is_running; then
        port=$(<"$DIR/port")
        log "already running on port $port"
    else
        if [[ ! -f $DATA/PG_VERSION ]]; then
            rm -rf "$DATA"
            init_cluster
        elif [[ -f $DATA/postmaster.pid ]]; then
            # Left by a killed server; postgres would take a zombie's PID for a live one.
            log "removing the stale postmaster.pid of a dead server"
            rm -f "$DATA/postmaster.pid"
        fi
        local attempt
        for ((attempt = 0; attempt < 5; attempt++)); do
            port=$(free_port) || die "no free port found"
            # Another process may grab the port between the check and the bind: retry.
            if start_server "$port"; then
                break
            fi
            port=""
            # Also covers the old server's processes still exiting after a kill -9.
            log "start failed (port taken?), retrying; see $DIR/log"
            sleep 1
        done
        [[ -n $port ]] || die "could not start the server, see $DIR/log"
        echo "$port" >"$DIR/port"
    fi
    wait_ready "$port"
    local exists
    exists=$("$BINDIR/psql" -X -q -h 127.0.0.1 -p "$port" -U "$ROLE" -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'")
    if [[ $exists != 1 ]]; then
        "$BINDIR/createdb" -h 127.0.0.1 -p "$port" -U "$ROLE" "$DATABASE"
    fi
    log "running, data in $DATA, log in $DIR/log"
    url "$port"
}

cmd_url() {
    ensure_postgres
    is_running || die "no cluster running in $DIR"
    url "$(<"$DIR/port")"
}

cmd_stop() {
    if ! BINDIR=$(find_bindir) || [[ ! -f $DATA/PG_VERSION ]]; then
        log "no cluster in $DIR"
        return 0
    fi
    if is_running; then
        as_owner "$BINDIR/pg_ctl" stop -D "$DATA" -m fast -w -t 60 >&2
    else
        log "not running"
    fi
}

[[ $# -eq 2 ]] || usage
COMMAND=$1
DIR=$(realpath -m -- "$2")
DATA=$DIR/data
[[ $DIR =~ ^[A-Za-z0-9/._-]+$ ]] || die "DIR may only hold letters, digits and / . _ -"
# The unix socket path (DIR/.s.PGSQL.PORT) must fit in sockaddr_un (107 bytes).
((${#DIR} <= 90)) || die "DIR is too long for a unix socket path: use a shorter one"

mkdir -p "$DIR"
# Relative paths and the server's working directory must be readable by the owner.
cd "$DIR"
# Serialise concurrent invocations on one DIR.
exec 9>"$DIR/.lock"
flock 9

case $COMMAND in
start) cmd_start ;;
stop) cmd_stop ;;
url) cmd_url ;;
*) usage ;;
esac
