#!/usr/bin/env bash
# Swift users depend on a version: a throwaway package with
#     .package(url: "file://<bare clone>", from: "0.1.0")
# on product "Autoencoders" resolves, builds (debug, about two minutes on 2 cores) and runs.
# SwiftPM refuses a version-based dependency whose product's targets carry unsafeFlags, so this
# is what keeps them out of Package.swift's Autoencoders and COpenBLAS targets.
#
# The bare clone holds this checkout's HEAD plus its uncommitted changes to tracked files (git
# stash create), tagged with the version of Sources/Autoencoders/Version.swift. Prints
# "N passed, M failed"; exits non-zero on any failure.
#
#     Tests/install/swiftpm.sh
set -u
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"

for tool in swift git; do
    command -v "$tool" >/dev/null 2>&1 || { echo "FAIL  $tool is not on PATH"; echo "0 passed, 1 failed"; exit 1; }
done

T="$(mktemp -d /tmp/autoencoders-swiftpm-test.XXXXXX)"
# SwiftPM also leaves lock files named after the package path in the temporary folder.
trap 'rm -rf "$T"; rm -f "${TMPDIR:-/tmp}/$(printf %s "$T" | tr / _)"_*' EXIT
passed=0
failed=0
ok()   { passed=$((passed + 1)); echo "ok    $1"; }
fail() { failed=$((failed + 1)); echo "FAIL  $1"; tail -n 20 "$T/err" 2>/dev/null | sed 's/^/      | /'; }

version_part() { sed -n "s/.*static let $1 = \([0-9][0-9]*\).*/\1/p" Sources/Autoencoders/Version.swift; }
VERSION="$(version_part major).$(version_part minor).$(version_part patch)"

# ---- a bare clone with the version tag -------------------------------------------------------
BARE="$T/autoencoders.git"
commit=$(git stash create 2>/dev/null)
commit=${commit:-$(git rev-parse HEAD)}
if git init -q --bare "$BARE" >"$T/err" 2>&1 \
    && git push -q "$BARE" "$commit:refs/heads/main" >>"$T/err" 2>&1 \
    && git -C "$BARE" symbolic-ref HEAD refs/heads/main \
    && git -C "$BARE" tag "$VERSION" "$commit" >>"$T/err" 2>&1; then
    ok "bare clone at $BARE tagged $VERSION ($(git rev-parse --short "$commit"))"
else
    fail "bare clone with tag $VERSION"; echo; echo "$passed passed, $failed failed"; exit 1
fi

# ---- the dependent package -------------------------------------------------------------------
APP="$T/app"
mkdir -p "$APP/Sources/app"
cat >"$APP/Package.swift" <<SWIFT
// swift-tools-version:5.10
import PackageDescription

let package = Package(
    name: "app",
    dependencies: [.package(url: "file://$BARE", from: "$VERSION")],
    targets: [
        .executableTarget(name: "app", dependencies: [.product(name: "Autoencoders", package: "autoencoders")]),
    ]
)
SWIFT
cat >"$APP/Sources/app/main.swift" <<'SWIFT'
import Autoencoders

// Trains a small dense autoencoder and prints the version and the first and last epoch losses.
do {
    let model = try Model(json: """
        {"input_size": 12, "seed": 7,
         "encoder": [{"type": "dense", "units": 3, "activation": "tanh"}],
         "decoder": [{"type": "dense", "units": 12}],
         "optimizer": {"type": "adam", "lr": 0.01}}
        """)
    let values = (0..<(64 * 12)).map { Float(($0 * 7919) % 101) / 100 }
    var options = TrainingOptions()
    options.epochs = 20
    options.batchSize = 16
    let report = try model.fit(try Tensor(shape: [64, 12], values: values), options: options)
    let codes = try model.encode(try Tensor(shape: [64, 12], values: values))
    print("ok", Version.string, report.trainLoss.first!, report.trainLoss.last!, codes.shape)
} catch {
    print("error:", error)
}
SWIFT

if (cd "$APP" && swift package resolve) >"$T/err" 2>&1; then
    ok "swift package resolve: .package(url: \"file://…/autoencoders.git\", from: \"$VERSION\")"
else
    fail "swift package resolve"
fi
if grep -q "\"version\" : \"$VERSION\"" "$APP/Package.resolved" 2>/dev/null; then
    ok "Package.resolved pins autoencoders at version $VERSION"
else
    cp "$APP/Package.resolved" "$T/err" 2>/dev/null; fail "Package.resolved pins autoencoders at version $VERSION"
fi
if (cd "$APP" && swift build) >"$T/err" 2>&1; then
    ok "swift build of the dependent package (no unsafeFlags error)"
else
    fail "swift build of the dependent package"
fi
if "$APP/.build/debug/app" >"$T/out" 2>"$T/err" && grep -q "^ok $VERSION " "$T/out"; then
    read -r _ _ first last _ <"$T/out"
    if awk -v a="$first" -v b="$last" 'BEGIN { exit !(b < a) }'; then
        ok "the dependent program trains (loss $first -> $last) and encodes ($(cut -d' ' -f5- "$T/out"))"
    else
        cp "$T/out" "$T/err"; fail "the dependent program's loss went down"
    fi
else
    cat "$T/out" >>"$T/err"; fail "the dependent program runs"
fi

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
