"""Scene-judge recipe: the six-way scene classifier that scores generated scenes (``facegan.eval.scene_judge``).

Adam on cross-entropy with random horizontal flips, on the scene train split only.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

import torch
from torch import Tensor

from facegan.data.scenes import SCENE_CLASSES, SceneDataset, scenes_root, to_unit
from facegan.models.judge import AttributeJudge, JudgeConfig
from facegan.train.loop import TrainData
from facegan.train.recipe import ClassifierRecipe, add_classifier_options

NAME = "scene_judge"


def scene_judge_config(width: int = 16, stages: int = 4, dropout: float = 0.2) -> JudgeConfig:
    """The attribute judge's architecture with one logit per scene class (narrower: six classes need less)."""
    return JudgeConfig(width=width, stages=stages, dropout=dropout, num_attributes=len(SCENE_CLASSES))


@dataclass
class SceneJudgeTrainConfig:
    model: JudgeConfig = field(default_factory=scene_judge_config)
    lr: float = 1e-3
    lr_decay_steps: int = 0


class SceneJudgeRecipe(ClassifierRecipe):
    name = NAME

    def __init__(self, config: SceneJudgeTrainConfig, dataset: SceneDataset, device: torch.device) -> None:
        self.config = config
        self.dataset = dataset
        self.judge = AttributeJudge(config.model).to(device)
        optimizer = torch.optim.Adam(self.judge.parameters(), lr=config.lr)
        super().__init__("judge", self.judge, optimizer, config.lr_decay_steps)

    def sample(self, n: int) -> Tensor:
        """The first ``n`` training photos, unflipped."""
        return to_unit(self.dataset.images[:n])


def add_args(parser: argparse.ArgumentParser) -> None:
    d, m = SceneJudgeTrainConfig(), scene_judge_config()
    group = parser.add_argument_group("scene_judge")
    add_classifier_options(group, m.width, m.dropout, d.lr, d.lr_decay_steps)


def build(args: argparse.Namespace, device: torch.device) -> tuple[SceneJudgeRecipe, TrainData]:
    """The recipe and the scene train split for ``python -m facegan.train scene_judge``."""
    config = SceneJudgeTrainConfig(
        model=scene_judge_config(width=args.width, dropout=args.dropout), lr=args.lr, lr_decay_steps=args.lr_decay_steps
    )
    dataset = SceneDataset(args.data, "train")
    info = {"dir": str(scenes_root(args.data)), "split": "train", "counts": {"images": len(dataset)}}
    return SceneJudgeRecipe(config, dataset, device), TrainData(dataset, info)
