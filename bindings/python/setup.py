"""Build hook of the libautoencoders distribution (import name `autoencoders`): bundles
libautoencoders.so.0 into autoencoders/_lib/.

The package is pure Python (ctypes); the only native part is the shared library of the
repository this file sits in (bindings/python/../..), copied from build/lib/libautoencoders.so.0.
When that is not built yet (a fresh checkout, or the temporary clone pip makes of a git URL),
the repository's own build runs first (`make library`, see native_build.py), after checking that
the Swift toolchain and OpenBLAS are there. AUTOENCODERS_LIBRARY, when set, names the library
file to bundle instead. The version is the one in Sources/Autoencoders/Version.swift.

`make wheel` in the repository turns the wheel this builds into a manylinux wheel that carries
OpenBLAS too (packaging/wheel.sh).
"""

import atexit
import ctypes
import os
import shutil
import sys
import tempfile
from pathlib import Path

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from native_build import LIBRARY_NAME, NativeBuildError, build_library, source_version  # noqa: E402

REPOSITORY = HERE.parent.parent


def find_library(build: bool = False) -> Path:
    """The library to bundle; builds it when `build` is true and it is missing, or exits."""
    override = os.environ.get("AUTOENCODERS_LIBRARY")
    candidate = Path(override) if override else REPOSITORY / "build" / "lib" / LIBRARY_NAME
    if candidate.is_dir():
        candidate = candidate / LIBRARY_NAME
    if candidate.is_file():
        return candidate.resolve()
    if override:
        sys.exit(f"error: AUTOENCODERS_LIBRARY is {override!r}, but {candidate} does not exist")
    if not build:
        sys.exit(f"error: {candidate} is not built")
    try:
        return build_library(REPOSITORY)
    except NativeBuildError as error:
        sys.exit(f"error: {error}")


def library_version(path: Path) -> str:
    """The version the library reports (ae_version_string)."""
    try:
        library = ctypes.CDLL(str(path))
    except OSError as error:
        sys.exit(f"error: cannot load {path} to read its version: {error}")
    library.ae_version_string.restype = ctypes.c_char_p
    return library.ae_version_string().decode("ascii")


def package_version() -> str:
    """The version from the sources, without building; else the version of AUTOENCODERS_LIBRARY."""
    version = source_version(REPOSITORY)
    return version if version is not None else library_version(find_library())


class BuildWithLibrary(build_py):
    """build_py that also copies the shared library into autoencoders/_lib/."""

    def run(self) -> None:
        super().run()
        source = find_library(build=True)
        target = Path(self.build_lib) / "autoencoders" / "_lib" / LIBRARY_NAME
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        os.chmod(target, 0o755)
        self.announce(f"bundled {source} as {target}", level=2)


class PlatformDistribution(Distribution):
    """Installs to platlib and makes a platform wheel: the package carries a shared library."""

    def has_ext_modules(self) -> bool:
        return True


commands = {"build_py": BuildWithLibrary}

try:  # setuptools >= 70.1 has bdist_wheel itself; older ones use the wheel package's
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:
    try:
        from wheel.bdist_wheel import bdist_wheel
    except ImportError:
        bdist_wheel = None

if bdist_wheel is not None:
    class PlatformWheel(bdist_wheel):
        """The wheel carries a Linux shared library: platform-specific, any Python 3 (ctypes)."""

        def get_tag(self):
            _, _, platform = super().get_tag()
            return "py3", "none", platform

    commands["bdist_wheel"] = PlatformWheel

# Intermediate files go to a fresh temporary folder rather than build/ and *.egg-info in the
# source tree: nothing is left in the checkout, and no stale file of an earlier build can slip
# into the wheel.
scratch = tempfile.mkdtemp(prefix="autoencoders-build-")
atexit.register(shutil.rmtree, scratch, ignore_errors=True)

setup(version=package_version(), cmdclass=commands, distclass=PlatformDistribution,
      options={"build": {"build_base": os.path.join(scratch, "build")},
               "egg_info": {"egg_base": scratch}})
