"""GeneGAN tab: swap, remove or interpolate one attribute between faces (paper 003)."""

from __future__ import annotations

from facegan.ui.common import checkpoint_or_notice, not_wired_notice

DESCRIPTION = (
    "GeneGAN splits a face into an attribute code (e.g. the smile) and everything else. Give two "
    "faces to swap the attribute between them, one face to remove it, or four faces to see a "
    "bilinear grid that blends their attribute codes. One checkpoint is trained per attribute, "
    "named `genegan_<attribute>.safetensors` (e.g. `genegan_smiling.safetensors`)."
)


def build_tab() -> None:
    """Lay out the tab's contents; must be called inside a ``gr.Tab``."""
    checkpoint = checkpoint_or_notice(
        "genegan_*.safetensors", "python -m facegan.train genegan", DESCRIPTION
    )
    if checkpoint is not None:
        not_wired_notice(checkpoint)
