"""Study definitions: what is compared, how often, and with which seed, as a small JSON file.

A definition is all a study needs besides its inputs and checkpoints: stimuli are generated from it
(``facegan.studies.stimuli``), and each participant's trial order is derived from its seed, so the
same file reruns the same study.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

StudyType = Literal["realism", "sound_match"]
STUDY_TYPES: tuple[StudyType, ...] = ("realism", "sound_match")
Inputs = Literal["dataset", "examples"]
INPUTS: tuple[Inputs, ...] = ("dataset", "examples")
"""Where a study's inputs come from: the dataset (CelebA val faces, held-out sound clips; never
trained on), or the app's own example photos and recordings (the demo studies, which need no
dataset and may be redistributed)."""
EXAMPLES_DIR = Path(__file__).with_name("examples")

CHOICES = ("first", "second", "none")
"""What a participant can answer: the left image, the right image, or neither of them."""
NONE = "none"

QUESTIONS: dict[StudyType, str] = {
    "realism": "Which result looks more realistic and shows the target better?",
    "sound_match": "Which image matches this sound?",
}
CHOICE_LABELS: dict[StudyType, tuple[str, str, str]] = {
    "realism": ("A", "B", "None"),
    "sound_match": ("First", "Second", "Neither"),
}
SOUND_OUTCOMES = ("positive", "negative")
"""Sound studies compare the image made from the heard clip with one made from another class's clip
(paper 004, Table 6), so the outcome is which of the two was picked, not which checkpoint."""

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class StudyDefinition:
    """One user study; ``validate`` runs on construction so a bad file fails when it is loaded."""

    study_id: str
    title: str
    type: StudyType
    systems: tuple[str, ...]
    """Checkpoint names (realism: the attribute-transfer generators compared; sound_match: audiogan)."""
    trials_per_participant: int
    seed: int
    consent: str = (
        "I agree to take part in this study. My answers are stored anonymously and used only for "
        "research on image generation."
    )
    pool_size: int | None = None
    """Trials generated ahead of time; each participant answers a random ``trials_per_participant`` of
    them (default: all of them, in a random order)."""
    inputs: Inputs = "dataset"
    gold_trials: int = 0
    """Attention checks shown to every participant: an image against the same image badly corrupted."""
    repeat_trials: int = 0
    """Trials each participant sees a second time, later and with sides swapped (consistency)."""
    exclude_after_gold_failures: int | None = None
    """Raters failing this many gold trials or more are excluded (results are shown both ways)."""
    demo: bool = False
    """The app's ready-made demo study: shown to visitors, kept apart from real studies, resettable."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "systems", tuple(self.systems))
        self.validate()

    @property
    def trials(self) -> int:
        """Number of trials in the stimuli pool."""
        return self.pool_size or self.trials_per_participant

    @property
    def repeat_offset(self) -> int:
        """Manifest index of regular trial 0's repeat: repeats follow the pool, one per pool trial."""
        return self.trials

    @property
    def gold_indices(self) -> range:
        """Manifest indices of the gold trials, after the pool and its repeats."""
        start = self.trials * (2 if self.repeat_trials else 1)
        return range(start, start + self.gold_trials)

    @property
    def question(self) -> str:
        return QUESTIONS[self.type]

    @property
    def choice_labels(self) -> tuple[str, str, str]:
        """Button labels for first / second / none."""
        return CHOICE_LABELS[self.type]

    @property
    def outcomes(self) -> tuple[str, ...]:
        """What a vote counts as, in display order: the picked system (or sound pairing), or none."""
        return (*(self.systems if self.type == "realism" else SOUND_OUTCOMES), NONE)

    def outcome_label(self, outcome: str) -> str:
        """Outcome as shown in results ("None" for realism, "Neither" for sound studies, as in the papers)."""
        if outcome == NONE:
            return self.choice_labels[2]
        return outcome.capitalize() if self.type == "sound_match" else outcome

    def validate(self) -> None:
        """Raise ValueError with a message naming the bad field."""
        if not _ID.match(self.study_id):
            raise ValueError(
                f"study_id {self.study_id!r} must be 1-64 lower-case letters, digits, '-' or '_', "
                "starting with a letter or digit"
            )
        if not self.title.strip():
            raise ValueError("the study needs a title")
        if self.type not in STUDY_TYPES:
            raise ValueError(f"unknown study type {self.type!r}; choose one of {', '.join(STUDY_TYPES)}")
        if not self.systems or any(not name.strip() for name in self.systems):
            raise ValueError("list at least one system (checkpoint name)")
        if len(set(self.systems)) != len(self.systems):
            raise ValueError(f"systems must be distinct, got {list(self.systems)}")
        if self.type == "realism" and len(self.systems) < 2:
            raise ValueError("a realism study compares at least two systems")
        if NONE in self.systems:
            raise ValueError(f"{NONE!r} is reserved for the 'neither' answer and cannot name a system")
        if self.trials_per_participant < 1:
            raise ValueError("trials_per_participant must be at least 1")
        if self.pool_size is not None and self.pool_size < self.trials_per_participant:
            raise ValueError(
                f"pool_size ({self.pool_size}) must be at least trials_per_participant "
                f"({self.trials_per_participant})"
            )
        if not self.consent.strip():
            raise ValueError("the study needs a consent text")
        if self.inputs not in INPUTS:
            raise ValueError(f"unknown inputs {self.inputs!r}; choose one of {', '.join(INPUTS)}")
        if not 0 <= self.repeat_trials <= self.trials_per_participant:
            raise ValueError(f"repeat_trials must lie in [0, {self.trials_per_participant}] (trials per participant)")
        if not 0 <= self.gold_trials <= self.trials:
            raise ValueError(f"gold_trials must lie in [0, {self.trials}] (the pool size)")
        rule = self.exclude_after_gold_failures
        if rule is not None and not 1 <= rule <= self.gold_trials:
            raise ValueError(f"exclude_after_gold_failures must lie in [1, {self.gold_trials}] (the gold trials)")

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "systems": list(self.systems)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StudyDefinition:
        """Build from parsed JSON; unknown or missing fields are reported by name."""
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - fields)
        if unknown:
            raise ValueError(f"unknown field(s) in study definition: {', '.join(unknown)}")
        try:
            return cls(**data)
        except TypeError as exc:  # a required field is missing
            raise ValueError(f"incomplete study definition: {exc}") from exc


def load_definition(path: str | os.PathLike) -> StudyDefinition:
    """Read a definition JSON file; errors name the file."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read study definition {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"study definition {path} must be a JSON object")
    try:
        return StudyDefinition.from_dict(data)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from exc


def save_definition(definition: StudyDefinition, path: str | os.PathLike) -> None:
    Path(path).write_text(json.dumps(definition.to_dict(), indent=1) + "\n", encoding="utf-8")


def example_definitions() -> dict[str, Path]:
    """Shipped example files by file stem, for the admin view's picker."""
    return {path.stem: path for path in sorted(EXAMPLES_DIR.glob("*.json"))}
