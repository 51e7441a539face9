"""``python -m facegan.eval sound_classifier``: the sound encoder on the held-out folds, class by class.

The encoder decides which scene the generator draws, so its mistakes are the tab's mistakes. Beside
the overall accuracy this reports the mean of the per-class accuracies (the ESC-10 classes have a
tenth of UrbanSound8K's clips, so the plain mean hides them), the scene accuracy (a mistake inside
one scene, rain for fire, still draws the right scene) and the confusion matrix.

Held-out clips are slices of few recordings (UrbanSound8K cuts one freesound recording into many
4 s clips: a single engine recording is 34 of the 272 held-out clips), so a clip-level figure can
hinge on one recording. The report therefore also gives each recording's accuracy and their mean.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np
import torch

from facegan.audio.data import SCENE_OF_SOUND, SOUND_CLASSES, ClipCache, clip_cache
from facegan.audio.encoder import SoundEncoder, load_sound_encoder


def add_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("sound_classifier")
    group.add_argument(
        "--checkpoints", nargs="+", default=["sound_classifier"],
        help="checkpoint names in checkpoints/ or paths to .safetensors files (default: sound_classifier)",
    )  # fmt: skip


def per_recording(cache: ClipCache, rows: np.ndarray, predicted: np.ndarray) -> list[dict[str, Any]]:
    """Each held-out recording (class, freesound id): its clips, accuracy and most frequent prediction,
    the largest recordings first."""
    groups: dict[tuple[str, int], list[int]] = {}
    for row, guess in zip(rows, predicted.tolist()):
        clip = cache.clips[row]
        groups.setdefault((clip.label, clip.freesound_id), []).append(guess)
    report = [
        {
            "label": label, "freesound_id": recording, "clips": len(guesses),
            "accuracy": round(guesses.count(SOUND_CLASSES.index(label)) / len(guesses), 4),
            "mostly_predicted": SOUND_CLASSES[max(set(guesses), key=guesses.count)],
        }
        for (label, recording), guesses in groups.items()
    ]  # fmt: skip
    return sorted(report, key=lambda r: (-r["clips"], r["label"], r["freesound_id"]))


def held_out_report(encoder: SoundEncoder, cache: ClipCache) -> dict[str, Any]:
    """The encoder's own head on the held-out clips (``prediction_report``)."""
    rows = cache.select(held_out=True)
    predicted = encoder.probabilities(torch.from_numpy(cache.logmel[rows])).argmax(1).numpy()
    return prediction_report(cache, rows, predicted)


def prediction_report(cache: ClipCache, rows: np.ndarray, predicted: np.ndarray) -> dict[str, Any]:
    """Accuracy, mean per-class accuracy, scene accuracy (over clips and as a mean over scenes, the
    generator's class-match ceiling), confusion matrix and per-recording accuracy of class predictions
    for the clips ``rows``."""
    truth = np.array([SOUND_CLASSES.index(cache.clips[i].label) for i in rows])
    confusion = np.zeros((len(SOUND_CLASSES), len(SOUND_CLASSES)), dtype=int)
    np.add.at(confusion, (truth, predicted), 1)
    per_class = {
        name: round(float(confusion[k, k] / confusion[k].sum()), 4)
        for k, name in enumerate(SOUND_CLASSES) if confusion[k].sum()
    }  # fmt: skip
    scene_hits: dict[str, list[bool]] = {}
    for p, t in zip(predicted, truth):
        scene = SCENE_OF_SOUND.get(SOUND_CLASSES[t])
        if scene is not None:
            scene_hits.setdefault(scene, []).append(SCENE_OF_SOUND.get(SOUND_CLASSES[p]) == scene)
    per_scene = {scene: round(float(np.mean(hits)), 4) for scene, hits in sorted(scene_hits.items())}
    recordings = per_recording(cache, rows, predicted)
    return {
        "clips": len(rows),
        "sound_class_accuracy": round(float((predicted == truth).mean()), 4),
        "mean_class_accuracy": round(float(np.mean(list(per_class.values()))), 4),
        "scene_accuracy": round(float(np.mean([hit for hits in scene_hits.values() for hit in hits])), 4),
        "mean_scene_accuracy": round(float(np.mean(list(per_scene.values()))), 4),
        "per_scene": per_scene,
        "recordings": len(recordings),
        "mean_recording_accuracy": round(float(np.mean([r["accuracy"] for r in recordings])), 4),
        "per_class": per_class,
        "per_recording": recordings,
        "confusion": {"classes": list(SOUND_CLASSES), "rows_truth_columns_predicted": confusion.tolist()},
    }


def markdown(results: dict[str, dict[str, Any]]) -> str:
    """One row per checkpoint with the headline figures, then per-class accuracy columns."""
    names = list(results)
    lines = [
        "| Checkpoint | Accuracy | Mean per class | Mean per recording | Scene | " + " | ".join(SOUND_CLASSES) + " |",
        "| --- | ---: | ---: | ---: | ---: | " + " | ".join("---:" for _ in SOUND_CLASSES) + " |",
    ]
    for name in names:
        r = results[name]
        cells = " | ".join(f"{r['per_class'].get(c, float('nan')):.0%}" for c in SOUND_CLASSES)
        lines.append(
            f"| {name} | {r['sound_class_accuracy']:.1%} | {r['mean_class_accuracy']:.1%} "
            f"| {r['mean_recording_accuracy']:.1%} ({r['recordings']}) | {r['scene_accuracy']:.1%} | {cells} |"
        )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> dict[str, Any]:
    cache = clip_cache(args.data)
    results = {name: held_out_report(load_sound_encoder(name), cache) for name in args.checkpoints}
    print(markdown(results))
    return {"checkpoints": results}
