"""AU editing tab: fine-grained expression editing with continuous Action Units (EGGAN, paper 001)."""

from __future__ import annotations

from facegan.ui.common import checkpoint_or_notice, not_wired_notice

DESCRIPTION = (
    "Edit a face's expression one facial Action Unit at a time. The photo's current AU intensities "
    "are estimated and shown as continuous sliders (inner brow raiser AU1, lip corner puller AU12, "
    "jaw drop AU26, ...); moving a slider regenerates the face with that intensity, EGGAN-style, "
    "keeping the person's identity."
)


def build_tab() -> None:
    """Lay out the tab's contents; must be called inside a ``gr.Tab``."""
    checkpoint = checkpoint_or_notice("eggan.safetensors", "python -m facegan.train eggan", DESCRIPTION)
    if checkpoint is not None:
        not_wired_notice(checkpoint)
