"""Gradio's output-image cache written atomically.

Gradio saves every output image to ``<cache>/<sha of its bytes>/image.<format>`` with ``write_bytes``, which
truncates the file before writing it. Two requests that produce the same image at the same moment (two
visitors on the same example, with requests side by side) therefore truncate a file while the first one is
being downloaded, and that download ends empty: 17 of 551 requests of ``benchmarks/serve_load.py`` did.
Here the bytes go to a temporary file in the same folder and are renamed over the target, which is atomic:
a download that has opened the file keeps reading complete bytes.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from gradio import processing_utils
from PIL import Image

FILE_MODE = 0o644
"""What Gradio's own ``write_bytes`` gives under the usual umask: readable by other local users."""


def save_pil_to_cache(img: Image.Image, cache_dir: str, name: str = "image", format: str = "webp") -> str:  # noqa: A002
    """``gradio.processing_utils.save_pil_to_cache``, with the file replaced atomically."""
    data = processing_utils.encode_pil_to_bytes(img, format)
    folder = Path(cache_dir) / processing_utils.hash_bytes(data)
    folder.mkdir(exist_ok=True, parents=True)
    target = (folder / f"{name}.{format}").resolve()
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{name}-")
    try:
        with os.fdopen(handle, "wb") as file:
            os.fchmod(file.fileno(), FILE_MODE)  # mkstemp's 0600 would hide the file from a proxy or CDN
            file.write(data)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return str(target)


def install() -> None:
    """Make Gradio's components (``Image``, ``Gallery``, ...) save output images with ``save_pil_to_cache``."""
    processing_utils.save_pil_to_cache = save_pil_to_cache
