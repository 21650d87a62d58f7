# Sourced by scripts/test after the tests: every benchmark runs for about a second on tiny
# data in the dev profile, so the benchmarks keep building and working. The figures are
# printed, never judged (no wall-clock thresholds in tests); a benchmark that fails or
# leaves no figures fails the run.
scripts/bench --smoke
