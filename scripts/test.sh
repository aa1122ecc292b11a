#!/usr/bin/env bash
# Runs every test suite: the Swift core (unit, gradient and PyTorch golden tests), the C ABI
# (header, misuse, round trips, exported symbols, valgrind), the command-line tool, the Python
# package, and the README's code blocks. Expects `make` to have built build/. Prints one line per
# suite and a total.
set -uo pipefail
cd "$(dirname "$0")/.."

suites=()
results=()
run() {
    local name=$1; shift
    echo "==== $name"
    if "$@"; then results+=("passed"); else results+=("FAILED"); fi
    suites+=("$name")
}

run "swift: core unit, gradient and golden tests" swift test
run "c: header, ABI misuse, round trips, symbols, valgrind" Tests/c/run.sh
run "cli: end-to-end" Tests/cli/run.sh
run "install: make install, pkg-config, CMake, SwiftPM by version, wheel" \
    bash -c 'Tests/install/run.sh && Tests/install/swiftpm.sh && Tests/install/wheel.sh'
# FUZZ_SECONDS=0 skips the fuzzing suite (its sanitizer build takes about 3 minutes).
if [ "${FUZZ_SECONDS:-60}" != 0 ]; then
    run "fuzz: regressions, then ${FUZZ_SECONDS:-60} s per harness under ASan" Tests/fuzz/run.sh "${FUZZ_SECONDS:-60}"
fi
if [ -d bindings/python/tests ]; then
    run "python: package tests" python3 -m pytest -q bindings/python/tests
fi
run "readme: every code block compiled and run" Tests/readme/run.sh

echo
echo "==== summary"
passed=0; failed=0
for i in "${!suites[@]}"; do
    printf '  %-60s %s\n' "${suites[$i]}" "${results[$i]}"
    if [ "${results[$i]}" = passed ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
done
echo "suites: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
