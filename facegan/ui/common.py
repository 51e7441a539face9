"""Pieces shared by the tabs, so every tab reports a missing checkpoint the same way."""

from __future__ import annotations

import functools
import html
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec, TypeVar

import gradio as gr
import numpy as np
from gradio.data_classes import ImageData
from PIL import Image

from facegan.errors import UserError
from facegan.paths import REPO_ROOT, checkpoint_dir

DISPLAY_SIZE = 256
EDIT_STATE_TTL_S = 7200
"""A visitor's encoded photos and edit history stay in memory this long after they were made (Gradio counts
from the last time a handler wrote them): two hours of editing one upload, then it is asked for again."""
EXPORT_TTL_S = 3600.0
"""Files handed to a visitor (exports, recipes, animations) are temporary; older ones go on the next export."""


RESULT_FORMAT = "jpeg"
"""How result images travel to the browser and API. Gradio's default, WebP, took a fifth of the server's CPU
under load (70 ms for a 512x600 photo here, against 1.3 ms for JPEG): ``python benchmarks/serve_load.py``."""


def result_image(label: str, **kwargs: object) -> gr.Image:
    """An output image (not editable by the visitor) sent as JPEG."""
    return gr.Image(label=label, interactive=False, format=RESULT_FORMAT, **kwargs)


def session_state(value: object = None) -> gr.State:
    """Per-visitor state that holds images or tensors: dropped after ``EDIT_STATE_TTL_S`` without a change,
    so a Space's memory follows its active visitors, not every visitor since it started."""
    return gr.State(value, time_to_live=EDIT_STATE_TTL_S)


def export_folder(prefix: str, now: float | None = None) -> Path:
    """A new temporary folder for files handed to a visitor. Folders of the same ``prefix`` older than
    ``EXPORT_TTL_S`` are deleted first: their files were downloaded by then, or never will be."""
    now = time.time() if now is None else now
    for folder in Path(tempfile.gettempdir()).glob(f"{prefix}*"):
        try:
            if folder.is_dir() and now - folder.stat().st_mtime > EXPORT_TTL_S:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:  # another visitor's export removed it first
            continue
    return Path(tempfile.mkdtemp(prefix=prefix))


def for_display(image: np.ndarray | None, size: int = DISPLAY_SIZE) -> np.ndarray | None:
    """Enlarge a small model output (64 or 128 px) so the browser shows it at a viewable size."""
    if image is None or image.shape[0] >= size:
        return image
    return np.asarray(Image.fromarray(image).resize((size, size), Image.Resampling.BICUBIC))

_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")


def escape_markdown(text: str) -> str:
    """Text from a URL, an upload or a study definition, made inert for a ``gr.Markdown``: HTML is
    escaped (no injected tags or forms) and Markdown syntax is backslash-escaped (no injected links,
    images or headings)."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", html.escape(text, quote=False))


P = ParamSpec("P")
R = TypeVar("R")


def user_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Show input problems as a Gradio error toast (and API error message) instead of a stack trace."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except (UserError, ValueError) as exc:
            raise gr.Error(str(exc)) from exc

    return wrapper


def find_checkpoint(pattern: str) -> Path | None:
    """First file in ``checkpoint_dir()`` matching a glob (e.g. ``genegan_*.safetensors``), or None."""
    matches = sorted(checkpoint_dir().glob(pattern))
    return matches[0] if matches else None


def _shown_path(pattern: str) -> str:
    """The checkpoint's expected path as a user would type it: repo-relative when inside the repo."""
    path = checkpoint_dir().resolve() / pattern
    try:
        return path.relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return path.as_posix()


def checkpoint_or_notice(pattern: str, train_command: str, description: str) -> Path | None:
    """Describe the tab; return its checkpoint, or show how to train it and return None.

    Tabs call this first so a missing generator gives a readable notice instead of a crash.
    """
    gr.Markdown(description)
    checkpoint = find_checkpoint(pattern)
    if checkpoint is None:
        gr.Markdown(
            f"**Not available yet.** This tab needs the checkpoint `{_shown_path(pattern)}`, which has "
            f"not been trained yet. Train it with `{train_command}`, or set `FACEGAN_CHECKPOINTS` to a "
            "folder that has it."
        )
    return checkpoint


PHOTO_SOURCES = ["upload", "webcam", "clipboard"]


def _uploaded_file(gradio_preprocess: Callable[[ImageData | None], object], payload: ImageData | None) -> object:
    """The uploaded file's own path, where Gradio would first open it with Pillow.

    Gradio's preprocessing opens every upload, so an empty or non-image file failed inside Gradio with
    no message; given the path, the app's loader (``facegan.faces.load_image``) says what is wrong.
    """
    if payload is not None and payload.path is not None:
        return str(payload.path)
    return gradio_preprocess(payload)


def photo_input(label: str, sources: list[str] | None = None, **kwargs: object) -> gr.Image:
    """An image upload whose handler gets the uploaded file itself.

    Gradio neither decodes nor converts the upload before the app sees it: the app's own loader
    (``facegan.faces.load_image``) then handles 16-bit, greyscale and EXIF-rotated files, names empty
    and non-image files, and refuses decompression bombs from the header instead of after a full decode.
    The override is per instance: a ``gr.Image`` subclass would make Gradio write a ``.pyi`` stub next
    to this module on every import.
    """
    component = gr.Image(label=label, type="filepath", image_mode=None, sources=sources or PHOTO_SOURCES, **kwargs)
    component.preprocess = functools.partial(_uploaded_file, component.preprocess)  # type: ignore[method-assign]
    return component
