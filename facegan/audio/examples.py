"""The app's example sounds: real recordings from the held-out folds, with their credits.

Each is a clip the models never trained on (UrbanSound8K fold 3, ESC-10 fold 4), copied from the
shared clips (16 kHz mono Ogg Vorbis, as the project stores them). They were chosen among the
held-out clips the shipped model classifies correctly, one or two per scene, because a visitor's
first try should show what the tab does; ``python -m facegan.eval audiogan`` reports what the
current model makes of each. Licences: ESC-10 is CC BY 3.0 (Piczak 2015), UrbanSound8K
CC BY-NC 3.0 (Salamon, Jacoby and Bello 2014), both from freesound.org clips; the credits are shown
in the tab and in ``facegan/ui/examples/README.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from facegan.audio.data import freesound_id
from facegan.paths import UI_EXAMPLES_DIR


@dataclass(frozen=True)
class ExampleSound:
    file: str
    label: str
    """The sound class of the recording (its dataset label)."""
    dataset: str
    source_clip: str
    """Path in the shared clips (``../shared/data/sounds``)."""
    freesound_id: int
    licence: str

    @property
    def path(self) -> Path:
        return UI_EXAMPLES_DIR / self.file

    @property
    def credit(self) -> str:
        name = self.label.replace("_", " ")
        return f"{name}: freesound.org clip {self.freesound_id}, via {self.dataset}, {self.licence}"


def _esc10(label: str, clip: str) -> ExampleSound:
    """An ESC-10 clip; its file name ``esc10-<fold>-<freesound id>-<take>`` carries the freesound id."""
    return ExampleSound(f"sound_{label}.ogg", label, "ESC-10", f"{label}/{clip}", freesound_id(clip), "CC BY 3.0")


def _urbansound(label: str, clip: str) -> ExampleSound:
    """An UrbanSound8K clip; its file name ``us8k-<freesound id>-<class>-...`` carries the freesound id."""
    return ExampleSound(
        f"sound_{label}.ogg", label, "UrbanSound8K", f"{label}/{clip}", freesound_id(clip), "CC BY-NC 3.0"
    )


EXAMPLE_SOUNDS: tuple[ExampleSound, ...] = (
    _esc10("sea_waves", "esc10-4-182613-B.ogg"),
    _esc10("rain", "esc10-4-181286-A.ogg"),
    _esc10("crackling_fire", "esc10-4-171207-A.ogg"),
    _urbansound("car_horn", "us8k-175854-1-0-0.ogg"),
    _urbansound("siren", "us8k-121528-8-1-1.ogg"),
    _urbansound("jackhammer", "us8k-165039-7-17-0.ogg"),
    _esc10("helicopter", "esc10-4-161579-B.ogg"),
)
