"""The quality readout shown beside every edit: did it keep the person, did only the asked-for
attributes move, and where did the pixels change.

Users of face editors cannot tell an edit that added eyeglasses from one that added eyeglasses and
also changed the person's apparent sex. The readout answers with independent models, never the
generator's own discriminator:

- identity: dlib's face descriptor distance between the aligned crop before and after the edit, with
  dlib's same-person threshold (``facegan.eval.identity``; optional, the app runs without dlib);
- attributes: the independent judge's probability of each attribute before and after; an attribute
  that was not asked for and moved by more than ``LEAK_THRESHOLD`` is called out as a leak;
- a heat map of the per-pixel change on the aligned crop.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import torch
from matplotlib import colormaps

from facegan.errors import CheckpointMissingError, ModelFileMissingError
from facegan.eval.identity import INSTALL_HINT, IdentityModel
from facegan.models.judge import TRAIN_COMMAND as JUDGE_TRAIN_COMMAND
from facegan.models.judge import AttributeJudge
from facegan.pipelines import attribute_judge

LEAK_THRESHOLD = 0.25
"""Change in the judge's probability that counts as a side effect (a quarter of the scale)."""
WATCHED_ATTRIBUTES = ("Male", "Young", "Smiling", "Eyeglasses", "Bangs", "Blond_Hair", "Black_Hair", "Mustache")
"""What a readout shows besides the edited attribute, for models without an attribute list of their own:
the attributes people notice first when an edit changes more than it should."""
HEAT_FULL_SCALE = 0.5
"""Mean absolute change per pixel, in [0, 1] units, that the heat map shows at full intensity."""


@dataclass(frozen=True)
class EditReadout:
    """Everything the readout shows, and its JSON form for the API."""

    identity_distance: float | None
    """dlib descriptor distance before vs after (None without dlib)."""
    identity_threshold: float
    attributes_before: dict[str, float]
    attributes_after: dict[str, float]
    requested: tuple[str, ...]
    """Attributes the edit was asked to change."""
    change_map: np.ndarray
    """HxWx3 uint8 heat map of the per-pixel change on the aligned crop."""
    notes: tuple[str, ...] = ()
    """Why a part of the readout is missing (no dlib, no judge)."""

    @property
    def same_person(self) -> bool | None:
        return None if self.identity_distance is None else self.identity_distance < self.identity_threshold

    @property
    def leaks(self) -> list[str]:
        """Attributes not asked for whose probability moved by more than ``LEAK_THRESHOLD``."""
        return [
            name for name, before in self.attributes_before.items()
            if name not in self.requested and abs(self.attributes_after[name] - before) > LEAK_THRESHOLD
        ]  # fmt: skip

    def as_json(self) -> dict[str, Any]:
        return {
            "identity": {
                "distance": self.identity_distance,
                "threshold": self.identity_threshold,
                "same_person": self.same_person,
                "model": "dlib_face_recognition_resnet_model_v1",
            },
            "attributes": {
                name: {
                    "before": round(before, 4),
                    "after": round(self.attributes_after[name], 4),
                    "requested": name in self.requested,
                }
                for name, before in self.attributes_before.items()
            },
            "leaks": self.leaks,
            "leak_threshold": LEAK_THRESHOLD,
            "notes": list(self.notes),
        }

    def markdown(self) -> str:
        """The identity verdict, then each attribute before → after with leaks marked, then any notes."""
        if self.identity_distance is None:
            parts = ["Identity check unavailable."]
        else:
            verdict = "same person" if self.same_person else "**not the same person**"
            parts = [
                f"Identity: {verdict} (dlib distance {self.identity_distance:.2f}, "
                f"threshold {self.identity_threshold:g})"
            ]
        if self.attributes_before:
            rows = ["| attribute | before | after | |", "| --- | ---: | ---: | --- |"]
            leaks = set(self.leaks)
            for name, before in self.attributes_before.items():
                mark = "asked for" if name in self.requested else ("**leak**" if name in leaks else "")
                after = self.attributes_after[name]
                rows.append(f"| {name.replace('_', ' ')} | {before:.0%} | {after:.0%} | {mark} |")
            parts.append("\n".join(rows))
        parts += [f"*{note}*" for note in self.notes]
        return "\n\n".join(parts)


def watched_attributes(edited: str) -> tuple[str, ...]:
    """The edited attribute first, then ``WATCHED_ATTRIBUTES`` without it."""
    return (edited, *(name for name in WATCHED_ATTRIBUTES if name != edited))


def judge_if_trained() -> AttributeJudge | None:
    """The shipped attribute judge, or None where it is not trained (the readout then says so)."""
    try:
        return attribute_judge()
    except CheckpointMissingError:
        return None


@lru_cache(maxsize=1)
def identity_model() -> IdentityModel | None:
    """dlib's descriptor, loaded once; None where dlib or its model files are not installed."""
    try:
        return IdentityModel()
    except ModelFileMissingError:
        return None


def change_heat_map(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Per-pixel mean absolute change of two same-size RGB crops, coloured with matplotlib's inferno."""
    change = np.abs(after.astype(np.float32) - before.astype(np.float32)).mean(axis=2) / 255
    colours = colormaps["inferno"](np.clip(change / HEAT_FULL_SCALE, 0, 1))[..., :3]
    return (colours * 255).round().astype(np.uint8)


def _crop_tensor(crop: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(crop)).permute(2, 0, 1)[None].float() / 127.5 - 1


def readout(
    before: np.ndarray, after: np.ndarray, attributes: Sequence[str], requested: Collection[str]
) -> EditReadout:
    """``edit_readout`` with the app's models: the shipped judge and dlib, each where available."""
    return edit_readout(before, after, judge_if_trained(), attributes, requested, identity_model())


@torch.inference_mode()
def edit_readout(
    before: np.ndarray,
    after: np.ndarray,
    judge: AttributeJudge | None,
    attributes: Sequence[str],
    requested: Collection[str],
    identity: IdentityModel | None = None,
) -> EditReadout:
    """The readout for one edit of an aligned crop (HxWx3 uint8, before and after at the same size).

    Without a judge or an identity model that part is left out and a note says how to get it.
    """
    if before.shape != after.shape:
        raise ValueError(f"before and after crops differ in size: {before.shape} vs {after.shape}")
    notes, distance, probabilities = [], None, {}
    if identity is None:
        notes.append(f"The identity check needs dlib: `{INSTALL_HINT}`.")
    else:
        embedded = identity.embed([before, after])
        distance = float(identity.distance(embedded[0], embedded[1]))
    if judge is None:
        notes.append(f"The attribute judge is not trained: `{JUDGE_TRAIN_COMMAND}`.")
    else:
        device = next(judge.parameters()).device
        batch = torch.cat([_crop_tensor(before), _crop_tensor(after)]).to(device)
        probabilities = dict(zip(("before", "after"), judge.probabilities(batch, attributes).tolist()))
    return EditReadout(
        identity_distance=distance,
        identity_threshold=IdentityModel.THRESHOLD,
        attributes_before=dict(zip(attributes, probabilities.get("before", []))),
        attributes_after=dict(zip(attributes, probabilities.get("after", []))),
        requested=tuple(requested),
        change_map=change_heat_map(before, after),
        notes=tuple(notes),
    )
