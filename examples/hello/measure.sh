#!/usr/bin/env bash
# The build-cost figures of BENCHMARKS.md: clean dev and release builds of this small app
# without fmd (`none`), with fmd and its dashboard (`dashboard`), and with fmd recording
# only (`record`), each in a fresh target dir; the binary size (debug as built, release
# stripped), the crates built, and the ten crates that took longest (cargo --timings,
# kept in OUT_DIR/CONFIG-PROFILE-top.txt).
#
#   examples/hello/measure.sh [OUT_DIR] [CONFIG:PROFILE ...]
#   (default /tmp/fmd-build-cost, every CONFIG in dev then release; JOBS=2)
set -euo pipefail
cd "$(dirname "$0")"
out="${1:-/tmp/fmd-build-cost}"
shift || true
runs=("$@")
((${#runs[@]})) || runs=(none:dev dashboard:dev record:dev none:release dashboard:release record:release)
jobs="${JOBS:-2}"
mkdir -p "$out"
# fetch once, so that no build below waits on the network
cargo fetch --quiet
mb() { echo "scale=1; $(stat -c %s "$1") / 1000000" | bc; }
printf '%-10s %-8s %8s %7s %8s\n' config profile seconds crates MB
for run in "${runs[@]}"; do
    config="${run%%:*}" profile="${run#*:}"
    target="$out/$config-$profile"
    rm -rf "$target"
    features=()
    [ "$config" = none ] || features=(--features "$config")
    start=$(date +%s.%N)
    cargo build --quiet -j"$jobs" --profile "$profile" "${features[@]}" --timings --target-dir "$target"
    seconds=$(echo "$(date +%s.%N) - $start" | bc)
    crates=$(cargo tree -e normal --prefix none "${features[@]}" | sort -u | wc -l)
    dir=$([ "$profile" = dev ] && echo debug || echo "$profile")
    binary="$target/$dir/fmd-hello"
    if [ "$profile" != dev ]; then
        strip -o "$target/stripped" "$binary"
        binary="$target/stripped"
    fi
    printf '%-10s %-8s %8.1f %7s %8s\n' "$config" "$profile" "$seconds" "$crates" "$(mb "$binary")"
    python3 - "$target"/cargo-timings/cargo-timing.html > "$out/$config-$profile-top.txt" <<'PY'
import json, re, sys
html = open(sys.argv[1]).read()
units = json.loads(re.search(r"const UNIT_DATA = (\[.*?\]);\n", html, re.S).group(1))
for u in sorted(units, key=lambda u: -u["duration"])[:10]:
    print(f'{u["duration"]:6.1f} s  {u["name"]} {u.get("target", "")}'.rstrip())
PY
    # the figures are kept; the build is not (six of them outgrow a small disk)
    rm -rf "$target"
done
