"""Builds libautoencoders for setup.py when the repository has not built it yet.

`pip install ./bindings/python` and `pip install "git+<url>#subdirectory=bindings/python"` both
run setup.py inside a checkout of the repository (bindings/python/../..). When
build/lib/libautoencoders.so.0 is missing there, this module runs the repository's own build
(`make library`: `swift build -c release`, then strip and stage into build/lib), after checking
that what it needs is present, so that a missing Swift toolchain or OpenBLAS is named rather than
buried in a compiler log.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Iterable, List, Optional, Sequence

LIBRARY_NAME = "libautoencoders.so.0"

#: Where a Debian, Ubuntu, Fedora or source install of OpenBLAS puts cblas.h and libopenblas.so.
INCLUDE_DIRS = ["/usr/include", "/usr/include/x86_64-linux-gnu", "/usr/include/aarch64-linux-gnu",
                "/usr/include/openblas", "/usr/local/include", "/opt/OpenBLAS/include"]
LIBRARY_DIRS = ["/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib",
                "/usr/local/lib", "/opt/OpenBLAS/lib"]


class NativeBuildError(Exception):
    """The library cannot be built here; the message says what is missing and how to get it."""


def _paths_from(variable: str) -> List[str]:
    return [part for part in os.environ.get(variable, "").split(os.pathsep) if part]


def missing_requirements(path: Optional[str] = None,
                         include_dirs: Optional[Sequence[str]] = None,
                         library_dirs: Optional[Sequence[str]] = None) -> List[str]:
    """What the build needs and cannot find, one sentence each (empty when all is there).

    `path` is the PATH to search for `swift` and `make`; the directory lists default to the
    usual places plus CPATH / C_INCLUDE_PATH and LIBRARY_PATH."""
    problems = []
    if shutil.which("swift", path=path) is None:
        problems.append(
            "the Swift toolchain is missing: `swift` is not on PATH. Install Swift 5.10 or later "
            "(https://www.swift.org/install/linux/) and put its usr/bin on PATH, e.g. "
            "PATH=/opt/swift/usr/bin:$PATH")
    if shutil.which("make", path=path) is None:
        problems.append("`make` is not on PATH (Debian/Ubuntu: apt-get install make)")
    if include_dirs is None:
        include_dirs = _paths_from("CPATH") + _paths_from("C_INCLUDE_PATH") + INCLUDE_DIRS
    if library_dirs is None:
        library_dirs = _paths_from("LIBRARY_PATH") + LIBRARY_DIRS
    if not _any_file(include_dirs, ["cblas.h"]) or not _any_file(library_dirs, ["libopenblas.so"]):
        problems.append(
            "OpenBLAS is missing: cblas.h and libopenblas.so were not found (looked in "
            + ", ".join(list(include_dirs) + list(library_dirs)) + "). Debian/Ubuntu: "
            "apt-get install libopenblas-dev; Fedora: dnf install openblas-devel")
    return problems


def _any_file(directories: Iterable[str], names: Iterable[str]) -> bool:
    return any(Path(directory, name).exists() for directory in directories for name in names)


def build_library(repository: Path, log=print) -> Path:
    """Builds build/lib/libautoencoders.so.0 in `repository` with `make library`; returns its path.

    Raises NativeBuildError naming what is missing, or quoting the end of the build's output."""
    if not (repository / "Package.swift").is_file() or not (repository / "Makefile").is_file():
        raise NativeBuildError(
            f"libautoencoders is not built and {repository} is not the autoencoders repository "
            "(no Package.swift and Makefile there), so it cannot be built: install from a checkout "
            "or a git URL with #subdirectory=bindings/python, or set AUTOENCODERS_LIBRARY to a "
            "built libautoencoders.so.0")
    problems = missing_requirements()
    if problems:
        raise NativeBuildError("cannot build libautoencoders: " + "; ".join(problems) + ".")
    log(f"building libautoencoders in {repository} (make library: swift build -c release)")
    result = subprocess.run(["make", "-C", str(repository), "library"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        tail = "\n".join(result.stdout.splitlines()[-30:])
        raise NativeBuildError(f"`make library` failed in {repository}:\n{tail}")
    library = repository / "build" / "lib" / LIBRARY_NAME
    if not library.is_file():
        raise NativeBuildError(f"`make library` succeeded but {library} is missing")
    return library


def source_version(repository: Path) -> Optional[str]:
    """The version in Sources/Autoencoders/Version.swift, or None outside the repository."""
    import re

    try:
        text = (repository / "Sources" / "Autoencoders" / "Version.swift").read_text()
    except OSError:
        return None
    parts = [re.search(rf"static let {name} = (\d+)", text) for name in ("major", "minor", "patch")]
    if not all(parts):
        return None
    return ".".join(part.group(1) for part in parts)
