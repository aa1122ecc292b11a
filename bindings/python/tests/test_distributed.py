"""autoencoders.distributed over MPI: two ranks, each computing half of every global batch, train
the model one process trains on the whole batches (dense AE, conv AE, VAE), within float
tolerance; a rank with bad data, or a rank with another model, stops every rank with an error
instead of a hang. Each case runs `mpirun -np 2` (Open MPI) with a timeout. Skipped only when
mpirun or mpi4py is missing (scripts/setup.sh installs both)."""

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import autoencoders as ae

pytest.importorskip("mpi4py", reason="mpi4py is not installed (scripts/setup.sh installs it)")
MPIRUN = shutil.which("mpirun")
pytestmark = pytest.mark.skipif(MPIRUN is None, reason="mpirun is not on PATH (apt-get install openmpi-bin)")

WORKER = Path(__file__).with_name("mpi_worker.py")
PACKAGE_ROOT = Path(__file__).resolve().parents[1]

DENSE = {"input_size": 12, "seed": 3,
         "encoder": [{"type": "dense", "units": 8, "activation": "tanh"}, {"type": "dense", "units": 3}],
         "decoder": [{"type": "dense", "units": 8, "activation": "tanh"},
                     {"type": "dense", "units": 12, "activation": "sigmoid"}],
         "loss": "bce", "optimizer": {"type": "adam", "lr": 0.01},
         "regularization": {"weight_decay": {"lambda": 0.0001}}}
CONV = {"input_shape": [1, 8, 8], "seed": 4,
        "encoder": [{"type": "conv2d", "filters": 4, "kernel": 3, "padding": 1, "activation": "relu"},
                    {"type": "max_pool2d", "kernel": 2}],
        "decoder": [{"type": "conv_transpose2d", "filters": 1, "kernel": 3, "stride": 2, "padding": 1,
                     "output_padding": 1, "activation": "sigmoid"}],
        "loss": "bce", "optimizer": {"type": "adam", "lr": 0.01}}
VAE = {"input_size": 12, "seed": 9,
       "encoder": [{"type": "dense", "units": 8, "activation": "relu"}, {"type": "variational", "units": 3}],
       "decoder": [{"type": "dense", "units": 12, "activation": "sigmoid"}],
       "loss": "bce", "optimizer": {"type": "adam", "lr": 0.01}}


def launch(command, env, timeout):
    """Runs an mpirun command line in its own process group; on timeout kills the whole group
    (mpirun and its ranks: a hung rank must fail the test, not outlive it) and fails."""
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.terminate()  # mpirun passes SIGTERM on to its ranks, which it starts in groups of their own
        try:
            stdout, stderr = process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            stdout, stderr = process.communicate()
        pytest.fail(f"{' '.join(command)} did not finish in {timeout} s (a hang)\n{stdout}\n{stderr}")
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def mpirun(tmp_path, spec, X, epochs, batch, *extra, ranks=2, timeout=120):
    """Runs the worker on `ranks` processes; returns the finished process."""
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    np.save(tmp_path / "data.npy", X)
    env = dict(os.environ, PYTHONPATH=str(PACKAGE_ROOT), OMPI_ALLOW_RUN_AS_ROOT="1",
               OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_btl_vader_single_copy_mechanism="none",
               OMPI_MCA_rmaps_base_oversubscribe="1", OPENBLAS_NUM_THREADS="1")
    command = [MPIRUN, "-np", str(ranks), sys.executable, str(WORKER), str(tmp_path / "spec.json"),
               str(tmp_path / "data.npy"), str(tmp_path), str(epochs), str(batch), *extra]
    return launch(command, env, timeout)


def reference(spec, X, epochs, batch):
    """One process stepping on the whole global batches, in order."""
    model = ae.Autoencoder.from_spec(spec, verbose=0)
    losses = []
    with ae.Trainer(model, batch_size=batch) as trainer:
        for _ in range(epochs):
            steps = [trainer.step(X[b:b + batch]) for b in range(0, len(X) - batch + 1, batch)]
            losses.append(float(np.mean(steps)))
    return model, losses


def data(shape, n=48, seed=5):
    rng = np.random.default_rng(seed)
    return rng.uniform(0.05, 0.95, size=(n, *shape)).astype(np.float32)


@pytest.mark.parametrize("name, spec, shape", [("dense", DENSE, (12,)), ("conv", CONV, (1, 8, 8)), ("vae", VAE, (12,))])
def test_two_ranks_train_the_model_one_process_trains(tmp_path, name, spec, shape):
    X = data(shape)
    epochs, batch = 3, 16   # 3 global batches of 16 per epoch: 8 rows per rank
    result = mpirun(tmp_path, spec, X, epochs, batch)
    assert result.returncode == 0, result.stdout + result.stderr
    expected_model, expected_losses = reference(spec, X, epochs, batch)
    losses = json.loads((tmp_path / "losses.json").read_text())
    np.testing.assert_allclose(losses, expected_losses, rtol=1e-4, err_msg=name)
    ranks = [ae.Autoencoder.load(str(tmp_path / f"rank{r}.aem")) for r in (0, 1)]
    for parameter, values in expected_model.parameters().items():
        np.testing.assert_allclose(ranks[0].get_parameter(parameter), values, atol=2e-5, rtol=1e-4,
                                   err_msg=f"{name}: {parameter}")
        np.testing.assert_array_equal(ranks[0].get_parameter(parameter), ranks[1].get_parameter(parameter),
                                      err_msg=f"{name}: the ranks agree bit for bit on {parameter}")


def test_local_data_each_rank_holding_its_own_rows(tmp_path):
    X = data((12,))
    result = mpirun(tmp_path, DENSE, X, 2, 16, "--local", "1")
    assert result.returncode == 0, result.stdout + result.stderr
    expected_model, expected_losses = reference(DENSE, X, 2, 16)
    np.testing.assert_allclose(json.loads((tmp_path / "losses.json").read_text()), expected_losses, rtol=1e-4)
    trained = ae.Autoencoder.load(str(tmp_path / "rank1.aem"))
    for parameter, values in expected_model.parameters().items():
        np.testing.assert_allclose(trained.get_parameter(parameter), values, atol=2e-5, rtol=1e-4, err_msg=parameter)


def test_a_failing_rank_stops_every_rank(tmp_path):
    result = mpirun(tmp_path, DENSE, data((12,)), 2, 16, "--nan-rank", "1", timeout=60)
    assert result.returncode != 0
    for r in (0, 1):
        assert f"rank {r}: DistributedError" in result.stderr, result.stderr
    assert "rank 1: NumericError" in result.stderr and "is nan" in result.stderr, result.stderr
    assert not (tmp_path / "rank0.aem").exists()


def test_different_models_are_refused_on_every_rank_before_the_first_step(tmp_path):
    other = dict(DENSE, encoder=[{"type": "dense", "units": 8, "activation": "tanh"}, {"type": "dense", "units": 4}])
    (tmp_path / "other.json").write_text(json.dumps(other))
    result = mpirun(tmp_path, DENSE, data((12,)), 2, 16, "--spec-rank1", str(tmp_path / "other.json"), timeout=60)
    assert result.returncode != 0
    for r in (0, 1):
        assert f"rank {r}: DistributedError: the ranks hold different models" in result.stderr, result.stderr


# ---- examples/c/mpi_train.c, the same protocol from C ---------------------------------------

EXAMPLE = PACKAGE_ROOT.parents[1] / "examples" / "c"


@pytest.fixture(scope="module")
def mpi_train():
    """examples/c/mpi_train, built (against build/) when `make` has not built it yet."""
    if shutil.which("mpicc") is None:
        pytest.skip("mpicc is not on PATH (apt-get install libopenmpi-dev)")
    subprocess.run(["make", "-s", "-C", str(EXAMPLE), "mpi_train"], check=True, timeout=120)
    return EXAMPLE / "mpi_train"


def run_example(program, ranks, *args, timeout=60):
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_btl_vader_single_copy_mechanism="none", OMPI_MCA_rmaps_base_oversubscribe="1")
    return launch([MPIRUN, "-np", str(ranks), str(program), *args], env, timeout)


def epoch_losses(output):
    return [float(line.split()[-1]) for line in output.splitlines() if line.startswith("epoch ")]


def test_c_example_two_ranks_match_one(mpi_train, tmp_path):
    one = run_example(mpi_train, 1, "--epochs", "3", "--out", str(tmp_path / "one.aem"))
    two = run_example(mpi_train, 2, "--epochs", "3", "--out", str(tmp_path / "two.aem"))
    assert one.returncode == 0 and two.returncode == 0, one.stderr + two.stderr
    assert len(epoch_losses(one.stdout)) == 3
    np.testing.assert_allclose(epoch_losses(two.stdout), epoch_losses(one.stdout), rtol=1e-4)
    a, b = ae.Autoencoder.load(str(tmp_path / "one.aem")), ae.Autoencoder.load(str(tmp_path / "two.aem"))
    for name, values in a.parameters().items():
        np.testing.assert_allclose(b.get_parameter(name), values, atol=2e-5, rtol=1e-4, err_msg=name)


def test_c_example_failing_rank_and_mismatched_models_stop_every_rank(mpi_train):
    failed = run_example(mpi_train, 2, "--epochs", "2", "--fail-rank", "1")
    assert failed.returncode != 0
    assert "rank 1: ae_trainer_compute_gradients" in failed.stderr and "every rank stops" in failed.stderr, failed.stderr
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_btl_vader_single_copy_mechanism="none", OMPI_MCA_rmaps_base_oversubscribe="1")
    mismatched = launch([MPIRUN, "-np", "1", str(mpi_train), "--units", "8", ":", "-np", "1", str(mpi_train),
                         "--units", "9"], env, 60)
    assert mismatched.returncode != 0
    for r in (0, 1):
        assert f"rank {r}: the ranks hold different models" in mismatched.stderr, mismatched.stderr
