"""facegan.memory: glibc's arena cap and trimming, which keep the server's RSS bounded."""

from __future__ import annotations

import platform
import threading

import pytest

from facegan import memory


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the calls exist only in glibc")
def test_freed_heap_memory_is_returned_and_the_trimmer_stops() -> None:
    assert memory.limit_malloc_arenas() is True
    memory.release_free_memory()
    blocks = [bytearray(1024) for _ in range(100_000)]  # ~100 MB of small heap blocks (no mmap)
    del blocks
    assert memory.release_free_memory() is True  # their pages went back to the system
    stop = threading.Event()
    thread = memory.start_memory_trimmer(every_s=0.01, stop=stop)
    assert thread is not None and thread.daemon and thread.is_alive()
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()


def test_without_glibc_everything_is_a_no_op(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "_libc", lambda: None)
    assert memory.limit_malloc_arenas() is False and memory.release_free_memory() is False
    assert memory.start_memory_trimmer() is None
