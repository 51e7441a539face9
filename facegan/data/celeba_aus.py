"""CelebA faces with their 17 Action Unit intensities, from the annotation cache (``facegan.data.annotate``)."""

from __future__ import annotations

import os
from typing import NamedTuple

import numpy as np
import torch
from torch import Tensor

from facegan.data.annotate import load_annotations
from facegan.data.celeba import IMAGE_SIZE, CelebADataset
from facegan.faces import AU_NUMBERS, detect_faces, estimate_aus
from facegan.pipelines import tensor_to_image


class CelebAAUDataset(CelebADataset):
    """(image in [-1, 1], AU intensities [17] on the 0-5 scale) pairs; images without a face are left out.

    AUs average left and right blendshapes, so a horizontal flip (``flip``) leaves them unchanged.
    """

    def __init__(
        self,
        data: str | os.PathLike | None = None,
        split: str = "train",
        resolution: int = 128,
        flip: bool = False,
        limit: int | None = None,
        annotations: str | os.PathLike | None = None,
    ) -> None:
        super().__init__(data, split, resolution, (), flip, limit=None)
        table = load_annotations(annotations)
        rows = table.index()
        keep = [name for name in self.files if name in rows and table.found[rows[name]]][:limit]
        if not keep:
            raise FileNotFoundError(
                f"no annotated faces in CelebA split {split!r}; run `python -m facegan.data.annotate`"
            )
        self.files = keep
        self.labels = self.labels[: len(keep)]
        self.aus = torch.from_numpy(table.aus()[[rows[name] for name in keep]])
        self.points68 = table.points68[[rows[name] for name in keep]] * (resolution / IMAGE_SIZE)
        """The 68 landmarks of each face at ``resolution`` (cached in the shared images' frame)."""

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        image, _ = super().__getitem__(index)
        return image, self.aus[index]


class ValFaces(NamedTuple):
    """Annotated val faces: images in [-1, 1], their AUs [N, 17] and landmarks [N, 68, 2] at the same size."""

    images: Tensor
    aus: Tensor
    points68: np.ndarray


def val_faces(
    data: str | os.PathLike | None, resolution: int, count: int, annotations: str | os.PathLike | None = None
) -> ValFaces:
    """The first ``count`` annotated val faces (previews, eval, sample sheets)."""
    faces = CelebAAUDataset(data, "val", resolution, limit=count, annotations=annotations)
    images = torch.stack([faces[i][0] for i in range(len(faces))])
    return ValFaces(images, faces.aus.clone(), faces.points68)


def measure_aus(images: Tensor) -> tuple[np.ndarray, np.ndarray]:
    """The annotator on each image in [-1, 1]: (AUs [N, 17], found [N]); rows without a face are NaN.

    The same measurement as the cache's labels, so edits are scored (eval) and labelled (training) as the
    real faces are."""
    aus = np.full((len(images), len(AU_NUMBERS)), np.nan, dtype=np.float32)
    found = np.zeros(len(images), dtype=bool)
    for row, image in enumerate(images):
        faces = detect_faces(tensor_to_image(image))
        if faces:
            aus[row] = estimate_aus(faces[0].blendshapes, faces[0].points68)
            found[row] = True
    return aus, found
