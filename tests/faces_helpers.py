"""Small shared inputs for the face tests: a few real CelebA crops from ../shared and synthetic photos."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from facegan.paths import CHECKPOINT_DIR, data_dir

SAMPLE_NAMES = ("000040.jpg", "000045.jpg", "000057.jpg")


def celeba_dir() -> Path:
    images = data_dir() / "celeba" / "images"
    if not images.is_dir():
        pytest.skip(f"shared CelebA images not found at {images}")
    return images


def eval_tools_into(folder: Path) -> None:
    """Copy the shipped attribute judge into ``folder``; skip where the identity model (dlib) is missing.

    For eval-command tests that put tiny generators beside the real judge in a temporary checkpoint folder.
    """
    pytest.importorskip("dlib")
    judge = CHECKPOINT_DIR / "attr_judge"
    for suffix in (".safetensors", ".json"):
        shutil.copy(judge.with_suffix(suffix), folder / f"attr_judge{suffix}")


def celeba_path(name: str = SAMPLE_NAMES[0]) -> Path:
    return celeba_dir() / name


def celeba_rgb(name: str = SAMPLE_NAMES[0]) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(celeba_path(name))), cv2.COLOR_BGR2RGB)


def place_on_canvas(crop: np.ndarray, size: int, centre: tuple[float, float], scale: float,
                    angle: float = 0.0, canvas: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Put ``crop`` on a grey canvas under a similarity; return the canvas and the crop->canvas matrix."""
    side = crop.shape[0]
    matrix = cv2.getRotationMatrix2D(((side - 1) / 2, (side - 1) / 2), angle, scale)
    matrix[:, 2] += np.asarray(centre) - (side - 1) / 2
    if canvas is None:
        canvas = np.full((size, size, 3), 110, np.uint8)
    out = cv2.warpAffine(crop, matrix, (canvas.shape[1], canvas.shape[0]), dst=canvas.copy(),
                         borderMode=cv2.BORDER_TRANSPARENT)
    return out, matrix
