#!/usr/bin/env bash
# run.sh: the C-side tests of libautoencoders.
#
#   1. header_c99.c, header_cxx.cpp   the header compiles as C99 and C++11, -Wall -Wextra -Werror -pedantic
#   2. abi_misuse                     every function called wrongly: statuses, messages, nothing lost
#   3. roundtrip                      create, train, save, load, step, parameters, scaling, threads
#      bounds                         issue 10: sizes, list caps, names, failed calls change nothing, writer starvation
#      modelfile                      signed files, special files, save targets, memory bounds
#      sequences                      issue 11: sequences with lengths, token models, their bad inputs
#      compression                    issue 16: quantiser, compress/decompress, truncated/corrupted/foreign files
#      adversarial                    issue 16: adversarial autoencoders: phases, losses, prior, labels, file
#      sample_source                  ae_model_train_source: as an array bit for bit, failures change nothing, refusals
#      int8                           issue 13.5: int8 models: quantise, infer, save/load, refusals, fallback, kept layers, kernels
#      unload                         dlopen, use from a thread, dlclose while it runs, reopen
#   4. symbols.sh                     exports == header declarations, SONAME, no Swift runtime deps
#   5. valgrind                       roundtrip --quick, abi_misuse, modelfile --quick, sequences, compression, int8: no errors, no definite/indirect leaks
#
# Uses the release library at .build/release/libautoencoders.so, brought up to date first with
# `make swift-release` (the Makefile's release flags; so a stale library is never tested);
# LIBRARY=path overrides it (used as is, not rebuilt). Set SKIP_VALGRIND=1
# to skip step 5. Exits non-zero on any failure; the last line is "N passed, M failed" (checks).
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
library=${LIBRARY:-.build/release/libautoencoders.so}
out=$root/.build/c-tests
mkdir -p "$out/lib" "$out/tmp"

if [ -z "${LIBRARY:-}" ]; then
    echo "building $library"
    make -s swift-release >/dev/null || { echo "0 passed, 1 failed"; exit 1; }   # the Makefile's release flags
fi
library=$(cd "$(dirname "$library")" && pwd)/$(basename "$library")
# Programs record the SONAME (libautoencoders.so.0), so give them a directory where that name resolves.
ln -sf "$library" "$out/lib/libautoencoders.so.0"
ln -sf "$library" "$out/lib/libautoencoders.so"

passed=0
failed=0
step() {  # step NAME COMMAND...: runs a check that is a single pass or fail
    if "$@"; then
        passed=$((passed + 1)); echo "ok    $name"
    else
        failed=$((failed + 1)); echo "FAIL  $name"; return 1
    fi
}
tally() {  # tally OUTPUT_FILE: adds the "N passed, M failed" of a test program's output
    local line p f
    line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$1" | tail -1)
    p=$(echo "$line" | sed -E 's/.* ([0-9]+) passed.*/\1/')
    f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${f:-1}))
}

CFLAGS=(-std=c99 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -I include -I Tests/c)
LDFLAGS=(-L "$out/lib" -lautoencoders -Wl,-rpath,"$out/lib" -lpthread -lm)

# 1. The header.
name="header compiles as C99 (-pedantic)"
step gcc -std=c99 -Wall -Wextra -Werror -pedantic -I include -c Tests/c/header_c99.c -o "$out/header_c99.o"
name="header compiles as C++11 (-pedantic)"
step g++ -std=c++11 -Wall -Wextra -Werror -pedantic -I include -c Tests/c/header_cxx.cpp -o "$out/header_cxx.o"

# 2, 3. Build and run the test programs.
for program in abi_misuse roundtrip bounds modelfile sequences compression adversarial sample_source int8; do
    name="$program compiles"
    if ! step gcc "${CFLAGS[@]}" "Tests/c/$program.c" -o "$out/$program" "${LDFLAGS[@]}"; then continue; fi
    "$out/$program" "$out/tmp" > "$out/$program.log" 2>&1
    status=$?
    cat "$out/$program.log"
    tally "$out/$program.log"
    if [ $status -ne 0 ] && ! grep -qE '[1-9][0-9]* failed' "$out/$program.log"; then
        echo "FAIL  $program exited with status $status"; failed=$((failed + 1))
    fi
done

# 3b. A host that dlopens, uses from threads and dlcloses the library survives.
name="unload compiles"
if step gcc "${CFLAGS[@]}" -pedantic Tests/c/unload.c -o "$out/unload" -ldl -lpthread; then
    "$out/unload" "$library" > "$out/unload.log" 2>&1
    status=$?
    cat "$out/unload.log"
    tally "$out/unload.log"
    [ $status -eq 0 ] || grep -qE '[1-9][0-9]* failed' "$out/unload.log" || { echo "FAIL  unload exited with status $status"; failed=$((failed + 1)); }
fi

# 4. Exported symbols, SONAME, dependencies.
Tests/c/symbols.sh "$library" > "$out/symbols.log" 2>&1
cat "$out/symbols.log"
tally "$out/symbols.log"

# 5. valgrind.
if [ "${SKIP_VALGRIND:-0}" = 1 ]; then
    echo "skip  valgrind (SKIP_VALGRIND=1)"
elif ! command -v valgrind > /dev/null; then
    echo "FAIL  valgrind is not installed (set SKIP_VALGRIND=1 to skip)"; failed=$((failed + 1))
else
    suppressions=()
    [ -f Tests/c/valgrind.supp ] && suppressions=(--suppressions=Tests/c/valgrind.supp)
    for run in "roundtrip --quick" "abi_misuse" "modelfile --quick" "sequences" "compression" "adversarial" "sample_source" "int8"; do
        name="valgrind $run: no errors, no definite or indirect leaks"
        read -r -a command <<< "$run"
        log="$out/valgrind_${command[0]}.log"
        if [ -x "$out/${command[0]}" ]; then
            # Without OPENBLAS_CORETYPE: OpenBLAS then picks its kernel from the CPU valgrind
            # emulates (valgrind has no AVX-512, so a forced SkylakeX kernel would stop on SIGILL).
            env -u OPENBLAS_CORETYPE OPENBLAS_NUM_THREADS=1 valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect \
                --error-exitcode=99 "${suppressions[@]}" "$out/${command[0]}" "${command[@]:1}" "$out/tmp" > "$log" 2>&1
            status=$?
            grep -E 'ERROR SUMMARY|definitely lost:|indirectly lost:' "$log" | sed 's/^==[0-9]*== /      /'
            step test $status -eq 0
            [ $status -eq 0 ] || echo "      (exit status $status; see $log)"
        else
            step false
        fi
    done
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
