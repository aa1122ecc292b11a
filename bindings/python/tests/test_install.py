"""Installing: `pip install --target <tmp> ./bindings/python` bundles the library, and the
installed package (distribution libautoencoders) runs a prediction in a clean environment (no
LD_LIBRARY_PATH, no AUTOENCODERS_LIBRARY, not from the checkout). Takes a few seconds (marked
slow). Installing from a git URL, where the library must be built, is in test_install_git.py."""

import json
import subprocess
import sys

import pytest

from conftest import BUILD, PACKAGE_ROOT, REPOSITORY

NETWORK_TROUBLE = ("No matching distribution found", "Could not find a version",
                   "Failed to establish a new connection", "Temporary failure in name resolution",
                   "Network is unreachable", "ProxyError")


def _local_backend_works():
    """Whether setuptools here can build the wheel without pip fetching a build environment."""
    try:
        import setuptools
        major, minor = (int(part) for part in setuptools.__version__.split(".")[:2])
    except (ImportError, ValueError):
        return False
    if (major, minor) < (61, 0):
        return False
    if (major, minor) >= (70, 1):
        return True  # bdist_wheel is part of setuptools
    try:
        import wheel  # noqa: F401
        return True
    except ImportError:
        return False


@pytest.mark.slow
def test_pip_install_target_then_import_in_a_clean_environment(tmp_path):
    if not (BUILD / "lib" / "libautoencoders.so.0").is_file():
        pytest.skip("the library is not built: run `make library`")
    target = tmp_path / "site"
    command = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-input",
               "--disable-pip-version-check", "--target", str(target), "./bindings/python"]
    if _local_backend_works():
        command.insert(4, "--no-build-isolation")  # offline: the installed setuptools builds it
    result = subprocess.run(command, cwd=str(REPOSITORY), capture_output=True, text=True,
                            timeout=300)
    if result.returncode != 0 and any(t in result.stdout + result.stderr for t in NETWORK_TROUBLE):
        pytest.skip("pip could not fetch its build requirements (no network): "
                    + result.stderr.strip().splitlines()[-1])
    assert result.returncode == 0, result.stdout + result.stderr
    bundled = target / "autoencoders" / "_lib" / "libautoencoders.so.0"
    assert bundled.is_file()
    # The build leaves nothing behind in the source tree.
    assert not (PACKAGE_ROOT / "build").exists()
    assert not list(PACKAGE_ROOT.glob("*.egg-info"))

    program = r"""
import json, numpy as np, autoencoders as ae
rng = np.random.default_rng(0)
x = rng.random((64, 10), dtype=np.float32)
model = ae.Autoencoder.dense(10, hidden=[8], code_size=3, verbose=0).fit(x, epochs=3)
print(json.dumps({"path": ae.library_path, "file": ae.__file__, "version": ae.__version__,
                  "shape": list(model.reconstruct(x).shape), "score": float(model.reconstruction_error(x).mean())}))
"""
    work = tmp_path / "elsewhere"
    work.mkdir()
    environment = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(work),
                   "PYTHONPATH": str(target), "PYTHONNOUSERSITE": "1"}
    run = subprocess.run([sys.executable, "-c", program], cwd=str(work), env=environment,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["path"] == str(bundled)
    assert report["file"].startswith(str(target))
    assert report["shape"] == [64, 10] and report["score"] > 0
    # The distribution is libautoencoders (PyPI's `autoencoders` is another project's).
    metadata = next(target.glob("libautoencoders-*.dist-info"))
    assert metadata.name == f"libautoencoders-{report['version']}.dist-info"
    assert not list(target.glob("autoencoders-*.dist-info"))
    assert "LD_LIBRARY_PATH" not in environment and "AUTOENCODERS_LIBRARY" not in environment
