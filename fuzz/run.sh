#!/usr/bin/env bash
# Builds the fuzz targets with libFuzzer on stable Rust and runs each for a while.
#
#   bash fuzz/run.sh SECONDS [TARGET...]     (default: every target, 10 s each)
#
# cargo-fuzz needs nightly only for its sanitizer flags; coverage instrumentation itself
# is stable (`-Cpasses=sancov-module` plus LLVM options), which is what cargo-fuzz passes
# with `--sanitizer none`. Found inputs land in fuzz/artifacts/<target>/, the growing
# corpus in fuzz/corpus/<target>/ (both ignored by git). A crash fails the run.
set -euo pipefail
cd "$(dirname "$0")"

seconds="${1:-10}"
shift || true
targets=("$@")
if ((${#targets[@]} == 0)); then targets=(message trace config dashboard); fi

host="$(rustc -vV | sed -n 's/^host: //p')"
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing"
target_dir="${FUZZ_TARGET_DIR:-$PWD/target}"
# --target keeps the instrumentation off build scripts and proc macros.
cargo build --release -j2 --quiet --target "$host" --target-dir "$target_dir" \
    $(printf -- '--bin %s ' "${targets[@]}")

for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    echo "fuzz: $t for ${seconds} s"
    "$target_dir/$host/release/$t" -max_total_time="$seconds" -rss_limit_mb=4096 \
        -artifact_prefix="artifacts/$t/" -print_final_stats=0 "corpus/$t" 2>&1 |
        grep -E '^(Done|==|SUMMARY|.*(panicked|ERROR|deadly))' || true
    test "${PIPESTATUS[0]}" -eq 0 || { echo "fuzz: $t found a crash (see fuzz/artifacts/$t/)"; exit 1; }
done
