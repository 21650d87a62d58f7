# Sourced by scripts/test: a throwaway PostgreSQL cluster for the PostgreSQL tests.
#
# Installs Debian's `postgresql` when initdb/pg_ctl are missing, creates a cluster in a
# temporary directory (owned by the `postgres` OS user when run as root, as initdb refuses
# root), starts it on 127.0.0.1 on a free port with durability off (it is thrown away),
# creates the database `fmd_test` and exports FMD_TEST_POSTGRES_URL. The cluster is
# stopped and its directory deleted when scripts/test exits.

pg_bin=""
find_pg_bin() {
    local d
    for d in /usr/lib/postgresql/*/bin; do
        [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && pg_bin="$d"
    done
    if [ -z "$pg_bin" ] && command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        pg_bin="$(dirname "$(command -v initdb)")"
    fi
}
find_pg_bin
if [ -z "$pg_bin" ]; then
    echo "pre-40-postgres: installing postgresql"
    declare -F apt_install >/dev/null || source scripts/lib/apt.sh
    apt_install postgresql
    find_pg_bin
fi
[ -n "$pg_bin" ] || { echo "pre-40-postgres: no initdb/pg_ctl after installing postgresql" >&2; exit 1; }

pg_dir="$(mktemp -d /tmp/fmd-pg.XXXXXX)"
pg_port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir "$pg_dir" --shell /bin/sh postgres
    chown postgres "$pg_dir"
    pg_as() { runuser -u postgres -- "$@"; }
else
    pg_as() { "$@"; }
fi
pg_as "$pg_bin/initdb" -D "$pg_dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$pg_dir/initdb.log" 2>&1 \
    || { cat "$pg_dir/initdb.log" >&2; exit 1; }
on_exit "rm -rf '$pg_dir'"
pg_as "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $pg_dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
    start >/dev/null || { cat "$pg_dir/server.log" >&2; exit 1; }
on_exit "runuser -u postgres -- '$pg_bin/pg_ctl' -D '$pg_dir/data' -m fast stop >/dev/null 2>&1 || '$pg_bin/pg_ctl' -D '$pg_dir/data' -m fast stop >/dev/null 2>&1"
"$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -qAt -c "CREATE DATABASE fmd_test" >/dev/null
export FMD_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$pg_port/fmd_test"
echo "pre-40-postgres: PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') at $FMD_TEST_POSTGRES_URL"
