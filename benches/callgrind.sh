#!/usr/bin/env bash
# Instructions per in-process request, exact on a noisy machine: `fmd-bench oneshot` under
# `valgrind --tool=callgrind --separate-threads=yes`, at two request counts, differenced so
# start-up cancels out. The request path is the main thread; fmd's writer thread is
# counted apart (instructions per stored event). The peers are measured the same way:
# `peer` is axum-prometheus, `autometrics` the `#[autometrics]` attribute on the same two
# functions fmd annotates (both keep their metrics in memory: no writer thread).
#
#   benches/callgrind.sh [N]      (default N = 2000: runs N and 2N requests per variant)
#   VARIANTS="plain fmd" benches/callgrind.sh   (only these; default: all four)
#
# Needs valgrind (Debian's package) and a release build of fmd-bench (scripts/bench makes
# one; or `cargo build -p fmd-bench --release`).
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-2000}"
target="${CARGO_TARGET_DIR:-target}"
bin="$target/release/fmd-bench"
[ -x "$bin" ] || cargo build -p fmd-bench --bins --release -j2
command -v valgrind >/dev/null || { echo "callgrind.sh: valgrind is missing" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export FMD_PASSWORD=bench-password-1

# Prints "<main thread instructions> <other threads' instructions>" of one run.
count() {
    local variant=$1 requests=$2 fail=$3 out="$work/cg.$1$3.$2"
    # A new database each run: the first start also hashes the admin password.
    FMD_DATABASE="$work/$variant$fail.$requests.db" valgrind --tool=callgrind --separate-threads=yes \
        --callgrind-out-file="$out" "$bin" oneshot "$variant" "$requests" $fail \
        >/dev/null 2>"$out.log"
    local main=0 other=0 f total
    for f in "$out"-*; do
        total=$(sed -n 's/^summary: //p' "$f")
        if grep -q "fmd_bench::main" "$f"; then main=$((main + total)); else other=$((other + total)); fi
    done
    echo "$main $other"
}

printf '%-32s %14s %16s\n' variant "per request" "writer per event"
for variant in ${VARIANTS:-plain fmd peer autometrics}; do
    label=$variant
    [ "$variant" = peer ] && label=axum-prometheus
    for fail in "" --fail; do
        read -r m1 o1 < <(count "$variant" "$n" "$fail")
        read -r m2 o2 < <(count "$variant" $((2 * n)) "$fail")
        printf '%-32s %14d %16d\n' "$label${fail:+ (10 % failing)}" \
            $(((m2 - m1) / n)) $(((o2 - o1) / n))
    done
done
