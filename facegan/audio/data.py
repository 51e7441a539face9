"""The shared labelled clips: class-level sound -> scene pairing, held-out folds and a feature cache.

Decoding and analysing 1,707 clips takes about a minute, so ``clip_cache`` does it once into
``~/.cache/facegan/audio/`` (keyed by clips.csv and the front-end settings); training and
evaluation read the arrays from there.
"""

from __future__ import annotations

import csv
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from facegan.audio import features as F
from facegan.audio.io import TRIM_TOP_DB, WINDOW, fit_window, load_audio
from facegan.paths import cache_dir, data_dir

# Sound class -> scene class, the class-level pairing suggested in shared/README.md (like the paper's
# cleaned data, where a sound and an image pair up when their classes agree). dog_bark has no scene.
SCENE_OF_SOUND = {
    "sea_waves": "sea",
    "chainsaw": "forest", "crackling_fire": "forest", "rain": "forest",
    "car_horn": "street", "siren": "street", "street_music": "street", "engine_idling": "street",
    "jackhammer": "buildings", "drilling": "buildings",
    "helicopter": "mountain",
}  # fmt: skip
SOUND_CLASSES: tuple[str, ...] = tuple(sorted([*SCENE_OF_SOUND, "dog_bark"]))
GAN_SCENES: tuple[str, ...] = tuple(sorted(set(SCENE_OF_SOUND.values())))
"""Scene classes the generator draws (glacier has no sound)."""
_SCENE_BEARING = [i for i, name in enumerate(SOUND_CLASSES) if name in SCENE_OF_SOUND]


def scene_to_draw(probabilities: torch.Tensor) -> torch.Tensor:
    """Index in GAN_SCENES of the most probable sound class that has a scene, per row of an encoder's
    class probabilities [B, len(SOUND_CLASSES)]: a sound heard as a dog bark falls through to its
    runner-up, since the generator draws something for every sound."""
    best = probabilities[:, _SCENE_BEARING].argmax(1).tolist()
    return torch.tensor([GAN_SCENES.index(SCENE_OF_SOUND[SOUND_CLASSES[_SCENE_BEARING[k]]]) for k in best])


HELD_OUT_FOLDS = {"UrbanSound8K": "3", "ESC-10": "4"}
"""Clips of these folds are never trained on (classifier or GAN): evaluation only."""


@dataclass(frozen=True)
class ClipInfo:
    path: str
    label: str
    source: str
    fold: str

    @property
    def held_out(self) -> bool:
        return HELD_OUT_FOLDS.get(self.source) == self.fold

    @property
    def freesound_id(self) -> int:
        return freesound_id(Path(self.path).name)


def freesound_id(file_name: str) -> int:
    """The freesound.org recording a clip was cut from: its file name is ``esc10-<fold>-<id>-<take>``
    (ESC-10) or ``us8k-<id>-<class>-<occurrence>-<slice>`` (UrbanSound8K). Clips of one recording sound
    alike, so held-out figures are also read per recording."""
    fields = file_name.split("-")
    return int(fields[2] if fields[0] == "esc10" else fields[1])


def sounds_root(data: str | os.PathLike | None = None) -> Path:
    root = data_dir(data) / "sounds"
    if not (root / "clips.csv").is_file():
        raise FileNotFoundError(f"no sound clips index at {root / 'clips.csv'}; pass --data or set FACEGAN_DATA")
    return root


def read_clip_index(data: str | os.PathLike | None = None) -> list[ClipInfo]:
    """Every row of clips.csv, in file order."""
    with open(sounds_root(data) / "clips.csv", newline="", encoding="utf-8") as f:
        return [ClipInfo(r["path"], r["label"], r["source"], r["fold"]) for r in csv.DictReader(f)]


@dataclass
class ClipCache:
    """Analyses of every clip (rows in clips.csv order)."""

    clips: list[ClipInfo]
    logmel: np.ndarray  # [N, 64, frames] float32 dB
    logspec: np.ndarray  # [N, 257] float32 dB

    def select(self, held_out: bool, with_scene: bool = False) -> np.ndarray:
        """Row indices of the training (or held-out) clips, optionally only those with a scene."""
        return np.array([
            i for i, c in enumerate(self.clips)
            if c.held_out == held_out and (not with_scene or c.label in SCENE_OF_SOUND)
        ])  # fmt: skip


def _cache_path(root: Path, trim: bool) -> Path:
    settings = f"{WINDOW}-{TRIM_TOP_DB}-{F.N_FFT}-{F.HOP}-{F.N_MELS}-{F.FMIN}-{F.FMAX}-{trim}"
    key = hashlib.sha256((root / "clips.csv").read_bytes() + settings.encode()).hexdigest()[:12]
    return cache_dir() / "audio" / f"clips_{key}.npz"


def clip_cache(data: str | os.PathLike | None = None, trim: bool = True) -> ClipCache:
    """All clips analysed by the app's front end (``trim=False``: the naive one, for the shortcut probe)."""
    root = sounds_root(data)
    clips = read_clip_index(data)
    path = _cache_path(root, trim)
    if path.is_file():
        with np.load(path) as saved:
            return ClipCache(clips, saved["logmel"].astype(np.float32), saved["logspec"].astype(np.float32))
    analyses = [
        F.analyse(fit_window(load_audio(root / clip.path), trim=trim))
        for clip in tqdm(clips, desc="analysing clips", unit="clip")
    ]
    logmel = np.stack([a.logmel for a in analyses])
    logspec = np.stack([a.logspec for a in analyses])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".tmp.npz")
    np.savez(tmp, logmel=logmel.astype(np.float16), logspec=logspec.astype(np.float16))
    os.replace(tmp, path)
    return ClipCache(clips, logmel.astype(np.float16).astype(np.float32), logspec.astype(np.float16).astype(np.float32))
