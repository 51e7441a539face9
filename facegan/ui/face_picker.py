"""The faces of an uploaded photo as numbered thumbnails, and picking one by a click or a number.

The faces are detected and aligned once per upload (Gradio gives every upload its own path), with the
group-photo search (``prepare_all_faces``), so the thumbnails' numbers, the face index and "All faces"
mean the same faces in every handler, and a click that overtakes the upload's analysis still edits the
face on screen.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import gradio as gr
import numpy as np

from facegan.faces import PreparedFace, prepare_all_faces
from facegan.faces.landmarker import numbered_face
from facegan.ui.common import RESULT_FORMAT
from facegan.validation import face_number


@lru_cache(maxsize=8)
def all_faces(photo: str) -> list[PreparedFace]:
    """Every face of the photo, largest first."""
    return prepare_all_faces(photo)


def face_of(faces: Sequence[PreparedFace], face_index: float | None) -> PreparedFace:
    """Face number ``face_index`` (0 = largest), or a sentence saying how many faces there are."""
    return numbered_face(faces, face_number(face_index))


def prepared_face(photo: str, face_index: float | None) -> PreparedFace:
    return face_of(all_faces(photo), face_index)


def face_thumbnails(photo: str | None) -> list[tuple[np.ndarray, str]] | None:
    """The detected faces as numbered thumbnails (the numbers the face index uses)."""
    if photo is None:
        return None
    return [(face.aligned.crop, str(number)) for number, face in enumerate(all_faces(photo))]


def pick_face(selected: gr.SelectData) -> int:
    """A click on a thumbnail: that face becomes the one edited."""
    return int(selected.index)


def faces_gallery(**kwargs: object) -> gr.Gallery:
    """The thumbnails' gallery, the same in every tab."""
    return gr.Gallery(
        label="Faces found (click one to edit it)", columns=6, height=110, allow_preview=False, interactive=False,
        format=RESULT_FORMAT, **kwargs,
    )  # fmt: skip
