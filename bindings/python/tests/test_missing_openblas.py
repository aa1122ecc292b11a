"""When the loader cannot find OpenBLAS, importing autoencoders says which package to install."""

import os
import shutil
import subprocess
import sys

import pytest

from conftest import PACKAGE_ROOT
from autoencoders import _library

OPENBLAS_DIRS = ["/usr/lib/x86_64-linux-gnu/openblas-pthread", "/usr/lib/x86_64-linux-gnu/openblas-openmp",
                 "/usr/lib/x86_64-linux-gnu/openblas-serial"]


def test_the_message_names_the_debian_packages_and_the_wheel():
    error = OSError("libopenblas.so.0: cannot open shared object file: No such file or directory")
    message = _library.explain_load_error("/x/libautoencoders.so.0", error)
    assert message.startswith("autoencoders: cannot load the library /x/libautoencoders.so.0: libopenblas.so.0")
    assert "apt-get install libopenblas0" in message and "libopenblas-dev" in message
    assert "make wheel" in message


def test_other_load_errors_get_no_openblas_advice():
    message = _library.explain_load_error("/x/lib.so", OSError("/x/lib.so: invalid ELF header"))
    assert "OpenBLAS" not in message


@pytest.mark.skipif(shutil.which("unshare") is None or os.geteuid() != 0,
                    reason="hiding the system OpenBLAS needs unshare -m as root")
def test_import_with_openblas_hidden_names_the_package():
    hide = [d for d in OPENBLAS_DIRS if os.path.isdir(d)]
    if not hide:
        pytest.skip("the system OpenBLAS is not in a Debian openblas-* folder")
    mounts = " && ".join(f"mount -t tmpfs tmpfs {d}" for d in hide)
    script = f'{mounts} && exec "$0" -c "import autoencoders"'
    environment = dict(os.environ, PYTHONPATH=str(PACKAGE_ROOT))
    environment.pop("AUTOENCODERS_LIBRARY", None)
    result = subprocess.run(["unshare", "-m", "sh", "-c", script, sys.executable], capture_output=True,
                            text=True, env=environment, timeout=60)
    if "mount:" in result.stderr:
        pytest.skip("mounting in a private namespace is not permitted: " + result.stderr.strip())
    assert result.returncode != 0
    assert "ImportError" in result.stderr
    assert "libopenblas.so.0: cannot open shared object file" in result.stderr
    assert "apt-get install libopenblas0" in result.stderr
