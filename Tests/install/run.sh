#!/usr/bin/env bash
# `make install` end to end: installs into a temporary DESTDIR, builds a C program with
# `pkg-config --cflags --libs` and a C++ program with CMake (find_package) against it and runs
# both, runs the installed command-line tool with the Swift toolchain out of reach, moves the
# installed tree (the pkg-config and CMake files are relocatable), uninstalls; then the bad
# cases: a prefix under a regular file, a read-only prefix, a full disk and a replacement that
# fails halfway leave nothing half-installed. Needs make's build (`make`), cc, c++, pkg-config,
# cmake and readelf. Prints "N passed, M failed"; exits non-zero on any failure.
#
#     Tests/install/run.sh
set -u
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
HERE="$ROOT/Tests/install"

missing=()
for tool in cc c++ pkg-config cmake readelf ldd make; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "FAIL  missing tools: ${missing[*]} (on Debian: apt-get install pkg-config cmake g++ binutils)"
    echo "0 passed, 1 failed"; exit 1
fi

T="$(mktemp -d /tmp/autoencoders-install-test.XXXXXX)"
cleanup() {
    chattr -i "$T"/*/usr/local/lib/pkgconfig/autoencoders.pc 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT

passed=0
failed=0
ok()   { passed=$((passed + 1)); echo "ok    $1"; }
fail() { failed=$((failed + 1)); echo "FAIL  $1"; sed 's/^/      | /' "$T/err" 2>/dev/null | head -n 12; }
# assert NAME COMMAND...: passes when the command succeeds.
assert() { local name=$1; shift; if "$@" >"$T/err" 2>&1; then ok "$name"; else fail "$name"; fi; }
# refuses NAME PATTERN COMMAND...: passes when the command fails and its stderr holds PATTERN.
refuses() {
    local name=$1 pattern=$2; shift 2
    if "$@" >"$T/out" 2>"$T/err"; then fail "$name (succeeded)"; return; fi
    if ! grep -qiF -- "$pattern" "$T/err"; then fail "$name (stderr lacks '$pattern')"; return; fi
    ok "$name"
}
# files DIR: every file and link under DIR, one per line (empty when nothing is there).
files() { (cd "$1" && find . \( -type f -o -type l \) | sort); }
# make_install DESTDIR [install|uninstall]
make_install() { make --no-print-directory -s "${2:-install}" PREFIX=/usr/local DESTDIR="$1"; }

VERSION=$(build/bin/autoencoders version 2>/dev/null | awk '{print $2}')
[ -n "$VERSION" ] || { echo "FAIL  build/bin/autoencoders is missing: run make first"; echo "0 passed, 1 failed"; exit 1; }
MAJOR=${VERSION%%.*}

# ---- install ---------------------------------------------------------------------------------
D="$T/dest"
P="$D/usr/local"
assert "make install PREFIX=/usr/local DESTDIR=$D" make_install "$D"
assert "header, library, soname links, tool, pkg-config and CMake files are there" \
    test -f "$P/include/autoencoders.h" -a -f "$P/lib/libautoencoders.so.$VERSION" \
      -a -L "$P/lib/libautoencoders.so.$MAJOR" -a -L "$P/lib/libautoencoders.so" -a -x "$P/bin/autoencoders" \
      -a -f "$P/lib/pkgconfig/autoencoders.pc" -a -f "$P/lib/cmake/autoencoders/autoencodersConfig.cmake" \
      -a -f "$P/lib/cmake/autoencoders/autoencodersConfigVersion.cmake"
assert "the links: .so -> .so.$MAJOR -> .so.$VERSION" \
    test "$(readlink "$P/lib/libautoencoders.so")" = "libautoencoders.so.$MAJOR" \
      -a "$(readlink "$P/lib/libautoencoders.so.$MAJOR")" = "libautoencoders.so.$VERSION"
assert "the library's soname is libautoencoders.so.$MAJOR" \
    grep -q "Library soname: \[libautoencoders.so.$MAJOR\]" <(readelf -d "$P/lib/libautoencoders.so.$VERSION")
assert "nothing else was installed (no staging folder left)" \
    test "$(files "$D" | wc -l)" -eq 8 -a -z "$(find "$P" -name '.autoencoders-install.*')"
assert "make install again (replacing the files) succeeds" make_install "$D"

# ---- a C program through pkg-config ----------------------------------------------------------
export PKG_CONFIG_PATH="$P/lib/pkgconfig"
assert "pkg-config --modversion autoencoders is $VERSION" test "$(pkg-config --modversion autoencoders)" = "$VERSION"
assert "pkg-config --cflags names the installed include folder" \
    test "$(cd "$(pkg-config --variable=includedir autoencoders)" && pwd -P)" = "$(cd "$P/include" && pwd -P)"
# shellcheck disable=SC2046  # pkg-config's output is meant to be split into arguments
assert "cc -std=c99 consumer.c \$(pkg-config --cflags --libs autoencoders)" \
    cc -std=c99 -Wall -Wextra -Werror -pedantic -o "$T/consumer_c" "$HERE/consumer.c" $(pkg-config --cflags --libs autoencoders)
assert "the C program records the soname, not a path" \
    grep -q "Shared library: \[libautoencoders.so.$MAJOR\]" <(readelf -d "$T/consumer_c")
if LD_LIBRARY_PATH="$P/lib" "$T/consumer_c" >"$T/out" 2>"$T/err" && grep -q "^ok $VERSION " "$T/out"; then
    ok "the C program trains and reconstructs ($(cat "$T/out"))"
else
    fail "the C program runs"
fi
assert "the C program loads the installed library" \
    grep -q "libautoencoders.so.$MAJOR => $P/lib/libautoencoders.so.$MAJOR" <(LD_LIBRARY_PATH="$P/lib" ldd "$T/consumer_c")

# ---- a C++ program through CMake -------------------------------------------------------------
if cmake -S "$HERE" -B "$T/cmake" -DCMAKE_PREFIX_PATH="$P" -DCMAKE_BUILD_TYPE=Release >"$T/err" 2>&1 \
    && cmake --build "$T/cmake" >>"$T/err" 2>&1; then
    ok "CMake: find_package(autoencoders 0.1) and autoencoders::autoencoders build consumer.cpp"
else
    fail "CMake: find_package(autoencoders 0.1) and autoencoders::autoencoders build consumer.cpp"
fi
if "$T/cmake/consumer" >"$T/out" 2>"$T/err" && grep -q "^ok $VERSION " "$T/out"; then
    ok "the C++ program runs ($(cat "$T/out"))"
else
    fail "the C++ program runs"
fi
cat >"$T/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.16)
project(wrong_version LANGUAGES CXX)
find_package(autoencoders 1.0 REQUIRED)
CMAKE
refuses "CMake: find_package(autoencoders 1.0) is refused by the version file" "autoencoders" \
    cmake -S "$T" -B "$T/cmake-1.0" -DCMAKE_PREFIX_PATH="$P"

# ---- the command-line tool without a Swift toolchain -----------------------------------------
assert "the installed tool needs no libswift* (readelf -d)" \
    test -z "$(readelf -d "$P/bin/autoencoders" | grep -i 'NEEDED.*libswift')"
assert "the installed tool is stripped (no .symtab)" \
    test -z "$(readelf -S "$P/bin/autoencoders" | grep -F '.symtab')"
SCRUBBED=(env -i PATH=/usr/bin:/bin HOME="$T")
assert "with a scrubbed environment every library resolves, none under /opt/swift or a Swift toolchain" \
    bash -c '! "$@" ldd "'"$P/bin/autoencoders"'" | grep -Ei "not found|swift"' _ "${SCRUBBED[@]}"
awk 'BEGIN { srand(1); for (i = 0; i < 64; i++) { line = ""; for (j = 0; j < 6; j++) line = line (j ? "," : "") sprintf("%.4f", rand()); print line } }' >"$T/x.csv"
printf '{"input_size": 6, "seed": 1, "encoder": [{"type": "dense", "units": 2, "activation": "tanh"}], "decoder": [{"type": "dense", "units": 6}]}\n' >"$T/spec.json"
assert "the installed tool trains a model with a scrubbed environment" \
    "${SCRUBBED[@]}" "$P/bin/autoencoders" train --spec "$T/spec.json" --data "$T/x.csv" --out "$T/m.aem" --epochs 2 --batch-size 16
assert "... and inspects it" bash -c '"$@" | grep -q "input"' _ "${SCRUBBED[@]}" "$P/bin/autoencoders" inspect --model "$T/m.aem"
SWIFT_DIR=/opt/swift
if command -v swift >/dev/null 2>&1; then SWIFT_DIR=$(dirname "$(dirname "$(dirname "$(readlink -f "$(command -v swift)")")")"); fi
if [ -d "$SWIFT_DIR" ] && unshare -m true 2>/dev/null; then
    assert "with $SWIFT_DIR hidden (an empty tmpfs over it), the tool still trains and reconstructs" \
        unshare -m sh -c 'mount -t tmpfs tmpfs "$1" && shift && exec "$@"' _ "$SWIFT_DIR" "${SCRUBBED[@]}" sh -c \
        '"$1" train --spec "$2" --data "$3" --out "$4" --epochs 1 && "$1" reconstruct --model "$4" --data "$3" --out "$5" && test -s "$5"' \
        _ "$P/bin/autoencoders" "$T/spec.json" "$T/x.csv" "$T/m2.aem" "$T/r.npy"
fi

# ---- relocation ------------------------------------------------------------------------------
cp -a "$P" "$T/moved"
export PKG_CONFIG_PATH="$T/moved/lib/pkgconfig"
# shellcheck disable=SC2046
assert "moved elsewhere, pkg-config points at the new place and the C program builds" \
    cc -std=c99 -o "$T/consumer_moved" "$HERE/consumer.c" $(pkg-config --cflags --libs autoencoders)
assert "... and runs against the moved library" \
    bash -c 'LD_LIBRARY_PATH="$1/lib" "$2" && LD_LIBRARY_PATH="$1/lib" ldd "$2" | grep -q "=> $1/lib/"' _ "$T/moved" "$T/consumer_moved"
assert "moved elsewhere, CMake finds the package there" \
    bash -c 'cmake -S "$1" -B "$2" -DCMAKE_PREFIX_PATH="$3" && cmake --build "$2" && "$2/consumer"' _ "$HERE" "$T/cmake-moved" "$T/moved"
unset PKG_CONFIG_PATH

# ---- uninstall -------------------------------------------------------------------------------
assert "make uninstall" make_install "$D" uninstall
assert "make uninstall leaves no file or link behind" test -z "$(files "$D")"
assert "make uninstall again is harmless" make_install "$D" uninstall

# ---- what must fail, with nothing half-installed ---------------------------------------------
printf 'not a folder\n' >"$T/file"
refuses "a prefix under a regular file: refused, naming it" "$T/file is not a directory" make_install "$T/file/dest"
assert "... the file is untouched" test "$(cat "$T/file")" = "not a folder"
refuses "a relative PREFIX is refused" "PREFIX must be an absolute path" make --no-print-directory -s install PREFIX=relative/path

mkdir -p "$T/ro/keep"
echo keep >"$T/ro/keep/file"
# A read-only bind mount in a private mount namespace (root may write anywhere else).
if unshare -m true 2>/dev/null; then
    refuses "a read-only prefix: refused with a clear message" "read-only file system or no permission" \
        unshare -m bash -c 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && cd "$2" && make --no-print-directory -s install PREFIX=/usr/local DESTDIR="$1"' _ "$T/ro" "$ROOT"
    assert "... nothing was written there" test "$(files "$T/ro")" = "./keep/file"
    refuses "a disk that fills up halfway: refused" "nothing was installed" \
        unshare -m bash -c 'mount -t tmpfs -o size=4m tmpfs "$1" && cd "$2" && make --no-print-directory -s install PREFIX=/usr/local DESTDIR="$1"; status=$?; find "$1" -mindepth 1 >"$3"; exit $status' _ "$T/ro" "$ROOT" "$T/left"
    assert "... and leaves nothing behind" test ! -s "$T/left"
else
    fail "a read-only prefix: unshare -m is not permitted here, so no read-only mount can be made for the test"
fi

# A replacement that fails halfway (an immutable old file): everything is put back as it was.
D2="$T/again"
P2="$D2/usr/local"
make_install "$D2" >/dev/null 2>&1
echo "/* the earlier header */" >>"$P2/include/autoencoders.h"
before=$(cd "$P2" && find . -type f -exec sha256sum {} + | sort)
if chattr +i "$P2/lib/pkgconfig/autoencoders.pc" 2>/dev/null; then
    refuses "a replacement that fails halfway: refused" "nothing was installed" make_install "$D2"
    chattr -i "$P2/lib/pkgconfig/autoencoders.pc"
    assert "... and every earlier file is back, unchanged" test "$(cd "$P2" && find . -type f -exec sha256sum {} + | sort)" = "$before"
    assert "... with its links, and no staging folder left" \
        test "$(files "$D2" | wc -l)" -eq 8 -a -z "$(find "$P2" -name '.autoencoders-install.*')"
else
    fail "a replacement that fails halfway: chattr +i is not supported on $T's file system"
fi

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
