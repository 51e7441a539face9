"""Similarity alignment into the CelebA 128x128 framing, and the way back into the full photo.

The template is the mean 68-point shape measured on the shared CelebA crops
(``python -m facegan.data.fit_template`` regenerates it), so an aligned user photo is framed the way
our generators saw their training data.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from facegan.faces.ibug68 import JAW, LEFT_EYE, RIGHT_EYE

TEMPLATE_PATH = Path(__file__).with_name("celeba_template.json")
TEMPLATE_SIZE = 128

FIT_POINTS = np.array([36, 39, 42, 45, 48, 54])
"""Points the similarity is fitted on: the four eye corners and two mouth corners. CelebA's crops
were made from a 5-point similarity (eyes, nose, mouth corners); of the subsets we tried, these six
reproduce that framing best (mean residual 0.86 px at 128 px on 400 val faces, against 1.43 px for
all 68 points and 1.98 px with the nose added)."""


@dataclass(frozen=True)
class AlignedFace:
    """A face crop plus what is needed to map it back into the photo it came from."""

    crop: np.ndarray
    matrix: np.ndarray
    points68: np.ndarray
    photo_shape: tuple[int, int]

    @property
    def size(self) -> int:
        return self.crop.shape[0]

    @property
    def scale(self) -> float:
        """Crop pixels per photo pixel (< 1 when the face is larger in the photo than in the crop)."""
        return similarity_scale(self.matrix)

    @property
    def inverse_matrix(self) -> np.ndarray:
        return cv2.invertAffineTransform(self.matrix)


@lru_cache(maxsize=None)
def template_points(size: int = TEMPLATE_SIZE) -> np.ndarray:
    """The 68-point template in pixel coordinates of a ``size`` x ``size`` crop."""
    record = json.loads(TEMPLATE_PATH.read_text())
    points = np.asarray(record["points68"], dtype=np.float64)
    scale = size / record["size"]
    return (points + 0.5) * scale - 0.5


def estimate_similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares 2x3 similarity (rotation, uniform scale, shift) mapping ``src`` onto ``dst``."""
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    s, d = src - src_mean, dst - dst_mean
    norm = (s**2).sum()
    a = (s * d).sum() / norm
    b = (s[:, 0] * d[:, 1] - s[:, 1] * d[:, 0]).sum() / norm
    rotation_scale = np.array([[a, -b], [b, a]])
    shift = dst_mean - rotation_scale @ src_mean
    return np.hstack([rotation_scale, shift[:, None]])


def transform_points(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply a 2x3 affine matrix to (N, 2) points."""
    return points @ matrix[:, :2].T + matrix[:, 2]


def similarity_scale(matrix: np.ndarray) -> float:
    """How many output pixels one input pixel becomes under a 2x3 similarity transform."""
    return float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))


def alignment_matrix(points68: np.ndarray, size: int = TEMPLATE_SIZE) -> np.ndarray:
    """Photo -> crop similarity for a face's 68 points."""
    return estimate_similarity(points68[FIT_POINTS], template_points(size)[FIT_POINTS])


def align_face(photo: np.ndarray, points68: np.ndarray, size: int = TEMPLATE_SIZE) -> AlignedFace:
    """Warp the face into the CelebA framing; areas outside the photo are filled by edge replication."""
    matrix = alignment_matrix(points68, size)
    scale = similarity_scale(matrix)
    interpolation = cv2.INTER_AREA if scale < 0.5 else cv2.INTER_LINEAR
    source = photo
    if scale < 0.5:
        source, matrix_for_warp = _prefilter(photo, matrix, scale)
    else:
        matrix_for_warp = matrix
    crop = cv2.warpAffine(
        source, matrix_for_warp, (size, size), flags=interpolation, borderMode=cv2.BORDER_REPLICATE
    )
    return AlignedFace(
        crop=crop,
        matrix=matrix,
        points68=transform_points(matrix, points68),
        photo_shape=photo.shape[:2],
    )


def _prefilter(photo: np.ndarray, matrix: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Downscale big photos before a strong minifying warp so the crop is not aliased."""
    factor = 2 ** int(np.floor(np.log2(1.0 / scale)))
    small = cv2.resize(
        photo, (max(1, photo.shape[1] // factor), max(1, photo.shape[0] // factor)),
        interpolation=cv2.INTER_AREA,
    )
    sx = small.shape[1] / photo.shape[1]
    sy = small.shape[0] / photo.shape[0]
    to_small = np.array([[sx, 0, 0.5 * sx - 0.5], [0, sy, 0.5 * sy - 0.5], [0, 0, 1.0]])
    return small, (np.vstack([matrix, [0, 0, 1]]) @ np.linalg.inv(to_small))[:2]


def feathered_square_mask(size: int, feather: float = 0.08) -> np.ndarray:
    """Crop-shaped weight map: 1 inside, a smooth ramp to 0 over ``feather`` of the size at the borders."""
    ramp = max(1.0, feather * size)
    coords = np.arange(size, dtype=np.float32)
    edge = np.minimum(coords + 0.5, size - 0.5 - coords) / ramp
    profile = np.clip(edge, 0.0, 1.0)
    profile = profile * profile * (3 - 2 * profile)
    return np.outer(profile, profile)


def face_region_mask(points68: np.ndarray, size: int, feather: float = 0.06) -> np.ndarray:
    """Weight map covering the face (jaw hull raised to the forehead), feathered; for edits of the
    face alone, so hair and background stay the photo's own."""
    jaw = points68[JAW]
    brow_top = points68[17:27, 1].min()
    eye_line = points68[np.r_[np.arange(68)[RIGHT_EYE], np.arange(68)[LEFT_EYE]], 1].mean()
    forehead = points68[17:27].copy()
    forehead[:, 1] -= max(eye_line - brow_top, 0.0)
    hull = cv2.convexHull(np.vstack([jaw, forehead]).astype(np.float32))
    mask = np.zeros((size, size), np.float32)
    cv2.fillConvexPoly(mask, np.round(hull).astype(np.int32), 1.0, lineType=cv2.LINE_AA)
    return wide_blur(mask, max(1.0, feather * size)) * feathered_square_mask(size, feather / 2)


def wide_blur(mask: np.ndarray, sigma: float) -> np.ndarray:
    """A Gaussian blur of a weight map, done at the size where sigma is 4 pixels and upsampled: a blur
    this wide is smooth, so on a square face mask the result is within 0.3% of the full-size blur (about
    1% on oblong maps, up to 3% in the corners of a map that is 1 at its border), at a thirtieth of the
    cost at photo resolution."""
    factor = int(sigma // 4)
    if factor < 2:
        return cv2.GaussianBlur(mask, (0, 0), sigma)
    height, width = mask.shape[:2]
    small_size = (max(1, width // factor), max(1, height // factor))
    small = cv2.resize(mask, small_size, interpolation=cv2.INTER_AREA)
    blurred = cv2.GaussianBlur(small, (0, 0), sigma * small_size[0] / width)
    return cv2.resize(blurred, (width, height), interpolation=cv2.INTER_LINEAR)


def feature_region_mask(points68: np.ndarray, size: int, margin: float = 0.06) -> np.ndarray:
    """Boolean map of the facial features and the cheeks between them: the hull of brows, eyes, nose and
    mouth, grown by ``margin`` of the crop. An expression edit may change colour here and nowhere else."""
    hull = cv2.convexHull(points68[17:68].astype(np.float32))
    mask = np.zeros((size, size), np.uint8)
    cv2.fillConvexPoly(mask, np.round(hull).astype(np.int32), 1)
    radius = max(1, round(margin * size))
    grown = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1)))
    return grown.astype(bool)


Warp = Callable[..., np.ndarray]


def _edit_photo_region(
    photo: np.ndarray, size: int, aligned: AlignedFace, combine: Callable[[np.ndarray, Warp], np.ndarray]
) -> np.ndarray:
    """A copy of the photo whose region under the crop is ``combine(region, warp)``.

    ``region`` is that part of the photo as float32; ``warp(crop_map, **cv2_flags)`` brings any map
    over a ``size`` px crop into it. Only the region is touched, which keeps this fast on big photos.
    """
    to_crop = aligned.matrix
    if size != aligned.size:
        rescale = size / aligned.size
        to_crop = np.array([[rescale, 0, 0.5 * rescale - 0.5], [0, rescale, 0.5 * rescale - 0.5]]) @ np.vstack(
            [aligned.matrix, [0, 0, 1]]
        )
    to_photo = cv2.invertAffineTransform(to_crop)
    height, width = photo.shape[:2]
    corners = transform_points(to_photo, np.array([[0, 0], [size, 0], [0, size], [size, size]], float) - 0.5)
    x0, y0 = np.floor(corners.min(axis=0)).astype(int) - 1
    x1, y1 = np.ceil(corners.max(axis=0)).astype(int) + 2
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
    result = photo.copy()
    if x1 <= x0 or y1 <= y0:
        return result
    to_photo[:, 2] -= (x0, y0)

    def warp(crop_map: np.ndarray, **flags: int) -> np.ndarray:
        return cv2.warpAffine(crop_map, to_photo, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR, **flags)

    region = combine(result[y0:y1, x0:x1].astype(np.float32), warp)
    result[y0:y1, x0:x1] = np.clip(region + 0.5, 0, 255).astype(np.uint8)
    return result


def paste_back(
    photo: np.ndarray, edited_crop: np.ndarray, aligned: AlignedFace, mask: np.ndarray | None = None
) -> np.ndarray:
    """Inverse-warp an edited crop into the original photo, blending it in with a feathered mask.

    ``edited_crop`` may have any square size (a 64 px generator output is upsampled on the way).
    """
    size = edited_crop.shape[0]
    weight_map = (feathered_square_mask(size) if mask is None else mask).astype(np.float32)

    def blend(region: np.ndarray, warp: Warp) -> np.ndarray:
        warped = warp(edited_crop, borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
        weight = warp(weight_map, borderValue=0.0)
        return region + weight[..., None] * (warped - region)

    return _edit_photo_region(photo, size, aligned, blend)


def add_change_back(photo: np.ndarray, change: np.ndarray, aligned: AlignedFace) -> np.ndarray:
    """The photo plus a change predicted on the aligned crop (HxWx3 float, in 0-255 units), warped to the
    photo's own resolution.

    Only the change is resampled, never the photo: a pixel the change leaves at 0 stays the photo's
    own, and detail the generator could not draw (skin, hair strands, a sharp background) survives
    the edit. The change fades out at the crop's border, so nothing outside the face region moves.
    """
    size = change.shape[0]
    faded = change.astype(np.float32) * feathered_square_mask(size)[..., None]
    return _edit_photo_region(photo, size, aligned, lambda region, warp: region + warp(faded, borderValue=0.0))
