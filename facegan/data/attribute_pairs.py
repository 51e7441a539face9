"""Faces with and without one attribute, paired: GeneGAN's training parents and its val pairs."""

from __future__ import annotations

import torch
from torch import Tensor
from torch.utils.data import Dataset

from facegan.data.celeba import CelebADataset


class ParentPairs(Dataset[tuple[Tensor, Tensor]]):
    """(Au, B-epsilon) pairs: every face with the attribute once per epoch, each with a random face without it.

    The partner is drawn from torch's global RNG, like the flips, so a seeded run is reproducible
    while pairs change from epoch to epoch.
    """

    def __init__(self, faces: CelebADataset) -> None:
        self.faces = faces
        labels = faces.labels[:, 0]
        self.with_object = torch.nonzero(labels > 0).flatten().tolist()
        self.without_object = torch.nonzero(labels <= 0).flatten().tolist()
        if not self.with_object or not self.without_object:
            raise ValueError(
                f"{faces.attributes[0]} needs faces with and without it; found {len(self.with_object)} "
                f"with and {len(self.without_object)} without"
            )

    def __len__(self) -> int:
        return len(self.with_object)

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        partner = self.without_object[int(torch.randint(len(self.without_object), ()))]
        return self.faces[self.with_object[index]][0], self.faces[partner][0]


def val_pairs(data: str | None, attribute: str, resolution: int, count: int = 8) -> tuple[Tensor, Tensor]:
    """The first ``count`` val faces with and without the attribute, paired in list order (previews, eval)."""
    faces = CelebADataset(data, "val", resolution, [attribute])
    pairs = ParentPairs(faces)
    take = min(count, len(pairs.with_object), len(pairs.without_object))
    au = torch.stack([faces[i][0] for i in pairs.with_object[:take]])
    be = torch.stack([faces[i][0] for i in pairs.without_object[:take]])
    return au, be
