#!/usr/bin/env bash
# Builds the libFuzzer harnesses against an AddressSanitizer + UndefinedBehaviorSanitizer build of
# the core, into .build-fuzz/ (ignored by git). Prints the seconds the build took.
#
# Why the Swift toolchain's clang and not Debian's: the core is Swift, and only swiftc can
# instrument it; swiftc's instrumentation and runtimes (ASan, UBSan, libFuzzer) are those of the
# clang that ships with the toolchain (/opt/swift/usr/bin/clang). Debian's clang 14 has an older
# ASan runtime that cannot be mixed with code instrumented by clang 21, so the C harnesses are
# compiled with the toolchain's clang and everything is linked by swiftc with one set of runtimes.
#
# Why not `swift build --sanitize=...`: SwiftPM would build libautoencoders.so (static Swift stdlib,
# version script) and link a second sanitizer runtime into it; here the two modules (Autoencoders,
# CAutoencoders) are compiled to objects and linked straight into each harness executable, so one
# ASan runtime and one libFuzzer see every instrumented edge of the core.
#
# The core is compiled with -O (checked arithmetic and bounds, like a debug build, but optimised
# for speed) rather than the release build's -Ounchecked, so an integer overflow or an index out of
# range is a trap the fuzzer reports instead of a silent wrap; FUZZ_OPT=-Ounchecked builds what
# ships (then only ASan sees the consequences of a wrap).
set -euo pipefail
cd "$(dirname "$0")/../.."

SWIFTC=${SWIFTC:-$(command -v swiftc)}
CLANG=${CLANG:-$(dirname "$(readlink -f "$SWIFTC")")/clang}
OUT=${FUZZ_BUILD:-.build-fuzz}
OPT=${FUZZ_OPT:--O}
mkdir -p "$OUT"

# Each step reruns only when one of its inputs is newer than its output.
stale() { # stale OUTPUT INPUT...
    local output=$1; shift
    [ ! -e "$output" ] || [ -n "$(find "$@" -newer "$output" -print -quit)" ]
}

start=$(date +%s)
# The C GEMM target (Sources/CGemm): SwiftPM makes its module map; here one names its headers' directory. Its
# objects get ASan but no fuzzer coverage (the kernels' edges say nothing about the inputs' paths).
mkdir -p "$OUT/CGemm"
printf 'module CGemm {\n    umbrella "%s"\n    export *\n}\n' "$PWD/Sources/CGemm/include" >"$OUT/CGemm/module.modulemap"
for source in Sources/CGemm/*.c; do
    object="$OUT/CGemm/$(basename "$source" .c).o"
    if stale "$object" "$source" Sources/CGemm/*.h Sources/CGemm/include; then
        "$CLANG" -std=c11 -O2 -g -fsanitize=address \
            -I Sources/CGemm/include -I Sources/CGemm -c "$source" -o "$object"
    fi
done
# -sanitize=fuzzer on objects adds libFuzzer's coverage (inline 8-bit counters, PC table, comparison
# tracing); its runtime (with main) is linked into the executables only. swiftc has no UBSan on
# Linux: in Swift code, -O's overflow and bounds checks are what UBSan checks in C.
SWIFTFLAGS=("$OPT" -wmo -g -parse-as-library -sanitize=fuzzer,address -enable-testing
            -Xcc -fno-math-errno -I Sources/COpenBLAS -I "$OUT/CGemm" -I "$OUT" -module-cache-path "$OUT/module-cache")
# A change of optimisation level rebuilds everything.
if [ "$(cat "$OUT/opt" 2>/dev/null)" != "$OPT" ]; then rm -f "$OUT"/*.o "$OUT"/fuzz_* "$OUT/make_seeds"; fi
echo "$OPT" >"$OUT/opt"
for module in Autoencoders CAutoencoders; do
    if stale "$OUT/$module.o" "Sources/$module" "$OUT/Autoencoders.swiftmodule"; then
        echo "fuzz build: compiling $module ($OPT, ASan, fuzzer coverage)"
        "$SWIFTC" "${SWIFTFLAGS[@]}" -module-name "$module" -emit-module -emit-module-path "$OUT/$module.swiftmodule" \
            -c -o "$OUT/$module.o" $(find "Sources/$module" -name '*.swift' | sort)
    fi
done
core_done=$(date +%s)

CFLAGS=(-O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -I include -I Tests/fuzz)
CORE=("$OUT/Autoencoders.o" "$OUT/CAutoencoders.o" "$OUT"/CGemm/*.o -lopenblas -lm -lpthread)
if stale "$OUT/fuzz_checksum.o" "$OUT/Autoencoders.o" Tests/fuzz/FuzzChecksum.swift; then
    "$SWIFTC" "${SWIFTFLAGS[@]}" -module-name FuzzChecksum -c -o "$OUT/fuzz_checksum.o" Tests/fuzz/FuzzChecksum.swift
fi
for harness in load create decompress; do
    extra=(); [ "$harness" = load ] && extra=("$OUT/fuzz_checksum.o")
    if stale "$OUT/fuzz_$harness" "$OUT/Autoencoders.o" "$OUT/CAutoencoders.o" "${extra[@]}" \
            Tests/fuzz/fuzz_$harness.c Tests/fuzz/harness.h Tests/fuzz/codec_model.h; then
        "$CLANG" "${CFLAGS[@]}" -c "Tests/fuzz/fuzz_$harness.c" -o "$OUT/fuzz_$harness.o"
        "$SWIFTC" -sanitize=fuzzer,address -use-ld=lld -g "$OUT/fuzz_$harness.o" "${extra[@]}" "${CORE[@]}" -o "$OUT/fuzz_$harness"
    fi
done
if stale "$OUT/fuzz_readers" "$OUT/Autoencoders.o" Tests/fuzz/FuzzReaders.swift; then
    "$SWIFTC" "${SWIFTFLAGS[@]}" -module-name FuzzReaders -c -o "$OUT/fuzz_readers.o" Tests/fuzz/FuzzReaders.swift
    "$SWIFTC" -sanitize=fuzzer,address -use-ld=lld -g "$OUT/fuzz_readers.o" "${CORE[@]}" -o "$OUT/fuzz_readers"
fi
# The seed generator: the library without libFuzzer's main (ASan's runtime provides the coverage hooks).
if stale "$OUT/make_seeds" "$OUT/Autoencoders.o" "$OUT/CAutoencoders.o" Tests/fuzz/make_seeds.c Tests/fuzz/codec_model.h; then
    "$CLANG" -O1 -g -fsanitize=address -I include -I Tests/fuzz -c Tests/fuzz/make_seeds.c -o "$OUT/make_seeds.o"
    "$SWIFTC" -sanitize=address -use-ld=lld -g "$OUT/make_seeds.o" "${CORE[@]}" -o "$OUT/make_seeds"
fi

end=$(date +%s)
echo "fuzz build: core $((core_done - start)) s, harnesses $((end - core_done)) s, total $((end - start)) s ($OUT)"
