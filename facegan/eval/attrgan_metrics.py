"""``python -m facegan.eval attrgan``: how well attribute transfer edits, preserves and keeps identity.

On val faces, each model attribute is toggled in turn (a hair colour switched on turns the others
off). The independent judge (never the GAN's discriminator) then says:

- success: the edit shows the target value of the toggled attribute;
- preservation: every attribute not asked to change reads the same on the edit as on the input.

Identity is dlib's ResNet face descriptor (``facegan.eval.identity``): cosine similarity between
input and edit, and the verification rate at dlib's same-person threshold (Euclidean distance < 0.6).
With the source's own attributes as target, the output should reproduce the input: L1 and PSNR.
Every checkpoint named by ``--checkpoints`` (default: the model and its no-heatmap ablation) gets a row.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from facegan.data.celeba_landmarks import CelebAHeatmapDataset
from facegan.eval.identity import MODEL_DESCRIPTION, IdentityModel
from facegan.eval.judge import AttributeJudge, load_judge
from facegan.models.attrgan import HAIR_COLOURS, heatmap_to_signed, toggle_attribute
from facegan.pipelines import AttributeTransfer, tensor_to_image


def add_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("attrgan")
    group.add_argument("--checkpoints", nargs="+", default=["attrgan", "attrgan_noheatmap"])
    group.add_argument("--limit", type=int, default=500, help="val faces to edit (default 500)")
    group.add_argument("--batch-size", type=int, default=50)
    group.add_argument("--annotations", help="annotation cache (default: the user cache)")


def changed_by(index: int, attributes: tuple[str, ...]) -> set[int]:
    """Attributes an edit of ``index`` may legitimately change: itself, plus the hair group for a hair colour."""
    if attributes[index] in HAIR_COLOURS:
        return {j for j, name in enumerate(attributes) if name in HAIR_COLOURS}
    return {index}


def to_uint8(batch: torch.Tensor) -> list[np.ndarray]:
    return [tensor_to_image(image) for image in batch]


@torch.inference_mode()
def evaluate(
    model: AttributeTransfer, judge: AttributeJudge, identity: IdentityModel, loader: DataLoader
) -> dict[str, Any]:
    """Figures for one checkpoint over every batch of ``loader``."""
    names = model.attributes
    n_attr = len(names)
    success = np.zeros(n_attr)
    already = np.zeros(n_attr)
    preserved = np.zeros(n_attr)
    preserve_counts = np.zeros(n_attr)
    cosines, verified, l1, psnr = [], [], [], []
    total = 0
    generator = model.generator
    for batch in tqdm(loader, desc=f"edits ({model.record['name']})", unit="batch"):
        images, source, heatmap = (t.to(model.device) for t in batch)
        hm = heatmap_to_signed(heatmap) if model.config.use_heatmap else None
        before = judge.probabilities(images, names) > 0.5
        input_faces = to_uint8(images)
        input_embeddings = identity.embed(input_faces)
        reconstruction = generator(images, hm, source).image
        l1.append((reconstruction - images).abs().mean(dim=(1, 2, 3)) / 2)
        mse = ((reconstruction - images) / 2).pow(2).mean(dim=(1, 2, 3))
        psnr.append(10 * torch.log10(1 / mse.clamp_min(1e-10)))
        for index in range(n_attr):
            target = toggle_attribute(source, index, names)
            edit = generator(images, hm, target).image
            after = judge.probabilities(edit, names) > 0.5
            wanted = target[:, index] > 0.5
            success[index] += (after[:, index] == wanted).sum().item()
            already[index] += (before[:, index] == wanted).sum().item()
            keep = [j for j in range(n_attr) if j not in changed_by(index, names)]
            preserved[index] += (after[:, keep] == before[:, keep]).float().sum().item()
            preserve_counts[index] += len(keep) * len(images)
            embeddings = identity.embed(to_uint8(edit))
            cosines.append(identity.cosine(input_embeddings, embeddings))
            verified.append(identity.verify(input_embeddings, embeddings))
        total += len(images)
    per_attribute = {
        name: {
            "success": round(success[i] / total, 4),
            "judge_says_target_before_edit": round(already[i] / total, 4),
            "preservation": round(preserved[i] / preserve_counts[i], 4),
        }
        for i, name in enumerate(names)
    }
    return {
        "checkpoint": model.record["name"],
        "steps": model.record["steps"],
        "use_heatmap": model.config.use_heatmap,
        "images": total,
        "attributes": per_attribute,
        "mean_success": round(float(success.sum() / (total * n_attr)), 4),
        "mean_preservation": round(float(preserved.sum() / preserve_counts.sum()), 4),
        "identity_cosine_mean": round(float(np.concatenate(cosines).mean()), 4),
        "identity_verification_rate": round(float(np.concatenate(verified).mean()), 4),
        "reconstruction_l1": round(float(torch.cat(l1).mean()), 4),
        "reconstruction_psnr_db": round(float(torch.cat(psnr).mean()), 2),
    }


def markdown(rows: list[dict[str, Any]]) -> str:
    """One table of per-attribute success/preservation per checkpoint, one of the summary figures."""
    names = list(rows[0]["attributes"])
    lines = ["| Checkpoint | " + " | ".join(names) + " |", "| --- |" + " ---: |" * len(names)]
    for row in rows:
        cells = [
            f"{row['attributes'][n]['success']:.0%} / {row['attributes'][n]['preservation']:.0%}" for n in names
        ]
        lines.append(f"| {row['checkpoint']} (success / preservation) | " + " | ".join(cells) + " |")
    lines += [
        "",
        "| Checkpoint | steps | heatmap | success | preservation | identity cos | verified (d<0.6) | rec. L1 | PSNR |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        lines.append(
            f"| {row['checkpoint']} | {row['steps']} | {'yes' if row['use_heatmap'] else 'no'} | "
            f"{row['mean_success']:.1%} | {row['mean_preservation']:.1%} | {row['identity_cosine_mean']:.3f} | "
            f"{row['identity_verification_rate']:.1%} | {row['reconstruction_l1']:.4f} | "
            f"{row['reconstruction_psnr_db']:.2f} dB |"
        )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> dict[str, Any]:
    judge = load_judge(device=args.device)
    identity = IdentityModel()
    rows = []
    for name in args.checkpoints:
        model = AttributeTransfer(name, device=args.device)
        dataset = CelebAHeatmapDataset(
            args.data, "val", model.config.resolution, model.attributes, limit=args.limit,
            sigma=model.config.heatmap_sigma, annotations=args.annotations,
        )
        rows.append(evaluate(model, judge, identity, DataLoader(dataset, batch_size=args.batch_size)))
    print(markdown(rows))
    return {
        "split": "val",
        "judge": "checkpoints/attr_judge",
        "identity_model": MODEL_DESCRIPTION,
        "rows": rows,
    }
