"""The AU tab's live webcam mirror: every frame shows the visitor's face with an expression offset added.

Per frame: the face is found near where it was in the previous frame (``FaceTracker``), it is
aligned, its AUs measured and encoded, and EGGAN renders it at its own AUs plus the chosen offsets; the
change is pasted back onto the frame. A frame without a face is shown as it came.

Frames are never queued: Gradio's webcam sends the next frame only once the previous one has come back,
so when the mirror is slower than the camera, frames are dropped at the camera and latency stays one
frame's processing time.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping

import numpy as np

from facegan.faces import PreparedFace, align_face
from facegan.faces.align import TEMPLATE_SIZE
from facegan.faces.aus import AU_NUMBERS
from facegan.faces.landmarker import Face, detect_faces, follow_face
from facegan.pipelines import AUEditor

MIRROR_OFFSETS: dict[str, dict[int, float]] = {
    "+smile": {6: 2.0, 12: 3.0},
    "+surprise": {1: 3.0, 2: 3.0, 5: 2.0, 26: 2.5},
    "+frown": {4: 3.0, 15: 2.0},
    "+open mouth": {25: 3.0, 26: 3.0},
    "+sad": {1: 2.5, 4: 2.0, 15: 3.0},
}
"""The mirror's choices: AU intensity changes (FACS) added to the face's own on every frame."""


MIRROR_FRAME_S = 1 / 60
"""How often the tab's webcam looks whether it may send the newest frame (it skips while one is pending):
often, so that a frame goes out as soon as the last one is back."""


def offset_vector(name: str, strength: float = 1.0) -> np.ndarray:
    """The 17-AU change of a ``MIRROR_OFFSETS`` entry, scaled by ``strength``."""
    if name not in MIRROR_OFFSETS:
        raise ValueError(f"unknown mirror offset {name!r}; choose from {', '.join(MIRROR_OFFSETS)}")
    change = np.zeros(len(AU_NUMBERS), np.float32)
    for number, value in MIRROR_OFFSETS[name].items():
        change[AU_NUMBERS.index(number)] = value * strength
    return change


class FaceTracker:
    """One stream's face, followed from frame to frame (``follow_face``); the whole frame is searched only
    for the first face and whenever the face was lost."""

    def __init__(self) -> None:
        self._face: Face | None = None
        self._lock = threading.Lock()

    def track(self, rgb: np.ndarray) -> Face | None:
        """The face in this frame (None without one); frames of one stream are taken one at a time."""
        with self._lock:
            face = follow_face(rgb, self._face) if self._face is not None else None
            if face is None:
                found = detect_faces(rgb)
                face = found[0] if found else None
            self._face = face
            return face


class TrackerPool:
    """At most ``size`` trackers, one per stream (visitor), the least recently used dropped first: a Space
    with many visitors keeps a bounded state."""

    def __init__(self, size: int = 16) -> None:
        self.size = size
        self._trackers: OrderedDict[str, FaceTracker] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> FaceTracker:
        with self._lock:
            tracker = self._trackers.pop(key, None) or FaceTracker()
            self._trackers[key] = tracker
            while len(self._trackers) > self.size:
                self._trackers.popitem(last=False)
            return tracker

    def __len__(self) -> int:
        return len(self._trackers)


class WebcamMirror:
    """Frames in, frames with the expression offset out (see the module docstring)."""

    def __init__(self, editor: AUEditor, trackers: TrackerPool | None = None) -> None:
        self.editor = editor
        self.trackers = trackers or TrackerPool()

    def frame(
        self, rgb: np.ndarray, change: np.ndarray, stream: str = "default", keep_detail: bool = True
    ) -> np.ndarray:
        """``rgb`` (HxWx3 uint8) with the tracked face's AUs moved by ``change`` (17 values)."""
        face = self.trackers.get(stream).track(rgb)
        if face is None:
            return rgb
        prepared = PreparedFace(photo=rgb, face=face, aligned=align_face(rgb, face.points68, TEMPLATE_SIZE))
        return self.editor.edit_prepared(prepared, change, keep_detail).photo


def offsets_summary(offsets: Mapping[str, Mapping[int, float]] = MIRROR_OFFSETS) -> str:
    """One line per choice, e.g. ``+smile: AU6 +2, AU12 +3`` (shown under the mirror)."""
    return "; ".join(
        f"{name}: " + ", ".join(f"AU{number} +{value:g}" for number, value in changes.items())
        for name, changes in offsets.items()
    )
