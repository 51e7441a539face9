"""facegan.memory: glibc's arena cap and trimming, which keep the server's RSS bounded."""

from __future__ import annotations

import platform

import pytest

from facegan import memory


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the calls exist only in glibc")
def test_arenas_are_capped_and_free_memory_is_returned() -> None:
    assert memory.limit_malloc_arenas() is True
    blocks = [bytearray(256 * 1024) for _ in range(200)]  # ~50 MB on the heap, then freed
    del blocks
    assert isinstance(memory.release_free_memory(), bool)
    thread = memory.start_memory_trimmer(every_s=0.01)
    assert thread is not None and thread.daemon and thread.is_alive()


def test_without_glibc_everything_is_a_no_op(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "_libc", lambda: None)
    assert memory.limit_malloc_arenas() is False and memory.release_free_memory() is False
    assert memory.start_memory_trimmer() is None
