"""``python -m facegan.eval attrgan``: how well attribute transfer edits, preserves and keeps identity.

Every figure is measured through ``AttributeTransfer.edit_crops``, the call the app makes: the
generator's change is upsampled and added to the 128 px aligned val face. On each face, each model
attribute is edited in turn:

- Male, Young, Smiling, Eyeglasses are toggled;
- a hair colour is switched on, and only on faces that lack it (switching a colour off would count
  a fading colour as success).

The independent judge (never the GAN's discriminator nor the guide it was trained with) then says:

- success: the edit shows the target value;
- no-edit rate: how often the *no-edit output* (the face run through the model with no change asked)
  already shows it. An edit only works where success clearly beats this baseline, since a generator that merely
  damages faces moves the judge too;
- preservation: every attribute not asked to change reads the same on the edit as on the input.

When the model was trained with a guide classifier, the guide's own success is reported beside the
judge's: a gap between the two would mean edits that fool one network rather than change the face.

Identity is dlib's ResNet face descriptor (``facegan.eval.identity``): cosine similarity between
input and edit, and the verification rate at dlib's same-person threshold (distance < 0.6). Realism
is the Fréchet distance between edits and real val faces in the judge's pooled features, beside the
same distance between two halves of the real faces (its floor). Mean success and identity carry 95%
bootstrap intervals over faces, and the first two checkpoints (the model and its no-heatmap ablation
by default) get a paired interval for their difference. On the app's example photos, the change the
edit makes where its attention is off (< 0.05) is measured at the photo's full resolution.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from facegan.data.celeba import load_image
from facegan.data.celeba_landmarks import ANNOTATION_SIZE, CelebAHeatmapDataset
from facegan.eval.realism import frechet_distance
from facegan.eval.identity import MODEL_DESCRIPTION, IdentityModel
from facegan.models.judge import AttributeJudge, load_judge, load_judge_file
from facegan.faces import PreparedFace
from facegan.models.attrgan import HAIR_COLOURS, toggle_attribute
from facegan.paths import UI_EXAMPLES_DIR, checkpoint_dir
from facegan.pipelines import AttributeTransfer, tensor_to_image

BOOTSTRAP_SAMPLES = 1000
ATTENTION_OFF = 0.05
"""Attention below this counts as 'not touched' for the full-resolution check."""
EXAMPLE_PHOTOS = ("grace_hopper.jpg", "astronaut.jpg")


def add_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("attrgan")
    group.add_argument(
        "--checkpoints", nargs="+", default=["attrgan", "attrgan_noheatmap"],
        help="shipped names, or paths of run checkpoints (runs/x/checkpoints/step_N: scored by their EMA)",
    )
    group.add_argument("--limit", type=int, default=500, help="val faces to edit (default 500)")
    group.add_argument("--batch-size", type=int, default=50)
    group.add_argument("--annotations", help="annotation cache (default: the user cache)")


def changed_by(index: int, attributes: tuple[str, ...]) -> set[int]:
    """Attributes an edit of ``index`` may legitimately change: itself, plus the hair group for a hair colour."""
    if attributes[index] in HAIR_COLOURS:
        return {j for j, name in enumerate(attributes) if name in HAIR_COLOURS}
    return {index}


def edit_target(source: torch.Tensor, index: int, attributes: tuple[str, ...]) -> tuple[torch.Tensor, torch.Tensor]:
    """(target vectors, which faces this edit is scored on): hair colours are only switched on."""
    if attributes[index] in HAIR_COLOURS:
        on = source.clone()
        for j, name in enumerate(attributes):
            if name in HAIR_COLOURS:
                on[:, j] = float(j == index)
        return on, source[:, index] < 0.5
    return toggle_attribute(source, index, attributes), torch.ones(len(source), dtype=torch.bool)


def cpu_hours(record: dict[str, Any]) -> float | None:
    """Training CPU time of a checkpoint, where its record has it."""
    seconds = record.get("cpu_time_s")
    return None if seconds is None else round(seconds / 3600, 2)


def to_uint8(batch: torch.Tensor) -> list[np.ndarray]:
    return [tensor_to_image(image) for image in batch]


@dataclass
class PerFace:
    """Per-face, per-attribute outcomes [faces, attributes], kept for the bootstrap."""

    hits: np.ndarray
    scored: np.ndarray
    verified: np.ndarray

    def mean_success(self, faces: np.ndarray | slice = slice(None)) -> float:
        """The reported figure: per-attribute success over the scored edits, averaged over attributes."""
        return float((self.hits[faces].sum(0) / np.maximum(self.scored[faces].sum(0), 1)).mean())

    def verification_rate(self, faces: np.ndarray | slice = slice(None)) -> float:
        return float(self.verified[faces].mean())


def bootstrap_interval(statistic: Callable[[np.ndarray], float], faces: int, seed: int = 0) -> list[float]:
    """95% percentile interval of ``statistic(face indices)`` over resamples of the faces."""
    rng = np.random.default_rng(seed)
    values = [statistic(rng.integers(0, faces, faces)) for _ in range(BOOTSTRAP_SAMPLES)]
    return [round(float(q), 4) for q in np.percentile(values, [2.5, 97.5])]


@torch.inference_mode()
def evaluate(
    model: AttributeTransfer,
    judge: AttributeJudge,
    identity: IdentityModel,
    loader: DataLoader,
    guide: AttributeJudge | None = None,
) -> tuple[dict[str, Any], PerFace]:
    """Figures for one checkpoint over every batch of ``loader`` (128 px faces, 128 px landmarks)."""
    names = model.attributes
    n_attr = len(names)
    counts = {key: np.zeros(n_attr) for key in ("success", "no_edit", "input", "scored", "guide", "kept", "keepable")}
    cosines, l1, psnr = [], [], []
    hits, scored_edits, verified_edits = [], [], []
    real_features, edit_features = [], []
    face_offset = 0
    for batch in tqdm(loader, desc=f"edits ({model.record['name']})", unit="batch"):
        images, source, points = batch
        heatmaps = model.heatmaps(points, ANNOTATION_SIZE)
        n = len(images)
        before = judge.probabilities(images, names) > 0.5
        input_embeddings = identity.embed(to_uint8(images))
        reconstruction = model.edit_crops(images, heatmaps, source, source).images
        no_edit = judge.probabilities(reconstruction, names) > 0.5
        l1.append((reconstruction - images).abs().mean(dim=(1, 2, 3)) / 2)
        mse = ((reconstruction - images) / 2).pow(2).mean(dim=(1, 2, 3))
        psnr.append(10 * torch.log10(1 / mse.clamp_min(1e-10)))
        real_features.append(judge.embed(images).cpu().numpy())
        face_hits, face_scored, face_verified = (np.zeros((n, n_attr)) for _ in range(3))
        shown = torch.zeros_like(images)
        for index in range(n_attr):
            target, scored = edit_target(source, index, names)
            edit = model.edit_crops(images, heatmaps, target, source).images
            after = judge.probabilities(edit, names) > 0.5
            wanted = target[:, index] > 0.5
            hit = (after[:, index] == wanted) & scored
            counts["success"][index] += hit.sum().item()
            counts["no_edit"][index] += ((no_edit[:, index] == wanted) & scored).sum().item()
            counts["input"][index] += ((before[:, index] == wanted) & scored).sum().item()
            counts["scored"][index] += scored.sum().item()
            if guide is not None:
                guided = guide.probabilities(edit, names)[:, index] > 0.5
                counts["guide"][index] += ((guided == wanted) & scored).sum().item()
            keep = [j for j in range(n_attr) if j not in changed_by(index, names)]
            counts["kept"][index] += (after[:, keep] == before[:, keep]).float().sum().item()
            counts["keepable"][index] += len(keep) * n
            edit_embeddings = identity.embed(to_uint8(edit))
            verified = identity.verify(input_embeddings, edit_embeddings)
            cosines.append(identity.cosine(input_embeddings, edit_embeddings))
            face_hits[:, index] = hit.numpy()
            face_scored[:, index] = scored.numpy()
            face_verified[:, index] = np.asarray(verified, dtype=float)
            faces = (torch.arange(n) + face_offset) % n_attr == index  # one edit per face for realism
            shown[faces] = edit[faces]
        edit_features.append(judge.embed(shown).cpu().numpy())
        hits.append(face_hits)
        scored_edits.append(face_scored)
        verified_edits.append(face_verified)
        face_offset += n
    success = counts["success"] / counts["scored"]
    per_attribute = {
        name: {
            "success": round(success[i], 4),
            "no_edit_rate": round(counts["no_edit"][i] / counts["scored"][i], 4),
            "input_rate": round(counts["input"][i] / counts["scored"][i], 4),
            **({"guide_success": round(counts["guide"][i] / counts["scored"][i], 4)} if guide is not None else {}),
            "preservation": round(counts["kept"][i] / counts["keepable"][i], 4),
            "edits_scored": int(counts["scored"][i]),
        }
        for i, name in enumerate(names)
    }
    per_face = PerFace(np.concatenate(hits), np.concatenate(scored_edits), np.concatenate(verified_edits))
    n_faces = len(per_face.hits)
    real, edits = np.concatenate(real_features), np.concatenate(edit_features)
    half = len(real) // 2
    row = {
        "checkpoint": model.record["name"],
        "steps": model.record["steps"],
        "cpu_hours": cpu_hours(model.record),
        "use_heatmap": model.config.use_heatmap,
        "guide": model.record["config"].get("guide"),
        "images": n_faces,
        "attributes": per_attribute,
        "mean_success": round(float(success.mean()), 4),
        "mean_success_ci95": bootstrap_interval(per_face.mean_success, n_faces),
        "min_success": round(float(success.min()), 4),
        "mean_no_edit_rate": round(float(np.mean([a["no_edit_rate"] for a in per_attribute.values()])), 4),
        "mean_preservation": round(float(counts["kept"].sum() / counts["keepable"].sum()), 4),
        "identity_cosine_mean": round(float(np.concatenate(cosines).mean()), 4),
        "identity_verification_rate": round(per_face.verification_rate(), 4),
        "identity_verification_ci95": bootstrap_interval(per_face.verification_rate, n_faces),
        "frechet_edits_vs_real": round(frechet_distance(edits[:half], real[half:]), 3),
        "frechet_real_floor": round(frechet_distance(real[:half], real[half:]), 3),
        "reconstruction_l1": round(float(torch.cat(l1).mean()), 4),
        "reconstruction_psnr_db": round(float(torch.cat(psnr).mean()), 2),
    }
    if guide is not None:
        row["mean_guide_success"] = round(float(np.mean([a["guide_success"] for a in per_attribute.values()])), 4)
    return row, per_face


def paired_difference(a: PerFace, b: PerFace) -> dict[str, Any]:
    """Mean success and identity of ``a`` minus ``b`` on the same faces, with 95% bootstrap intervals."""
    faces = len(a.hits)
    result = {}
    for key, figure in (("success", PerFace.mean_success), ("verified", PerFace.verification_rate)):

        def difference(chosen: np.ndarray | slice, figure: Callable = figure) -> float:
            return figure(a, chosen) - figure(b, chosen)

        result[key] = {
            "difference": round(difference(slice(None)), 4), "ci95": bootstrap_interval(difference, faces)
        }
    return result


def untouched_change(model: AttributeTransfer) -> dict[str, Any]:
    """On the app's example photos, at full resolution: the mean absolute change (0-255) of pixels
    outside the edit's footprint and of pixels inside it where the attention is off, per edit."""
    outside, attention_off = [], []
    for name in EXAMPLE_PHOTOS:
        prepared = model.prepare(UI_EXAMPLES_DIR / name)
        own = model.estimate_attributes(prepared)
        for attribute in model.attributes:
            edit = model.edit(prepared, {attribute: True}, own)
            change = np.abs(edit.photo.astype(np.float32) - prepared.photo).mean(axis=2)
            crop_mask = np.ones((prepared.aligned.size,) * 2, np.uint8) * 255
            footprint = _warp_to_photo(crop_mask, prepared) > 0
            attention = _warp_to_photo(edit.mask, prepared) / 255.0
            outside.append(float(change[~footprint].mean()))
            attention_off.append(float(change[footprint & (attention < ATTENTION_OFF)].mean()))
    return {
        "photos": list(EXAMPLE_PHOTOS),
        "outside_crop_mean_abs_change": round(float(np.mean(outside)), 4),
        "attention_off_mean_abs_change": round(float(np.mean(attention_off)), 4),
        "attention_off_threshold": ATTENTION_OFF,
    }


def _warp_to_photo(crop_map: np.ndarray, prepared: PreparedFace) -> np.ndarray:
    """A map over the aligned crop, warped into the photo's frame (0 outside the crop)."""
    height, width = prepared.photo.shape[:2]
    return cv2.warpAffine(
        crop_map.astype(np.float32), prepared.aligned.inverse_matrix, (width, height), flags=cv2.INTER_LINEAR
    )


class LandmarkFaces(CelebAHeatmapDataset):
    """Val faces at the annotation's 128 px with their raw landmarks: what ``edit_crops`` takes."""

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        image = load_image(self.root / "images" / self.files[index], ANNOTATION_SIZE)
        return image, self.labels[index], self.points[index]


def markdown(rows: list[dict[str, Any]]) -> str:
    """Per-attribute success (no-edit baseline) and preservation, then the summary figures."""
    names = list(rows[0]["attributes"])
    lines = ["| Checkpoint | " + " | ".join(names) + " |", "| --- |" + " ---: |" * len(names)]
    for row in rows:
        cells = [
            f"{a['success']:.0%} ({a['no_edit_rate']:.0%}) / {a['preservation']:.0%}"
            for a in (row["attributes"][n] for n in names)
        ]
        lines.append(f"| {row['checkpoint']} success (no-edit) / preservation | " + " | ".join(cells) + " |")
    lines += [
        "",
        "| Checkpoint | steps | CPU h | heatmap | success [95% CI] | min | no-edit | guide | preservation | "
        "verified [95% CI] | FD (floor) | PSNR |",
        "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        lo, hi = row["mean_success_ci95"]
        vlo, vhi = row["identity_verification_ci95"]
        guide = f"{row['mean_guide_success']:.1%}" if "mean_guide_success" in row else "-"
        lines.append(
            f"| {row['checkpoint']} | {row['steps']} | {row['cpu_hours']} | {'yes' if row['use_heatmap'] else 'no'} | "
            f"{row['mean_success']:.1%} [{lo:.1%}, {hi:.1%}] | {row['min_success']:.1%} | "
            f"{row['mean_no_edit_rate']:.1%} | {guide} | {row['mean_preservation']:.1%} | "
            f"{row['identity_verification_rate']:.1%} [{vlo:.1%}, {vhi:.1%}] | "
            f"{row['frechet_edits_vs_real']:.2f} ({row['frechet_real_floor']:.2f}) | "
            f"{row['reconstruction_psnr_db']:.2f} dB |"
        )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> dict[str, Any]:
    judge = load_judge(device=args.device)
    identity = IdentityModel()
    rows, per_face, full_resolution = [], [], {}
    for name in args.checkpoints:
        path = Path(name)
        model = AttributeTransfer(path.name, path.parent if path.parent != Path(".") else None, args.device)
        guide_name = model.record["config"].get("guide")
        guide = None
        if guide_name:
            guide = load_judge_file(checkpoint_dir() / guide_name, "see the attrgan record", args.device)
        dataset = LandmarkFaces(args.data, "val", ANNOTATION_SIZE, model.attributes, limit=args.limit,
                                annotations=args.annotations)
        row, faces = evaluate(model, judge, identity, DataLoader(dataset, batch_size=args.batch_size), guide)
        rows.append({**row, "checkpoint": name})
        per_face.append(faces)
        full_resolution[name] = untouched_change(model)
    print(markdown(rows))
    result = {
        "split": "val",
        "judge": "checkpoints/attr_judge",
        "identity_model": MODEL_DESCRIPTION,
        "rows": rows,
        "full_resolution": full_resolution,
    }
    if len(rows) >= 2:
        result["paired_difference"] = {"a": rows[0]["checkpoint"], "b": rows[1]["checkpoint"],
                                       **paired_difference(per_face[0], per_face[1])}
        print(f"\n{rows[0]['checkpoint']} - {rows[1]['checkpoint']}: {result['paired_difference']}")
    return result
