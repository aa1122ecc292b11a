#!/usr/bin/env bash
# symbols.sh: the library exports exactly the C ABI and stands alone.
#
#   - its global defined dynamic symbols (nm -D --defined-only, uppercase types; lowercase are
#     local) equal the functions the header declares (AE_API ... ae_xxx( declarations);
#   - its SONAME is libautoencoders.so.0;
#   - it needs no Swift runtime or Foundation library and no toolchain path (ldd).
#
# Usage: Tests/c/symbols.sh [path/to/libautoencoders.so]   Prints "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
library=${1:-.build/release/libautoencoders.so}
header=include/autoencoders.h
passed=0
failed=0
pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "symbols.sh: FAILED: $*" >&2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Strip the comments (gcc -fpreprocessed expands no macros), then join the header into one line
# per ';' so that declarations spanning lines match.
# A chunk may begin with preprocessor lines: keep what follows its last "AE_API ".
gcc -fpreprocessed -dD -E -P -x c "$header" 2>/dev/null | tr '\n' ' ' | tr ';' '\n' |
    grep -E '(^|[[:space:]])AE_API[[:space:]]' | sed 's/.*AE_API[[:space:]]/AE_API /' |
    grep -oE '\bae_[a-z0-9_]+[[:space:]]*\(' | tr -d ' (' | sort -u > "$work/declared"
nm -D --defined-only "$library" | awk '$2 ~ /^[A-Z]$/ { print $3 }' | sed 's/@.*//' | sort -u > "$work/exported"

declared=$(wc -l < "$work/declared")
if [ "$declared" -ge 40 ]; then pass; else fail "only $declared declarations parsed from $header"; fi
if diff -u "$work/declared" "$work/exported" > "$work/diff"; then
    pass
else
    fail "exported symbols differ from the header's declarations (- header only, + library only):"
    grep -E '^[-+][^-+]' "$work/diff" >&2
fi

soname=$(readelf -d "$library" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
if [ "$soname" = "libautoencoders.so.0" ]; then pass; else fail "SONAME is '$soname', expected libautoencoders.so.0"; fi

ldd_output=$(ldd "$library")
if echo "$ldd_output" | grep -qE 'libswift|libFoundation|lib_FoundationICU|libdispatch|libBlocksRuntime'; then
    fail "the library needs Swift runtime libraries:"; echo "$ldd_output" >&2
else
    pass
fi
if echo "$ldd_output" | grep -qE '/opt/swift|/usr/share/swift|swift[^ ]*/usr/lib'; then
    fail "the library resolves libraries from a Swift toolchain:"; echo "$ldd_output" >&2
else
    pass
fi
if echo "$ldd_output" | grep -q 'not found'; then fail "unresolved dependencies:"; echo "$ldd_output" >&2; else pass; fi

echo "symbols: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
