"""The independent scene judge: a CNN that tells the six scene classes apart, trained on photos alone.

It plays the Inception model's role in the paper's Tables 2 and 4: generated scenes are scored by
this network, never by the GAN's own discriminator. It is the attribute judge's architecture
(``AttributeJudge``) with a six-way softmax head, trained on the scene train split
(``python -m facegan.train scene_judge``). ``inception_score`` is the paper's score with this judge in
place of Inception v3.

Also the command ``python -m facegan.eval scene_judge [--checkpoints NAME ...]``: each judge's accuracy
on the scene val photos, overall and per scene, so a second judge's figures rest on a result file too
(``python -m facegan.eval audiogan`` reports the eval's own judge the same way).
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np
import torch
from torch import Tensor

from facegan.data.scenes import SCENE_CLASSES, load_scenes, to_unit
from facegan.models.judge import AttributeJudge, load_judge_file
from facegan.paths import checkpoint_dir

CHECKPOINT_NAME = "scene_judge"
TRAIN_COMMAND = (
    "OMP_NUM_THREADS=1 python -m facegan.train scene_judge --steps 1500 --batch-size 64 --num-workers 0 "
    "--lr-decay-steps 1500 --export scene_judge"
)


def load_scene_judge(device: str | torch.device = "cpu", name: str = CHECKPOINT_NAME) -> AttributeJudge:
    """The trained judge in eval mode; its logits are over ``SCENE_CLASSES``. ``name``: another scene
    judge in the checkpoint dir, to check a figure against a second opinion."""
    return load_judge_file(checkpoint_dir() / f"{name}.safetensors", TRAIN_COMMAND, device)


@torch.inference_mode()
def scene_probabilities(judge: AttributeJudge, images: Tensor, batch_size: int = 256) -> Tensor:
    """Softmax over the six scenes [N, 6] for images in [-1, 1]."""
    return torch.cat([judge(images[i : i + batch_size]).float().softmax(1) for i in range(0, len(images), batch_size)])


def inception_score(probabilities: np.ndarray, splits: int = 10, seed: int = 0) -> tuple[float, float]:
    """exp(E_x KL(p(y|x) || p(y))) over ``splits`` shuffled folds: (mean, std), as in Salimans et al."""
    order = np.random.default_rng(seed).permutation(len(probabilities))
    scores = []
    for part in np.array_split(probabilities[order], splits):
        marginal = part.mean(axis=0, keepdims=True)
        kl = (part * (np.log(part + 1e-12) - np.log(marginal + 1e-12))).sum(axis=1)
        scores.append(float(np.exp(kl.mean())))
    return float(np.mean(scores)), float(np.std(scores))


@torch.inference_mode()
def judge_accuracy(judge: AttributeJudge, data: str | None) -> dict[str, Any]:
    """Accuracy on the scene val photos, overall and per scene."""
    images, labels = load_scenes(data, "val")
    predicted = scene_probabilities(judge, to_unit(images)).argmax(1)
    per_class = {
        scene: round(float((predicted[labels == k] == k).float().mean()), 4) for k, scene in enumerate(SCENE_CLASSES)
    }
    accuracy = round(float((predicted == labels).float().mean()), 4)
    return {"val_images": len(labels), "accuracy": accuracy, "per_class": per_class}


def add_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("scene_judge")
    group.add_argument(
        "--checkpoints", nargs="+", default=[CHECKPOINT_NAME], help="scene judges in checkpoints/ (default: scene_judge)"
    )


def run(args: argparse.Namespace) -> dict[str, Any]:
    results = {name: judge_accuracy(load_scene_judge(name=name), args.data) for name in args.checkpoints}
    print("| Judge | val accuracy | " + " | ".join(SCENE_CLASSES) + " |")
    print("| --- | ---: | " + " | ".join("---:" for _ in SCENE_CLASSES) + " |")
    for name, r in results.items():
        cells = " | ".join(f"{r['per_class'][scene]:.1%}" for scene in SCENE_CLASSES)
        print(f"| {name} | {r['accuracy']:.1%} ({r['val_images']} photos) | {cells} |")
    return {"checkpoints": results}
