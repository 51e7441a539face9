"""The shared scene photos (64x64, six classes) with a fixed train/val split and an in-memory cache.

The folder has no split of its own, so every tenth photo by a hash of its file name is val: stable
across machines and independent of listing order. The scene judge trains on train only, so its val
accuracy (and the real-image upper bound of the audiogan ladder) is measured on unseen photos.
"""

from __future__ import annotations

import hashlib
import os
import zlib
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import Tensor
from torch.utils.data import Dataset
from tqdm import tqdm

from facegan.paths import cache_dir, data_dir

SCENE_CLASSES: tuple[str, ...] = ("buildings", "forest", "glacier", "mountain", "sea", "street")
SPLITS = ("train", "val")


def scenes_root(data: str | os.PathLike | None = None) -> Path:
    root = data_dir(data) / "scenes"
    if not root.is_dir():
        raise FileNotFoundError(f"no scene photos at {root}; pass --data or set FACEGAN_DATA")
    return root


def split_of(name: str) -> str:
    """``val`` for one photo in ten, chosen by a CRC of ``<class>/<file>``."""
    return "val" if zlib.crc32(name.encode()) % 10 == 0 else "train"


def scene_files(data: str | os.PathLike | None = None, split: str = "train") -> list[tuple[str, int]]:
    """(``class/file``, class index) of the split's photos, sorted by name."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    root = scenes_root(data)
    files = []
    for index, scene in enumerate(SCENE_CLASSES):
        files += [(f"{scene}/{p.name}", index) for p in sorted((root / scene).glob("*.jpg"))]
    return [(name, label) for name, label in files if split_of(name) == split]


def load_scenes(data: str | os.PathLike | None = None, split: str = "train") -> tuple[Tensor, Tensor]:
    """uint8 images [N, 3, 64, 64] and class indices [N] of a split, decoded once into the cache."""
    files = scene_files(data, split)
    key = hashlib.sha256("\n".join(name for name, _ in files).encode()).hexdigest()[:12]
    path = cache_dir() / "scenes" / f"{split}_{key}.npz"
    if path.is_file():
        with np.load(path) as saved:
            return torch.from_numpy(saved["images"]), torch.from_numpy(saved["labels"])
    root = scenes_root(data)
    images = np.stack([
        np.asarray(Image.open(root / name).convert("RGB").resize((64, 64), Image.Resampling.BICUBIC))
        for name, _ in tqdm(files, desc=f"scenes {split}", unit="photo")
    ]).transpose(0, 3, 1, 2)  # fmt: skip
    labels = np.array([label for _, label in files], dtype=np.int64)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".tmp.npz")
    np.savez(tmp, images=images, labels=labels)
    os.replace(tmp, path)
    return torch.from_numpy(images), torch.from_numpy(labels)


def to_unit(images: Tensor) -> Tensor:
    """uint8 [N, 3, H, W] -> float in [-1, 1]."""
    return images.float() / 127.5 - 1


class SceneDataset(Dataset):
    """(image in [-1, 1], class index) with optional random horizontal flips."""

    def __init__(self, data: str | os.PathLike | None = None, split: str = "train", flip: bool = True) -> None:
        self.images, self.labels = load_scenes(data, split)
        self.flip = flip

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        image = to_unit(self.images[index])
        if self.flip and torch.rand(()) < 0.5:
            image = image.flip(-1)
        return image, self.labels[index]
