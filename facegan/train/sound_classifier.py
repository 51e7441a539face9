"""Sound-classifier recipe: trains the learned encoder (``SoundEncoder``) on the 12 sound classes.

Training folds only (``HELD_OUT_FOLDS`` stay unseen). Each clip is played at a random level (-6 to
+10 dB, the generator's volume range) and rolled in time, so the predicted class does not flip with
the volume slider; by default (``facegan.audio.augment``) a clip of another class is also mixed in
underneath and SpecAugment masks are drawn, because without them the encoder memorises its 1,400
clips. The cross-entropy is weighted by inverse class frequency because the ESC-10 classes have 24
training clips against ~200 for UrbanSound8K's.

``--teacher`` distils a pretrained network into the encoder: a table of its embeddings, one row per
clip of clips.csv (``benchmarks/pretrained_sound_probe.py --table-out`` writes BirdNET's), becomes a
second target. A linear layer on the encoder's embedding regresses the teacher's standardised
embedding of the clean clip, so 1,435 clips teach 1,024 numbers each instead of one label. The layer is
dropped at export: the app needs only the encoder.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import Dataset

from facegan.audio.augment import AugmentConfig, augment
from facegan.audio.data import HELD_OUT_FOLDS, SOUND_CLASSES, ClipCache, clip_cache, sounds_root
from facegan.audio.encoder import POOLINGS, EncoderConfig, SoundEncoder
from facegan.train.loop import StepContext, TrainData
from facegan.train.recipe import ClassifierRecipe, add_classifier_options

NAME = "sound_classifier"


@dataclass
class SoundClassifierTrainConfig:
    model: EncoderConfig = field(default_factory=EncoderConfig)
    lr: float = 2e-3
    weight_decay: float = 1e-4
    lr_decay_steps: int = 0
    class_weights: list[float] = field(default_factory=list)
    augment: AugmentConfig | None = field(default_factory=AugmentConfig)
    teacher_dim: int = 0  # length of the teacher's embedding; 0: no teacher
    teacher_weight: float = 1.0


class ClipDataset(Dataset):
    """(augmented log-mel, class index) of the chosen clips, plus the teacher's row when given.

    ``augment=None`` keeps only the level and time-shift draws (the original recipe, for ablation).
    """

    def __init__(
        self, cache: ClipCache, rows: np.ndarray, augment: AugmentConfig | None = None, teacher: Tensor | None = None
    ) -> None:
        self.logmel = torch.from_numpy(cache.logmel[rows])
        self.labels = torch.tensor([SOUND_CLASSES.index(cache.clips[i].label) for i in rows])
        self.augment = augment or AugmentConfig(background_prob=0.0, freq_masks=0, time_masks=0)
        self.teacher = teacher

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[Tensor, ...]:
        others = torch.nonzero(self.labels != self.labels[index]).flatten()
        background = self.logmel[others[torch.randint(len(others), ())]]
        item = (augment(self.logmel[index], background, self.augment), self.labels[index])
        return item if self.teacher is None else (*item, self.teacher[index])


def standardised_teacher(path: str | Path, cache: ClipCache, rows: np.ndarray) -> Tensor:
    """The teacher table's rows for ``rows``, each dimension standardised over them."""
    table = np.load(path)
    if table.ndim != 2 or len(table) != len(cache.clips):
        raise ValueError(
            f"{path}: expected one embedding per clip of clips.csv ({len(cache.clips)}), got {table.shape}"
        )
    chosen = torch.from_numpy(table[rows]).float()
    return (chosen - chosen.mean(dim=0)) / chosen.std(dim=0).clamp_min(1e-6)


def inverse_frequency_weights(labels: Tensor, num_classes: int) -> list[float]:
    """Per-class loss weights proportional to 1 / count, with mean 1 over the classes."""
    counts = torch.bincount(labels, minlength=num_classes).float().clamp_min(1)
    weights = 1 / counts
    return (weights * num_classes / weights.sum()).tolist()


class SoundClassifierRecipe(ClassifierRecipe):
    name = NAME

    def __init__(self, config: SoundClassifierTrainConfig, device: torch.device) -> None:
        self.config = config
        self.device = device
        self.encoder = SoundEncoder(config.model).to(device)
        self.weights = torch.tensor(config.class_weights, device=device)
        self.teacher_head = None
        if config.teacher_dim:
            self.teacher_head = nn.Linear(config.model.embed_dim, config.teacher_dim).to(device)
        parameters = chain(self.encoder.parameters(), self.teacher_head.parameters() if self.teacher_head else ())
        optimizer = torch.optim.AdamW(parameters, lr=config.lr, weight_decay=config.weight_decay)
        super().__init__("encoder", self.encoder, optimizer, config.lr_decay_steps)
        if self.teacher_head is not None:
            self.nets["teacher_head"] = self.teacher_head

    def loss(self, logits: Tensor, labels: Tensor) -> tuple[Tensor, Tensor]:
        """Cross-entropy weighted by inverse class frequency (ESC-10 classes are ~8x rarer)."""
        return F.cross_entropy(logits, labels, weight=self.weights), (logits.argmax(1) == labels).float().mean()

    def train_step(self, batch: tuple[Tensor, ...], step: int, ctx: StepContext) -> dict[str, Tensor]:
        """The classifier step, plus the distillation term when a teacher is given."""
        if self.teacher_head is None:
            return super().train_step(batch, step, ctx)
        inputs, labels, targets = batch
        with ctx.autocast():
            logits, embedding = ctx.nets["encoder"](inputs, with_embedding=True)
            predicted = ctx.nets["teacher_head"](embedding)
        classification, accuracy = self.loss(logits.float(), labels)
        distillation = F.mse_loss(predicted.float(), targets)
        ctx.optimize("encoder", classification + self.config.teacher_weight * distillation)
        return {"loss": classification.detach(), "distillation": distillation.detach(), "accuracy": accuracy.detach()}

    def sample(self, n: int) -> Tensor:
        """No images to show: a blank grid keeps the loop's sample hook working."""
        return torch.zeros(n, 3, 8, 8)


def add_args(parser: argparse.ArgumentParser) -> None:
    d, m = SoundClassifierTrainConfig(), EncoderConfig()
    group = parser.add_argument_group("sound_classifier")
    add_classifier_options(group, m.width, m.dropout, d.lr, d.lr_decay_steps)
    group.add_argument(
        "--no-augment", dest="augment", action="store_false", help="level and time shift only (the ablation)"
    )
    group.add_argument(
        "--pool", choices=list(POOLINGS), default=m.pool, help="; ".join(f"{k}: {v}" for k, v in POOLINGS.items())
    )
    augment_defaults = AugmentConfig()
    group.add_argument("--eq-db", type=float, default=augment_defaults.eq_db, help="random equaliser swing (dB)")
    group.add_argument(
        "--pitch-shift", type=float, default=augment_defaults.pitch_shift, help="random mel-axis stretch (fraction)"
    )
    group.add_argument(
        "--teacher", metavar="NPY",
        help="a pretrained network's embeddings, one row per clip of clips.csv, to distil into the encoder",
    )  # fmt: skip
    group.add_argument(
        "--teacher-weight", type=float, default=SoundClassifierTrainConfig.teacher_weight,
        help="weight of the distillation term against the cross-entropy",
    )  # fmt: skip


def build(args: argparse.Namespace, device: torch.device) -> tuple[SoundClassifierRecipe, TrainData]:
    """The recipe and the training-fold clips for ``python -m facegan.train sound_classifier``."""
    cache = clip_cache(args.data)
    rows = cache.select(held_out=False)
    augmentation = AugmentConfig(eq_db=args.eq_db, pitch_shift=args.pitch_shift) if args.augment else None
    teacher = standardised_teacher(args.teacher, cache, rows) if args.teacher else None
    dataset = ClipDataset(cache, rows, augmentation, teacher)
    train_db = cache.logmel[rows]
    model = EncoderConfig(
        width=args.width, dropout=args.dropout, num_classes=len(SOUND_CLASSES), pool=args.pool,
        db_mean=round(float(train_db.mean()), 2), db_std=round(float(train_db.std()), 2),
    )  # fmt: skip
    config = SoundClassifierTrainConfig(
        model=model, lr=args.lr, lr_decay_steps=args.lr_decay_steps,
        class_weights=inverse_frequency_weights(dataset.labels, len(SOUND_CLASSES)), augment=augmentation,
        teacher_dim=0 if teacher is None else teacher.shape[1], teacher_weight=args.teacher_weight,
    )  # fmt: skip
    info = {
        "dir": str(sounds_root(args.data)), "split": f"all folds but {HELD_OUT_FOLDS}", "counts": {"clips": len(rows)},
        **({"teacher": Path(args.teacher).name} if args.teacher else {}),
    }  # fmt: skip
    return SoundClassifierRecipe(config, device), TrainData(dataset, info)
