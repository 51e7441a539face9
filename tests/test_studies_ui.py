"""The Pairwise comparison tab's logic without a server: screens, API functions, admin gate, results."""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import pytest

from facegan.ui import pairwise, study_admin
from facegan.ui.rate_limit import FailureLimiter
from tests.test_studies_store import REALISM, SOUND, fake_study


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FACEGAN_STUDIES", str(tmp_path))
    monkeypatch.setenv(study_admin.ADMIN_ENV, "secret")
    monkeypatch.setattr(study_admin, "ADMIN_GUESSES", FailureLimiter())  # each test starts with no failures
    return tmp_path


def test_screens_follow_the_participant_through_the_study(root: Path) -> None:
    assert pairwise.screen(None, "participant-1").notice == pairwise.NO_STUDY
    fake_study(root)
    assert "Choose a study" in pairwise.screen(None, "participant-1").notice
    assert "no study “nope”" in pairwise.screen("nope", "participant-1").notice
    injected = pairwise.screen('<h1>Hi</h1><form action="//x">[a](//x)', "participant-1").notice
    assert "<" not in injected and "](" not in injected and "&lt;h1&gt;" in injected
    consent = pairwise.screen("toy", "participant-1")
    assert consent.consent and consent.trial is None and "Toy study" in consent.title
    session = pairwise.study_session("toy", "participant-1", True)
    assert (session["answered"], session["total"], session["done"]) == (0, 4, False)
    for position in range(4):
        trial = pairwise.screen("toy", "participant-1").trial
        assert (trial.position, trial.total) == (position, 4)
        assert f"Trial {position + 1} of 4" in pairwise._progress_html(trial)
        assert trial.first.is_file() and trial.reference.is_file()
        assert pairwise.study_vote("toy", "participant-1", trial.trial, "first")["status"] == "recorded"
    assert "answered all 4 trials" in pairwise.screen("toy", "participant-1").notice


def test_api_round_trip_reveals_no_outcomes(root: Path) -> None:
    fake_study(root)
    participant = pairwise.study_session("toy", "", True)["participant_id"]
    trial = pairwise.study_next("toy", participant)
    assert trial["choices"] == {"first": "A", "second": "B", "none": "None"}
    vote = pairwise.study_vote("toy", participant, trial["trial"], "none")
    assert vote["status"] == "recorded" and "outcome" not in vote and "sys_a" not in str(vote)
    assert pairwise.study_vote("toy", participant, trial["trial"], "first")["status"] == "duplicate"
    with pytest.raises(gr.Error, match="consent"):
        pairwise.study_session("toy", "participant-2", False)


def test_sound_study_screen_has_audio_and_its_own_choices(root: Path) -> None:
    fake_study(root, SOUND)
    pairwise.study_session("toy_sound", "participant-1", True)
    trial = pairwise.screen("toy_sound", "participant-1").trial
    assert trial.audio.suffix == ".wav" and trial.reference is None
    assert trial.question == "Which image matches this sound?"
    assert trial.choice_labels == ("First", "Second", "Neither")


def test_closed_study_takes_no_more_answers(root: Path) -> None:
    fake_study(root)
    pairwise.study_session("toy", "participant-1", True)
    trial = pairwise.study_next("toy", "participant-1")
    study_admin.set_status("closed")("secret", "toy")
    assert "closed" in pairwise.screen("toy", "participant-1").notice
    with pytest.raises(gr.Error, match="closed"):
        pairwise.study_vote("toy", "participant-1", trial["trial"], "first")


def test_admin_needs_the_password(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_study(root)
    with pytest.raises(gr.Error, match="wrong admin password"):
        study_admin.admin_results("guess", "toy")
    monkeypatch.delenv(study_admin.ADMIN_ENV)
    with pytest.raises(gr.Error, match="admin is disabled"):
        study_admin.admin_results("", "toy")


def test_admin_creates_closes_and_reads_results(root: Path) -> None:
    with pytest.raises(gr.Error, match="wrong admin password"):
        study_admin.admin_load_definition("guess", "attrgan_vs_ablation", None)
    values = study_admin.admin_load_definition("secret", "attrgan_vs_ablation", None)
    assert values[0] == "attrgan_vs_ablation" and values[3] == "attrgan, attrgan_noheatmap"
    message, overview, _ = study_admin.admin_create("secret", *values)
    assert "Created" in message and overview["status"].tolist() == ["open"]
    assert overview["stimuli"].tolist() == ["not generated"]
    with pytest.raises(gr.Error, match="already exists"):
        study_admin.admin_create("secret", *values)

    fake_study(root, create=False)  # the toy study's stimuli, registered through the admin form
    study_admin.admin_create(
        "secret", "toy", "Toy study", "realism", "sys_a, sys_b", 4, 6, 7, 0, 0, None, REALISM.consent
    )
    pairwise.study_session("toy", "participant-1", True)
    trial = pairwise.study_next("toy", "participant-1")
    pairwise.study_vote("toy", "participant-1", trial["trial"], "second")
    summary, overall, all_overall, by_condition, strengths, tests, raters, *_charts, files = (
        study_admin.admin_results("secret", "toy")
    )
    assert "**1 answer** to regular trials from **1 participant**" in summary
    assert overall["votes"].sum() == 1 and all_overall["votes"].sum() == 1 and len(by_condition) == 3
    assert strengths.empty  # one vote: sys_a never won, so no strengths yet
    assert tests["wins"].tolist() in (["0–1"], ["1–0"]) and raters["answers"].tolist() == [1]
    assert [Path(f).suffix for f in files] == [".csv", ".json", ".html", ".png", ".png", ".png"]
    with pytest.raises(gr.Error, match="already has votes"):
        study_admin.admin_generate("secret", "toy")


def test_password_guessing_is_slowed_down(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    now = [0.0]
    monkeypatch.setattr(study_admin, "ADMIN_GUESSES", FailureLimiter(3, 60.0, clock=lambda: now[0]))
    for _ in range(3):
        with pytest.raises(gr.Error, match="wrong admin password"):
            study_admin.admin_studies("guess")
    with pytest.raises(gr.Error, match="too many wrong passwords; try again in 60 s"):
        study_admin.admin_studies("secret")  # even the right one waits: nothing leaks which guess was right
    now[0] = 61.0
    study_admin.admin_studies("secret")


def test_old_export_folders_are_removed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    old, fresh = tmp_path / "facegan-study-old", tmp_path / "facegan-study-fresh"
    for folder in (old, fresh):
        folder.mkdir()
        (folder / "toy_votes.csv").write_text("x")
    os.utime(old, (0, 0))
    from facegan.ui.common import EXPORT_TTL_S, export_folder

    new = export_folder(study_admin.EXPORT_PREFIX, now=EXPORT_TTL_S + 10)
    assert not old.exists() and fresh.exists() and new.is_dir() and new.name.startswith("facegan-study-")


def test_stimuli_are_sent_as_content_not_as_study_paths() -> None:
    from facegan.audio.examples import EXAMPLE_SOUNDS
    from facegan.paths import UI_EXAMPLES_DIR

    rate, samples = pairwise._sound(EXAMPLE_SOUNDS[0].path)
    assert rate == 16_000 and samples.dtype.name == "int16" and len(samples) > rate
    image = pairwise._image(UI_EXAMPLES_DIR / "astronaut.jpg")
    assert image.shape == (512, 512, 3) and image.dtype.name == "uint8"


def test_start_is_never_dropped_and_a_vote_never_repeated(root: Path) -> None:
    """A Start clicked again while the refused one is at the server runs after it; a second click of a vote
    button while the first is at the server is dropped, so one click is one vote."""
    with gr.Blocks() as demo:
        pairwise.build_tab()
    modes = {getattr(dep.fn, "__name__", ""): dep.trigger_mode for dep in demo.fns.values()}
    assert modes["on_start"] == "always_last" and modes["handler"] == "once"
