"""Facial Action Unit intensities (0-5, OpenFace's scale) from MediaPipe's 52 blendshapes.

EGGAN annotated 17 AUs with OpenFace; we use MediaPipe's ARKit-style blendshapes instead, which are
defined by the same facial muscle movements. Each AU is the mean of its left/right blendshape scores
(0-1), divided by a saturation score and scaled to 0-5. AU25 (lips part) has no blendshape of its
own: it is measured geometrically as the inner-lip gap relative to the inter-ocular distance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from facegan.faces.ibug68 import eye_centres


@dataclass(frozen=True)
class ActionUnit:
    number: int
    name: str
    blendshapes: tuple[str, ...]
    saturation: float = 1.0
    """Blendshape score that counts as the maximum intensity 5."""


ACTION_UNITS: tuple[ActionUnit, ...] = (
    ActionUnit(1, "Inner brow raiser", ("browInnerUp",)),
    ActionUnit(2, "Outer brow raiser", ("browOuterUpLeft", "browOuterUpRight")),
    ActionUnit(4, "Brow lowerer", ("browDownLeft", "browDownRight")),
    ActionUnit(5, "Upper lid raiser", ("eyeWideLeft", "eyeWideRight")),
    ActionUnit(6, "Cheek raiser", ("cheekSquintLeft", "cheekSquintRight")),
    ActionUnit(7, "Lid tightener", ("eyeSquintLeft", "eyeSquintRight")),
    ActionUnit(9, "Nose wrinkler", ("noseSneerLeft", "noseSneerRight")),
    ActionUnit(10, "Upper lip raiser", ("mouthUpperUpLeft", "mouthUpperUpRight")),
    ActionUnit(12, "Lip corner puller", ("mouthSmileLeft", "mouthSmileRight")),
    ActionUnit(14, "Dimpler", ("mouthDimpleLeft", "mouthDimpleRight")),
    ActionUnit(15, "Lip corner depressor", ("mouthFrownLeft", "mouthFrownRight")),
    ActionUnit(17, "Chin raiser", ("mouthShrugLower",)),
    ActionUnit(20, "Lip stretcher", ("mouthStretchLeft", "mouthStretchRight")),
    ActionUnit(23, "Lip tightener", ("mouthPressLeft", "mouthPressRight")),
    ActionUnit(25, "Lips part", ()),
    ActionUnit(26, "Jaw drop", ("jawOpen",)),
    ActionUnit(45, "Blink", ("eyeBlinkLeft", "eyeBlinkRight")),
)
AU_NUMBERS: tuple[int, ...] = tuple(au.number for au in ACTION_UNITS)
AU_MAX = 5.0
LIPS_PART_SATURATION = 0.5
"""Inner-lip gap, in inter-ocular distances, that counts as AU25 at intensity 5 (a wide-open mouth)."""


def lips_part_score(points68: np.ndarray) -> float:
    """Mean vertical gap between the inner lips over the inter-ocular distance (0 when closed)."""
    right_eye, left_eye = eye_centres(points68)
    iod = float(np.linalg.norm(left_eye - right_eye))
    upper, lower = points68[[61, 62, 63]], points68[[67, 66, 65]]
    gap = float(np.linalg.norm(lower - upper, axis=1).mean())
    return gap / iod if iod > 0 else 0.0


def estimate_aus(blendshapes: dict[str, float], points68: np.ndarray) -> np.ndarray:
    """The 17 EGGAN AU intensities, in ``AU_NUMBERS`` order, each in [0, 5]."""
    values = []
    for au in ACTION_UNITS:
        if au.blendshapes:
            score = float(np.mean([blendshapes.get(name, 0.0) for name in au.blendshapes]))
            values.append(score / au.saturation)
        else:
            values.append(lips_part_score(points68) / LIPS_PART_SATURATION)
    return np.clip(np.asarray(values, dtype=np.float32) * AU_MAX, 0.0, AU_MAX)
