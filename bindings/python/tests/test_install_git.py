"""`pip install "git+file://<bare clone>#subdirectory=bindings/python"`: pip builds in a fresh
clone where the library is not built, so setup.py runs the repository's build (`make library`),
or stops with a message naming the missing Swift toolchain. The successful install is a full
release build (one to three minutes on 2 cores; marked slow)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import PACKAGE_ROOT, REPOSITORY
from test_install import NETWORK_TROUBLE, _local_backend_works

sys.path.insert(0, str(PACKAGE_ROOT))
from native_build import missing_requirements  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


@pytest.fixture(scope="module")
def bare_clone(tmp_path_factory):
    """A bare clone holding this checkout (HEAD plus uncommitted changes of tracked files)."""
    bare = tmp_path_factory.mktemp("git") / "autoencoders.git"
    commit = subprocess.run(["git", "stash", "create"], cwd=REPOSITORY, capture_output=True,
                            text=True).stdout.strip() or "HEAD"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    subprocess.run(["git", "push", "-q", str(bare), f"{commit}:refs/heads/main"], cwd=REPOSITORY,
                   check=True)
    subprocess.run(["git", "symbolic-ref", "HEAD", "refs/heads/main"], cwd=bare, check=True)
    return bare


def _pip_install(url, target, path):
    command = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-input",
               "--disable-pip-version-check", "--no-cache-dir", "--target", str(target), url]
    if _local_backend_works():
        command.insert(4, "--no-build-isolation")
    environment = dict(os.environ, PATH=path)
    environment.pop("AUTOENCODERS_LIBRARY", None)
    result = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=900)
    output = result.stdout + result.stderr
    if result.returncode != 0 and any(t in output for t in NETWORK_TROUBLE):
        pytest.skip("pip could not fetch its build requirements (no network)")
    return result.returncode, output


def _path_without_swift():
    """PATH minus the folders that hold `swift` (git, make and cc stay reachable)."""
    keep = [d for d in os.environ["PATH"].split(os.pathsep)
            if d and not (Path(d) / "swift").exists()]
    return os.pathsep.join(keep)


def test_missing_swift_is_named(tmp_path):
    problems = missing_requirements(path=str(tmp_path), include_dirs=[], library_dirs=[])
    text = " ".join(problems)
    assert "Swift toolchain is missing: `swift` is not on PATH" in text
    assert "`make` is not on PATH" in text


def test_missing_openblas_is_named(tmp_path):
    problems = missing_requirements(path=os.environ["PATH"], include_dirs=[str(tmp_path)],
                                    library_dirs=[str(tmp_path)])
    assert any("OpenBLAS is missing" in p and "apt-get install libopenblas-dev" in p and str(tmp_path) in p
               for p in problems), problems


def test_nothing_missing_when_all_is_there(tmp_path):
    (tmp_path / "bin").mkdir()
    for tool in ("swift", "make"):
        (tmp_path / "bin" / tool).write_text("#!/bin/sh\n")
        (tmp_path / "bin" / tool).chmod(0o755)
    (tmp_path / "cblas.h").write_text("")
    (tmp_path / "libopenblas.so").write_text("")
    assert missing_requirements(path=str(tmp_path / "bin"), include_dirs=[str(tmp_path)],
                                library_dirs=[str(tmp_path)]) == []


@pytest.mark.slow
def test_git_url_without_swift_fails_naming_the_toolchain(bare_clone, tmp_path):
    path = _path_without_swift()
    if shutil.which("swift", path=path) is not None:
        pytest.skip("swift cannot be taken off PATH here")
    code, output = _pip_install(f"git+file://{bare_clone}#subdirectory=bindings/python",
                                tmp_path / "site", path)
    assert code != 0
    assert "cannot build libautoencoders: the Swift toolchain is missing: `swift` is not on PATH" in output
    assert not (tmp_path / "site" / "autoencoders").exists()


@pytest.mark.slow
def test_git_url_builds_the_library_and_runs(bare_clone, tmp_path):
    if shutil.which("swift") is None:
        pytest.skip("needs the Swift toolchain to build the library")
    target = tmp_path / "site"
    code, output = _pip_install(f"git+file://{bare_clone}#subdirectory=bindings/python", target,
                                os.environ["PATH"])
    assert code == 0, output[-4000:]
    bundled = target / "autoencoders" / "_lib" / "libautoencoders.so.0"
    assert bundled.is_file()
    assert len(list(target.glob("libautoencoders-*.dist-info"))) == 1
    program = ("import json, numpy as np, autoencoders as ae\n"
               "x = np.random.default_rng(0).random((32, 6), dtype=np.float32)\n"
               "m = ae.Autoencoder.dense(6, hidden=[4], code_size=2, verbose=0).fit(x, epochs=2)\n"
               "print(json.dumps({'path': ae.library_path, 'shape': list(m.encode(x).shape)}))\n")
    work = tmp_path / "elsewhere"
    work.mkdir()
    run = subprocess.run([sys.executable, "-c", program], cwd=str(work), capture_output=True,
                         text=True, timeout=120,
                         env={"PATH": "/usr/bin:/bin", "HOME": str(work), "PYTHONPATH": str(target),
                              "PYTHONNOUSERSITE": "1"})
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report == {"path": str(bundled), "shape": [32, 2]}
