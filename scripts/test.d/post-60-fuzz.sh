# Short fuzzing run: every target of fuzz/ for a few seconds (build included, about two
# minutes on two cores once the dependencies are built). Long runs: see fuzz/run.sh.
bash fuzz/run.sh "${FMD_FUZZ_SECONDS:-8}"
