"""Where data, checkpoints and downloaded model files live.

Every command takes ``--data DIR``; without it ``FACEGAN_DATA`` is used, then ``../shared/data``
next to the repository, so the same command runs on any copy of the shared layout.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DIR = REPO_ROOT.parent / "shared"
CHECKPOINT_DIR = REPO_ROOT / "checkpoints"
# Example inputs the app ships (redistributable; see its README.md).
UI_EXAMPLES_DIR = REPO_ROOT / "facegan" / "ui" / "examples"
GROUP_PHOTO = str(UI_EXAMPLES_DIR / "group.jpg")
"""Both public-domain example portraits side by side: the face tabs' group-photo example
(``python benchmarks/group_photo.py``)."""


def data_dir(explicit: str | os.PathLike | None = None) -> Path:
    """Dataset root in the layout of shared/data (celeba/, scenes/, sounds/)."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get("FACEGAN_DATA")
    if env:
        return Path(env).expanduser()
    return SHARED_DIR / "data"


def cache_dir() -> Path:
    """Per-user cache for downloaded model files and derived annotations (never inside the repo)."""
    env = os.environ.get("FACEGAN_CACHE")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "facegan"


def checkpoint_dir() -> Path:
    """Directory of shipped generator checkpoints; ``FACEGAN_CHECKPOINTS`` overrides it (tests, Spaces)."""
    env = os.environ.get("FACEGAN_CHECKPOINTS")
    return Path(env).expanduser() if env else CHECKPOINT_DIR
