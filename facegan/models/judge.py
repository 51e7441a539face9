"""The independent attribute judge: a small CNN that predicts CelebA's 40 attributes from a face.

Edits made by our generators (attribute transfer, GeneGAN swaps) are scored by this network rather
than by any GAN's own discriminator, which was trained alongside the generator and shares its blind
spots. It is trained on its own, on the CelebA train split only (``python -m facegan.train judge``),
and its val-split accuracy per attribute is ``python -m facegan.eval judge``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from facegan.nn.blocks import ConvNormAct
from facegan.paths import checkpoint_dir
from facegan.checkpoints import load_checkpoint, load_modules

# The 40 columns of list_attr_celeba.txt, in file order (the order of the judge's logits).
ATTRIBUTE_NAMES: tuple[str, ...] = (
    "5_o_Clock_Shadow", "Arched_Eyebrows", "Attractive", "Bags_Under_Eyes", "Bald", "Bangs", "Big_Lips",
    "Big_Nose", "Black_Hair", "Blond_Hair", "Blurry", "Brown_Hair", "Bushy_Eyebrows", "Chubby", "Double_Chin",
    "Eyeglasses", "Goatee", "Gray_Hair", "Heavy_Makeup", "High_Cheekbones", "Male", "Mouth_Slightly_Open",
    "Mustache", "Narrow_Eyes", "No_Beard", "Oval_Face", "Pale_Skin", "Pointy_Nose", "Receding_Hairline",
    "Rosy_Cheeks", "Sideburns", "Smiling", "Straight_Hair", "Wavy_Hair", "Wearing_Earrings", "Wearing_Hat",
    "Wearing_Lipstick", "Wearing_Necklace", "Wearing_Necktie", "Young",
)  # fmt: skip

CHECKPOINT_NAME = "attr_judge"
TRAIN_COMMAND = (
    "OMP_NUM_THREADS=1 python -m facegan.train judge --steps 2000 --batch-size 64 --num-workers 1 "
    "--lr-decay-steps 2000 --export attr_judge"
)


@dataclass
class JudgeConfig:
    """Architecture of the judge; stored in its checkpoint record so loading needs nothing else."""

    resolution: int = 64  # every input is resized to this before the first conv
    width: int = 24  # channels of the full-resolution stem; each stage doubles them
    stages: int = 4  # stride-2 stages: 64 px -> 4x4 features with the default 4
    dropout: float = 0.2  # before the linear head
    num_attributes: int = len(ATTRIBUTE_NAMES)


class AttributeJudge(nn.Module):
    """A full-resolution stem, stages of [stride-2 conv, conv] (BN + ReLU), global average pooling, one linear head.

    Compact on purpose (0.67M parameters, ~0.1 GMAC a face): it has to train on one CPU core in
    minutes and ship as a few-MB checkpoint, and CelebA's attributes need no more at 64 px.
    """

    def __init__(self, config: JudgeConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or JudgeConfig()
        layers: list[nn.Module] = [ConvNormAct(3, config.width, 3, norm="batch")]
        in_ch = config.width
        for stage in range(config.stages):
            out_ch = config.width * 2**stage
            layers += [
                ConvNormAct(in_ch, out_ch, 3, stride=2, norm="batch"),
                ConvNormAct(out_ch, out_ch, 3, norm="batch"),
            ]
            in_ch = out_ch
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(config.dropout), nn.Linear(in_ch, config.num_attributes))

    def embed(self, images: Tensor) -> Tensor:
        """Pooled features [N, C] before the head, for square faces in [-1, 1] of any size (antialiased
        resize to 64 px): also the feature space of the realism (Fréchet) figures."""
        size = self.config.resolution
        if images.shape[-2:] != (size, size):
            images = F.interpolate(images, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
        return F.adaptive_avg_pool2d(self.features(images), 1).flatten(1)

    def forward(self, images: Tensor) -> Tensor:
        """Logits [N, 40] for square faces in [-1, 1] of any size."""
        return self.head(self.embed(images))

    def probabilities(self, images: Tensor, names: Sequence[str]) -> Tensor:
        """P(attribute) [N, len(names)] for the chosen attributes, in the order asked."""
        unknown = [name for name in names if name not in ATTRIBUTE_NAMES]
        if unknown:
            raise KeyError(f"unknown CelebA attributes {unknown}; known: {list(ATTRIBUTE_NAMES)}")
        columns = [ATTRIBUTE_NAMES.index(name) for name in names]
        return torch.sigmoid(self(images)[:, columns].float())


def judge_checkpoint_path(path: str | os.PathLike | None = None) -> Path:
    """``path`` itself, else the shipped ``<checkpoint dir>/attr_judge.safetensors``."""
    return Path(path) if path is not None else checkpoint_dir() / f"{CHECKPOINT_NAME}.safetensors"


def load_judge_file(path: Path, train_command: str, device: str | torch.device = "cpu") -> AttributeJudge:
    """Any ``AttributeJudge``-architecture checkpoint in eval mode; a missing file names ``train_command``."""
    weights, record = load_checkpoint(path, train_command)
    judge = AttributeJudge(JudgeConfig(**record["config"]["model"]))
    load_modules({"judge": judge}, weights)
    return judge.to(device).eval()


def load_judge(path: str | os.PathLike | None = None, device: str | torch.device = "cpu") -> AttributeJudge:
    """The trained judge in eval mode, from ``checkpoints/attr_judge.safetensors`` unless ``path`` says."""
    return load_judge_file(judge_checkpoint_path(path), TRAIN_COMMAND, device)
