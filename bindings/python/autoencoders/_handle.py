"""Ownership of a native handle (``ae_model *``, ``ae_trainer *``).

A :class:`Handle` frees its pointer exactly once: on :meth:`Handle.close`, or through a
``weakref.finalize`` when its owner is garbage-collected, or at interpreter exit. Calls borrow the
pointer with ``with handle.borrow() as pointer:``; closing while other threads are inside such a
block marks the handle closed at once (new calls get ``ValueError``) and frees it when the last
borrower leaves, so ``*_free`` never races with a running call, as the header requires.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any, Callable


class _Borrow:
    """Context manager of :meth:`Handle.borrow` (a class rather than a generator: it is on every
    call's path)."""

    __slots__ = ("_handle",)

    def __init__(self, handle: "Handle") -> None:
        self._handle = handle

    def __enter__(self) -> Any:
        return self._handle._acquire()

    def __exit__(self, *exc_info: object) -> None:
        self._handle._release()


class Handle:
    """A native pointer, the function that frees it, and the count of calls using it."""

    __slots__ = ("_pointer", "_what", "_lock", "_users", "_closed", "_finalizer", "__weakref__")

    def __init__(self, pointer: Any, free: Callable[[Any], None], what: str) -> None:
        """``pointer``: a non-NULL ctypes pointer; ``free``: its ``*_free`` function; ``what``:
        the noun for messages ("model", "trainer")."""
        self._pointer = pointer
        self._what = what
        self._lock = threading.Lock()
        self._users = 0
        self._closed = False
        # The finalizer must not reference self: it holds the pointer and the function only.
        self._finalizer = weakref.finalize(self, free, pointer)

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closed

    def borrow(self) -> _Borrow:
        """``with handle.borrow() as pointer:`` -- raises ``ValueError`` if closed."""
        return _Borrow(self)

    def _acquire(self) -> Any:
        with self._lock:
            if self._closed:
                raise ValueError(f"{self._what} is closed")
            self._users += 1
            return self._pointer

    def _release(self) -> None:
        with self._lock:
            self._users -= 1
            free_now = self._closed and self._users == 0
        if free_now:
            self._finalizer()

    def close(self) -> None:
        """Frees the native object (now, or when the calls in flight return). Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            free_now = self._users == 0
        if free_now:
            self._finalizer()

    @property
    def freed(self) -> bool:
        """True once the native object has been released."""
        return not self._finalizer.alive
