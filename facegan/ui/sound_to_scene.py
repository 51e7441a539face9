"""Sound to scene tab: generate a scene photo from a sound clip (paper 004)."""

from __future__ import annotations

from facegan.ui.common import checkpoint_or_notice, not_wired_notice

DESCRIPTION = (
    "Upload or record a sound (sea waves, rain, a siren, a jackhammer, ...) and the generator "
    "draws a 64x64 scene it suggests: sea, forest, street, buildings or mountains. A volume slider "
    "scales the sound's loudness so you can see how the scene changes with it."
)


def build_tab() -> None:
    """Lay out the tab's contents; must be called inside a ``gr.Tab``."""
    checkpoint = checkpoint_or_notice(
        "audiogan.safetensors", "python -m facegan.train audiogan", DESCRIPTION
    )
    if checkpoint is not None:
        not_wired_notice(checkpoint)
