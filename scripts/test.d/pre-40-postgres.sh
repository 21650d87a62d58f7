# Sourced by scripts/test: a throwaway PostgreSQL cluster for the PostgreSQL tests.
#
# Installs Debian's `postgresql` when initdb/pg_ctl are missing, creates a cluster in a
# temporary directory (owned by the `postgres` OS user when run as root, as initdb refuses
# root), starts it on 127.0.0.1 on a free port with durability off (it is thrown away),
# creates the database `fmd_test` and exports FMD_TEST_POSTGRES_URL. The cluster is
# stopped and its directory deleted when scripts/test exits.
#
# TLS is on too, with a CA and a server certificate for localhost/127.0.0.1 made afresh
# by the openssl CLI: plain connections still work for every role but `fmd_tls`, which
# pg_hba allows over TLS only (the TLS tests connect as it, so a connection that is not
# encrypted is refused). Exports FMD_TEST_POSTGRES_TLS_URL (as fmd_tls, at localhost)
# and FMD_TEST_POSTGRES_CA (the CA's PEM file).

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

if ! command -v openssl >/dev/null 2>&1; then
    echo "pre-40-postgres: installing openssl"
    declare -F apt_install >/dev/null || source scripts/lib/apt.sh
    apt_install openssl
fi

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

# A CA and a server certificate it signed, both short-lived (the cluster is thrown away).
tls_dir="$pg_dir/tls"
mkdir "$tls_dir"
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
openssl req -x509 "${ec[@]}" -keyout "$tls_dir/ca.key" -out "$tls_dir/ca.pem" -days 2 \
    -subj "/CN=fmd test CA" -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign 2>"$tls_dir/openssl.log" \
    && openssl req "${ec[@]}" -keyout "$tls_dir/server.key" -out "$tls_dir/server.csr" \
        -subj "/CN=localhost" 2>>"$tls_dir/openssl.log" \
    && printf '%s\n' "basicConstraints=CA:FALSE" "extendedKeyUsage=serverAuth" \
        "subjectAltName=DNS:localhost,IP:127.0.0.1" >"$tls_dir/server.ext" \
    && openssl x509 -req -in "$tls_dir/server.csr" -CA "$tls_dir/ca.pem" -CAkey "$tls_dir/ca.key" \
        -CAcreateserial -days 2 -extfile "$tls_dir/server.ext" -out "$tls_dir/server.crt" \
        2>>"$tls_dir/openssl.log" \
    || { cat "$tls_dir/openssl.log" >&2; exit 1; }
chmod 600 "$tls_dir/server.key"
[ "$(id -u)" -eq 0 ] && chown -R postgres "$tls_dir"
# First match wins: fmd_tls without TLS is refused, everything else as initdb wrote it.
hba="$(cat "$pg_dir/data/pg_hba.conf")"
printf 'hostnossl all fmd_tls all reject\n%s\n' "$hba" >"$pg_dir/data/pg_hba.conf"
pg_as "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $pg_dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 -c ssl=on -c ssl_cert_file=$tls_dir/server.crt -c ssl_key_file=$tls_dir/server.key" \
    start >/dev/null || { cat "$pg_dir/server.log" >&2; exit 1; }
on_exit "runuser -u postgres -- '$pg_bin/pg_ctl' -D '$pg_dir/data' -m fast stop >/dev/null 2>&1 || '$pg_bin/pg_ctl' -D '$pg_dir/data' -m fast stop >/dev/null 2>&1"
"$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -qAt -c "CREATE DATABASE fmd_test" >/dev/null
"$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -qAt -c "CREATE ROLE fmd_tls LOGIN SUPERUSER" >/dev/null
export FMD_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$pg_port/fmd_test"
export FMD_TEST_POSTGRES_TLS_URL="postgres://fmd_tls@localhost:$pg_port/fmd_test"
export FMD_TEST_POSTGRES_CA="$tls_dir/ca.pem"
echo "pre-40-postgres: PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') at $FMD_TEST_POSTGRES_URL"
