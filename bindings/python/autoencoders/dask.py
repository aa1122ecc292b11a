"""Batch scoring with Dask: score, encode or reconstruct a ``dask.array`` (or a Dask DataFrame's
numeric columns) block by block, on a ``distributed`` cluster or Dask's local schedulers.

    from dask.distributed import Client
    import dask.array as da
    import autoencoders as ae
    from autoencoders import dask as aed

    client = Client("scheduler:8786")
    X = da.from_zarr("sensors.zarr")                     # (n, features), chunked by rows
    model = ae.Autoencoder.load("model.aem")
    scores = aed.score(model, X)                         # lazy (n,), X's row chunks
    flagged = (scores > threshold).sum().compute()

The model travels as its file bytes (``model.to_bytes()``, the format every language reads): one
key of the task graph, fetched once by every worker that runs a block and loaded once per worker
process, not once per block. Blocks are scored independently, so the data may be far larger
than any worker's memory: only a few blocks are in memory at a time. A block whose sample shape
does not fit the model fails its task with the library's message.
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any, Dict, Tuple

import numpy as np

from .model import Autoencoder

__all__ = ["score", "encode", "reconstruct", "as_array", "loads"]

# The models a worker process has loaded, by the SHA-256 of their file bytes.
_MODELS: Dict[str, Autoencoder] = {}
_LOCK = threading.Lock()
_LOADS = 0


def loads() -> int:
    """How many models this process has loaded from bytes for Dask tasks (one per distinct model:
    the blocks reuse it)."""
    return _LOADS


def _model(token: str, data: bytes) -> Autoencoder:
    global _LOADS
    with _LOCK:
        model = _MODELS.get(token)
        if model is None:
            model = Autoencoder.from_bytes(data, verbose=0)
            _MODELS[token] = model
            _LOADS += 1
        return model


def _block(block: Any, data: bytes, token: str, method: str) -> np.ndarray:
    """One task: the model's ``method`` on one block of samples."""
    model = _model(token, data)
    samples = np.ascontiguousarray(block, dtype=np.float32)
    if samples.shape[0] == 0:
        return np.zeros((0,) + _output_tail(model, method, samples.shape[1:]), dtype=np.float32)
    return getattr(model, "reconstruction_error" if method == "score" else method)(samples)


def _output_tail(model: Autoencoder, method: str, sample_shape: Tuple[int, ...]) -> Tuple[int, ...]:
    if method == "score":
        return ()
    if method == "encode":
        return (int(model.code_size or 0),)
    return tuple(sample_shape)


def as_array(X: Any) -> Any:
    """``X`` as a dask array of samples chunked by rows only: a dask array is rechunked so that
    each block holds whole samples; a Dask DataFrame gives its numeric columns (row counts are
    computed when unknown)."""
    import dask.array as da
    if hasattr(X, "select_dtypes") and hasattr(X, "to_dask_array"):
        X = X.select_dtypes("number").to_dask_array(lengths=True)
    if not isinstance(X, da.Array):
        raise TypeError(f"X is a {type(X).__name__}; expected a dask.array.Array or a dask DataFrame")
    if X.ndim < 2:
        raise ValueError(f"X has shape {X.shape}; expected (n, features) or (n, *sample_shape)")
    if any(len(chunks) > 1 for chunks in X.chunks[1:]):
        X = X.rechunk({axis: -1 for axis in range(1, X.ndim)})
    return X


def _map(model: Autoencoder, X: Any, method: str) -> Any:
    import dask
    import dask.array as da
    X = as_array(X)
    data = model.to_bytes(include_optimizer_state=False)
    token = hashlib.sha256(data).hexdigest()
    # One key of the graph holds the bytes: a worker fetches it once and every task of every
    # block there reads that copy. Unlike data scattered to the workers, a key of the graph is
    # recomputed if a worker holding it dies (a worker restarted for exceeding its memory limit
    # loses nothing).
    shipped = dask.delayed(data, pure=True)
    tail = _output_tail(model, method, tuple(int(d) for d in X.shape[1:]))
    chunks = (X.chunks[0],) + tuple((d,) for d in tail)
    if method == "score":
        axes = {"drop_axis": tuple(range(1, X.ndim))}
    elif method == "encode" and X.ndim > 2:
        axes = {"drop_axis": tuple(range(2, X.ndim))}
    else:
        axes = {}
    meta = np.empty((0,) * len(chunks), dtype=np.float32)
    return da.map_blocks(_block, X, shipped, token, method, dtype=np.float32, chunks=chunks, meta=meta, **axes)


def score(model: Autoencoder, X: Any) -> Any:
    """The per-sample anomaly score (reconstruction error) of every sample of ``X``, a lazy
    ``(n,)`` float32 dask array with ``X``'s row chunks. It runs where ``compute()`` runs it: on
    the current ``distributed`` client if there is one, else Dask's local scheduler."""
    return _map(model, X, "score")


def encode(model: Autoencoder, X: Any) -> Any:
    """The code of every sample of ``X``: a lazy ``(n, code_size)`` float32 dask array."""
    return _map(model, X, "encode")


def reconstruct(model: Autoencoder, X: Any) -> Any:
    """The reconstruction of every sample of ``X``: a lazy float32 dask array of ``X``'s shape
    and chunks."""
    return _map(model, X, "reconstruct")
