"""Build hook of the autoencoders package: bundles libautoencoders.so.0 into autoencoders/_lib/.

The package is pure Python (ctypes); the only build step is copying the shared library built by
`make library` in the repository (build/lib/libautoencoders.so.0) into the package, so that an
installed copy finds it without LD_LIBRARY_PATH. The library's version becomes the package's.
AUTOENCODERS_LIBRARY, when set, names the library file to bundle instead.
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
LIBRARY_NAME = "libautoencoders.so.0"
REPOSITORY = HERE.parent.parent


def find_library() -> Path:
    """The library to bundle, or exit with instructions."""
    override = os.environ.get("AUTOENCODERS_LIBRARY")
    candidates = [Path(override)] if override else [REPOSITORY / "build" / "lib" / LIBRARY_NAME]
    for candidate in candidates:
        if candidate.is_dir():
            candidate = candidate / LIBRARY_NAME
        if candidate.is_file():
            return candidate.resolve()
    where = " or ".join(str(c) for c in candidates)
    sys.exit(f"error: the autoencoders package bundles libautoencoders, which is not built "
             f"(looked for {where}). Run `make library` in the repository root "
             f"({REPOSITORY}) first, then install again.")


def library_version(path: Path) -> str:
    """The version the library reports (ae_version_string)."""
    try:
        library = ctypes.CDLL(str(path))
    except OSError as error:
        sys.exit(f"error: cannot load {path} to read its version: {error}")
    library.ae_version_string.restype = ctypes.c_char_p
    return library.ae_version_string().decode("ascii")


class BuildWithLibrary(build_py):
    """build_py that also copies the shared library into autoencoders/_lib/."""

    def run(self) -> None:
        super().run()
        source = find_library()
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

setup(version=library_version(find_library()), cmdclass=commands, distclass=PlatformDistribution,
      options={"build": {"build_base": os.path.join(scratch, "build")},
               "egg_info": {"egg_base": scratch}})
