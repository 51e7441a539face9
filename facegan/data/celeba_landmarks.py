"""CelebA faces with their landmark heatmaps, from the annotation cache (``facegan.data.annotate``)."""

from __future__ import annotations

import os

import numpy as np
import torch
from torch import Tensor

from facegan.data.annotate import load_annotations
from facegan.data.celeba import CelebADataset, load_image
from facegan.faces import landmark_heatmaps
from facegan.faces.ibug68 import HORIZONTAL_FLIP

ANNOTATION_SIZE = 128
"""The shared CelebA crops (and so the cached landmarks) are 128x128."""


class CelebAHeatmapDataset(CelebADataset):
    """(image, attributes, heatmap) triples; images where no face was found are left out.

    The heatmap is one map (the maximum of 68 Gaussians) at the dataset's resolution in [0, 1]. A
    horizontal flip mirrors image and landmarks together.
    """

    def __init__(
        self,
        data: str | os.PathLike | None = None,
        split: str = "train",
        resolution: int = 64,
        attributes: tuple[str, ...] = (),
        flip: bool = False,
        limit: int | None = None,
        sigma: float = 1.5,
        annotations: str | os.PathLike | None = None,
    ) -> None:
        super().__init__(data, split, resolution, attributes, flip, limit=None)
        table = load_annotations(annotations)
        rows = table.index()
        keep = [i for i, name in enumerate(self.files) if name in rows and table.found[rows[name]]]
        keep = keep[:limit]
        self.files = [self.files[i] for i in keep]
        self.labels = self.labels[keep]
        self.points = torch.from_numpy(np.stack([table.points68[rows[name]] for name in self.files]))
        self.sigma = sigma

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor, Tensor]:
        image = load_image(self.root / "images" / self.files[index], self.resolution)
        points = self.points[index]
        if self.flip and torch.rand(()) < 0.5:
            image = image.flip(-1)
            points = points[HORIZONTAL_FLIP].clone()
            points[:, 0] = ANNOTATION_SIZE - 1 - points[:, 0]
        heatmap = landmark_heatmaps(
            points, self.resolution, self.sigma, source_size=ANNOTATION_SIZE, per_landmark=False
        )
        return image, self.labels[index], heatmap
