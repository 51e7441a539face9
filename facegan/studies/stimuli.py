"""Generate a study's stimuli ahead of time, through the real pipelines, with a manifest to rerun it.

    python -m facegan.studies.stimuli --study FILE [--data DIR] [--out DIR] [--force]

Realism studies edit CelebA **val** faces (never seen in training) with each compared
attribute-transfer checkpoint; sound studies make one image from a heard clip and one from a clip of
another scene class. Everything random (faces, targets, clips, torch seeds) comes from the
definition's seed, and ``manifest.json`` records inputs, targets, seeds and the checkpoints used
(steps, sha256), so the same definition, data and checkpoints give byte-identical stimuli.

Images are stored under content-hash names (``stimuli/<sha256>.png``): the app serves them to
participants, and a name must not reveal which system made the image.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import io
import itertools
import json
import os
import random
import shutil
import sys
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from facegan import pipelines
from facegan.audio.data import SCENE_OF_SOUND, ClipInfo, read_clip_index  # a negative comes from another scene
from facegan.audio.examples import EXAMPLE_SOUNDS
from facegan.data.celeba import celeba_root, read_attributes, split_files
from facegan.errors import CheckpointMissingError, NoFaceError, UserError
from facegan.faces import PreparedFace
from facegan.models.attrgan import HAIR_COLOURS
from facegan.paths import UI_EXAMPLES_DIR, checkpoint_dir, data_dir
from facegan.studies.definition import StudyDefinition, load_definition
from facegan.studies.store import studies_dir

REGULAR, REPEAT, GOLD = "regular", "repeat", "gold"
CORRUPTED = "corrupted"
"""The outcome of a gold trial's corrupted image (never a system)."""
MANIFEST = "manifest.json"
STIMULI = "stimuli"
DISPLAY_SIZE = 256
"""Images are stored at the size participants judge them: the generators' 64-128 px outputs are
enlarged (bicubic), as the other tabs display them."""



@dataclass(frozen=True)
class Option:
    """One of a trial's two images: what choosing it counts as, and which checkpoint made it."""

    outcome: str
    system: str
    image: str
    """Path relative to the study directory."""
    source: str | None = None
    """Sound studies: the clip the image was generated from."""


@dataclass(frozen=True)
class Trial:
    trial: int
    condition: str
    """Group for the per-condition results: the edited attribute, or the heard sound's class."""
    prompt: str
    """Shown to participants with the question (the target; empty for sound studies)."""
    seed: int
    options: tuple[Option, Option]
    source: str
    """The dataset file the trial starts from (face photo or heard clip), relative to ``--data``."""
    reference: str | None = None
    """Realism: the input face, shown above the two results."""
    audio: str | None = None
    """Sound studies: the clip participants hear."""
    target: dict[str, bool] | None = None
    kind: str = "regular"
    """``regular``, ``repeat`` (a regular trial shown again: ``repeat_of``) or ``gold`` (``gold_answer``)."""
    repeat_of: int | None = None
    gold_answer: str | None = None
    """Gold trials: the outcome that is plainly right (the uncorrupted image)."""


@dataclass(frozen=True)
class Manifest:
    definition: dict[str, Any]
    data: dict[str, Any]
    checkpoints: dict[str, dict[str, Any]]
    trials: tuple[Trial, ...]
    skipped: list[str] = field(default_factory=list)
    """Inputs passed over (e.g. no face found), so a rerun can check it makes the same choices."""
    created: str = ""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Manifest:
        trials = tuple(
            Trial(**{**t, "options": tuple(Option(**o) for o in t["options"])}) for t in data["trials"]
        )
        return cls(**{**data, "trials": trials})


def load_manifest(study_dir: Path) -> Manifest | None:
    """The study's manifest, or None while its stimuli have not been generated."""
    path = study_dir / MANIFEST
    if not path.is_file():
        return None
    return _parse_manifest(path, path.stat().st_mtime_ns)


@lru_cache(maxsize=32)
def _parse_manifest(path: Path, mtime_ns: int) -> Manifest:
    """Cached per file version: every trial shown reads the manifest."""
    return Manifest.from_dict(json.loads(path.read_text(encoding="utf-8")))


def _save_png(image: np.ndarray, directory: Path) -> str:
    """Write a PNG (at least ``DISPLAY_SIZE``) under its content hash; return its study-relative path."""
    picture = Image.fromarray(image)
    if picture.height < DISPLAY_SIZE:
        size = (round(picture.width * DISPLAY_SIZE / picture.height), DISPLAY_SIZE)
        picture = picture.resize(size, Image.Resampling.BICUBIC)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    name = hashlib.sha256(buffer.getvalue()).hexdigest()[:24] + ".png"
    (directory / name).write_bytes(buffer.getvalue())
    return f"{STIMULI}/{name}"


def _copy_by_hash(source: Path, directory: Path) -> str:
    data = source.read_bytes()
    name = hashlib.sha256(data).hexdigest()[:24] + source.suffix.lower()
    (directory / name).write_bytes(data)
    return f"{STIMULI}/{name}"


def checkpoint_info(name: str) -> dict[str, Any]:
    """What identifies a checkpoint in the manifest: its training steps, record date and file hash."""
    weights = checkpoint_dir() / f"{name}.safetensors"
    record_path = weights.with_suffix(".json")
    record = json.loads(record_path.read_text(encoding="utf-8")) if record_path.is_file() else {}
    return {
        "file": weights.name,
        "steps": record.get("steps"),
        "created": record.get("created"),
        "sha256": hashlib.sha256(weights.read_bytes()).hexdigest(),
    }


# Realism -----------------------------------------------------------------------------------------


def _pretty(attribute: str) -> str:
    return attribute.replace("_", " ").lower()


def exclusive_hair(own: Mapping[str, bool]) -> dict[str, bool]:
    """The labels with at most one hair colour (the first), as the generator's exclusive hair group expects."""
    labels = dict(own)
    for extra in [name for name in HAIR_COLOURS if labels.get(name)][1:]:
        labels[extra] = False
    return labels


def choose_target(
    own: Mapping[str, bool], rng: random.Random, avoid: Collection[str] = ()
) -> tuple[str, dict[str, bool]]:
    """Change one attribute of the face, StarGAN-style: flip it, or switch to a hair colour it lacks.

    Attributes in ``avoid`` are chosen only when no other is left. Returns the changed attribute and
    the full target (the face's own values otherwise).
    """
    targets = exclusive_hair(own)
    changes = [(name, not value) for name, value in targets.items() if name not in HAIR_COLOURS]
    changes += [(name, True) for name in HAIR_COLOURS if name in targets and not targets[name]]
    attribute, value = rng.choice([change for change in changes if change[0] not in avoid] or changes)
    if attribute in HAIR_COLOURS:
        targets.update({name: False for name in HAIR_COLOURS if name in targets})
    targets[attribute] = value
    return attribute, targets


def _attribute_models(definition: StudyDefinition) -> dict[str, pipelines.AttributeTransfer]:
    models = {name: pipelines.AttributeTransfer(name) for name in definition.systems}
    attributes = {name: model.attributes for name, model in models.items()}
    if len(set(attributes.values())) != 1:
        raise UserError(f"the compared systems must edit the same attributes, got {attributes}")
    return models


def face_region(photo: np.ndarray, points68: np.ndarray, margin: float = 0.5) -> np.ndarray:
    """The square around the face's landmarks, widened by ``margin`` of its side on every side.

    Example photos show a whole person; the judged change is in the face, so trials show this
    region of the full-resolution result, where it can be seen without zooming.
    """
    low, high = points68.min(axis=0), points68.max(axis=0)
    centre, side = (low + high) / 2, float((high - low).max()) * (1 + 2 * margin)
    x0, y0 = (np.round(centre - side / 2)).astype(int).clip(0)
    x1, y1 = min(photo.shape[1], x0 + round(side)), min(photo.shape[0], y0 + round(side))
    return photo[y0:y1, x0:x1]


def _edited_trial(
    models: Mapping[str, pipelines.AttributeTransfer], systems: tuple[str, str], prepared: PreparedFace,
    own: Mapping[str, bool], rng: random.Random, stimuli: Path, avoid: Collection[str] = (),
    crop_face: bool = False,
) -> tuple[str, dict[str, bool], int, tuple[Option, Option]]:  # fmt: skip
    """Choose a target for the face and edit it with both systems under one seed."""
    attribute, targets = choose_target(own, rng, avoid)
    seed = rng.randrange(2**31)
    options = []
    for system in systems:
        torch.manual_seed(seed)
        photo = models[system].edit(prepared, targets, exclusive_hair(own)).photo
        shown = face_region(photo, prepared.face.points68) if crop_face else photo
        options.append(Option(outcome=system, system=system, image=_save_png(shown, stimuli)))
    return attribute, targets, seed, (options[0], options[1])


def example_photos() -> list[Path]:
    """The app's public-domain example photos (facegan/ui/examples), the demo study's faces."""
    return sorted(UI_EXAMPLES_DIR.glob("*.jpg"))


def _example_trials(
    definition: StudyDefinition, data: Path, stimuli: Path, rng: random.Random
) -> tuple[list[Trial], list[str], dict[str, Any]]:
    """Realism trials on the example photos, each photo's own attributes estimated by the judge.

    Photos take turns; a (photo, attribute) pair is not asked twice while fresh ones remain.
    """
    models = _attribute_models(definition)
    first = next(iter(models.values()))
    photos = example_photos()
    prepared = {photo: first.prepare(photo) for photo in photos}
    own = {photo: exclusive_hair(first.estimate_attributes(prepared[photo])) for photo in photos}
    pairs = list(itertools.combinations(definition.systems, 2))
    trials: list[Trial] = []
    asked: dict[Path, set[str]] = {photo: set() for photo in photos}
    for index in tqdm(range(definition.trials), desc=f"stimuli {definition.study_id}", unit="trial"):
        photo = photos[index % len(photos)]
        attribute, targets, seed, options = _edited_trial(
            models, pairs[index % len(pairs)], prepared[photo], own[photo], rng, stimuli, asked[photo],
            crop_face=True,
        )  # fmt: skip
        asked[photo].add(attribute)
        trials.append(Trial(
            trial=index, condition=_pretty(attribute),
            prompt=f"Target: {'' if targets[attribute] else 'not '}{_pretty(attribute)}", seed=seed,
            options=options, source=f"examples/{photo.name}",
            reference=_save_png(face_region(prepared[photo].photo, prepared[photo].face.points68), stimuli),
            target=targets,
        ))  # fmt: skip
    return trials, [], {"dir": "facegan/ui/examples", "photos": [photo.name for photo in photos]}


def _realism_trials(
    definition: StudyDefinition, data: Path, stimuli: Path, rng: random.Random
) -> tuple[list[Trial], list[str], dict[str, Any]]:
    if definition.inputs == "examples":
        return _example_trials(definition, data, stimuli, rng)
    models = _attribute_models(definition)
    names = next(iter(models.values())).attributes
    root = celeba_root(data)
    table = read_attributes(root)
    rows = table.as_dict()
    columns = [table.names.index(name) for name in names]
    faces = split_files(root, "val")
    rng.shuffle(faces)
    pairs = list(itertools.combinations(definition.systems, 2))
    trials: list[Trial] = []
    skipped: list[str] = []
    progress = tqdm(total=definition.trials, desc=f"stimuli {definition.study_id}", unit="trial")
    for face in faces:
        if len(trials) == definition.trials:
            break
        path = root / "images" / face
        try:
            prepared = next(iter(models.values())).prepare(path)
        except NoFaceError:
            skipped.append(face)
            continue
        own = {name: bool(rows[face][column] > 0) for name, column in zip(names, columns, strict=True)}
        attribute, targets, seed, options = _edited_trial(
            models, pairs[len(trials) % len(pairs)], prepared, own, rng, stimuli
        )
        trials.append(Trial(
            trial=len(trials), condition=_pretty(attribute),
            prompt=f"Target: {'' if targets[attribute] else 'not '}{_pretty(attribute)}",
            seed=seed, options=options, source=f"celeba/images/{face}",
            reference=_save_png(np.asarray(Image.open(path).convert("RGB")), stimuli), target=targets,
        ))
        progress.update()
    progress.close()
    if len(trials) < definition.trials:
        raise UserError(f"only {len(trials)} CelebA val faces had a detectable face; {definition.trials} needed")
    return trials, skipped, {"dir": str(root), "split": "val"}


# Sound match -------------------------------------------------------------------------------------


class SceneGenerator(Protocol):
    """What a sound study needs from the sound-to-scene pipeline: a scene image (HxWx3 uint8) per clip."""

    def __call__(self, clip: Path) -> np.ndarray: ...


def scene_generator(name: str) -> SceneGenerator:
    """The audiogan pipeline for checkpoint ``name``; a clear error while it does not exist."""
    if not (checkpoint_dir() / f"{name}.safetensors").is_file():
        raise CheckpointMissingError(
            f"{name} checkpoint missing: {checkpoint_dir() / name}.safetensors has not been trained yet, "
            "so sound-study stimuli cannot be generated. Train it with `python -m facegan.train audiogan` "
            "or set FACEGAN_CHECKPOINTS to a folder that has it."
        )
    return pipelines.SoundToScene(name)


def read_clips(data: Path) -> list[ClipInfo]:
    """Held-out clips (never trained on) whose class has a scene: participants judge unseen sounds."""
    clips = [clip for clip in read_clip_index(data) if clip.held_out and clip.label in SCENE_OF_SOUND]
    if len({SCENE_OF_SOUND[clip.label] for clip in clips}) < 2:
        raise UserError(f"sound studies need held-out clips of two scenes at least; {data}/sounds has fewer")
    return clips


def _sound_trials(
    definition: StudyDefinition, data: Path, stimuli: Path, rng: random.Random
) -> tuple[list[Trial], list[str], dict[str, Any]]:
    generators = {name: scene_generator(name) for name in definition.systems}
    if definition.inputs == "examples":
        clips, sounds = example_clips(), UI_EXAMPLES_DIR
    else:
        clips, sounds = read_clips(data), data / "sounds"
    trials = []
    for index in tqdm(range(definition.trials), desc=f"stimuli {definition.study_id}", unit="trial"):
        system = definition.systems[index % len(definition.systems)]
        # Scene first, then a clip of it: street sounds are over half the clips, and every scene
        # should be heard about equally often.
        heard_scene = rng.choice(sorted({SCENE_OF_SOUND[c.label] for c in clips}))
        heard = rng.choice([c for c in clips if SCENE_OF_SOUND[c.label] == heard_scene])
        other = rng.choice([c for c in clips if SCENE_OF_SOUND[c.label] != SCENE_OF_SOUND[heard.label]])
        seed = rng.randrange(2**31)
        options = []
        for outcome, clip in (("positive", heard), ("negative", other)):
            torch.manual_seed(seed)
            image = _save_png(generators[system](sounds / clip.path), stimuli)
            options.append(Option(outcome=outcome, system=system, image=image, source=f"{sounds.name}/{clip.path}"))
        trials.append(Trial(
            trial=index, condition=heard.label, prompt="", seed=seed, options=(options[0], options[1]),
            source=f"{sounds.name}/{heard.path}", audio=_copy_by_hash(sounds / heard.path, stimuli),
        ))
    return trials, [], {"dir": str(sounds), "folds": sorted({c.fold for c in clips})}


def example_clips() -> list[ClipInfo]:
    """The app's example recordings (``facegan.audio.examples``) as clips, for the demo sound study."""
    return [ClipInfo(sound.file, sound.label, sound.dataset, "example") for sound in EXAMPLE_SOUNDS]


# Quality-control trials ----------------------------------------------------------------------------


def corrupt(image: np.ndarray, rng: random.Random) -> np.ndarray:
    """The same image badly damaged: 8x pixelated, strong noise and a hue swap, unmistakable at a glance."""
    picture = Image.fromarray(image)
    small = picture.resize((max(1, picture.width // 8), max(1, picture.height // 8)), Image.Resampling.BILINEAR)
    blocky = np.asarray(small.resize(picture.size, Image.Resampling.NEAREST)).astype(np.float32)
    noise = np.random.default_rng(rng.randrange(2**32)).normal(0, 60, blocky.shape)
    return np.clip(blocky[..., [2, 0, 1]] + noise, 0, 255).astype(np.uint8)


def quality_control_trials(
    definition: StudyDefinition, regular: Sequence[Trial], out: Path, rng: random.Random
) -> list[Trial]:
    """Repeats (one per pool trial, same images; the plan decides who sees which) and gold trials.

    Indices follow ``StudyDefinition.repeat_offset`` and ``gold_indices``. A gold trial is a pool
    trial's first image against that image corrupted; the right answer is the undamaged one.
    """
    extra: list[Trial] = []
    if definition.repeat_trials:
        extra += [
            dataclasses.replace(t, trial=definition.repeat_offset + t.trial, kind=REPEAT, repeat_of=t.trial)
            for t in regular
        ]  # fmt: skip
    for index, source in zip(definition.gold_indices, rng.sample(list(regular), definition.gold_trials)):
        good = source.options[0]
        damaged = corrupt(np.asarray(Image.open(out / good.image).convert("RGB")), rng)
        bad = Option(outcome=CORRUPTED, system=good.system, image=_save_png(damaged, out / STIMULI))
        extra.append(dataclasses.replace(
            source, trial=index, condition=GOLD, options=(good, bad), kind=GOLD, gold_answer=good.outcome,
        ))  # fmt: skip
    return extra


GENERATORS: dict[str, Callable[..., tuple[list[Trial], list[str], dict[str, Any]]]] = {
    "realism": _realism_trials,
    "sound_match": _sound_trials,
}


def generate_stimuli(
    definition: StudyDefinition,
    out: Path,
    data: str | os.PathLike | None = None,
    force: bool = False,
) -> Manifest:
    """Generate every trial into ``out`` (``stimuli/`` + ``manifest.json``, written last).

    The manifest marks the stimuli ready, so a run that fails or is interrupted leaves the study
    unready rather than half-generated; ``force`` replaces existing stimuli (the admin view allows
    it only while the study has no votes).
    """
    if (out / MANIFEST).exists() and not force:
        raise UserError(f"stimuli already exist in {out}; pass --force to generate them again")
    stimuli = out / STIMULI
    (out / MANIFEST).unlink(missing_ok=True)
    shutil.rmtree(stimuli, ignore_errors=True)
    stimuli.mkdir(parents=True)
    rng = random.Random(definition.seed)
    trials, skipped, data_record = GENERATORS[definition.type](definition, data_dir(data), stimuli, rng)
    trials += quality_control_trials(definition, trials, out, rng)
    manifest = Manifest(
        definition=definition.to_dict(),
        data=data_record,
        checkpoints={name: checkpoint_info(name) for name in definition.systems},
        trials=tuple(trials),
        skipped=skipped,
        created=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    partial = out / (MANIFEST + ".partial")
    partial.write_text(json.dumps(asdict(manifest), indent=1) + "\n", encoding="utf-8")
    partial.replace(out / MANIFEST)
    return manifest


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m facegan.studies.stimuli", description=__doc__.splitlines()[0])
    parser.add_argument("--study", required=True, type=Path, help="study definition JSON file")
    parser.add_argument("--data", help="dataset root (default: $FACEGAN_DATA or ../shared/data)")
    parser.add_argument("--out", type=Path, help="study directory (default: $FACEGAN_STUDIES/<study_id>)")
    parser.add_argument("--force", action="store_true", help="replace stimuli that already exist")
    args = parser.parse_args(argv)
    try:
        definition = load_definition(args.study)
        out = args.out or studies_dir() / definition.study_id
        manifest = generate_stimuli(definition, out, args.data, args.force)
    except (UserError, ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{len(manifest.trials)} trials written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
