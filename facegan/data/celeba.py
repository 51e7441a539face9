"""CelebA in the official file layout under ``<data>/celeba``.

``images/NNNNNN.jpg`` (aligned crops), ``list_attr_celeba.txt`` (a count line, a header of the 40
attribute names, then ``name v1 .. v40`` rows of 1/-1), ``list_eval_partition.txt`` (``name split``
with 0 train, 1 val, 2 test) and ``identity_CelebA.txt`` (``name identity``). Any subset of the
images works: list entries without an image file are skipped.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import Tensor
from torch.utils.data import Dataset

from facegan.paths import data_dir

SPLITS = ("train", "val", "test")
IMAGE_SIZE = 128
"""Side of the shared aligned CelebA images, the frame their cached landmarks are in."""


def celeba_root(data: str | os.PathLike | None = None) -> Path:
    """``<data>/celeba`` resolved like every ``--data`` option; a clear error when it is absent."""
    root = data_dir(data) / "celeba"
    if not (root / "images").is_dir():
        raise FileNotFoundError(f"no CelebA images under {root}/images; pass --data or set FACEGAN_DATA")
    return root


def _rows(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8") as f:
        return [line.split() for line in f if line.strip()]


@dataclass(frozen=True)
class CelebAAttributes:
    """The attribute table: ``values[i, j]`` is +1/-1 for attribute ``names[j]`` of image ``files[i]``."""

    names: list[str]
    files: list[str]
    values: np.ndarray  # int8 [len(files), len(names)]

    def as_dict(self) -> dict[str, np.ndarray]:
        """File name -> its row of 40 values, for lookups by image."""
        return dict(zip(self.files, self.values, strict=True))

    def columns(self, names: Sequence[str]) -> np.ndarray:
        """Columns for the chosen attribute names, in that order; unknown names raise KeyError."""
        unknown = [n for n in names if n not in self.names]
        if unknown:
            raise KeyError(f"unknown CelebA attributes {unknown}; known: {self.names}")
        return self.values[:, [self.names.index(n) for n in names]]


def read_attributes(root: Path) -> CelebAAttributes:
    """Parse ``list_attr_celeba.txt`` (count line, header line, then one row per image)."""
    _count, names, *rows = _rows(root / "list_attr_celeba.txt")
    return CelebAAttributes(names, [r[0] for r in rows], np.array([r[1:] for r in rows], dtype=np.int8))


def read_partition(root: Path) -> dict[str, list[str]]:
    """Split name ("train", "val", "test") -> image file names, from ``list_eval_partition.txt``."""
    splits: dict[str, list[str]] = {name: [] for name in SPLITS}
    for name, code in _rows(root / "list_eval_partition.txt"):
        splits[SPLITS[int(code)]].append(name)
    return splits


def read_identities(root: Path) -> dict[str, int]:
    """Image file name -> celebrity identity, from ``identity_CelebA.txt``."""
    return {name: int(identity) for name, identity in _rows(root / "identity_CelebA.txt")}


def split_files(root: Path, split: str) -> list[str]:
    """Image files of one split ("all" for every split) that exist under ``images/``, in list order."""
    partition = read_partition(root)
    if split != "all" and split not in partition:
        raise ValueError(f"unknown split {split!r}; choose from {(*SPLITS, 'all')}")
    wanted = [f for s in SPLITS for f in partition[s]] if split == "all" else partition[split]
    present = set(os.listdir(root / "images"))
    return [f for f in wanted if f in present]


def load_image(path: Path, resolution: int) -> Tensor:
    """RGB image as a float tensor [3, resolution, resolution] in [-1, 1]."""
    with Image.open(path) as img:
        img = img.convert("RGB")
        if img.size != (resolution, resolution):
            img = img.resize((resolution, resolution), Image.Resampling.BICUBIC)
        array = np.asarray(img, dtype=np.float32)
    return torch.from_numpy(array).permute(2, 0, 1) / 127.5 - 1.0


class CelebADataset(Dataset[tuple[Tensor, Tensor]]):
    """(image in [-1, 1] at ``resolution``, attribute vector) pairs for one split.

    Attributes are returned as float 0/1 in the order of ``attributes`` (empty vector when none are
    asked for), the form conditional generators and classifiers consume. ``flip`` mirrors images with
    probability 1/2 using torch's global RNG, so a seeded run is reproducible. ``limit`` keeps the
    first N images (tests, quick runs).
    """

    def __init__(
        self,
        data: str | os.PathLike | None = None,
        split: str = "train",
        resolution: int = 128,
        attributes: Sequence[str] = (),
        flip: bool = False,
        limit: int | None = None,
    ) -> None:
        self.root = celeba_root(data)
        self.split = split
        self.resolution = resolution
        self.attributes = list(attributes)
        self.flip = flip
        self.files = split_files(self.root, split)[:limit]
        if not self.files:
            raise FileNotFoundError(f"CelebA split {split!r} under {self.root} has no images")
        if self.attributes:
            table = read_attributes(self.root)
            rows = {name: i for i, name in enumerate(table.files)}
            values = table.columns(self.attributes)[[rows[f] for f in self.files]]
        else:
            values = np.zeros((len(self.files), 0), dtype=np.int8)
        self.labels = torch.from_numpy((values > 0).astype(np.float32))

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        image = load_image(self.root / "images" / self.files[index], self.resolution)
        if self.flip and torch.rand(()) < 0.5:
            image = image.flip(-1)
        return image, self.labels[index]
