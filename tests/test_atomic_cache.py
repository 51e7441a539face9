"""Output images are written so that a download never reads a file another request is rewriting."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
from gradio import processing_utils
from PIL import Image

from facegan.ui import atomic_cache, build_app


def reads_while_rewritten(save, tmp_path: Path, rounds: int = 300) -> list[int]:
    """Sizes seen by a reader while another thread saves the same image again and again (as two requests
    with the same result do)."""
    image = Image.fromarray(np.random.default_rng(0).integers(0, 255, (256, 256, 3), dtype=np.uint8))
    path = Path(save(image, str(tmp_path), format="jpeg"))
    stop = threading.Event()

    def rewrite() -> None:
        while not stop.is_set():
            save(image, str(tmp_path), format="jpeg")

    writer = threading.Thread(target=rewrite)
    writer.start()
    try:
        return [len(path.read_bytes()) for _ in range(rounds)]
    finally:
        stop.set()
        writer.join()


def test_a_reader_always_gets_the_whole_file(tmp_path: Path) -> None:
    sizes = reads_while_rewritten(atomic_cache.save_pil_to_cache, tmp_path)
    assert len(set(sizes)) == 1 and sizes[0] > 1000
    assert not [p for p in tmp_path.rglob(".image-*")]  # no temporary files left behind


def test_the_app_installs_it() -> None:
    build_app()
    assert processing_utils.save_pil_to_cache is atomic_cache.save_pil_to_cache


def test_files_are_readable_as_gradio_writes_them(tmp_path: Path) -> None:
    image = Image.new("RGB", (8, 8), "white")
    path = Path(atomic_cache.save_pil_to_cache(image, str(tmp_path), format="jpeg"))
    assert path.stat().st_mode & 0o777 == atomic_cache.FILE_MODE
