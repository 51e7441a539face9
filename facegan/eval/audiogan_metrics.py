"""``python -m facegan.eval audiogan``: the paper's Tables 2-4 on held-out clips, plus volume and shortcut checks.

All generated images come from the held-out folds (``HELD_OUT_FOLDS``: UrbanSound8K fold 3, ESC-10
fold 4), never trained on by the sound classifier or any GAN, through the same front end as the app.
Every image is scored by the independent scene judge (``facegan.eval.scene_judge``), never by a GAN's
discriminator:

- judges: the scene judge's val accuracy (its own photos) and the sound classifier's held-out accuracy;
- Table 4 ladder: an Inception-style score (judge softmax, 10 splits, mean ± std) and the class-match
  accuracy (judge's arg-max = the clip's scene; overall, and averaged over the five scenes, since
  street clips are 56% of the held-out set) of ``--samples`` images per clip, for the real-image
  upper bound (val photos of each clip's scene), every trained rung (same steps each) and the
  shipped model; per model also the class match of each scene, and its mean over scenes among the
  clips whose scene the model's encoder heard, where a miss is G's rather than the encoder's;
- Table 2: the same for the full model with each trained feature type (same steps as the ladder);
- volume and the tab use the shipped model (``audiogan``);
- volume (Table 3): each clip at 0.5/1/2/3x gain with a fixed z; the zoom estimate is the ratio of
  mean gradient magnitudes of the 1x image and the gain's image (zooming in by f stretches edges by
  f, so the ratio tracks f). As calibration, the same estimate on real photos zoomed exactly as the
  distance augmentation would zoom them for those clips at those gains, next to that zoom itself.
  Also the mean pixel change from 1x, the class match per gain, and whether the estimate rises
  monotonically;
- realism: Fréchet distance in the scene judge's features between each model's images and real val
  photos of the same scenes, next to the real-vs-real floor (two disjoint halves, ``facegan.eval.realism``);
- the sound decides the scene: with one z for every clip, the mean pixel L1 (images in [0, 1]) between
  clips of different scenes, against the L1 between two seeds of one clip (means over 8 draws of z),
  beside the same distances between real photos of two scenes and of one scene;
- shortcut probe: how well a logistic regression tells ESC-10 from UrbanSound8K dog barks (the only
  class recorded by both) from the sound features, with the naive front end (zero-padding) and the
  app's (silence trimmed, looped): balanced accuracy, 5-fold cross-validated, chance = 50%.
"""

from __future__ import annotations

import argparse
import functools
import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from torch import Tensor

from facegan.audio.data import GAN_SCENES, HELD_OUT_FOLDS, SCENE_OF_SOUND, SOUND_CLASSES, ClipCache, clip_cache
from facegan.audio.features import FeaturizerConfig, SoundFeaturizer
from facegan.data.scenes import SCENE_CLASSES, load_scenes, to_unit
from facegan.errors import CheckpointMissingError
from facegan.models.judge import AttributeJudge
from facegan.eval.realism import realism
from facegan.eval.sound_classifier_metrics import held_out_report
from facegan.eval.scene_judge import inception_score, judge_accuracy, load_scene_judge, scene_probabilities
from facegan.paths import checkpoint_dir
from facegan.models.audiogan import GAINS_DB, ZOOM_RANGE, zoom, zoom_for_level
from facegan.pipelines import SoundToScene
from facegan.audio.examples import EXAMPLE_SOUNDS
from facegan.audio.features import level_db

LADDER = (
    ("(c) conditional GAN", "audiogan_cgan"),
    ("(d) + spectral norm", "audiogan_sn"),
    ("(e) + hinge loss", "audiogan_hinge"),
    ("(f) + projection discriminator", "audiogan_projection"),
    ("(g) + auxiliary classifier (full)", "audiogan_full"),
    ("(g) trained longer, 30,000 steps (shipped until the camera model)", "audiogan_30k"),
)
FEATURE_ROWS = (
    ("spectrogram", "audiogan_spectrogram"),
    ("log-mel (fbank)", "audiogan_logmel"),
    ("MFCC", "audiogan_mfcc"),
    ("learned encoder", "audiogan_full"),
)
GAINS = SoundToScene.VOLUME_ROW
NOISE_SEEDS = 8
"""Draws of z for the sound-versus-noise distances."""


def add_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("audiogan")
    group.add_argument("--samples", type=int, default=4, help="images per held-out clip (default 4)")
    group.add_argument("--splits", type=int, default=10, help="Inception-score splits (default 10)")
    group.add_argument("--checkpoint", default="audiogan", help="the model of the volume, example and realism rows")
    group.add_argument(
        "--truncation", type=float, default=SoundToScene.TRUNCATION, help="z's scale for every model (the app's)"
    )
    group.add_argument(
        "--candidates", nargs="*", default=[], help="more checkpoints to score beside the shipped one (same rows)"
    )
    group.add_argument(
        "--best-of", type=int, help="z candidates per draw for the checkpoint and the candidates (default: the app's"
        f" {SoundToScene.BEST_OF} where a checkpoint ships its discriminator; 1 draws as the paper does)",
    )  # fmt: skip


def _available(name: str) -> bool:
    return (checkpoint_dir() / f"{name}.safetensors").is_file()


def scene_scores(probabilities: Tensor, targets: Tensor, splits: int, heard: Tensor | None = None) -> dict[str, Any]:
    """``heard`` (one flag per image): the encoder heard the clip's scene. Among those images a miss is
    G's, not the encoder's, so ``balanced_class_match_heard_right`` separates the two."""
    mean, std = inception_score(probabilities.numpy(), splits)
    hits = (probabilities.argmax(1) == targets).float()
    scenes = targets.unique().tolist()
    per_scene = {SCENE_CLASSES[k]: round(float(hits[targets == k].mean()), 4) for k in scenes}
    scores: dict[str, Any] = {
        "inception_score": round(mean, 3), "inception_std": round(std, 3), "class_match": round(float(hits.mean()), 4),
        "balanced_class_match": round(float(np.mean(list(per_scene.values()))), 4),
        "class_match_per_scene": per_scene,
    }  # fmt: skip
    if heard is not None:
        right = [float(hits[(targets == k) & heard].mean()) for k in scenes if bool(((targets == k) & heard).any())]
        if right:  # else the encoder heard no clip's scene: G has nothing to be judged on
            scores["balanced_class_match_heard_right"] = round(float(np.mean(right)), 4)
    return scores


@torch.inference_mode()
def heard_scenes(model: SoundToScene, cache: ClipCache, rows: np.ndarray) -> Tensor:
    """The scene (index in SCENE_CLASSES; -1 for a sound without one) of the class the model's encoder hears."""
    predicted = model.features.encoder.probabilities(torch.from_numpy(cache.logmel[rows])).argmax(1).tolist()
    return torch.tensor([
        SCENE_CLASSES.index(SCENE_OF_SOUND[SOUND_CLASSES[k]]) if SOUND_CLASSES[k] in SCENE_OF_SOUND else -1
        for k in predicted
    ])  # fmt: skip


def _unit_gain(cache: ClipCache, rows: np.ndarray) -> tuple[Tensor, Tensor]:
    """The clips' log-mel and log-spectrum as recorded."""
    return torch.from_numpy(cache.logmel[rows]), torch.from_numpy(cache.logspec[rows])


@torch.inference_mode()
def _sound_vectors(model: SoundToScene, cache: ClipCache, rows: np.ndarray, gain_db: float = 0.0) -> Tensor:
    logmel, logspec = _unit_gain(cache, rows)
    return model.features(logmel + gain_db, logspec + gain_db)


@torch.inference_mode()
def generate(
    model: SoundToScene, cache: ClipCache, rows: np.ndarray, samples: int, gain_db: float = 0.0, seed: int = 0
) -> Tensor:
    """``samples`` images per clip [len(rows) * samples, 3, 64, 64], z seeded by (clip, sample) and ``seed``."""
    return _draw(model, _sound_vectors(model, cache, rows, gain_db), _noise(model, cache, rows, samples, seed))


@torch.inference_mode()
def _noise(model: SoundToScene, cache: ClipCache, rows: np.ndarray, samples: int, seed: int = 0) -> Tensor:
    """z for each (clip, sample) [len(rows) * samples, z_dim], picked as the app picks it. With one
    candidate and seed 0 it is the draw the eval made before picking existed."""
    logmel, logspec = _unit_gain(cache, rows)
    logmel, logspec = logmel.repeat_interleave(samples, dim=0), logspec.repeat_interleave(samples, dim=0)
    shape = (len(logmel), model.best_of, model.config.z_dim)
    candidates = torch.randn(shape, generator=torch.Generator().manual_seed(seed))
    return torch.cat([
        model.pick_noise(logmel[i : i + 256], logspec[i : i + 256], candidates[i : i + 256])
        for i in range(0, len(logmel), 256)
    ])  # fmt: skip



@torch.inference_mode()
def _draw(model: SoundToScene, vectors: Tensor, z: Tensor) -> Tensor:
    """One image per row of z; each clip's vector repeated over its ``len(z) // len(vectors)`` rows."""
    s = vectors.repeat_interleave(len(z) // len(vectors), dim=0)
    return torch.cat([model.generator(s[i : i + 256], z[i : i + 256]) for i in range(0, len(s), 256)]).float()


def real_upper_bound(targets: Tensor, data: str | None) -> Tensor:
    """One val photo of each target scene (drawn with a fixed seed), as images in [-1, 1]."""
    images, labels = load_scenes(data, "val")
    rng = np.random.default_rng(0)
    pools = {k: np.flatnonzero(labels.numpy() == k) for k in targets.unique().tolist()}
    return to_unit(images[[int(rng.choice(pools[int(t)])) for t in targets]])


def gradient_energy(images: Tensor) -> Tensor:
    """Mean absolute finite-difference gradient of each image's luminance [N]."""
    grey = images.mean(dim=1)
    return (grey.diff(dim=1).abs().mean(dim=(1, 2)) + grey.diff(dim=2).abs().mean(dim=(1, 2))) / 2


def zoom_estimate(reference: Tensor, images: Tensor) -> float:
    """Geometric mean over images of gradient(reference) / gradient(image): ~f for a zoom by f."""
    ratio = gradient_energy(reference) / gradient_energy(images).clamp_min(1e-6)
    return float(ratio.log().mean().exp())


@torch.inference_mode()
def volume_effect(
    model: SoundToScene, judge: AttributeJudge, cache: ClipCache, rows: np.ndarray, targets: Tensor, data: str | None
) -> dict[str, Any]:
    """Table 3 measured: zoom estimate, change from 1x and class match at each gain, plus calibration."""
    vectors = {g: _sound_vectors(model, cache, rows, 20 * float(np.log10(g))) for g in GAINS}
    z = _noise(model, cache, rows, 1)
    by_gain = {g: _draw(model, vectors[g], z) for g in GAINS}
    unit = by_gain[1.0]
    zooms = [zoom_estimate(unit, by_gain[g]) for g in GAINS]
    config = model.record["config"]
    references = torch.tensor([config["reference_level_db"][cache.clips[i].label] for i in rows])
    relative_db = level_db(torch.from_numpy(cache.logmel[rows])) - references
    exponent, min_zoom = config["zoom_exponent"], config.get("min_zoom", ZOOM_RANGE[0])
    trained = {g: zoom_for_level(relative_db + 20 * float(np.log10(g)), exponent, min_zoom) for g in GAINS}
    photos = real_upper_bound(targets, data)
    calibration = [zoom_estimate(zoom(photos, trained[1.0]), zoom(photos, trained[g])) for g in GAINS]
    match = [
        float((scene_probabilities(judge, by_gain[g]).argmax(1) == targets).float().mean()) for g in GAINS
    ]
    top = GAINS.index(max(GAINS))
    trained_vs_1x = [float((trained[g] / trained[1.0]).log().mean().exp()) for g in GAINS]
    result = {
        "gains": list(GAINS),
        "zoom_estimate": [round(z, 4) for z in zooms],
        "monotonic": bool(np.all(np.diff(zooms) > 0)),
        "mean_abs_change_from_1x": [round(float((by_gain[g] - unit).abs().mean() / 2), 4) for g in GAINS],
        "class_match": [round(m, 4) for m in match],
        "trained_zoom_vs_1x": [round(z, 4) for z in trained_vs_1x],
        "calibration_zoom_estimate_on_photos": [round(z, 4) for z in calibration],
        "estimate_share_of_calibration_at_top_gain": round(float(np.log(zooms[top]) / np.log(calibration[top])), 3),
    }
    camera = model.generator.camera
    if camera is not None:  # the exact zoom G's camera applies, against the augmentation's
        factors = {g: camera.factors(vectors[g]) for g in GAINS}
        camera_zoom = [float((factors[g] / factors[1.0]).log().mean().exp()) for g in GAINS]
        result["camera_zoom_vs_1x"] = [round(z, 4) for z in camera_zoom]
        share = np.log(camera_zoom[top]) / np.log(trained_vs_1x[top])
        result["camera_share_of_trained_at_top_gain"] = round(float(share), 3)
    return result


def _probe(features: np.ndarray, sources: np.ndarray) -> float:
    """5-fold balanced accuracy of a logistic regression predicting the source."""
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000, class_weight="balanced", C=1.0))
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    return round(float(cross_val_score(probe, features, sources, cv=folds, scoring="balanced_accuracy").mean()), 4)


@torch.inference_mode()
def shortcut_probe(featurizer: SoundFeaturizer, data: str | None) -> dict[str, Any]:
    """Source-probe accuracy on dog barks: naive front end, the app's, and the app's at the random
    training gains (-6 to +10 dB) that the classifier and the GAN actually see."""
    result: dict[str, Any] = {"class": "dog_bark", "chance": 0.5}
    for label, trim, augment in (("before", False, False), ("after", True, False), ("after_random_gain", True, True)):
        cache = clip_cache(data, trim=trim)
        rows = np.array([i for i, c in enumerate(cache.clips) if c.label == "dog_bark"])
        sources = np.array([cache.clips[i].source for i in rows])
        shift = np.random.default_rng(0).choice(GAINS_DB, len(rows)) if augment else np.zeros(len(rows))
        shift = torch.from_numpy(shift).float()
        logmel = torch.from_numpy(cache.logmel[rows]) + shift[:, None, None]
        logspec = torch.from_numpy(cache.logspec[rows]) + shift[:, None]
        vectors = {}
        for kind in ("logmel", "learned"):
            probe_featurizer = SoundFeaturizer(FeaturizerConfig(kind, featurizer.config.encoder))
            probe_featurizer.encoder.load_state_dict(featurizer.encoder.state_dict())
            vectors[kind] = probe_featurizer.eval().raw(logmel, logspec).numpy()
        level = vectors["logmel"][:, -1:]
        result[label] = {
            "logmel": _probe(vectors["logmel"], sources),
            "spectral_shape": _probe(vectors["logmel"][:, :-1] - level, sources),
            "learned": _probe(vectors["learned"], sources),
            "level_only": _probe(level, sources),
        }
        result["counts"] = {str(s): int((sources == s).sum()) for s in np.unique(sources)}
    return result


@torch.inference_mode()
def classifier_accuracy(featurizer: SoundFeaturizer, cache: ClipCache) -> dict[str, float]:
    """The headline of ``python -m facegan.eval sound_classifier`` for the generator's own encoder."""
    report = held_out_report(featurizer.encoder, cache)
    headline = ("clips", "sound_class_accuracy", "scene_accuracy", "recordings", "mean_recording_accuracy")
    return {key: report[key] for key in headline}


@torch.inference_mode()
def example_sounds(model: SoundToScene) -> list[dict[str, Any]]:
    """What the model makes of each of the app's example recordings (every one should be recognised)."""
    rows = []
    for sound in EXAMPLE_SOUNDS:
        probabilities = model.classify(model.prepare(str(sound.path)))
        predicted = max(probabilities, key=probabilities.get)
        rows.append({
            "file": sound.file, "label": sound.label, "predicted": predicted,
            "probability": round(probabilities[predicted], 3), "recognised": predicted == sound.label,
            "scene": SCENE_OF_SOUND[sound.label], "predicted_scene": SCENE_OF_SOUND.get(predicted, "none"),
        })  # fmt: skip
    return rows


@torch.inference_mode()
def sound_versus_noise(
    model: SoundToScene, cache: ClipCache, rows: np.ndarray, scenes: Tensor, seeds: int = NOISE_SEEDS
) -> dict[str, float]:
    """Does the sound decide the scene? Mean pixel L1 (images in [0, 1]) between clips of different
    scenes drawn with one seed (one z, or one set of z candidates that each clip picks from), against
    between two seeds of one clip; the first should be the larger.

    Averaged over ``seeds`` draws of z (every pair of them for the second figure): z moves the
    exposure of a whole scene, so a single pair of draws could read either way."""
    s = _sound_vectors(model, cache, rows)
    candidates = torch.randn(seeds, model.best_of, model.config.z_dim, generator=torch.Generator().manual_seed(0))
    z = [model.pick_noise(*_unit_gain(cache, rows), seed.expand(len(s), -1, -1)) for seed in candidates]
    images = [model.generator(s, zk).float() / 2 + 0.5 for zk in z]
    rng = np.random.default_rng(0)
    i, j = rng.integers(len(rows), size=(2, 4 * len(rows)))
    other = scenes[i] != scenes[j]
    i, j = i[other.numpy()], j[other.numpy()]
    other_scene = [float((image[i] - image[j]).abs().mean()) for image in images]
    same_clip = [float((a - b).abs().mean()) for a, b in itertools.combinations(images, 2)]
    return {
        "other_scene_same_seed": round(float(np.mean(other_scene)), 4),
        "same_clip_other_seed": round(float(np.mean(same_clip)), 4),
        "seeds": seeds,
    }


def real_photo_distances(data: str | None, pairs: int = 20_000) -> dict[str, float]:
    """The same pixel L1 between real val photos of the five scenes: two photos of one scene, and of two
    scenes. A G that drew the photos' variety would sit at these figures."""
    images, labels = load_scenes(data, "val")
    keep = torch.isin(labels, torch.tensor([SCENE_CLASSES.index(s) for s in GAN_SCENES]))
    images, labels = to_unit(images[keep]).float() / 2 + 0.5, labels[keep]
    i, j = np.random.default_rng(0).integers(len(images), size=(2, pairs))
    distinct = torch.from_numpy(i != j)
    same = (labels[i] == labels[j]) & distinct
    distances = (images[i] - images[j]).abs().mean(dim=(1, 2, 3))
    return {
        "other_scene": round(float(distances[~same & distinct].mean()), 4),
        "same_scene": round(float(distances[same].mean()), 4),
    }


def realism_rows(
    images: dict[str, Tensor], judge: AttributeJudge, targets: Tensor, data: str | None
) -> dict[str, float]:
    """Fréchet distance of each model's images (``generate``'s order) to real val photos of the same
    scenes, and the floor."""
    order = torch.from_numpy(np.random.default_rng(0).permutation(len(targets)))
    real = real_upper_bound(targets, data)[order]
    with torch.inference_mode():
        features = {"real": judge.embed(real).float().numpy()}
        for name, generated in images.items():
            shuffled = generated[order]
            batches = [judge.embed(shuffled[k : k + 256]) for k in range(0, len(shuffled), 256)]
            features[name] = torch.cat(batches).numpy()
    return realism(features)


def _score(
    label: str, name: str, model: SoundToScene, images: Tensor, heard: Tensor, judge: AttributeJudge,
    targets: Tensor, splits: int,
) -> dict[str, Any]:  # fmt: skip
    """One table row: the judge's scores of ``images`` beside the checkpoint's training record."""
    record = model.record
    return {
        "row": label, "checkpoint": name, "steps": record["steps"], "wall_time_s": round(record["wall_time_s"]),
        "features": record["config"]["features"]["kind"], "best_of": model.best_of,
        **scene_scores(scene_probabilities(judge, images), targets, splits, heard),
    }  # fmt: skip


def _score_rows(
    rows: tuple[tuple[str, str], ...], drawn: Callable[[str], tuple[SoundToScene, Tensor, Tensor]],
    judge: AttributeJudge, targets: Tensor, splits: int,
) -> list[dict[str, Any]]:  # fmt: skip
    """The rows whose checkpoints are present."""
    return [_score(label, name, *drawn(name), judge, targets, splits) for label, name in rows if _available(name)]


def _table(title: str, rows: list[dict[str, Any]]) -> str:
    lines = [
        f"| {title} | steps | Inception-style score (judge) | class match | class match, mean over scenes | "
        "the same, clips whose scene the encoder heard |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        score = f"{r['inception_score']:.2f} ± {r['inception_std']:.2f}"
        match = f"{r['class_match']:.1%} | {r['balanced_class_match']:.1%}"
        heard = f"{r['balanced_class_match_heard_right']:.1%}" if "balanced_class_match_heard_right" in r else ""
        lines.append(f"| {r['row']} | {r.get('steps', '')} | {score} | {match} | {heard} |")
    return "\n".join(lines)


def _per_scene_table(rows: list[dict[str, Any]]) -> str:
    scenes = list(rows[0]["class_match_per_scene"])
    lines = ["| Class match by scene | " + " | ".join(scenes) + " |", "| --- |" + " ---: |" * len(scenes)]
    for r in rows:
        lines.append(f"| {r['row']} | " + " | ".join(f"{r['class_match_per_scene'][k]:.1%}" for k in scenes) + " |")
    return "\n".join(lines)


def markdown(result: dict[str, Any]) -> str:
    judge, sounds = result["scene_judge"], result["sound_classifier"]
    v, p = result.get("volume"), result["shortcut"]
    lines = [
        f"Scene judge val accuracy: {judge['accuracy']:.1%} ({judge['val_images']} photos, 6 classes). "
        f"Sound classifier held-out accuracy: {sounds['sound_class_accuracy']:.1%} (12 classes), "
        f"{sounds['scene_accuracy']:.1%} by scene ({sounds['clips']} clips; "
        f"{sounds['mean_recording_accuracy']:.1%} averaged over their {sounds['recordings']} recordings).",
        f"Held-out clips: {result['clips']} x {result['samples_per_clip']} images each; z truncated to "
        f"{result['truncation']}; z candidates per image, picked by D's scene head: "
        + ", ".join(f"{name} {count}" for name, count in result["best_of"].items()) + ".",
        "",
        _table("Model (Table 4)", [result["upper_bound"], *result["ladder"]]),
        "",
        _table("Features, full model (Table 2)", result["features"]),
    ]
    if result.get("candidates"):
        lines += ["", _table("Shipped generator and candidates", result["candidates"])]
        lines += ["", _per_scene_table([result["upper_bound"], *result["candidates"]])]
    if "frechet" in result:
        floor = result["frechet"]["real_floor"]
        lines += [
            "", "| Model | Fréchet distance to real val photos (scene judge) | sound-decided L1: other scene, "
            f"same seed | same clip, other seed (means over {NOISE_SEEDS} seeds) |", "| --- | ---: | ---: | ---: |",
        ]
        for name, distances in result["sound_versus_noise"].items():
            lines.append(
                f"| {name} | {result['frechet'][name]:.2f} | {distances['other_scene_same_seed']:.3f} | "
                f"{distances['same_clip_other_seed']:.3f} |"
            )
        real = result["real_photo_distances"]
        lines.append(
            f"| real val photos (floor; L1: two scenes, one scene) | {floor:.2f} | {real['other_scene']:.3f} | "
            f"{real['same_scene']:.3f} |"
        )
    for name, v in (v or {}).items():
        lines += [
            "",
            f"| Volume ({name}) | " + " | ".join(f"{g:g}x" for g in v["gains"]) + " |",
            "| --- |" + " ---: |" * len(v["gains"]),
            "| zoom estimate vs 1x | " + " | ".join(f"{z:.3f}" for z in v["zoom_estimate"]) + " |",
            "| mean abs change from 1x | " + " | ".join(f"{c:.4f}" for c in v["mean_abs_change_from_1x"]) + " |",
            "| class match | " + " | ".join(f"{m:.1%}" for m in v["class_match"]) + " |",
            "| zoom the training photos had, vs 1x | " + " | ".join(f"{z:.3f}" for z in v["trained_zoom_vs_1x"]) + " |",
            "| estimate on photos zoomed that way | "
            + " | ".join(f"{z:.3f}" for z in v["calibration_zoom_estimate_on_photos"]) + " |",
            *(["| G's camera zoom vs 1x | " + " | ".join(f"{z:.3f}" for z in v["camera_zoom_vs_1x"]) + " |"]
              if "camera_zoom_vs_1x" in v else []),
            f"Monotonic zoom estimate: {'yes' if v['monotonic'] else 'no'}. At the top gain the estimate is "
            f"{v['estimate_share_of_calibration_at_top_gain']:.0%} of the photos' estimate in log terms"
            + (f"; G's camera zooms {v['camera_share_of_trained_at_top_gain']:.0%} of the training zoom."
               if "camera_share_of_trained_at_top_gain" in v else "."),
        ]
    lines += ["", "| Example sound (held-out recording) | predicted sound class | probability | recognised |"]
    lines.append("| --- | --- | ---: | --- |")
    for r in result["example_sounds"]:
        recognised = "yes" if r["recognised"] else "**no**"
        lines.append(f"| {r['file']} | {r['predicted']} | {r['probability']:.0%} | {recognised} |")
    lines += [
        "",
        f"| Source probe on {p['class']} ({', '.join(f'{k} {v}' for k, v in p['counts'].items())}) | log-mel s | "
        "spectral shape (level removed) | "
        "learned s | level only |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for stage, name in (
        ("before", "naive front end (zero-padded)"),
        ("after", "app front end (trimmed, looped)"),
        ("after_random_gain", "app front end at random training gains"),
    ):
        r = p[stage]
        lines.append(
            f"| {name} | {r['logmel']:.1%} | {r['spectral_shape']:.1%} | {r['learned']:.1%} | {r['level_only']:.1%} |"
        )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> dict[str, Any]:
    if not _available(args.checkpoint):
        raise CheckpointMissingError(
            f"checkpoints/{args.checkpoint}.safetensors is missing; train it with "
            f"`python -m facegan.train audiogan --export {args.checkpoint}`"
        )
    judge = load_scene_judge(args.device)
    cache = clip_cache(args.data)
    clip_rows = cache.select(held_out=True, with_scene=True)
    scenes = [SCENE_CLASSES.index(SCENE_OF_SOUND[cache.clips[i].label]) for i in clip_rows]
    targets = torch.tensor(scenes).repeat_interleave(args.samples)
    scene_ids = torch.tensor(scenes)

    @functools.cache
    def drawn(name: str) -> tuple[SoundToScene, Tensor, Tensor]:
        """Each checkpoint loaded and drawn once, however many tables show it, with which images' clips
        its encoder heard the right scene in."""
        chosen = name in (args.checkpoint, *args.candidates)
        model = SoundToScene(name, truncation=args.truncation, best_of=args.best_of if chosen else 1)
        heard = (heard_scenes(model, cache, clip_rows) == scene_ids).repeat_interleave(args.samples)
        return model, generate(model, cache, clip_rows, args.samples), heard

    models = {name: drawn(name)[0] for name in (args.checkpoint, *args.candidates)}
    full = models[args.checkpoint]
    upper = real_upper_bound(targets, args.data)
    ladder_names = dict(LADDER).values()
    result: dict[str, Any] = {
        "held_out_folds": HELD_OUT_FOLDS,
        "clips": len(clip_rows),
        "samples_per_clip": args.samples,
        "scenes_drawn": list(GAN_SCENES),
        "scene_judge": judge_accuracy(judge, args.data),
        "sound_classifier": classifier_accuracy(full.features, cache),
        "upper_bound": {
            "row": "(a) upper bound (real val photos)",
            **scene_scores(scene_probabilities(judge, upper), targets, args.splits),
        },
        "ladder": _score_rows(LADDER, drawn, judge, targets, args.splits),
        "candidates": [
            _score(name, name, *drawn(name), judge, targets, args.splits) for name in models if name not in ladder_names
        ],
        "frechet": realism_rows({name: drawn(name)[1] for name in models}, judge, targets, args.data),
        "sound_versus_noise": {
            name: sound_versus_noise(model, cache, clip_rows, scene_ids) for name, model in models.items()
        },
        "real_photo_distances": real_photo_distances(args.data),
        "features": _score_rows(FEATURE_ROWS, drawn, judge, targets, args.splits),
        "checkpoint": args.checkpoint,
        "truncation": args.truncation,
        "best_of": {name: model.best_of for name, model in models.items()},
        "volume": {
            name: volume_effect(model, judge, cache, clip_rows, scene_ids, args.data) for name, model in models.items()
        },
        "shortcut": shortcut_probe(full.features, args.data),
        "example_sounds": example_sounds(full),
    }
    print(markdown(result))
    return result
