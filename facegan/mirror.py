"""The AU tab's live webcam mirror: every frame shows the visitor's face with an expression offset added.

Per frame: the face is found near where it was in the previous frame (``FaceTracker``), it is
aligned, its AUs measured and encoded, and EGGAN renders it at its own AUs plus the chosen offsets; the
change is pasted back onto the frame. A frame without a face is shown as it came.

Frames are never queued: Gradio's webcam sends the next frame only once the previous one has come back,
so when the mirror is slower than the camera, frames are dropped at the camera.

The tab's path (``WebcamMirror.next_frame``) is a two-stage pipeline: a frame is measured (tracking, AUs,
E) while the generator renders the one before in a background thread, and the request returns that one.
The render then goes on while the browser receives it and sends the next frame, so the generator's time
overlaps the tracker's and the round trip's; the cost is one frame of delay.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from facegan.faces import PreparedFace, align_face
from facegan.faces.align import TEMPLATE_SIZE
from facegan.faces.aus import AU_NUMBERS
from facegan.faces.landmarker import Face, detect_faces, follow_face
from facegan.pipelines import AUEditor, MeasuredFace

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


class MirrorStream:
    """One visitor's stream: its face tracker and the frame the generator is rendering for it."""

    def __init__(self) -> None:
        self.tracker = FaceTracker()
        self.rendering: Future[np.ndarray] | None = None
        self.rendering_since = 0.0
        self.lock = threading.Lock()


class StreamPool:
    """At most ``size`` streams (visitors), the least recently used dropped first: a Space with many
    visitors keeps a bounded state."""

    def __init__(self, size: int = 16) -> None:
        self.size = size
        self._streams: OrderedDict[str, MirrorStream] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> MirrorStream:
        with self._lock:
            stream = self._streams.pop(key, None) or MirrorStream()
            self._streams[key] = stream
            while len(self._streams) > self.size:
                self._streams.popitem(last=False)
            return stream

    def __len__(self) -> int:
        return len(self._streams)


class WebcamMirror:
    """Frames in, frames with the expression offset out (see the module docstring)."""

    RENDER_THREADS = 2
    """Background renders at a time, for all streams together."""
    STALE_S = 1.0
    """A stream's render older than this belongs to an earlier stream of the visitor (the camera was
    stopped and started again): it is not shown."""

    def __init__(self, editor: AUEditor, streams: StreamPool | None = None) -> None:
        self.editor = editor
        self.streams = streams or StreamPool()
        self._renderer = ThreadPoolExecutor(self.RENDER_THREADS, thread_name_prefix="mirror-render")

    def _measure(self, rgb: np.ndarray, tracker: FaceTracker) -> MeasuredFace | None:
        face = tracker.track(rgb)
        if face is None:
            return None
        prepared = PreparedFace(photo=rgb, face=face, aligned=align_face(rgb, face.points68, TEMPLATE_SIZE))
        return self.editor.measure(prepared)

    def _render(
        self, rgb: np.ndarray, face: MeasuredFace | None, change: np.ndarray, keep_detail: bool
    ) -> np.ndarray:
        return rgb if face is None else self.editor.edit_measured(face, change, keep_detail).photo

    def frame(
        self, rgb: np.ndarray, change: np.ndarray, stream: str = "default", keep_detail: bool = True
    ) -> np.ndarray:
        """``rgb`` (HxWx3 uint8) with the tracked face's AUs moved by ``change`` (17 values), computed now."""
        return self._render(rgb, self._measure(rgb, self.streams.get(stream).tracker), change, keep_detail)

    def next_frame(
        self, rgb: np.ndarray, change: np.ndarray, stream: str = "default", keep_detail: bool = True
    ) -> np.ndarray:
        """The pipelined ``frame``: measures ``rgb``, hands it to the background renderer and returns the
        mirror of the stream's previous frame (the first frame of a stream comes back as it is)."""
        state = self.streams.get(stream)
        with state.lock:
            face = self._measure(rgb, state.tracker)  # while the previous frame renders
            now = time.monotonic()
            previous = state.rendering if now - state.rendering_since < self.STALE_S else None
            state.rendering = self._renderer.submit(self._render, rgb, face, change, keep_detail)
            state.rendering_since = now
        return rgb if previous is None else previous.result()


def offsets_summary(offsets: Mapping[str, Mapping[int, float]] = MIRROR_OFFSETS) -> str:
    """One line per choice, e.g. ``+smile: AU6 +2, AU12 +3`` (shown under the mirror)."""
    return "; ".join(
        f"{name}: " + ", ".join(f"AU{number} +{value:g}" for number, value in changes.items())
        for name, changes in offsets.items()
    )
