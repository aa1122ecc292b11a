#!/usr/bin/env bash
# Fuzzes the library for a fixed budget: builds the sanitizer build if needed (Tests/fuzz/build.sh),
# writes the seed corpus, replays every committed regression input, then runs each harness for
# SECONDS seconds, one process at a time. Exits non-zero on any crash, sanitizer report, leak,
# out-of-memory or timeout, and ends with a plain line: `fuzz: 3 passed, 0 failed`.
#
#   Tests/fuzz/run.sh SECONDS [HARNESS...]     harnesses: load create readers decompress (default: all)
#
# The corpus grows in out/fuzz/corpus/<harness> (kept between runs, ignored by git); a crashing
# input is saved as out/fuzz/crashes/<harness>-crash-<sha1> (commit it under Tests/fuzz/regressions/
# as <harness>-<what>.<ext> once understood). Reproduce one with
#   .build-fuzz/fuzz_<harness> FILE
# (with the environment below). Limits: 2 GiB of RSS and 2 GiB per allocation (a larger one
# returns NULL, which the library must report as AE_ERR_OUT_OF_MEMORY), 25 s per input.
set -uo pipefail
cd "$(dirname "$0")/../.."

seconds=${1:?usage: Tests/fuzz/run.sh SECONDS [load|create|readers|decompress ...]}
shift
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=(load create readers decompress)

Tests/fuzz/build.sh || { echo "fuzz: the sanitizer build failed"; echo "fuzz: 0 passed, ${#harnesses[@]} failed"; exit 1; }
OUT=${FUZZ_BUILD:-.build-fuzz}
WORK=out/fuzz
mkdir -p "$WORK/corpus" "$WORK/crashes" "$WORK/logs"
rm -rf "$WORK/seeds"
"$OUT/make_seeds" "$WORK/seeds" || { echo "fuzz: writing the seed corpus failed"; exit 1; }
# Known findings too large to commit (a 4 MB spec of 100,000 branches), replayed with the regressions.
rm -rf "$WORK/known"
python3 Tests/fuzz/known_findings.py --large "$WORK/known" || { echo "fuzz: writing the known findings failed"; exit 1; }

# allocator_may_return_null: an allocation above max_allocation_size_mb returns NULL (the library's
# fallible allocator must turn it into an error; a Swift array whose allocation fails aborts: a finding).
export ASAN_OPTIONS=${ASAN_OPTIONS:-allocator_may_return_null=1:max_allocation_size_mb=2048:detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export SWIFT_BACKTRACE=enable=no   # libFuzzer reports the crash; Swift's backtracer would only slow it down
export OPENBLAS_NUM_THREADS=1
LIMITS=(-rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=25)
# The mutation sequence: fixed by default, so the test suite's short budget replays the same
# inputs each run (a red run is a regression, not bad luck); FUZZ_SEED=0 draws a new one (make fuzz).
seed=${FUZZ_SEED:-1}

passed=0; failed=0
for harness in "${harnesses[@]}"; do
    binary="$OUT/fuzz_$harness"
    [ -x "$binary" ] || { echo "fuzz: unknown harness '$harness'"; failed=$((failed + 1)); continue; }
    ok=1

    # 1. Every committed regression input must now pass (each one crashed the library once).
    for input in Tests/fuzz/regressions/"$harness"-* "$WORK/known/$harness"/*; do
        [ -f "$input" ] || continue
        if nice "$binary" "${LIMITS[@]}" "$input" >"$WORK/logs/replay.log" 2>&1; then
            echo "fuzz: $harness: regression $(basename "$input"): ok"
        else
            echo "fuzz: $harness: regression $(basename "$input"): FAILED"
            grep -E 'ERROR|runtime failure|Fatal error|SUMMARY|broken promise|timeout|out-of-memory' "$WORK/logs/replay.log" \
                | head -5 | sed 's/^/    /'
            ok=0
        fi
    done

    # 2. Fuzz for the budget, from the seeds and the corpus of earlier runs.
    mkdir -p "$WORK/corpus/$harness"
    log="$WORK/logs/$harness.log"
    # Inputs up to 4x the largest seed (libFuzzer would otherwise stop at the largest seed's size).
    case $harness in load) max_len=16384 ;; *) max_len=8192 ;; esac
    nice "$binary" "${LIMITS[@]}" -seed="$seed" -max_total_time="$seconds" -max_len=$max_len -print_final_stats=1 \
        -dict="Tests/fuzz/$harness.dict" -artifact_prefix="$WORK/crashes/$harness-" \
        "$WORK/corpus/$harness" "$WORK/seeds/$harness" >"$log" 2>&1
    status=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    coverage=$(grep -oE 'cov: [0-9]+' "$log" | tail -1)
    if [ "$status" -eq 0 ]; then
        echo "fuzz: $harness: ${runs:-?} runs in ${seconds} s (${rate:-?}/s, ${coverage:-cov: ?}): no crash"
    else
        echo "fuzz: $harness: FAILED after ${runs:-?} runs (exit $status); log: $log"
        grep -E 'ERROR|runtime failure|Fatal error|SUMMARY|broken promise|Test unit written' "$log" | head -8 | sed 's/^/    /'
        ok=0
    fi
    if [ "$ok" -eq 1 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
