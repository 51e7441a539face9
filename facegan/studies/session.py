"""What a participant does, in one place for the tab and the API: join, get the next trial, vote.

Trial order and left/right placement are drawn per participant from the study seed and the
participant's id, and stored when they consent, so they are recorded, reproducible and survive a
page reload or a server restart (``participant_plan``).
"""

from __future__ import annotations

import random
import re
import uuid
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from facegan.errors import UserError
from facegan.studies.definition import NONE, StudyDefinition
from facegan.studies.stimuli import Manifest, Option, Trial, load_manifest
from facegan.studies.store import PlannedTrial, StudyRecord, StudyStore, Vote, VoteResult, studies_dir

_PARTICIPANT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def new_participant_id() -> str:
    """A random anonymous id: nothing about the person, only enough to resume and count them."""
    return uuid.uuid4().hex


def check_participant_id(participant_id: str) -> str:
    if not _PARTICIPANT_ID.match(participant_id or ""):
        raise UserError("the participant id must be 8-64 letters, digits, '-' or '_'")
    return participant_id


def participant_plan(definition: StudyDefinition, participant_id: str) -> list[PlannedTrial]:
    """This participant's trials and placements, drawn from the study seed and their id.

    A random ``trials_per_participant`` of the pool, every gold trial, and ``repeat_trials`` of their
    own trials again, each placed after its original with the sides swapped. Placement of the rest is
    counterbalanced: half of the regular trials (and half of the gold ones) show the first system on
    the right.
    """
    rng = random.Random(f"{definition.seed}/{definition.study_id}/{participant_id}")
    regular = rng.sample(range(definition.trials), definition.trials_per_participant)
    gold = list(definition.gold_indices)
    swaps = {}
    for group in (regular, gold):
        halves = [position % 2 == 1 for position in range(len(group))]
        rng.shuffle(halves)
        swaps.update(zip(group, halves, strict=True))
    order = regular + gold
    rng.shuffle(order)
    for original in rng.sample(regular, definition.repeat_trials):
        after = min(order.index(original) + 2, len(order))  # at least one other trial in between
        order.insert(rng.randint(after, len(order)), definition.repeat_offset + original)
        swaps[definition.repeat_offset + original] = not swaps[original]
    return [PlannedTrial(trial, swaps[trial]) for trial in order]


@dataclass(frozen=True)
class Progress:
    answered: int
    total: int

    @property
    def done(self) -> bool:
        return self.answered >= self.total


@dataclass(frozen=True)
class Presentation:
    """One trial as a participant sees it: images already in their left/right places."""

    study_id: str
    trial: int
    position: int
    """0-based; the progress line shows ``position + 1`` of ``total``."""
    total: int
    question: str
    prompt: str
    choice_labels: tuple[str, str, str]
    first: Path
    second: Path
    reference: Path | None
    audio: Path | None


class Sessions:
    """Participant-side operations over one store; never returns anything about other participants."""

    def __init__(self, store: StudyStore) -> None:
        self.store = store

    def study_dir(self, study_id: str) -> Path:
        return self.store.root / study_id

    def manifest(self, study_id: str) -> Manifest | None:
        return load_manifest(self.study_dir(study_id))

    def stimuli_status(self, record: StudyRecord) -> str:
        """``ready``, ``not generated``, or ``outdated``: generated from another version of the
        definition (e.g. by the CLI from an edited file), so trials and plans might not match."""
        manifest = self.manifest(record.study_id)
        if manifest is None:
            return "not generated"
        # Parsed, not compared as JSON: a manifest written before a field existed has its default.
        return "ready" if StudyDefinition.from_dict(manifest.definition) == record.definition else "outdated"

    def open_studies(self) -> list[StudyRecord]:
        """Studies participants may take: open, with stimuli generated from their definition."""
        return [r for r in self.store.studies() if r.status == "open" and self.stimuli_status(r) == "ready"]

    def _ready(self, study_id: str) -> tuple[StudyRecord, Manifest]:
        record = self.store.require_study(study_id)
        status = self.stimuli_status(record)
        if status != "ready":
            raise UserError(f"the stimuli of study {study_id!r} are {status}; generate them (again) first")
        manifest = self.manifest(study_id)
        assert manifest is not None
        return record, manifest

    def start(self, study_id: str, participant_id: str, consent: bool) -> Progress:
        """Join after consenting, or resume: an existing participant keeps their plan and answers."""
        check_participant_id(participant_id)
        if not consent:
            raise UserError("please read the consent line and tick the box to take part")
        record, _ = self._ready(study_id)
        plan = self.store.join(study_id, participant_id, participant_plan(record.definition, participant_id))
        return Progress(len(self.store.answered(study_id, participant_id)), len(plan))

    def progress(self, study_id: str, participant_id: str) -> Progress | None:
        """Answered / total trials, or None when this participant has not consented to the study."""
        plan = self.store.plan(study_id, participant_id)
        if plan is None:
            return None
        return Progress(len(self.store.answered(study_id, participant_id)), len(plan))

    def next_trial(self, study_id: str, participant_id: str) -> Presentation | None:
        """The first unanswered trial of the plan (starting its response clock), or None when done."""
        record, manifest = self._ready(study_id)
        if record.status != "open":
            raise UserError("this study is closed; thank you for your interest")
        plan = self.store.plan(study_id, participant_id)
        if plan is None:
            raise UserError("consent to the study before the first trial")
        answered = self.store.answered(study_id, participant_id)
        pending = [(position, step) for position, step in enumerate(plan) if step.trial not in answered]
        if not pending:
            return None
        position, step = pending[0]
        self.store.mark_shown(study_id, participant_id, step.trial)
        trial = manifest.trials[step.trial]
        first, second = self._placed(trial, step.swap)
        root = self.study_dir(study_id)
        definition = record.definition
        return Presentation(
            study_id=study_id, trial=step.trial, position=position, total=len(plan),
            question=definition.question, prompt=trial.prompt, choice_labels=definition.choice_labels,
            first=root / first.image, second=root / second.image,
            reference=root / trial.reference if trial.reference else None,
            audio=root / trial.audio if trial.audio else None,
        )

    @staticmethod
    def _placed(trial: Trial, swap: bool) -> tuple[Option, Option]:
        first, second = trial.options
        return (second, first) if swap else (first, second)

    def undo(self, study_id: str, participant_id: str) -> Vote:
        """Take back the participant's last answer (within the store's undo window); it is shown again next."""
        check_participant_id(participant_id)
        record = self.store.require_study(study_id)
        if record.status != "open":
            raise UserError("this study is closed; answers can no longer change")
        return self.store.undo_last(study_id, participant_id)

    def vote(self, study_id: str, participant_id: str, trial: int, choice: str) -> VoteResult:
        """Record the answer to a shown trial; the vote is on disk when this returns."""
        check_participant_id(participant_id)
        _, manifest = self._ready(study_id)
        plan = self.store.plan(study_id, participant_id) or []
        step = next((s for s in plan if s.trial == trial), None)
        if step is None:
            raise UserError(f"trial {trial} is not one of this participant's trials")
        first, second = self._placed(manifest.trials[trial], step.swap)
        outcome = {"first": first.outcome, "second": second.outcome}.get(choice, NONE)
        return self.store.record_vote(
            study_id, participant_id, trial, choice, condition=manifest.trials[trial].condition,
            first=first.outcome, second=second.outcome, outcome=outcome,
        )


@lru_cache(maxsize=4)
def _sessions_at(root: Path) -> Sessions:
    return Sessions(StudyStore(root))


def sessions() -> Sessions:
    """Participant and admin operations on ``$FACEGAN_STUDIES`` (read per call, so tests can point it elsewhere)."""
    return _sessions_at(studies_dir())
