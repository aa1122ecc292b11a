"""Data-parallel training over MPI (mpi4py): one model trained by N processes.

Launch the same script on every rank::

    mpirun -np 4 python3 train.py

    # train.py
    import numpy as np
    import autoencoders as ae
    from autoencoders import distributed

    model = ae.Autoencoder.from_spec(spec)            # the same spec on every rank
    X = np.load("data.npy", mmap_mode="r")            # or only this rank's rows: data="local"
    losses = distributed.fit(model, X, epochs=10, batch_size=256)
    if distributed.rank() == 0:
        model.save("model.aem")

Each step, every rank computes the gradient of its rows of the global batch
(``ae_trainer_compute_gradients``, scaled by its share of the rows), the ranks sum the flat
gradient buffers with one ``MPI_Allreduce``, and every rank applies the sum: all make the same
update, the one a single process would make on the whole batch (within float rounding; see
docs/DISTRIBUTED.md for the terms that depend on the whole batch, such as batch norm). Before the
first step the ranks compare the model's fingerprint and take rank 0's parameters.

A rank that fails (bad data, a diverging step) does not leave the others waiting: every step ends
with a collective that carries each rank's error, and every rank then raises
:class:`DistributedError` naming the failed ranks and their messages.
"""

from __future__ import annotations

from ctypes import byref, c_double, c_size_t, c_uint64
from typing import Any, List, Optional, Sequence, Tuple

import numpy as np

from ._arrays import as_samples, float_pointer
from ._errors import AutoencoderError, check
from ._library import lib
from .model import Autoencoder
from .trainer import Trainer

__all__ = ["fit", "rank", "size", "DistributedError", "broadcast_parameters", "check_same_model"]


class DistributedError(AutoencoderError):
    """Raised on every rank when any rank failed: ``failures`` maps each failed rank to its
    message."""

    def __init__(self, message: str, failures: Optional[dict] = None) -> None:
        super().__init__(message)
        self.failures = dict(failures or {})


def _world(comm: Any) -> Any:
    if comm is not None:
        return comm
    try:
        from mpi4py import MPI
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("autoencoders.distributed needs mpi4py (pip install mpi4py, or Debian's "
                          "python3-mpi4py) and an MPI library (Open MPI: openmpi-bin)") from error
    return MPI.COMM_WORLD


def rank(comm: Any = None) -> int:
    """This process's rank in ``comm`` (default ``MPI.COMM_WORLD``)."""
    return int(_world(comm).Get_rank())


def size(comm: Any = None) -> int:
    """The number of processes in ``comm`` (default ``MPI.COMM_WORLD``)."""
    return int(_world(comm).Get_size())


def _agree(comm: Any, error: Optional[str], what: str) -> None:
    """A collective every rank calls at the same point: raises DistributedError on every rank
    when any rank passes an error."""
    errors = comm.allgather(error)
    failures = {r: e for r, e in enumerate(errors) if e is not None}
    if failures:
        detail = "; ".join(f"rank {r}: {e}" for r, e in sorted(failures.items()))
        raise DistributedError(f"{what} failed on {len(failures)} of {len(errors)} ranks ({detail}); "
                               "every rank stopped", failures)


def _attempt(call: Any) -> Tuple[Any, Optional[str]]:
    try:
        return call(), None
    except (AutoencoderError, ValueError, TypeError, MemoryError) as error:
        return None, f"{type(error).__name__}: {error}"


def check_same_model(model: Autoencoder, comm: Any = None) -> None:
    """Raises DistributedError on every rank unless every rank holds a model of the same spec and
    parameter table (``ae_model_fingerprint``)."""
    comm = _world(comm)
    fingerprint = c_uint64()
    native, error = _attempt(model._model)
    if native is not None:
        with native.handle.borrow() as m:
            check(lib.ae_model_fingerprint(m, byref(fingerprint)))
    _agree(comm, error, "building the model")
    prints = comm.allgather(int(fingerprint.value))
    if len(set(prints)) > 1:
        mine = prints[comm.Get_rank()]
        groups = {p: [r for r, q in enumerate(prints) if q == p] for p in prints}
        detail = ", ".join(f"ranks {ranks} have {p:016x}" for p, ranks in groups.items())
        raise DistributedError(f"the ranks hold different models (fingerprint {mine:016x} here; {detail}): "
                               "give every rank the same spec", {})


def broadcast_parameters(model: Autoencoder, comm: Any = None, root: int = 0) -> None:
    """Replaces every rank's parameters (the whole flat buffer) with ``root``'s."""
    comm = _world(comm)
    native = model._model()
    values = np.empty(native.n_parameters, dtype=np.float32)
    with native.handle.borrow() as m:
        if comm.Get_rank() == root:
            check(lib.ae_model_get_parameters(m, float_pointer(values), values.size))
    comm.Bcast(values, root=root)
    with native.handle.borrow() as m:
        check(lib.ae_model_set_parameters(m, float_pointer(values), values.size))


def _shard(total: int, ranks: int, me: int) -> Tuple[int, int]:
    """This rank's rows [first, end) of a global batch of ``total`` rows."""
    return total * me // ranks, total * (me + 1) // ranks


def fit(model: Autoencoder, X: Any, *, epochs: int = 1, batch_size: int = 32, shuffle: bool = False,
        seed: int = 0, data: str = "global", comm: Any = None,
        learning_rates: Optional[Sequence[float]] = None, verbose: bool = False) -> List[float]:
    """Trains ``model`` with every rank of ``comm`` (default ``MPI.COMM_WORLD``); call it on every
    rank with the same arguments. Returns the mean loss of each epoch (the same on every rank).

    ``data="global"`` (default): ``X`` is the whole data set, the same on every rank (a memory
    map is fine: each rank reads only its rows). The global batches are ``X[b:b + batch_size]``
    (after a permutation drawn from ``seed`` when ``shuffle``; the same on every rank), and rank
    r computes rows ``batch_size * r // N`` to ``batch_size * (r + 1) // N`` of each.
    ``data="local"``: ``X`` holds this rank's own rows; every rank must hold the same number, and
    ``batch_size`` (the global batch) must be a multiple of N: a global batch is the next
    ``batch_size // N`` rows of every rank, in rank order.

    ``learning_rates`` (optional): the learning rate of each epoch. A failure on any rank raises
    :class:`DistributedError` on every rank; the ranks' models may then differ from each other
    by the failed step's update (broadcast again, or reload, before going on).
    """
    comm = _world(comm)
    ranks, me = comm.Get_size(), comm.Get_rank()
    if data not in ("global", "local"):
        raise ValueError(f"data is {data!r}; expected 'global' or 'local'")

    # Everything that can fail on one rank alone is checked before the first collective that
    # assumes the others are there, and agreed on.
    def prepare() -> Tuple[np.ndarray, int, int]:
        native = model._model()
        matrix, _ = as_samples(X, "X", native.input_shape, native.input_size)
        if int(epochs) < 1 or int(batch_size) < 1:
            raise ValueError(f"epochs ({epochs}) and batch_size ({batch_size}) must be at least 1")
        if batch_size < ranks:
            raise ValueError(f"batch_size {batch_size} is smaller than the {ranks} ranks")
        if data == "local" and batch_size % ranks:
            raise ValueError(f"with data='local', batch_size {batch_size} must be a multiple of the {ranks} ranks")
        return matrix, matrix.shape[0], -(-batch_size // ranks)  # the most rows a rank computes

    prepared, error = _attempt(prepare)
    _agree(comm, error, "checking the data")
    matrix, rows, largest = prepared
    counts = comm.allgather(rows)
    if len(set(counts)) > 1:
        raise DistributedError(f"the ranks hold different numbers of samples {counts}; "
                               + ("pass the same data on every rank" if data == "global"
                                  else "give every rank the same number of rows"), {})
    check_same_model(model, comm)
    broadcast_parameters(model, comm)

    samples = rows * ranks if data == "local" else rows
    steps = samples // batch_size
    if steps < 1:
        raise DistributedError(f"{samples} samples make no global batch of {batch_size}", {})
    trainer = Trainer(model, batch_size=largest)
    count = c_size_t()
    with trainer._handle.borrow() as t:
        check(lib.ae_trainer_gradient_count(t, byref(count)))
    gradient = np.empty(int(count.value), dtype=np.float32)
    generator = np.random.default_rng(seed)
    losses: List[float] = []
    from mpi4py import MPI  # the operations; comm may be any mpi4py communicator

    try:
        for epoch in range(int(epochs)):
            if learning_rates is not None:
                trainer.learning_rate = float(learning_rates[epoch])
            order = generator.permutation(rows) if shuffle else None
            total = 0.0
            for step in range(steps):
                if data == "global":
                    first, end = _shard(batch_size, ranks, me)
                    indices = np.arange(step * batch_size + first, step * batch_size + end)
                else:
                    share = batch_size // ranks
                    first, end = me * share, (me + 1) * share
                    indices = np.arange(step * share, (step + 1) * share)
                if order is not None:
                    indices = order[indices]
                batch = np.ascontiguousarray(matrix[indices], dtype=np.float32)
                loss = c_double()

                def compute() -> None:
                    with trainer._handle.borrow() as t:
                        check(lib.ae_trainer_compute_gradients(t, float_pointer(batch), batch.shape[0], batch.size,
                                                               first, batch_size, byref(loss)))
                        check(lib.ae_trainer_get_gradients(t, float_pointer(gradient), gradient.size))

                _, error = _attempt(compute)
                _agree(comm, error, f"epoch {epoch + 1}, step {step + 1}: computing the gradient")
                comm.Allreduce(MPI.IN_PLACE, gradient, op=MPI.SUM)
                step_loss = comm.allreduce(float(loss.value), op=MPI.SUM)

                def apply() -> None:
                    with trainer._handle.borrow() as t:
                        check(lib.ae_trainer_set_gradients(t, float_pointer(gradient), gradient.size))
                        check(lib.ae_trainer_apply_gradients(t))

                _, error = _attempt(apply)
                _agree(comm, error, f"epoch {epoch + 1}, step {step + 1}: applying the gradient")
                total += step_loss
            losses.append(total / steps)
            if verbose and me == 0:
                print(f"epoch {epoch + 1}/{epochs}: loss {losses[-1]:.6g} ({ranks} ranks)", flush=True)
    finally:
        trainer.close()
    return losses
