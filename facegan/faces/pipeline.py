"""One call from an upload to everything a face tab needs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from facegan.faces.align import TEMPLATE_SIZE, AlignedFace, align_face, paste_back
from facegan.faces.aus import estimate_aus
from facegan.faces.image_io import ImageInput, load_image
from facegan.errors import NoFaceError
from facegan.faces.landmarker import (
    NO_FACE_MESSAGE,
    SAME_FACE_IOU,
    Face,
    box_iou,
    detect_face,
    detect_faces,
    follow_face,
)


@dataclass(frozen=True)
class PreparedFace:
    """The upright photo, the chosen face in it and its aligned crop."""

    photo: np.ndarray
    face: Face
    aligned: AlignedFace

    def aus(self) -> np.ndarray:
        """17 AU intensities measured on the photo (needs the MediaPipe backend's blendshapes)."""
        return estimate_aus(self.face.blendshapes, self.face.points68)

    def paste(self, edited_crop: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        """The full photo with ``edited_crop`` blended in where the face was."""
        return paste_back(self.photo, edited_crop, self.aligned, mask)


def prepare_face(
    image: ImageInput, face_index: int = 0, size: int = TEMPLATE_SIZE, backend: str = "mediapipe"
) -> PreparedFace:
    """Load, detect (largest face unless ``face_index`` says otherwise) and align."""
    photo = load_image(image)
    face = detect_face(photo, face_index, backend)
    return PreparedFace(photo=photo, face=face, aligned=align_face(photo, face.points68, size))


def prepare_all_faces(
    image: ImageInput, size: int = TEMPLATE_SIZE, backend: str = "mediapipe"
) -> list[PreparedFace]:
    """Every face in the photo, largest first, each aligned (a group photo's edits start here)."""
    photo = load_image(image)
    faces = detect_faces(photo, backend, every_face=True)
    if not faces:
        raise NoFaceError(NO_FACE_MESSAGE)
    return [PreparedFace(photo=photo, face=face, aligned=align_face(photo, face.points68, size)) for face in faces]


def prepare_faces_numbered_as(image: ImageInput, numbered: Sequence[PreparedFace]) -> list[PreparedFace]:
    """The faces of ``image``, an edit of the photo whose faces are ``numbered``, under the same numbers.

    Stacked edits find the faces again on each result (an AU step must measure the expression the last
    step made). Edits do not move faces, but they can change which of two similar faces is the larger,
    so faces are paired by overlap (the largest overlaps first, each detection used once), not by size
    rank. A face the group search no longer finds is looked for in a window around where it was, and
    failing that keeps its landmarks from before.
    """
    photo = load_image(image)
    found = detect_faces(photo, every_face=True)
    overlaps = [
        (box_iou(face.box, before.face.box), n, k) for n, before in enumerate(numbered) for k, face in enumerate(found)
    ]
    matched: dict[int, int] = {}  # number -> index in found
    for overlap, n, k in sorted(overlaps, reverse=True):
        if overlap >= SAME_FACE_IOU and n not in matched and k not in matched.values():
            matched[n] = k
    faces = []
    for n, before in enumerate(numbered):
        face = found[matched[n]] if n in matched else follow_face(photo, before.face) or before.face
        aligned = align_face(photo, face.points68, before.aligned.size)
        faces.append(PreparedFace(photo=photo, face=face, aligned=aligned))
    return faces
