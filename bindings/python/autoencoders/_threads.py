"""The thread count of the library's math kernels, and which GEMM kernel runs, process-wide."""

from __future__ import annotations

from ._errors import check
from ._library import lib
from ._params import integer

__all__ = ["set_num_threads", "get_num_threads", "gemm_kernel", "gemm_kernel_description", "set_gemm_kernel"]


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


def gemm_kernel() -> str:
    """The GEMM kernel in use: "avx512", "avx2" (the library's own) or "openblas"."""
    return lib.ae_gemm_kernel_name().decode("utf-8")


def gemm_kernel_description() -> str:
    """One line on the GEMM in use: kernel, why it was chosen, OpenBLAS's version, core and
    OPENBLAS_CORETYPE (as `autoencoders inspect --system` prints it)."""
    return lib.ae_gemm_kernel_description().decode("utf-8")


def set_gemm_kernel(name: str) -> None:
    """Selects the GEMM kernel for the whole process: "auto", "avx512", "avx2" or "openblas".
    A kernel this CPU or OS cannot run raises UnsupportedError with the reason (the kernel in
    use is then unchanged); an unknown name raises InvalidArgumentError."""
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, not {type(name).__name__}")
    check(lib.ae_set_gemm_kernel(name.encode("utf-8")))
