"""The 68-point iBUG/Multi-PIE layout as a view of MediaPipe's 478-point face mesh.

Each iBUG point is the mean of one or two mesh vertices chosen on MediaPipe's canonical face model
(jaw contour, brows, nose bridge and base, eye lids, outer and inner lips), so every backend can
speak the same 68-point language that heatmaps and alignment use.
"""

from __future__ import annotations

import numpy as np

MESH_TO_IBUG68: tuple[tuple[int, ...], ...] = (
    # 0-16 jaw, from the subject's right ear (image left) over the chin to the left ear
    (127,), (234,), (93,), (132, 58), (58, 172), (136,), (150,), (176,), (152,),
    (400,), (379,), (365,), (397, 288), (361,), (323,), (454,), (356,),
    # 17-21 right brow, 22-26 left brow (outer to inner, then inner to outer)
    (70,), (63,), (105,), (66,), (107,),
    (336,), (296,), (334,), (293,), (300,),
    # 27-30 nose bridge down to the tip, 31-35 nostril base
    (168,), (197,), (5,), (4,),
    (75,), (97,), (2,), (326,), (305,),
    # 36-41 right eye, 42-47 left eye (outer corner first, clockwise in the image)
    (33,), (160,), (158,), (133,), (153,), (144,),
    (362,), (385,), (387,), (263,), (373,), (380,),
    # 48-59 outer lips, 60-67 inner lips
    (61,), (39,), (37,), (0,), (267,), (269,), (291,), (405,), (314,), (17,), (84,), (181,),
    (78,), (82,), (13,), (312,), (308,), (317,), (14,), (87,),
)

JAW = slice(0, 17)
RIGHT_BROW = slice(17, 22)
LEFT_BROW = slice(22, 27)
NOSE = slice(27, 36)
RIGHT_EYE = slice(36, 42)
LEFT_EYE = slice(42, 48)
MOUTH = slice(48, 68)
INNER_MOUTH = slice(60, 68)

HORIZONTAL_FLIP = np.array(
    list(range(16, -1, -1))
    + list(range(26, 16, -1))
    + [27, 28, 29, 30, 35, 34, 33, 32, 31]
    + [45, 44, 43, 42, 47, 46, 39, 38, 37, 36, 41, 40]
    + [54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55]
    + [64, 63, 62, 61, 60, 67, 66, 65]
)
"""Index permutation that maps a mirrored face's points back to iBUG order (for flip augmentation)."""


_FIRST = np.array([ids[0] for ids in MESH_TO_IBUG68])
_SECOND = np.array([ids[-1] for ids in MESH_TO_IBUG68])  # the same vertex again for single-vertex points


def mesh_to_ibug68(mesh: np.ndarray) -> np.ndarray:
    """(478|468, D) mesh vertices -> (68, D) iBUG points (two gathers, not 68 small means: this runs for
    every detection, under load, beside other requests' Python)."""
    mesh = np.asarray(mesh)
    return (mesh[_FIRST] + mesh[_SECOND]) / 2

