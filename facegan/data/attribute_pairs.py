"""Faces with and without one attribute, paired: GeneGAN's training parents and its val pairs."""

from __future__ import annotations

import torch
from torch import Tensor
from torch.utils.data import Dataset

from facegan.data.celeba import CelebADataset


class ParentPairs(Dataset[tuple[Tensor, Tensor]]):
    """(Au, B-epsilon) pairs: every face with the attribute once per epoch, each with a random face without it.

    ``faces.attributes[0]`` is the object; any further attributes of ``faces`` are *matched*: the
    partner is drawn among the faces without the object that share Au's values of them. In CelebA
    nearly every mustache is on a man and most blond hair on a woman, so unmatched pairs let the
    object feature learn the sex too, and a transplant onto a woman turns her into a man; matching
    on Male leaves the object as the only systematic difference between the parents.

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
        self.partners = self._partner_groups(faces.labels)

    def _partner_groups(self, labels: Tensor) -> dict[tuple[float, ...], list[int]]:
        """Faces without the object, grouped by their values of the matched attributes."""
        groups: dict[tuple[float, ...], list[int]] = {}
        for index in self.without_object:
            groups.setdefault(tuple(labels[index, 1:].tolist()), []).append(index)
        missing = {tuple(labels[i, 1:].tolist()) for i in self.with_object} - groups.keys()
        if missing:
            attributes = self.faces.attributes
            raise ValueError(f"no face without {attributes[0]} has the values {sorted(missing)} of {attributes[1:]}")
        return groups

    def __len__(self) -> int:
        return len(self.with_object)

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        face = self.with_object[index]
        group = self.partners[tuple(self.faces.labels[face, 1:].tolist())]
        partner = group[int(torch.randint(len(group), ()))]
        return self.faces[face][0], self.faces[partner][0]


def _first_val_parents(faces: CelebADataset, count: int) -> tuple[list[int], list[int]]:
    """Indices of the first ``count`` faces with and without ``faces.attributes[0]``, in list order."""
    pairs = ParentPairs(faces)
    take = min(count, len(pairs.with_object), len(pairs.without_object))
    return pairs.with_object[:take], pairs.without_object[:take]


def val_pairs(data: str | None, attribute: str, resolution: int, count: int = 8) -> tuple[Tensor, Tensor]:
    """The first ``count`` val faces with and without the attribute, paired in list order (previews, eval)."""
    faces = CelebADataset(data, "val", resolution, [attribute])
    with_object, without_object = _first_val_parents(faces, count)
    au = torch.stack([faces[i][0] for i in with_object])
    be = torch.stack([faces[i][0] for i in without_object])
    return au, be


def val_pair_labels(data: str | None, attribute: str, name: str, count: int = 8) -> tuple[Tensor, Tensor]:
    """CelebA's 0/1 labels of ``name`` for the A and the B parents of ``val_pairs``, in the same order."""
    with_object, without_object = _first_val_parents(CelebADataset(data, "val", 64, [attribute]), count)
    labels = CelebADataset(data, "val", 64, [name]).labels[:, 0]
    return labels[with_object], labels[without_object]
