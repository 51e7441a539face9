"""Identity embedding for identity-preservation metrics: is the edited face still the same person?

Model: dlib's ResNet face descriptor ``dlib_face_recognition_resnet_model_v1`` (a ResNet-29 trained
on ~3M faces; 99.38% on LFW), which maps a face to a 128-d vector where faces of one person lie
within Euclidean distance ``THRESHOLD = 0.6`` (dlib's own same-person threshold). Faces are aligned
for it with dlib's 5-point shape predictor ``shape_predictor_5_face_landmarks``. Both files ship in
the PyPI package ``face_recognition_models``; dlib itself comes from ``dlib-bin`` (prebuilt wheels).
They come with ``requirements-dev.txt``: the evaluation needs them, and the app's quality readout
(``facegan.quality``) uses them where they are installed and says how to get them where not.

Inputs are aligned face crops (CelebA framing, as ``facegan.faces.align`` and every generator here
produce), so no detector runs: the landmarks are found inside a fixed box, the median box dlib's
HOG detector puts around val-split CelebA crops. Crops smaller than 150 px (e.g. 64 px generator
outputs) are upsampled to 150 px first, the size of the chip the ResNet reads.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from facegan.errors import ModelFileMissingError

THRESHOLD = 0.6
DESCRIPTOR_MODEL = "dlib_face_recognition_resnet_model_v1.dat"
LANDMARK_MODEL = "shape_predictor_5_face_landmarks.dat"
INSTALL_HINT = "pip install dlib-bin face_recognition_models"
# How eval results name this model.
MODEL_DESCRIPTION = f"{DESCRIPTOR_MODEL.removesuffix('.dat')} (face_recognition_models), threshold {THRESHOLD}"
CHIP_SIZE = 150  # the ResNet's input chip
# (left, top, right, bottom) of the face as fractions of an aligned crop's width/height.
FACE_BOX = (0.25, 0.37, 0.75, 0.87)


def _import_dlib() -> Any:
    try:
        import dlib
    except ImportError as err:
        raise ModelFileMissingError(f"the identity model needs dlib: `{INSTALL_HINT}`") from err
    return dlib


def model_file(name: str) -> Path:
    """Path of a file shipped in ``face_recognition_models/models``.

    Located without importing the package, whose ``__init__`` needs ``pkg_resources`` (gone from
    recent setuptools).
    """
    spec = importlib.util.find_spec("face_recognition_models")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for folder in locations:
        path = Path(folder) / "models" / name
        if path.is_file():
            return path
    raise ModelFileMissingError(f"{name} not found: the identity model needs `{INSTALL_HINT}`")


class IdentityModel:
    """dlib's 128-d face descriptor on aligned crops; see the module docstring for model and threshold."""

    THRESHOLD = THRESHOLD

    def __init__(self) -> None:
        dlib = _import_dlib()
        self._dlib = dlib
        self._landmarks = dlib.shape_predictor(str(model_file(LANDMARK_MODEL)))
        self._descriptor = dlib.face_recognition_model_v1(str(model_file(DESCRIPTOR_MODEL)))

    def _embed_one(self, image: np.ndarray) -> np.ndarray:
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"expected an HxWx3 uint8 RGB image, got {image.dtype} {image.shape}")
        height, width = image.shape[:2]
        if min(height, width) < CHIP_SIZE:
            scale = CHIP_SIZE / min(height, width)
            size = (round(width * scale), round(height * scale))
            image = np.asarray(Image.fromarray(image).resize(size, Image.Resampling.BICUBIC))
            height, width = image.shape[:2]
        box = self._dlib.rectangle(*(round(f * side) for f, side in zip(FACE_BOX, (width, height) * 2, strict=True)))
        image = np.ascontiguousarray(image)
        shape = self._landmarks(image, box)
        return np.asarray(self._descriptor.compute_face_descriptor(image, shape), dtype=np.float32)

    def embed(self, images: Sequence[np.ndarray] | np.ndarray) -> np.ndarray:
        """Descriptors [N, 128] for aligned RGB uint8 face crops (a list, or an [N, H, W, 3] array)."""
        vectors = [self._embed_one(np.asarray(image)) for image in images]
        return np.stack(vectors) if vectors else np.zeros((0, 128), np.float32)

    @staticmethod
    def distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Euclidean distance between matching rows (broadcasts; dlib's own comparison)."""
        return np.linalg.norm(np.asarray(a, np.float32) - np.asarray(b, np.float32), axis=-1)

    @staticmethod
    def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Cosine similarity between matching rows (broadcasts), for metrics reported that way."""
        a, b = np.asarray(a, np.float32), np.asarray(b, np.float32)
        return (a * b).sum(-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))

    def verify(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Same person? ``distance < THRESHOLD`` per row pair, as a bool array."""
        return self.distance(a, b) < self.THRESHOLD
