#!/usr/bin/env bash
# `make install` and `make uninstall`: puts libautoencoders into $DESTDIR$PREFIX, or takes it out.
#
#     packaging/install.sh install|uninstall     (environment: PREFIX, DESTDIR, STAGE)
#
# Installs include/autoencoders.h, lib/libautoencoders.so.X.Y.Z with the .so.X and .so links,
# bin/autoencoders, lib/pkgconfig/autoencoders.pc and lib/cmake/autoencoders/*.cmake, taken from
# the staged build in $STAGE (build/, made by `make`).
#
# All or nothing: every destination is checked before anything is written (an existing,
# writable directory, or one that can be created under one); the files are prepared in a
# staging folder inside the prefix, then renamed into place one by one, and a failure on the way
# puts back what was there before and removes what was added. A missing prefix is created (like
# `install -d`) when its nearest existing parent is a writable directory.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
ACTION=${1:-}
PREFIX=${PREFIX:-/usr/local}
DESTDIR=${DESTDIR:-}
STAGE=${STAGE:-$ROOT/build}

die() { echo "make $ACTION: $*" >&2; exit 1; }

case "$ACTION" in install|uninstall) ;; *) echo "usage: $0 install|uninstall" >&2; exit 2 ;; esac
case "$PREFIX" in /*) ;; *) die "PREFIX must be an absolute path (got '$PREFIX')" ;; esac
case "$DESTDIR" in ''|/*) ;; *) die "DESTDIR must be empty or an absolute path (got '$DESTDIR')" ;; esac

# The version, from the one place that defines it.
version_part() { sed -n "s/.*static let $1 = \([0-9][0-9]*\).*/\1/p" "$ROOT/Sources/Autoencoders/Version.swift"; }
MAJOR=$(version_part major); MINOR=$(version_part minor); PATCH=$(version_part patch)
[ -n "$MAJOR" ] && [ -n "$MINOR" ] && [ -n "$PATCH" ] || die "cannot read the version from Sources/Autoencoders/Version.swift"
VERSION="$MAJOR.$MINOR.$PATCH"
LIBRARY="libautoencoders.so.$VERSION"

DEST="${DESTDIR}${PREFIX}"
DEST="${DEST%/}"; DEST="${DEST:-/}"
DIRS=(include lib lib/pkgconfig lib/cmake lib/cmake/autoencoders bin)
# Every installed path, relative to the prefix, in installation order.
FILES=(include/autoencoders.h "lib/$LIBRARY" "lib/libautoencoders.so.$MAJOR" lib/libautoencoders.so
       bin/autoencoders lib/pkgconfig/autoencoders.pc
       lib/cmake/autoencoders/autoencodersConfig.cmake lib/cmake/autoencoders/autoencodersConfigVersion.cmake)

# The nearest path at or above $1 that exists.
existing_ancestor() {
    local path=$1
    while [ ! -e "$path" ] && [ ! -L "$path" ]; do path=$(dirname "$path"); done
    printf '%s\n' "$path"
}

# Checks that directory $1 (under the prefix) exists and is writable or can be created.
check_directory() {
    local dir=$1 base
    base=$(existing_ancestor "$dir")
    [ -d "$base" ] || die "cannot install into $DEST: $base is not a directory"
    [ -w "$base" ] || die "cannot write to $base (read-only file system or no permission): nothing was installed. Choose another PREFIX (or DESTDIR), or run as a user who may write there"
}

preflight() {
    check_directory "$DEST"
    local dir file
    for dir in "${DIRS[@]}"; do check_directory "$DEST/$dir"; done
    for file in "${FILES[@]}"; do
        if [ -d "$DEST/$file" ] && [ ! -L "$DEST/$file" ]; then
            die "cannot install $DEST/$file: a directory is in the way; nothing was installed"
        fi
    done
}

# ---- install ---------------------------------------------------------------------------------

CREATED=()     # directories made by this run, outermost first
MOVED=()       # destinations filled by this run
BACKED_UP=()   # destinations whose earlier file waits in $WORK/backup
WORK=""

rollback() {
    local i file
    for ((i = ${#MOVED[@]} - 1; i >= 0; i--)); do rm -f "$DEST/${MOVED[$i]}"; done
    for file in "${BACKED_UP[@]}"; do mv -fT "$WORK/backup/$file" "$DEST/$file" 2>/dev/null || true; done
    [ -z "$WORK" ] || rm -rf "$WORK"
    for ((i = ${#CREATED[@]} - 1; i >= 0; i--)); do rmdir "${CREATED[$i]}" 2>/dev/null || true; done
}

make_directory() {
    local dir=$1
    [ -d "$dir" ] && return 0
    make_directory "$(dirname "$dir")"
    mkdir "$dir" 2>/dev/null || { rollback; die "cannot create $dir: nothing was installed"; }
    CREATED+=("$dir")
}

# Writes template $1 to $2 with the version filled in.
render() {
    sed -e "s/@VERSION@/$VERSION/g" -e "s/@SOVERSION@/$MAJOR/g" -e "s/@MAJOR@/$MAJOR/g" \
        -e "s/@MINOR@/$MINOR/g" "$ROOT/packaging/$1" >"$2"
}

install_files() {
    local source
    for source in "$ROOT/include/autoencoders.h" "$STAGE/lib/libautoencoders.so.$MAJOR" "$STAGE/bin/autoencoders"; do
        [ -f "$source" ] || die "$source is missing: run \`make\` first"
    done
    preflight

    make_directory "$DEST"
    WORK=$(mktemp -d "$DEST/.autoencoders-install.XXXXXX" 2>/dev/null) \
        || { rollback; die "cannot write to $DEST (read-only file system or no permission): nothing was installed"; }
    trap 'rollback; echo "make install: interrupted; nothing was installed" >&2; exit 1' INT TERM HUP
    local new="$WORK/new" dir file
    mkdir -p "$new/include" "$new/lib/pkgconfig" "$new/lib/cmake/autoencoders" "$new/bin" "$WORK/backup"
    {
        install -m 0644 "$ROOT/include/autoencoders.h" "$new/include/autoencoders.h" &&
        install -m 0755 "$STAGE/lib/libautoencoders.so.$MAJOR" "$new/lib/$LIBRARY" &&
        ln -s "$LIBRARY" "$new/lib/libautoencoders.so.$MAJOR" &&
        ln -s "libautoencoders.so.$MAJOR" "$new/lib/libautoencoders.so" &&
        install -m 0755 "$STAGE/bin/autoencoders" "$new/bin/autoencoders" &&
        render autoencoders.pc.in "$new/lib/pkgconfig/autoencoders.pc" &&
        render autoencodersConfig.cmake.in "$new/lib/cmake/autoencoders/autoencodersConfig.cmake" &&
        render autoencodersConfigVersion.cmake.in "$new/lib/cmake/autoencoders/autoencodersConfigVersion.cmake" &&
        chmod 0644 "$new"/lib/pkgconfig/*.pc "$new"/lib/cmake/autoencoders/*.cmake
    } || { rollback; die "cannot prepare the files in $WORK: nothing was installed"; }

    for dir in "${DIRS[@]}"; do make_directory "$DEST/$dir"; done
    for file in "${FILES[@]}"; do
        if [ -e "$DEST/$file" ] || [ -L "$DEST/$file" ]; then
            mkdir -p "$WORK/backup/$(dirname "$file")"
            mv -fT "$DEST/$file" "$WORK/backup/$file" 2>"$WORK/error" \
                || { rollback; die "cannot replace $DEST/$file ($(cat "$WORK/error" 2>/dev/null)): nothing was installed"; }
            BACKED_UP+=("$file")
        fi
        mv -fT "$new/$file" "$DEST/$file" 2>"$WORK/error" \
            || { local why; why=$(cat "$WORK/error" 2>/dev/null); rollback; die "cannot install $DEST/$file ($why): nothing was installed"; }
        MOVED+=("$file")
    done
    rm -rf "$WORK"
    trap - INT TERM HUP
    echo "installed libautoencoders $VERSION into $DEST:"
    printf '  %s\n' "${FILES[@]}"
}

# ---- uninstall -------------------------------------------------------------------------------

uninstall_files() {
    local file dir present=()
    for file in "${FILES[@]}"; do
        if [ -e "$DEST/$file" ] || [ -L "$DEST/$file" ]; then
            dir=$(dirname "$DEST/$file")
            [ -w "$dir" ] || die "cannot remove $DEST/$file: $dir is not writable (read-only file system or no permission); nothing was removed"
            present+=("$file")
        fi
    done
    for file in "${present[@]}"; do rm -f "$DEST/$file"; done
    rmdir "$DEST/lib/cmake/autoencoders" 2>/dev/null || true
    echo "removed ${#present[@]} files of libautoencoders from $DEST"
}

if [ "$ACTION" = install ]; then install_files; else uninstall_files; fi
