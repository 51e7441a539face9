"""Study storage and participant sessions: answer-once, concurrency, and durability across SIGKILL."""

from __future__ import annotations

import dataclasses
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from facegan.errors import UserError
from facegan.paths import REPO_ROOT
from facegan.studies.definition import NONE, StudyDefinition
from facegan.studies.session import Sessions, participant_plan
from facegan.studies.stimuli import (
    CORRUPTED,
    GOLD,
    MANIFEST,
    REPEAT,
    STIMULI,
    Manifest,
    Option,
    Trial,
    quality_control_trials,
)
from facegan.studies import store as store_module
from facegan.studies.store import StudyStore

REALISM = StudyDefinition(
    study_id="toy", title="Toy study", type="realism", systems=("sys_a", "sys_b"),
    trials_per_participant=4, seed=7, pool_size=6,
)
CHECKED = dataclasses.replace(
    REALISM, study_id="checked", gold_trials=2, repeat_trials=2, exclude_after_gold_failures=1
)
SOUND = StudyDefinition(
    study_id="toy_sound", title="Toy sound study", type="sound_match", systems=("audiogan",),
    trials_per_participant=3, seed=3,
)


def fake_study(root: Path, definition: StudyDefinition = REALISM, create: bool = True) -> Sessions:
    """A ready study whose stimuli are flat-colour PNGs (and a silent WAV for sound studies).

    Stands in for generated stimuli wherever the pipelines are not what is tested.
    """
    stimuli = root / definition.study_id / STIMULI
    stimuli.mkdir(parents=True, exist_ok=True)
    sound = definition.type == "sound_match"
    outcomes = ("positive", "negative") if sound else definition.systems
    trials = []
    for index in range(definition.trials):
        options = []
        for k, outcome in enumerate(outcomes[:2]):
            name = f"{index:03d}{k}.png"
            Image.fromarray(np.full((8, 8, 3), 40 * k + index, np.uint8)).save(stimuli / name)
            options.append(Option(outcome=outcome, system=definition.systems[0] if sound else outcome,
                                  image=f"{STIMULI}/{name}"))
        if sound:
            import soundfile

            soundfile.write(stimuli / f"{index:03d}.wav", np.zeros(1600, np.float32), 16000)
        trials.append(Trial(
            trial=index, condition=["rain", "siren"][index % 2] if sound else ["smiling", "male"][index % 2],
            prompt="" if sound else "Target: smiling", seed=index, options=(options[0], options[1]),
            source=f"input_{index}", reference=None if sound else f"{STIMULI}/{index:03d}0.png",
            audio=f"{STIMULI}/{index:03d}.wav" if sound else None,
        ))
    trials += quality_control_trials(definition, trials, root / definition.study_id, random.Random(0))
    manifest = Manifest(definition=definition.to_dict(), data={}, checkpoints={}, trials=tuple(trials))
    (root / definition.study_id / MANIFEST).write_text(json.dumps(dataclasses.asdict(manifest)))
    sessions = Sessions(StudyStore(root))
    if create:
        sessions.store.create_study(definition)
    return sessions


def answer_all(sessions: Sessions, study_id: str, participant: str, choice: str = "first") -> list[str]:
    """Take part from consent to the last trial; returns each vote's status."""
    sessions.start(study_id, participant, consent=True)
    statuses = []
    while (trial := sessions.next_trial(study_id, participant)) is not None:
        statuses.append(sessions.vote(study_id, participant, trial.trial, choice).status)
    return statuses


@pytest.fixture
def sessions(tmp_path: Path) -> Sessions:
    return fake_study(tmp_path)


def test_plan_is_reproducible_counterbalanced_and_from_the_pool() -> None:
    plan = participant_plan(REALISM, "participant-1")
    assert plan == participant_plan(REALISM, "participant-1")
    assert plan != participant_plan(REALISM, "participant-2")
    assert len(plan) == 4 and len({step.trial for step in plan}) == 4
    assert all(0 <= step.trial < REALISM.trials for step in plan)
    assert sum(step.swap for step in plan) == 2


def test_participant_answers_each_trial_once_in_plan_order(sessions: Sessions) -> None:
    assert answer_all(sessions, "toy", "participant-1") == ["recorded"] * 4
    votes = sessions.store.votes("toy")
    plan = sessions.store.plan("toy", "participant-1")
    assert [v.trial for v in votes] == [step.trial for step in plan]
    assert [v.position for v in votes] == [0, 1, 2, 3]
    for vote, step in zip(votes, plan, strict=True):
        assert (vote.first, vote.second) == (("sys_b", "sys_a") if step.swap else ("sys_a", "sys_b"))
        assert vote.outcome == vote.first and vote.response_ms >= 0
    assert sessions.next_trial("toy", "participant-1") is None
    assert sessions.progress("toy", "participant-1").done


def test_repeat_vote_is_reported_as_duplicate_and_the_first_answer_stands(sessions: Sessions) -> None:
    sessions.start("toy", "participant-1", consent=True)
    trial = sessions.next_trial("toy", "participant-1").trial
    first = sessions.vote("toy", "participant-1", trial, "second")
    again = sessions.vote("toy", "participant-1", trial, "first")
    assert (first.status, again.status) == ("recorded", "duplicate")
    assert again.vote == first.vote and len(sessions.store.votes("toy")) == 1


def test_rejections_are_user_errors(sessions: Sessions) -> None:
    with pytest.raises(UserError, match="consent"):
        sessions.start("toy", "participant-1", consent=False)
    with pytest.raises(UserError, match="participant id"):
        sessions.start("toy", "bad id!", consent=True)
    sessions.start("toy", "participant-1", consent=True)
    unshown = sessions.store.plan("toy", "participant-1")[1].trial
    with pytest.raises(UserError, match="has not been shown"):
        sessions.vote("toy", "participant-1", unshown, "first")
    trial = sessions.next_trial("toy", "participant-1").trial
    with pytest.raises(UserError, match="unknown choice"):
        sessions.vote("toy", "participant-1", trial, "left")
    sessions.store.set_status("toy", "closed")
    with pytest.raises(UserError, match="closed"):
        sessions.vote("toy", "participant-1", trial, "first")
    with pytest.raises(UserError, match="closed"):
        sessions.start("toy", "participant-2", consent=True)
    with pytest.raises(UserError, match="already exists"):
        sessions.store.create_study(REALISM)
    assert sessions.store.votes("toy") == []


def test_rejoining_keeps_the_plan_and_resumes(sessions: Sessions) -> None:
    sessions.start("toy", "participant-1", consent=True)
    trial = sessions.next_trial("toy", "participant-1")
    sessions.vote("toy", "participant-1", trial.trial, "none")
    progress = sessions.start("toy", "participant-1", consent=True)
    assert (progress.answered, progress.total) == (1, 4)
    assert sessions.next_trial("toy", "participant-1").position == 1
    assert sessions.store.votes("toy")[0].outcome == NONE


def test_stimuli_from_another_definition_are_not_served(tmp_path: Path) -> None:
    sessions = fake_study(tmp_path, dataclasses.replace(REALISM, seed=8), create=False)
    sessions.store.create_study(REALISM)
    assert sessions.stimuli_status(sessions.store.require_study("toy")) == "outdated"
    assert sessions.open_studies() == []
    with pytest.raises(UserError, match="outdated"):
        sessions.start("toy", "participant-1", consent=True)


def test_sound_study_votes_count_positive_negative_neither(tmp_path: Path) -> None:
    sessions = fake_study(tmp_path, SOUND)
    sessions.start("toy_sound", "participant-1", consent=True)
    trial = sessions.next_trial("toy_sound", "participant-1")
    assert trial.audio.is_file() and trial.reference is None
    assert trial.choice_labels == ("First", "Second", "Neither")
    vote = sessions.vote("toy_sound", "participant-1", trial.trial, "first").vote
    assert vote.outcome == vote.first and {vote.first, vote.second} == {"positive", "negative"}


def test_concurrent_participants_lose_and_duplicate_nothing(sessions: Sessions) -> None:
    """16 threads, each with its own connection: 8 participants, every vote sent twice at once."""
    participants = [f"participant-{i}" for i in range(8)]
    for participant in participants:
        sessions.start("toy", participant, consent=True)
    statuses: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(16)

    def vote_all(participant: str) -> None:
        barrier.wait()
        for _ in range(4):
            trial = sessions.next_trial("toy", participant)
            if trial is None:  # the twin thread answered the last trial first
                return
            status = sessions.vote("toy", participant, trial.trial, "second").status
            with lock:
                statuses.append(status)

    threads = [threading.Thread(target=vote_all, args=(p,)) for p in participants * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    votes = sessions.store.votes("toy")
    assert statuses.count("recorded") == len(votes) == 8 * 4
    assert len({(v.participant_id, v.trial) for v in votes}) == len(votes)


def vote_until_killed(root: str) -> None:
    """Child process of the durability test: vote forever, printing each vote once it is stored."""
    sessions = Sessions(StudyStore(root))
    for index in range(10_000):
        participant = f"participant-{index:05d}"
        sessions.start(REALISM.study_id, participant, consent=True)
        while (trial := sessions.next_trial(REALISM.study_id, participant)) is not None:
            sessions.vote(REALISM.study_id, participant, trial.trial, "first")
            print(participant, trial.trial, flush=True)


def test_votes_acknowledged_before_sigkill_survive(tmp_path: Path) -> None:
    fake_study(tmp_path)
    script = f"from tests.test_studies_store import vote_until_killed; vote_until_killed({str(tmp_path)!r})"
    child = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    acknowledged = set()
    try:
        for line in child.stdout:
            participant, trial = line.split()
            acknowledged.add((participant, int(trial)))
            if len(acknowledged) == 60:
                child.send_signal(signal.SIGKILL)  # mid-study: the next vote may be half-written
                break
    finally:
        child.kill()
        child.wait()
    assert child.returncode == -signal.SIGKILL
    stored = {(v.participant_id, v.trial) for v in StudyStore(tmp_path).votes(REALISM.study_id)}
    assert acknowledged <= stored  # the child may have stored a few more that it had not printed yet


def test_quality_control_plan_has_every_gold_trial_and_swapped_repeats_later() -> None:
    for participant in ("participant-1", "participant-2", "participant-3"):
        plan = participant_plan(CHECKED, participant)
        trials = [step.trial for step in plan]
        assert len(plan) == 4 + 2 + 2 and len(set(trials)) == len(trials)
        assert set(CHECKED.gold_indices) <= set(trials)
        swap = {step.trial: step.swap for step in plan}
        repeats = [t for t in trials if CHECKED.repeat_offset <= t < CHECKED.gold_indices.start]
        assert len(repeats) == 2
        for repeat in repeats:
            original = repeat - CHECKED.repeat_offset
            assert trials.index(original) + 1 < trials.index(repeat)  # later, another trial in between
            assert swap[repeat] != swap[original]
        regular = [t for t in trials if t < CHECKED.trials]
        assert sum(swap[t] for t in regular) == 2  # counterbalanced


def test_gold_trials_pair_an_image_with_its_corruption(tmp_path: Path) -> None:
    sessions = fake_study(tmp_path, CHECKED)
    manifest = sessions.manifest("checked")
    gold = [t for t in manifest.trials if t.kind == GOLD]
    repeats = [t for t in manifest.trials if t.kind == REPEAT]
    assert [t.trial for t in gold] == list(CHECKED.gold_indices)
    assert [t.repeat_of for t in repeats] == list(range(CHECKED.trials))
    for trial in gold:
        good, bad = trial.options
        assert trial.gold_answer == good.outcome and bad.outcome == CORRUPTED and trial.condition == GOLD
        damaged_image = Image.open(tmp_path / "checked" / bad.image)
        damaged = np.asarray(damaged_image, dtype=float)
        original = np.asarray(Image.open(tmp_path / "checked" / good.image).resize(damaged_image.size), dtype=float)
        assert np.abs(original - damaged).mean() > 20  # strong noise even on these near-black stand-ins


def test_undo_within_the_window_keeps_both_rows_and_reopens_the_trial(sessions: Sessions) -> None:
    sessions.start("toy", "participant-1", True)
    trial = sessions.next_trial("toy", "participant-1")
    sessions.vote("toy", "participant-1", trial.trial, "first")
    undone = sessions.undo("toy", "participant-1")
    assert undone.trial == trial.trial and undone.undone_at
    assert sessions.store.votes("toy") == [] and sessions.progress("toy", "participant-1").answered == 0
    assert sessions.next_trial("toy", "participant-1").trial == trial.trial  # shown again
    again = sessions.vote("toy", "participant-1", trial.trial, "second")
    assert again.status == "recorded" and again.vote.attempt == 1
    history = sessions.store.votes("toy", include_undone=True)
    assert [(v.choice, v.undone_at is not None) for v in history] == [("first", True), ("second", False)]
    with pytest.raises(UserError, match="no answer to undo"):
        sessions.undo("toy", "participant-2")


def test_undo_is_refused_after_the_window(sessions: Sessions) -> None:
    sessions.start("toy", "participant-1", True)
    trial = sessions.next_trial("toy", "participant-1")
    sessions.vote("toy", "participant-1", trial.trial, "first")
    with pytest.raises(UserError, match="within 0 seconds"):
        sessions.store.undo_last("toy", "participant-1", window_s=0)
    assert len(sessions.store.votes("toy")) == 1


def test_a_first_schema_database_is_migrated_without_losing_votes(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "studies.sqlite3")
    conn.executescript(store_module.STUDY_TABLES + store_module.VOTES_TABLE.replace(
        "    attempt        INTEGER NOT NULL DEFAULT 0,  -- 1, 2, ... after an undo of the earlier answer\n", ""
    ).replace("UNIQUE (study_id, participant_id, trial, attempt)", "UNIQUE (study_id, participant_id, trial)"))
    conn.execute("INSERT INTO studies VALUES ('toy', ?, 'open', 'then', NULL)", (json.dumps(REALISM.to_dict()),))
    conn.execute("INSERT INTO participants VALUES ('toy', 'participant-1', 'then', '[]')")
    conn.execute(
        "INSERT INTO votes (study_id, participant_id, trial, position, condition, first, second, choice, "
        "outcome, response_ms, voted_at) VALUES ('toy', 'participant-1', 3, 0, 'smiling', 'sys_a', 'sys_b', "
        "'first', 'sys_a', 1200, 'then')"
    )
    conn.commit()
    conn.close()
    votes = StudyStore(tmp_path).votes("toy")
    assert [(v.trial, v.outcome, v.response_ms, v.attempt) for v in votes] == [(3, "sys_a", 1200, 0)]


def test_archive_moves_answers_to_a_closed_study_and_deletes_nothing(sessions: Sessions) -> None:
    answer_all(sessions, "toy", "participant-1")
    before = sessions.store.votes("toy", include_undone=True)
    archived = sessions.store.archive("toy")
    assert sessions.store.votes("toy") == [] and sessions.store.participant_count("toy") == 0
    moved = sessions.store.votes(archived, include_undone=True)
    assert [dataclasses.replace(v, study_id="toy") for v in moved] == before
    assert sessions.store.require_study(archived).status == "closed"
    assert sessions.store.require_study("toy").status == "open"
    assert sessions.start("toy", "participant-1", True).answered == 0  # the same person may take part again
