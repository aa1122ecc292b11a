"""Runs every fenced code block of README.md, so the README cannot fall behind the library.

The rule, by the block's language:

  c       saved as app.c, compiled as C99 against build/ (-Wall -Wextra -Werror) and run;
  swift   saved as Sources/app/main.swift of a throwaway package that depends on this repository
          by path (.package(path:)), built with -c release and run;
  python  saved as app.py and run with bindings/python on sys.path and AUTOENCODERS_LIBRARY
          pointing at build/lib;
  sh      run with bash -euo pipefail;
  none    (plain text such as a directory listing): not code, skipped;
  other   (cmake, toml, ...): skipped with a printed note, as there is no runner for it.

Every block runs in one temporary directory, in README order, where build/, data/ and examples/
are links to the repository's (so `build/bin/autoencoders ... --data data/...` works as written,
and an sh block can compile the app.c saved from the C block before it). A block preceded by the
HTML comment <!-- readme-test: skip (reason) --> is not run (set-up commands, installs): an sh one
is only checked for syntax (bash -n). Prints one line per block and "N passed, M failed".

Usage: python3 Tests/readme/readme_blocks.py [README.md]   (expects `make` to have built build/)
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FENCE = re.compile(r"^```([A-Za-z0-9_+-]*)\s*$")
SKIP = re.compile(r"^<!--\s*readme-test:\s*skip\s*\((.+)\)\s*-->\s*$")
TIMEOUT = 600


def blocks(text):
    """(line number, language, code, skip reason or None) for each fenced block."""
    lines = text.splitlines()
    i, previous = 0, ""
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            if lines[i].strip():
                previous = lines[i].strip()
            i += 1
            continue
        start, language, body = i + 1, match.group(1).lower(), []
        i += 1
        while i < len(lines) and not lines[i].startswith("```"):
            body.append(lines[i])
            i += 1
        skip = SKIP.match(previous)
        yield start, language, "\n".join(body) + "\n", skip.group(1) if skip else None
        i += 1
        previous = ""


def run(command, cwd, env=None):
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    return result.returncode, result.stdout + result.stderr


def swift_package():
    """A throwaway package kept under .build/ (so that later runs build incrementally)."""
    package = ROOT / ".build" / "readme-swift"
    (package / "Sources" / "app").mkdir(parents=True, exist_ok=True)
    identity = ROOT.name.lower()  # SwiftPM names a path dependency after its directory
    manifest = f"""// swift-tools-version:5.10
import PackageDescription
let package = Package(
    name: "app",
    dependencies: [.package(path: "{ROOT}")],
    targets: [.executableTarget(name: "app", dependencies: [.product(name: "Autoencoders", package: "{identity}")],
                                path: "Sources/app")]
)
"""
    if not (package / "Package.swift").exists() or (package / "Package.swift").read_text() != manifest:
        (package / "Package.swift").write_text(manifest)
    return package


def run_block(language, code, skip, work):
    """(status, detail): status is 'ok', 'FAIL', 'skip' or 'text'."""
    if language == "sh":
        if skip:
            code_, output = run(["bash", "-n", "-c", code], work)
            return ("ok", f"syntax only: {skip}") if code_ == 0 else ("FAIL", output)
        code_, output = run(["bash", "-euo", "pipefail", "-c", code], work)
        return ("ok", "") if code_ == 0 else ("FAIL", output)
    if skip:
        return "skip", skip
    if language == "":
        return "text", "not code"
    if language == "c":
        (work / "app.c").write_text(code)
        build = ROOT / "build"
        code_, output = run(["cc", "-std=c99", "-Wall", "-Wextra", "-Werror", "app.c", f"-I{build}/include",
                             f"-L{build}/lib", f"-Wl,-rpath,{build}/lib", "-lautoencoders", "-lm", "-o", "app_c"], work)
        if code_ != 0:
            return "FAIL", output
        code_, output = run(["./app_c"], work)
        return ("ok", output.strip().splitlines()[-1] if output.strip() else "") if code_ == 0 else ("FAIL", output)
    if language == "python":
        (work / "app.py").write_text(code)
        env = dict(os.environ, PYTHONPATH=str(ROOT / "bindings" / "python"),
                   AUTOENCODERS_LIBRARY=str(ROOT / "build" / "lib"))
        code_, output = run([sys.executable, "app.py"], work, env)
        return ("ok", "") if code_ == 0 else ("FAIL", output)
    if language == "swift":
        package = swift_package()
        (package / "Sources" / "app" / "main.swift").write_text(code)
        code_, output = run(["swift", "build", "-c", "release", "--product", "app"], package)
        if code_ != 0:
            return "FAIL", output
        code_, binary = run(["swift", "build", "-c", "release", "--show-bin-path"], package)
        code_, output = run([os.path.join(binary.strip().splitlines()[-1], "app")], work)
        return ("ok", output.strip().splitlines()[-1] if output.strip() else "") if code_ == 0 else ("FAIL", output)
    return "skip", f"no runner for ```{language} blocks"


def main():
    readme = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "README.md"
    if not (ROOT / "build" / "lib").is_dir():
        print("build/ is missing: run `make` first")
        print("0 passed, 1 failed")
        return 1
    passed = failed = 0
    work = Path(tempfile.mkdtemp(prefix="readme-test-"))
    try:
        for name in ("build", "data", "examples"):
            (work / name).symlink_to(ROOT / name)
        for line, language, code, skip in blocks(readme.read_text()):
            started = time.time()
            status, detail = run_block(language, code, skip, work)
            where = f"README.md:{line} ```{language or 'text'}"
            if status == "FAIL":
                failed += 1
                print(f"FAIL  {where}")
                print("\n".join("      | " + l for l in detail.strip().splitlines()[-25:]))
            elif status == "ok":
                passed += 1
                print(f"ok    {where} ({time.time() - started:.1f}s){': ' + detail if detail else ''}")
            elif status == "skip":
                print(f"skip  {where}: {detail}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
