"""Face detection and landmarks: MediaPipe Face Landmarker by default, face-alignment optionally.

Both backends return ``Face`` records with the same 68-point iBUG view, so alignment, heatmaps and
AU estimation never care which one ran.
"""

from __future__ import annotations

import hashlib
import os
import queue
import tempfile
import threading
import urllib.request
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Iterator, Sequence
from typing import Any, Protocol, TypeVar

import numpy as np

from facegan.cores import usable_cores
from facegan.errors import FaceIndexError, ModelFileMissingError, NoFaceError
from facegan.faces.ibug68 import mesh_to_ibug68
from facegan.paths import SHARED_DIR, cache_dir

os.environ.setdefault("GLOG_minloglevel", "2")

LANDMARKER_FILE = "face_landmarker.task"
LANDMARKER_URL = (
    "https://storage.googleapis.com/mediapipe-models/face_landmarker/face_landmarker/float16/1/"
    + LANDMARKER_FILE
)
LANDMARKER_SHA256 = "64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff"
MAX_FACES = 8
Box = tuple[float, float, float, float]
"""x0, y0, x1, y1 in photo pixels."""


@dataclass(frozen=True)
class Face:
    """One detected face in photo pixel coordinates (OpenCV convention: pixel centres at integers)."""

    points68: np.ndarray
    box: Box
    blendshapes: dict[str, float] = field(default_factory=dict)
    mesh: np.ndarray | None = None

    @property
    def area(self) -> float:
        x0, y0, x1, y1 = self.box
        return (x1 - x0) * (y1 - y0)

    def shifted(self, dx: float, dy: float) -> "Face":
        """The same face in the coordinates of a larger image whose (dx, dy) is this one's origin."""
        offset = np.array([dx, dy])
        mesh = None
        if self.mesh is not None:
            mesh = self.mesh.copy()
            mesh[:, :2] += offset
        x0, y0, x1, y1 = self.box
        return Face(self.points68 + offset, (x0 + dx, y0 + dy, x1 + dx, y1 + dy), self.blendshapes, mesh)


class LandmarkBackend(Protocol):
    """Anything that finds faces in an RGB uint8 array."""

    name: str

    def detect(self, rgb: np.ndarray) -> list[Face]: ...

    def detect_boxes(self, rgb: np.ndarray) -> list[Box]:
        """Where faces are, as cheaply as the backend can say it."""
        ...


def find_landmarker_model(allow_download: bool = True) -> Path:
    """Locate the MediaPipe model: env var, project cache, ../shared/models, then the official URL."""
    explicit = os.environ.get("FACEGAN_FACE_LANDMARKER")
    if explicit:
        path = Path(explicit).expanduser()
        if path.is_file():
            return path
        raise ModelFileMissingError(
            f"FACEGAN_FACE_LANDMARKER points to {path}, which does not exist. Fix the variable or "
            f"unset it to use the default locations."
        )
    candidates = [cache_dir() / "models" / LANDMARKER_FILE, SHARED_DIR / "models" / LANDMARKER_FILE]
    for path in candidates:
        if path.is_file():
            return path
    if allow_download and os.environ.get("FACEGAN_OFFLINE", "") not in ("1", "true", "yes"):
        try:
            return _download(LANDMARKER_URL, candidates[0], LANDMARKER_SHA256)
        except OSError as exc:
            reason = f" (download failed: {exc})"
    else:
        reason = " (downloads are disabled)"
    raise ModelFileMissingError(
        "The MediaPipe face landmark model was not found" + reason + ". Download "
        f"{LANDMARKER_URL} and either put it at {candidates[0]} or point the environment variable "
        "FACEGAN_FACE_LANDMARKER to it."
    )


def _download(url: str, target: Path, sha256: str) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    with urllib.request.urlopen(url, timeout=30) as response:
        payload = response.read()
    if hashlib.sha256(payload).hexdigest() != sha256:
        raise OSError(f"checksum mismatch for {url}")
    with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as handle:
        handle.write(payload)
    os.replace(handle.name, target)
    return target


class _Pool:
    """Objects that run one call at a time, lent one per thread: a free one, a new one while fewer than
    ``size`` exist, or the next one given back."""

    def __init__(self, make: Any, size: int) -> None:
        self._make, self.size = make, size
        self._free: queue.SimpleQueue = queue.SimpleQueue()
        self._free.put(make())  # the first one now: a broken model file fails here
        self.made = 1
        self.closed = False
        self._lock = threading.Lock()

    @contextmanager
    def borrow(self) -> Iterator:
        if self.closed:
            raise RuntimeError("this landmarker backend was closed")
        try:
            item = self._free.get_nowait()
        except queue.Empty:
            with self._lock:
                make = self.made < self.size
                self.made += make
            item = self._make_in_slot() if make else self._free.get()
        try:
            yield item
        finally:
            self._free.put(item)

    def _make_in_slot(self) -> Any:
        """A new object for a slot already counted in ``made``; the slot is freed if making it fails."""
        try:
            return self._make()
        except Exception:
            with self._lock:  # the slot was never filled: another thread may make one later
                self.made -= 1
            raise

    def close(self) -> None:
        self.closed = True
        while not self._free.empty():
            self._free.get_nowait().close()


class MediaPipeBackend:
    """MediaPipe Face Landmarker (Tasks API): detector, 478-point mesh and 52 blendshapes.

    A landmarker runs one image at a time, so requests side by side each borrow their own: up to
    ``instances`` (default: one per core) are made as they are needed. Two requests on two cores then
    detect in 10.4 ms per image instead of 17.9 ms sharing one. The landmarker's own face detector, read
    from the same bundle, also runs alone (``detect_boxes``): the group-photo search scans tiles with it
    (5 ms a tile) and runs the landmarker only where it found a face.
    """

    name = "mediapipe"
    DETECTOR_IN_BUNDLE = "face_detector.tflite"

    def __init__(
        self, model_path: str | os.PathLike | None = None, max_faces: int = MAX_FACES, instances: int | None = None
    ):
        from mediapipe.tasks.python import BaseOptions, vision

        path = Path(model_path) if model_path else find_landmarker_model()
        self._options = vision.FaceLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(path)),
            running_mode=vision.RunningMode.IMAGE,
            num_faces=max_faces,
            output_face_blendshapes=True,
        )
        self._detector_options = vision.FaceDetectorOptions(
            base_options=BaseOptions(model_asset_buffer=_bundled_detector(path)),
            running_mode=vision.RunningMode.IMAGE,
        )
        self.instances = instances or usable_cores()
        self._landmarkers = _Pool(lambda: vision.FaceLandmarker.create_from_options(self._options), self.instances)
        self._detectors = _Pool(lambda: vision.FaceDetector.create_from_options(self._detector_options), self.instances)

    @property
    def made(self) -> int:
        """Landmarkers made so far (at most ``instances``)."""
        return self._landmarkers.made

    def detect(self, rgb: np.ndarray) -> list[Face]:
        height, width = rgb.shape[:2]
        with self._landmarkers.borrow() as landmarker:
            result = landmarker.detect(_mp_image(rgb))
        faces = []
        for index, marks in enumerate(result.face_landmarks):
            mesh = np.array([(p.x * width - 0.5, p.y * height - 0.5, p.z * width) for p in marks])
            points = mesh_to_ibug68(mesh[:, :2])
            shapes = {c.category_name: float(c.score) for c in result.face_blendshapes[index]}
            faces.append(Face(points68=points, box=_box(mesh[:, :2]), blendshapes=shapes, mesh=mesh))
        return faces

    def detect_boxes(self, rgb: np.ndarray) -> list[Box]:
        """Face boxes from the detector alone: a fifth of ``detect``'s cost where there is a face."""
        with self._detectors.borrow() as detector:
            result = detector.detect(_mp_image(rgb))
        boxes = [d.bounding_box for d in result.detections]
        return [(b.origin_x, b.origin_y, b.origin_x + b.width, b.origin_y + b.height) for b in boxes]

    def close(self) -> None:
        """Close the models; call it when no detection is running (``detect`` refuses afterwards)."""
        self._landmarkers.close()
        self._detectors.close()


def _mp_image(rgb: np.ndarray) -> Any:
    import mediapipe as mp  # imported only where it is used: it is slow to import

    return mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))


def _bundled_detector(bundle: Path) -> bytes:
    """The face detector inside a MediaPipe face landmarker ``.task`` bundle (a zip archive)."""
    try:
        with zipfile.ZipFile(bundle) as archive:
            return archive.read(MediaPipeBackend.DETECTOR_IN_BUNDLE)
    except (zipfile.BadZipFile, KeyError) as exc:
        raise ModelFileMissingError(
            f"{bundle} is not a MediaPipe face landmarker bundle with {MediaPipeBackend.DETECTOR_IN_BUNDLE} "
            f"inside ({exc}); use the official {LANDMARKER_FILE} ({LANDMARKER_URL})."
        ) from exc


class FaceAlignmentBackend:
    """Bulat & Tzimiropoulos' FAN (``face-alignment``): native 68 points, no blendshapes."""

    name = "face-alignment"
    WEIGHT_FILES = ("2DFAN4-11f355bf06.pth.tar", "s3fd-619a316812.pth")

    def __init__(self, device: str = "cpu"):
        if not self.available():
            raise ModelFileMissingError(
                "The face-alignment backend needs the package and its weights "
                f"({', '.join(self.WEIGHT_FILES)}) in torch's hub cache; run it once online."
            )
        import face_alignment

        self._model = face_alignment.FaceAlignment(
            face_alignment.LandmarksType.TWO_D, device=device, compile=False
        )

    @classmethod
    def available(cls) -> bool:
        try:
            import face_alignment  # noqa: F401
            import torch.hub
        except ImportError:
            return False
        hub = Path(torch.hub.get_dir()) / "checkpoints"
        return all((hub / name).is_file() for name in cls.WEIGHT_FILES)

    def detect(self, rgb: np.ndarray) -> list[Face]:
        found = self._model.get_landmarks_from_image(rgb) or []
        return [Face(points68=np.asarray(p, dtype=np.float64)[:, :2], box=_box(p[:, :2])) for p in found]

    def detect_boxes(self, rgb: np.ndarray) -> list[Box]:
        return [face.box for face in self.detect(rgb)]


def _box(points: np.ndarray) -> Box:
    x0, y0 = points.min(axis=0)
    x1, y1 = points.max(axis=0)
    return float(x0), float(y0), float(x1), float(y1)


_BACKENDS: dict[str, LandmarkBackend] = {}
_BACKENDS_LOCK = threading.Lock()


def get_backend(name: str = "mediapipe") -> LandmarkBackend:
    """Shared backend instance per name: loading a model once per process is the expensive part."""
    with _BACKENDS_LOCK:
        if name not in _BACKENDS:
            if name == "mediapipe":
                _BACKENDS[name] = MediaPipeBackend()
            elif name == "face-alignment":
                _BACKENDS[name] = FaceAlignmentBackend()
            else:
                raise ValueError(f"unknown landmark backend {name!r}")
        return _BACKENDS[name]


def detect_faces(rgb: np.ndarray, backend: str = "mediapipe", every_face: bool = False) -> list[Face]:
    """All faces in the photo, largest first.

    MediaPipe's detector sees the whole photo at 128x128, so faces smaller than about a sixth of the
    photo are missed; when nothing is found we search overlapping tiles of 1/2, then 1/4 of the
    photo's size (at most 58 extra detector passes, and only for photos where the first pass found
    nothing). ``every_face`` (group photos) always searches the half-size tiles too (9 detector passes
    at most) and adds the faces they find: two people side by side are each too small for the
    whole-photo pass. The tiles are scanned by the detector alone, and landmarks are found in a window
    around each new face. The largest face comes first either way.
    """
    model = get_backend(backend)
    long_side = max(rgb.shape[:2])
    faces = [_refine(model, rgb, f) if _side(f) * REFINE_WINDOW < long_side else f for f in model.detect(rgb)]
    if every_face:
        faces = _suppress_duplicates(faces + _faces_in_tiles(model, rgb, TILE_FRACTIONS[0], faces))
    for fraction in TILE_FRACTIONS[1:] if every_face else TILE_FRACTIONS:
        if faces:
            break
        faces = _faces_in_tiles(model, rgb, fraction, [])
    return sorted(faces, key=lambda f: f.area, reverse=True)


REFINE_WINDOW = 3.0
"""Faces smaller than 1/3 of the photo get their landmarks again from a window 3x their size: the
landmark model is much less precise on faces that were small for the detector."""


TILE_FRACTIONS = (0.5, 0.25)
MIN_TILE = 96
SAME_FACE_IOU = 0.3
"""Detections that overlap this much (intersection over union) are one face seen twice."""


def _faces_in_tiles(model: LandmarkBackend, rgb: np.ndarray, fraction: float, known: list[Face]) -> list[Face]:
    """Faces the tiles' detector passes find that are not among ``known``, each landmarked in a window
    ``REFINE_WINDOW`` times its size or, where the landmarker misses it there, in a tile that saw it."""
    height, width = rgb.shape[:2]
    side = max(MIN_TILE, round(max(height, width) * fraction))
    tile_h, tile_w = min(side, height), min(side, width)
    boxes, tiles = [], []
    for y in _tile_starts(height, tile_h):
        for x in _tile_starts(width, tile_w):
            for x0, y0, x1, y1 in model.detect_boxes(rgb[y : y + tile_h, x : x + tile_w]):
                boxes.append((x0 + x, y0 + y, x1 + x, y1 + y))
                tiles.append((x, y, x + tile_w, y + tile_h))
    faces = []
    for box in _suppress_overlaps(boxes):
        if any(_centre_in(box, face.box) for face in known):
            continue
        face = _near(model, rgb, box)
        if face is None:
            seen_in = (tile for other, tile in zip(boxes, tiles) if box_iou(other, box) >= SAME_FACE_IOU)
            in_tile = next(filter(None, (_best_in(model, rgb, box, tile) for tile in seen_in)), None)
            face = None if in_tile is None else _refine(model, rgb, in_tile)
        if face is not None:
            faces.append(face)
    return _suppress_duplicates(faces)


def _side(face: Face) -> float:
    x0, y0, x1, y1 = face.box
    return max(x1 - x0, y1 - y0)


def _centre_in(box: Box, other: Box) -> bool:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return other[0] <= cx <= other[2] and other[1] <= cy <= other[3]


def _refine(model: LandmarkBackend, rgb: np.ndarray, face: Face) -> Face:
    """Re-detect in a window around the face, where it is whole and large for the detector."""
    return _near(model, rgb, face.box) or face


FOLLOW_MIN_IOU = 0.2
"""A face in the next frame is the same one only if its box overlaps the last one this much."""


def follow_face(rgb: np.ndarray, face: Face, backend: str = "mediapipe") -> Face | None:
    """The face in a new video frame near where ``face`` was in the last one (None when it is gone, or when
    only someone else is near): the detector sees only a window 3x the face's size around it, so the face
    is large for it and the search is cheap; frame to frame, that is a tracker."""
    found = _near(get_backend(backend), rgb, face.box)
    return found if found is not None and box_iou(found.box, face.box) >= FOLLOW_MIN_IOU else None


def _near(model: LandmarkBackend, rgb: np.ndarray, box: Box) -> Face | None:
    """The face whose box overlaps ``box`` most, landmarked in a window ``REFINE_WINDOW`` times its size."""
    x0, y0, x1, y1 = box
    half = REFINE_WINDOW / 2 * max(x1 - x0, y1 - y0)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    left, top = max(0, int(cx - half)), max(0, int(cy - half))
    right, bottom = min(rgb.shape[1], int(cx + half)), min(rgb.shape[0], int(cy + half))
    return _best_in(model, rgb, box, (left, top, right, bottom))


def _best_in(model: LandmarkBackend, rgb: np.ndarray, box: Box, window: tuple[int, int, int, int]) -> Face | None:
    """The face landmarked in ``window`` (left, top, right, bottom) whose box overlaps ``box`` most, if
    ``box``'s centre lies on it (a neighbour in the window is not the face asked for)."""
    left, top, right, bottom = window
    candidates = [f.shifted(left, top) for f in model.detect(np.ascontiguousarray(rgb[top:bottom, left:right]))]
    best = max(candidates, key=lambda f: box_iou(f.box, box), default=None)
    return best if best is not None and _centre_in(box, best.box) else None


def _tile_starts(length: int, tile: int) -> list[int]:
    """Tile offsets with 50% overlap that cover ``length`` exactly."""
    if tile >= length:
        return [0]
    count = int(np.ceil((length - tile) / (tile / 2))) + 1
    return [round(i * (length - tile) / (count - 1)) for i in range(count)]


def _suppress_duplicates(faces: list[Face], max_iou: float = SAME_FACE_IOU) -> list[Face]:
    """Keep the largest of overlapping detections (the same face seen in several tiles)."""
    return [faces[i] for i in _kept_boxes([face.box for face in faces], max_iou)]


def _suppress_overlaps(boxes: list[Box], max_iou: float = SAME_FACE_IOU) -> list[Box]:
    """The largest of each group of overlapping boxes."""
    return [boxes[i] for i in _kept_boxes(boxes, max_iou)]


def _kept_boxes(boxes: list[Box], max_iou: float) -> list[int]:
    """Indices of the largest box of each group of overlapping ones, largest first."""
    areas = [(x1 - x0) * (y1 - y0) for x0, y0, x1, y1 in boxes]
    kept: list[int] = []
    for i in sorted(range(len(boxes)), key=areas.__getitem__, reverse=True):
        if all(box_iou(boxes[i], boxes[j]) < max_iou for j in kept):
            kept.append(i)
    return kept


def box_iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


NO_FACE_MESSAGE = (
    "No face was found in this photo. Use a photo where a face is clearly visible, roughly "
    "frontal, and not too small (at least about 40 pixels across)."
)


def detect_face(rgb: np.ndarray, index: int = 0, backend: str = "mediapipe") -> Face:
    """The face at ``index`` among faces sorted by size (0 = largest); typed errors otherwise.

    Any face but the largest is looked for as in a group photo (``every_face``), so the numbers match
    the faces ``prepare_all_faces`` finds.
    """
    faces = detect_faces(rgb, backend, every_face=index > 0)
    if not faces:
        raise NoFaceError(NO_FACE_MESSAGE)
    return numbered_face(faces, index)


FaceT = TypeVar("FaceT")


def numbered_face(faces: Sequence[FaceT], index: int) -> FaceT:
    """``faces[index]`` of faces sorted largest first, or a sentence saying how many there are."""
    if not 0 <= index < len(faces):
        raise FaceIndexError(
            f"Face number {index} was asked for, but the photo has {len(faces)} "
            f"face{'s' if len(faces) != 1 else ''} (numbered 0 to {len(faces) - 1}, largest first)."
        )
    return faces[index]
