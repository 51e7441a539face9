"""Study definitions and stimuli generation through the real pipelines (tiny untrained generators)."""

from __future__ import annotations

import dataclasses
import json
import random
from pathlib import Path

import numpy as np
import pytest
import soundfile

from facegan import pipelines
from facegan.errors import CheckpointMissingError, UserError
from facegan.models.attrgan import HAIR_COLOURS, STARGAN_ATTRIBUTES
from facegan.studies import stimuli
from facegan.studies.definition import StudyDefinition, example_definitions, load_definition, save_definition
from facegan.studies.stimuli import SCENE_OF_SOUND, choose_target, generate_stimuli, load_manifest
from tests.faces_helpers import celeba_dir
from tests.test_attrgan import TINY, tiny_checkpoint
from tests.test_studies_store import SOUND

TINY_STUDY = StudyDefinition(
    study_id="tiny", title="Tiny", type="realism", systems=("attrgan", "attrgan_noheatmap"),
    trials_per_participant=3, seed=11,
)


def tiny_generators(directory: Path) -> Path:
    """The two systems of the example study, as tiny untrained checkpoints (with and without heatmap)."""
    tiny_checkpoint(directory)
    tiny_checkpoint(directory, dataclasses.replace(TINY, use_heatmap=False), name="attrgan_noheatmap")
    return directory


@pytest.fixture
def checkpoints(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tiny_generators(tmp_path / "checkpoints")
    monkeypatch.setenv("FACEGAN_CHECKPOINTS", str(directory))
    return directory


def test_definition_round_trip_and_the_shipped_example(tmp_path: Path) -> None:
    save_definition(TINY_STUDY, tmp_path / "tiny.json")
    assert load_definition(tmp_path / "tiny.json") == TINY_STUDY
    example = load_definition(example_definitions()["attrgan_vs_ablation"])
    assert example.systems == ("attrgan", "attrgan_noheatmap") and example.trials_per_participant == 5
    assert example.question == "Which result looks more realistic and shows the target better?"
    assert example.choice_labels == ("A", "B", "None") and SOUND.choice_labels == ("First", "Second", "Neither")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"study_id": "Bad Id"}, "study_id"),
        ({"type": "beauty"}, "unknown study type"),
        ({"systems": ("attrgan",)}, "at least two systems"),
        ({"systems": ("a", "a")}, "distinct"),
        ({"trials_per_participant": 0}, "at least 1"),
        ({"pool_size": 2}, "pool_size"),
    ],
)
def test_bad_definitions_name_the_problem(change: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(TINY_STUDY, **change)


def test_definition_files_report_unknown_and_missing_fields(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({**TINY_STUDY.to_dict(), "colour": "red"}))
    with pytest.raises(ValueError, match="colour"):
        load_definition(path)
    path.write_text(json.dumps({"study_id": "x"}))
    with pytest.raises(ValueError, match="bad.json: incomplete"):
        load_definition(path)


def test_target_changes_one_attribute_and_keeps_one_hair_colour() -> None:
    rng = random.Random(0)
    own = {name: False for name in STARGAN_ATTRIBUTES} | {"Black_Hair": True, "Brown_Hair": True}
    for _ in range(50):
        attribute, targets = choose_target(own, rng)
        assert sum(targets[name] for name in HAIR_COLOURS) <= 1
        others = [n for n in STARGAN_ATTRIBUTES if n not in HAIR_COLOURS and targets[n] != own[n]]
        assert others == ([attribute] if attribute not in HAIR_COLOURS else [])
        assert attribute not in HAIR_COLOURS or (targets[attribute] and attribute != "Black_Hair")


def test_realism_stimuli_are_generated_recorded_and_reproducible(checkpoints: Path, tmp_path: Path) -> None:
    celeba_dir()
    first = generate_stimuli(TINY_STUDY, tmp_path / "one")
    again = generate_stimuli(TINY_STUDY, tmp_path / "two")
    assert dataclasses.replace(first, created="") == dataclasses.replace(again, created="")
    assert load_manifest(tmp_path / "one") == first
    val = {line.split()[0] for line in (celeba_dir().parent / "list_eval_partition.txt").read_text().splitlines()
           if line.split()[1] == "1"}
    for trial in first.trials:
        assert trial.source.removeprefix("celeba/images/") in val
        assert [o.outcome for o in trial.options] == ["attrgan", "attrgan_noheatmap"]
        assert trial.prompt.startswith("Target: ") and trial.target is not None
        for image in (trial.reference, *(o.image for o in trial.options)):
            assert (tmp_path / "one" / image).read_bytes() == (tmp_path / "two" / image).read_bytes()
            assert "attrgan" not in image  # names must not give the system away
    assert first.checkpoints["attrgan"]["steps"] == 0 and len(first.checkpoints["attrgan"]["sha256"]) == 64
    with pytest.raises(UserError, match="already exist"):
        generate_stimuli(TINY_STUDY, tmp_path / "one")


def test_cli_writes_the_study_directory_and_reports_errors(
    checkpoints: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    celeba_dir()
    definition = tmp_path / "study.json"
    save_definition(TINY_STUDY, definition)
    assert stimuli.main(["--study", str(definition), "--out", str(tmp_path / "study")]) == 0
    assert len(load_manifest(tmp_path / "study").trials) == 3
    save_definition(dataclasses.replace(TINY_STUDY, systems=("attrgan", "nonexistent")), definition)
    assert stimuli.main(["--study", str(definition), "--out", str(tmp_path / "other")]) == 1
    assert "nonexistent" in capsys.readouterr().err


def test_sound_stimuli_need_the_audiogan_checkpoint(checkpoints: Path, tmp_path: Path) -> None:
    with pytest.raises(CheckpointMissingError, match="audiogan checkpoint missing"):
        generate_stimuli(SOUND, tmp_path / "sound")
    assert load_manifest(tmp_path / "sound") is None


def test_sound_stimuli_pair_the_heard_clip_with_another_scene(
    checkpoints: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a stand-in pipeline: held-out clips only, pairing across scenes, and the manifest."""
    (checkpoints / "audiogan.safetensors").touch()
    sounds = tmp_path / "data" / "sounds"
    sounds.mkdir(parents=True)
    rows = ["path,label,source,fold"]
    held_out = ("ESC-10,4", "UrbanSound8K,3", "ESC-10,4", "UrbanSound8K,3")
    for index, label in enumerate(["rain", "siren", "sea_waves", "dog_bark"] * 2):
        soundfile.write(sounds / f"{index}.wav", np.full(800, index / 10, np.float32), 16000)
        rows.append(f"{index}.wav,{label},{held_out[index % 4] if index < 4 else 'ESC-10,1'}")
    (sounds / "clips.csv").write_text("\n".join(rows) + "\n")

    class SoundToScene:
        def __init__(self, name: str) -> None:
            assert name == "audiogan"

        def __call__(self, clip: Path) -> np.ndarray:
            return np.full((64, 64, 3), int(clip.stem) * 20, np.uint8)

    monkeypatch.setattr(pipelines, "SoundToScene", SoundToScene, raising=False)
    manifest = generate_stimuli(SOUND, tmp_path / "sound", data=tmp_path / "data")
    assert len(manifest.trials) == 3
    for trial in manifest.trials:
        positive, negative = trial.options
        assert (positive.outcome, negative.outcome) == ("positive", "negative")
        heard = trial.source.removeprefix("sounds/")
        assert positive.source == trial.source and trial.condition in SCENE_OF_SOUND
        assert SCENE_OF_SOUND[trial.condition] != SCENE_OF_SOUND[_label(rows, negative.source)]
        assert (tmp_path / "sound" / trial.audio).read_bytes() == (sounds / heard).read_bytes()
        assert all(int(Path(option.source).stem) < 4 for option in trial.options)  # training clips never


def _label(rows: list[str], source: str) -> str:
    return next(row.split(",")[1] for row in rows if row.startswith(source.removeprefix("sounds/") + ","))


def test_demo_sound_study_plays_the_example_recordings(tmp_path: Path) -> None:
    """The sound demo needs no dataset: heard clips and negatives are the app's own credited examples."""
    from facegan.audio.data import SCENE_OF_SOUND
    from facegan.audio.examples import EXAMPLE_SOUNDS
    from facegan.studies.demo import DEMO_DEFINITIONS, ensure_demo
    from facegan.studies.session import Sessions
    from facegan.studies.store import StudyStore

    sessions = Sessions(StudyStore(tmp_path))
    study = ensure_demo(sessions, DEMO_DEFINITIONS[1])
    assert ensure_demo(sessions, DEMO_DEFINITIONS[1]) == study  # idempotent
    labels = {f"examples/{sound.file}": sound.label for sound in EXAMPLE_SOUNDS}
    for trial in sessions.manifest(study).trials:
        heard = labels[trial.source]
        assert (tmp_path / study / trial.audio).is_file()
        if trial.kind != "gold":
            negative = labels[trial.options[1].source]
            assert SCENE_OF_SOUND[negative] != SCENE_OF_SOUND[heard]
