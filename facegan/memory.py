"""Keep a long-running server's memory close to what it uses (glibc only; a no-op elsewhere).

Gradio runs each request in one of up to 40 worker threads, and glibc gives every thread that allocates
its own malloc arena. Photos, tensors and encoded images freed in one arena are not reused by the next
request that lands on another thread, so resident memory grows with every request and never comes back.
Two arenas, and handing free memory back to the system every minute, bound it (measured with
``python benchmarks/serve_load.py``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from functools import lru_cache

M_ARENA_MAX = -8
"""glibc's mallopt parameter number for the arena limit (malloc.h)."""
SERVER_ARENAS = 2
TRIM_EVERY_S = 60.0


@lru_cache(maxsize=1)
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


def limit_malloc_arenas(arenas: int = SERVER_ARENAS) -> bool:
    """Cap glibc's malloc arenas for threads that start allocating from now on; False where unsupported."""
    libc = _libc()
    return bool(libc and libc.mallopt(M_ARENA_MAX, arenas))


def release_free_memory() -> bool:
    """Return freed heap pages to the system (glibc ``malloc_trim``); True if any were released."""
    libc = _libc()
    return bool(libc and libc.malloc_trim(0))


def start_memory_trimmer(
    every_s: float = TRIM_EVERY_S, stop: threading.Event | None = None
) -> threading.Thread | None:
    """A daemon thread that calls ``release_free_memory`` every ``every_s`` seconds until ``stop`` is set
    (by default never: it lives as long as the server). None without glibc."""
    if _libc() is None:
        return None
    stop = stop or threading.Event()

    def trim() -> None:
        while not stop.wait(every_s):
            release_free_memory()

    thread = threading.Thread(target=trim, name="facegan-memory-trimmer", daemon=True)
    thread.start()
    return thread
