"""Attribute-judge recipe: a plain multi-label classifier for CelebA's 40 attributes.

Adam on the mean binary cross-entropy over all 40 attributes, random horizontal flips, and an
optional linear LR decay to 0. It trains on the train split only, so its val-split accuracy
(``python -m facegan.eval judge``) is an honest estimate of how well it scores generated faces.

``--balanced`` weighs each attribute's positives by its train split's negatives-to-positives ratio, so
the 0.5 threshold errs as often on faces with a rare attribute (7% wear glasses) as on faces without it:
how an edit should be read when half the faces it scores have the attribute.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor

from facegan.data.celeba import CelebADataset, load_image
from facegan.models.judge import ATTRIBUTE_NAMES, AttributeJudge, JudgeConfig
from facegan.train.loop import TrainData
from facegan.train.recipe import ClassifierRecipe, add_classifier_options

NAME = "judge"


@dataclass
class JudgeTrainConfig:
    """Model config plus optimizer settings, recorded with every checkpoint."""

    model: JudgeConfig = field(default_factory=JudgeConfig)
    lr: float = 1e-3
    betas: tuple[float, float] = (0.9, 0.999)
    lr_decay_steps: int = 0  # > 0: decay the LR linearly to 0 over this many steps
    pos_weight: tuple[float, ...] = ()  # per attribute, when balanced: train negatives / positives


class JudgeRecipe(ClassifierRecipe):
    """``AttributeJudge`` trained with BCE-with-logits against the 0/1 attribute vectors."""

    name = NAME

    def __init__(self, config: JudgeTrainConfig, dataset: CelebADataset, device: torch.device) -> None:
        self.config = config
        self.dataset = dataset
        self.judge = AttributeJudge(config.model).to(device)
        self.pos_weight = torch.tensor(config.pos_weight, device=device) if config.pos_weight else None
        optimizer = torch.optim.Adam(self.judge.parameters(), lr=config.lr, betas=config.betas)
        super().__init__("judge", self.judge, optimizer, config.lr_decay_steps)

    def loss(self, logits: Tensor, labels: Tensor) -> tuple[Tensor, Tensor]:
        """Mean BCE over the 40 attributes; accuracy is the mean per-attribute hit rate."""
        accuracy = ((logits > 0).float() == labels).float().mean()
        return F.binary_cross_entropy_with_logits(logits, labels, pos_weight=self.pos_weight), accuracy

    def sample(self, n: int) -> Tensor:
        """The first ``n`` training faces, unflipped: read from disk so the global RNG is left alone."""
        files = self.dataset.files[:n]
        return torch.stack([load_image(self.dataset.root / "images" / f, self.config.model.resolution) for f in files])


def add_args(parser: argparse.ArgumentParser) -> None:
    """The judge's own CLI options."""
    d, m = JudgeTrainConfig(), JudgeConfig()
    group = parser.add_argument_group("judge")
    add_classifier_options(group, m.width, m.dropout, d.lr, d.lr_decay_steps)
    group.add_argument("--stages", type=int, default=m.stages, help="stride-2 stages after the stem")
    group.add_argument("--no-flip", action="store_true", help="no random horizontal flips")
    group.add_argument(
        "--balanced", action="store_true", help="weigh each attribute's positives by the train negatives/positives"
    )
    group.add_argument("--limit", type=int, help="use only the first N train images")


def build(args: argparse.Namespace, device: torch.device) -> tuple[JudgeRecipe, TrainData]:
    """The recipe and its CelebA train split for ``python -m facegan.train judge``."""
    model = JudgeConfig(width=args.width, stages=args.stages, dropout=args.dropout)
    dataset = CelebADataset(
        args.data,
        split="train",
        resolution=model.resolution,
        attributes=ATTRIBUTE_NAMES,
        flip=not args.no_flip,
        limit=args.limit,
    )
    config = JudgeTrainConfig(model=model, lr=args.lr, lr_decay_steps=args.lr_decay_steps)
    if args.balanced:
        positives = dataset.labels.sum(0).clamp(min=1)
        config.pos_weight = tuple(round(float(w), 4) for w in (len(dataset) - positives) / positives)
    info = {"dir": str(dataset.root), "split": "train", "counts": {"images": len(dataset)}}
    return JudgeRecipe(config, dataset, device), TrainData(dataset, info)
