"""``python -m facegan.eval judge``: the attribute judge's accuracy per attribute on the val split.

Each accuracy stands beside its majority-class baseline (always answer the train split's more common
value): CelebA's attributes are imbalanced (7% Eyeglasses), so 93% on Eyeglasses means nothing by
itself, and the gain over the baseline is what tells how far the judge can be trusted on an edit. Recall
(the share of faces with the attribute it says have it) is reported too: a transplant's success rate is
read against it, and a rare attribute's accuracy can be high while its recall is poor. Recall and
specificity are also given among men and among women (CelebA's Male label): a judge can learn that
mustaches come with men, and then read a man without one as having one, or never see one on a woman.
"""

from __future__ import annotations

import argparse
from typing import Any

import torch
from torch import Tensor
from torch.utils.data import DataLoader
from tqdm import tqdm

from facegan.data.celeba import CelebADataset, read_attributes, split_files
from facegan.models.judge import ATTRIBUTE_NAMES, AttributeJudge, judge_checkpoint_path, load_judge

# The attributes our editing models change; reported first.
HIGHLIGHTED = ("Black_Hair", "Blond_Hair", "Brown_Hair", "Male", "Young", "Smiling", "Eyeglasses", "Bangs")


def add_args(parser: argparse.ArgumentParser) -> None:
    """Options of ``judge``: which weights, which split, how many images."""
    group = parser.add_argument_group("judge")
    group.add_argument("--checkpoint", help="judge weights (default: checkpoints/attr_judge.safetensors)")
    group.add_argument("--split", default="val", help="CelebA split to score: val (default), train or all")
    group.add_argument("--limit", type=int, help="score only the first N images of the split")
    group.add_argument("--batch-size", type=int, default=256)
    group.add_argument("--num-workers", type=int, default=0, help="data loader processes")


@torch.inference_mode()
def predict(judge: AttributeJudge, dataset: CelebADataset, batch_size: int, num_workers: int) -> tuple[Tensor, Tensor]:
    """Boolean predictions and labels [N, 40] for every image of ``dataset``."""
    device = next(judge.parameters()).device
    predictions, labels = [], []
    loader = DataLoader(dataset, batch_size=batch_size, num_workers=num_workers)
    for images, targets in tqdm(loader, desc="judging", unit="batch"):
        predictions.append(judge(images.to(device)).cpu() > 0)
        labels.append(targets > 0.5)
    return torch.cat(predictions), torch.cat(labels)


def train_majority(dataset: CelebADataset) -> Tensor:
    """Per attribute, the value (True/False) most train-split images have: the baseline's constant answer."""
    table = read_attributes(dataset.root)
    rows = {name: i for i, name in enumerate(table.files)}
    train = table.columns(ATTRIBUTE_NAMES)[[rows[f] for f in split_files(dataset.root, "train")]]
    return torch.from_numpy((train > 0).mean(axis=0) >= 0.5)


def rates_by_sex(predictions: Tensor, labels: Tensor) -> dict[str, dict[str, dict[str, float | int | None]]]:
    """Per attribute, recall and specificity among the men and among the women (None where a group has no case)."""
    men = labels[:, ATTRIBUTE_NAMES.index("Male")]
    result: dict[str, dict[str, dict[str, float | int | None]]] = {}
    for j, name in enumerate(ATTRIBUTE_NAMES):
        result[name] = {}
        for sex, chosen in (("men", men), ("women", ~men)):
            said, truth = predictions[chosen, j], labels[chosen, j]
            positives, negatives = int(truth.sum()), int((~truth).sum())
            result[name][sex] = {
                "positives": positives,
                "negatives": negatives,
                "recall": round(float((said & truth).sum()) / positives, 4) if positives else None,
                "specificity": round(float((~said & ~truth).sum()) / negatives, 4) if negatives else None,
            }
    return result


def markdown_table(attributes: dict[str, dict[str, float]], mean: dict[str, float]) -> str:
    """Highlighted attributes first (bold), then the rest in file order, then the mean over all 40."""
    order = [*HIGHLIGHTED, *(name for name in ATTRIBUTE_NAMES if name not in HIGHLIGHTED)]
    lines = [
        "| Attribute | Judge accuracy | Majority baseline | Gain | Positives | Recall | Specificity |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]

    def row(label: str, figures: dict[str, float]) -> str:
        accuracy, baseline = figures["accuracy"], figures["majority_baseline"]
        return (
            f"| {label} | {accuracy:.1%} | {baseline:.1%} | {100 * (accuracy - baseline):+.1f} pt | "
            f"{figures['positive_rate']:.1%} | {figures['recall']:.1%} | {figures['specificity']:.1%} |"
        )

    lines += [row(f"**{name}**" if name in HIGHLIGHTED else name, attributes[name]) for name in order]
    lines.append(row("**mean (40)**", mean))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Score the judge on ``--split``; print the markdown table and return the figures."""
    checkpoint = judge_checkpoint_path(args.checkpoint)
    judge = load_judge(checkpoint, args.device)
    dataset = CelebADataset(
        args.data, split=args.split, resolution=judge.config.resolution, attributes=ATTRIBUTE_NAMES, limit=args.limit
    )
    predictions, labels = predict(judge, dataset, args.batch_size, args.num_workers)
    columns = {
        "accuracy": (predictions == labels).float().mean(0),
        "majority_baseline": (labels == train_majority(dataset)).float().mean(0),
        "positive_rate": labels.float().mean(0),
        "recall": (predictions & labels).float().sum(0) / labels.float().sum(0).clamp(min=1),
        "specificity": (~predictions & ~labels).float().sum(0) / (~labels).float().sum(0).clamp(min=1),
    }
    attributes = {
        name: {key: round(float(values[j]), 4) for key, values in columns.items()}
        for j, name in enumerate(ATTRIBUTE_NAMES)
    }
    mean = {key: round(float(values.mean()), 4) for key, values in columns.items()}
    print(markdown_table(attributes, mean))
    return {
        "checkpoint": str(checkpoint),
        "split": args.split,
        "images": len(dataset),
        "mean_accuracy": mean["accuracy"],
        "mean_majority_baseline": mean["majority_baseline"],
        "highlighted": {name: attributes[name] for name in HIGHLIGHTED},
        "attributes": attributes,
        "by_sex": rates_by_sex(predictions, labels),
    }
