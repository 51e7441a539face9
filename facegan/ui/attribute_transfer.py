"""Attribute transfer tab: attribute-guided face synthesis with a landmark side input (paper 000)."""

from __future__ import annotations

from facegan.ui.common import checkpoint_or_notice, not_wired_notice

DESCRIPTION = (
    "Upload a face photo and choose target attributes (smiling, eyeglasses, hair colour, ...). "
    "The generator re-synthesises the face with those attributes, conditioned on a heatmap of the "
    "face's landmarks so pose and face shape stay as they were, and pastes the result back into "
    "the original photo."
)


def build_tab() -> None:
    """Lay out the tab's contents; must be called inside a ``gr.Tab``."""
    checkpoint = checkpoint_or_notice("attrgan.safetensors", "python -m facegan.train attrgan", DESCRIPTION)
    if checkpoint is not None:
        not_wired_notice(checkpoint)
