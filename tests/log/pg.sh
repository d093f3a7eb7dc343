# A private PostgreSQL 15 cluster for the log tests on the PostgreSQL
# backend: initdb in $WORK/pg (as root: in a folder of its own under /tmp,
# which `nobody` can reach whatever $TMPDIR is), listening on 127.0.0.1 only (no Unix
# socket), on a free port, trust authentication (loopback, throwaway data).
# PostgreSQL refuses to run as root, so as root (CI) the cluster belongs to
# `nobody`.  Sourced after common.sh; pg_start skips the test (exit 77)
# only when the server binaries are absent (scripts/deps.sh installs them).
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
PGDATA_DIR=
PGROOT=
PG_PORT=
PGURL=
PG_AS=()

pg_as() { "${PG_AS[@]}" "$@"; }

pg_start() {
    if [ ! -x "$PGBIN/initdb" ] || [ ! -x "$PGBIN/pg_ctl" ]; then
        echo "SKIP: PostgreSQL server binaries not found in $PGBIN (scripts/deps.sh installs them)"
        exit 77
    fi
    PGROOT="$WORK/pg"
    mkdir -p "$PGROOT"
    if [ "$(id -u)" = 0 ]; then
        PG_AS=(runuser -u nobody --)
        PGROOT=$(mktemp -d /tmp/fkpg.XXXXXX)
        chown nobody "$PGROOT"
    fi
    PGDATA_DIR="$PGROOT/data"
    pg_as "$PGBIN/initdb" -D "$PGDATA_DIR" -U postgres --auth=trust -E UTF8 --no-locale \
        >"$WORK/initdb.log" 2>&1 || fail "initdb: $(tail -3 "$WORK/initdb.log")"
    local try
    for try in 1 2 3 4 5; do
        PG_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
        pg_as sh -c "cat >>'$PGDATA_DIR/postgresql.conf'" <<CONF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = ''
max_connections = 200
shared_buffers = 64MB
fsync = on
synchronous_commit = on
CONF
        if pg_as "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -l "$PGROOT/server.log" -w -t 60 start \
            >/dev/null 2>&1; then
            PGURL="postgresql://postgres@127.0.0.1:$PG_PORT"
            return 0
        fi
    done
    fail "PostgreSQL did not start: $(tail -3 "$PGROOT/server.log")"
}

# pg_stop MODE: fast or immediate.
pg_stop() {
    pg_as "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -m "$1" -w -t 60 stop >/dev/null 2>&1 ||
        fail "pg_ctl stop -m $1 failed"
}

pg_restart_server() {
    pg_as "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -l "$PGROOT/server.log" -w -t 60 start \
        >/dev/null 2>&1 || fail "PostgreSQL did not restart: $(tail -3 "$PGROOT/server.log")"
}

pg_cleanup() {
    [ -n "$PGDATA_DIR" ] && [ -e "$PGDATA_DIR/postmaster.pid" ] &&
        pg_as "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -m immediate stop >/dev/null 2>&1
    case $PGROOT in /tmp/fkpg.*) rm -rf "$PGROOT" ;; esac
    return 0
}

# pg_sql DB SQL: run SQL in database DB, print unaligned tuples.
pg_sql() {
    "$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 "$PGURL/$1" -c "$2"
}

# pg_createdb NAME (no error if it exists).
pg_createdb() {
    pg_sql postgres "SELECT 1 FROM pg_database WHERE datname = '$1'" | grep -q 1 ||
        pg_sql postgres "CREATE DATABASE $1" >/dev/null
}
