"""Pairwise comparison tab: people judge two generated images side by side for user studies."""

from __future__ import annotations

import gradio as gr

DESCRIPTION = (
    "Once a study is defined, this tab shows two generated images side by side and asks which one "
    "looks more real or better matches the requested edit; answers are stored for the study's "
    "statistics."
)


def build_tab() -> None:
    """Lay out the tab's contents; must be called inside a ``gr.Tab``."""
    gr.Markdown(DESCRIPTION)
    gr.Markdown("**No study has been defined yet.**")
