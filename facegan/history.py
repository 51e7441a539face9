"""Stacked edits with undo and redo, and the recipe file that replays them.

An edit history is a list of settings (what the user asked for at each step), not of images: the
photo after step k is the original photo with steps 1..k replayed, which inference does exactly the
same way every time (CPU float32, no sampling). So a session keeps a few hundred bytes per step, undo
and redo never lose anything, and a recipe (the settings, the checkpoints' sha256 and the input photo's
sha256) reproduces the final photo bit for bit when it is loaded again with the same photo.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from facegan.errors import UserError

RECIPE_FORMAT = "facegan-studio-recipe/1"


@dataclass(frozen=True)
class EditHistory:
    """Steps taken (settings dicts), how many of them are applied (the rest can be redone) and the sha256
    of the photo they were taken on."""

    steps: tuple[Mapping[str, Any], ...] = ()
    applied: int = 0
    photo_sha256: str = ""

    def __hash__(self) -> int:
        """By content, as equality is: Gradio hashes a session's state to tell which ones changed, and
        dataclasses cannot hash the step dicts."""
        return hash(json.dumps([list(self.steps), self.applied, self.photo_sha256], sort_keys=True))

    @property
    def active(self) -> tuple[Mapping[str, Any], ...]:
        return self.steps[: self.applied]

    @property
    def can_undo(self) -> bool:
        return self.applied > 0

    @property
    def can_redo(self) -> bool:
        return self.applied < len(self.steps)

    def push(self, step: Mapping[str, Any]) -> EditHistory:
        """A new edit on top of the applied ones; anything that could have been redone is dropped."""
        return replace(self, steps=(*self.active, dict(step)), applied=self.applied + 1)

    def undo(self) -> EditHistory:
        if not self.can_undo:
            raise UserError("There is no edit to undo.")
        return replace(self, applied=self.applied - 1)

    def redo(self) -> EditHistory:
        if not self.can_redo:
            raise UserError("There is no edit to redo.")
        return replace(self, applied=self.applied + 1)


def file_sha256(path: str | Path) -> str:
    """The file's sha256, read once per version of the file: every click of a stacked edit asks for the
    photo's (and the note, the donor and a recipe's checkpoints ask again)."""
    stat = os.stat(path)
    return _sha256_of_version(str(path), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=256)
def _sha256_of_version(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class Recipe:
    """What reproduces a stacked edit: the tab, its checkpoints by sha256, the input photo's sha256 and
    the steps. ``seeds`` lists the random seeds used (none for deterministic generators)."""

    tab: str
    checkpoints: Mapping[str, str]
    photo_sha256: str
    steps: tuple[Mapping[str, Any], ...]
    seeds: tuple[int, ...] = field(default=())

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": RECIPE_FORMAT,
                "tab": self.tab,
                "checkpoints": dict(self.checkpoints),
                "photo_sha256": self.photo_sha256,
                "steps": [dict(step) for step in self.steps],
                "seeds": list(self.seeds),
            },
            indent=1,
        )

    @classmethod
    def from_json(cls, text: str) -> Recipe:
        try:
            data = json.loads(text)
            if data.get("format") != RECIPE_FORMAT:
                raise UserError(f"This is not a FaceGAN Studio recipe ({RECIPE_FORMAT}).")
            return cls(
                tab=str(data["tab"]),
                checkpoints={str(k): str(v) for k, v in data["checkpoints"].items()},
                photo_sha256=str(data["photo_sha256"]),
                steps=tuple(dict(step) for step in data["steps"]),
                seeds=tuple(int(seed) for seed in data.get("seeds", [])),
            )
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError, ValueError) as exc:
            raise UserError(f"The recipe file could not be read: {exc}") from exc

    def check_tab(self, tab: str) -> None:
        """Refuse a recipe made in another tab (before its steps are read: they are another tab's)."""
        if self.tab != tab:
            raise UserError(f"This recipe is for the {self.tab} tab, not {tab}.")

    def check(self, tab: str, checkpoints: Mapping[str, str], photo_sha256: str) -> None:
        """Refuse a recipe made in another tab, with other weights or for another photo: replaying it
        would not give the photo it promises."""
        self.check_tab(tab)
        if dict(self.checkpoints) != dict(checkpoints):
            raise UserError("This recipe was made with other model weights than the ones this app ships.")
        if self.photo_sha256 != photo_sha256:
            raise UserError("This recipe was made for another photo: upload the photo it was made from.")
