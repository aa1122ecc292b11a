"""The thread count of the library's math kernels (OpenBLAS), process-wide."""

from __future__ import annotations

from ._errors import check
from ._library import lib
from ._params import integer

__all__ = ["set_num_threads", "get_num_threads"]


def set_num_threads(threads: int) -> None:
    """Sets the number of threads the math kernels use, for the whole process (1 to 1024).
    The same seed and the same thread count give bit-identical training.

    Call it while no other thread is inside the library (OpenBLAS cannot change its thread
    count during a computation)."""
    threads = integer(threads, "threads", 1, 1024)  # checked here too: a C int must not overflow
    check(lib.ae_set_num_threads(threads))


def get_num_threads() -> int:
    """The current thread count of the math kernels (0 if unknown)."""
    return int(lib.ae_get_num_threads())
