"""Pieces shared by the tabs, so every tab reports a missing checkpoint the same way."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from facegan.paths import REPO_ROOT, checkpoint_dir


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


def not_wired_notice(checkpoint: Path) -> None:
    """Placeholder shown when a checkpoint exists but the tab's controls have not been built yet."""
    gr.Markdown(f"Found `{checkpoint.name}`; the controls for this tab are not built yet.")
