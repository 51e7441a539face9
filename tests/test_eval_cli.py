"""``python -m facegan.eval``: the command list, and ``judge`` end to end on 64 val images."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from facegan.eval import COMMANDS
from facegan.eval.__main__ import main as eval_main
from facegan.models.judge import ATTRIBUTE_NAMES
from facegan.eval.judge_accuracy import HIGHLIGHTED
from facegan.paths import data_dir
from facegan.train.__main__ import main as train_main


def test_help_lists_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        eval_main(["--help"])
    out = capsys.readouterr().out
    assert exit_info.value.code == 0 and "judge" in COMMANDS
    assert all(name in out for name in COMMANDS)


def test_no_command_is_an_error_naming_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        eval_main([])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and f"choose a command: {', '.join(sorted(COMMANDS))}" in err


@pytest.mark.skipif(
    not (data_dir() / "celeba" / "images").is_dir(),
    reason=f"CelebA not found under {data_dir()}/celeba (set FACEGAN_DATA or pass the shared data)",
)
def test_judge_command_on_64_images(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 2-step judge exported into a temp checkpoint dir, scored on 64 val images into a temp JSON."""
    monkeypatch.setenv("FACEGAN_CHECKPOINTS", str(tmp_path / "ckpt"))
    train = ["judge", "--steps", "2", "--limit", "16", "--width", "8", "--batch-size", "8", "--num-workers", "0"]
    train += ["--device", "cpu", "--no-progress", "--run-dir", str(tmp_path / "run"), "--export", "attr_judge"]
    assert train_main(train) == 0
    out = tmp_path / "results" / "eval_judge.json"
    assert eval_main(["judge", "--limit", "64", "--batch-size", "32", "--out", str(out)]) == 0

    result = json.loads(out.read_text())
    assert result["images"] == 64 and result["split"] == "val"
    assert result["command"] == f"python -m facegan.eval judge --limit 64 --batch-size 32 --out {out}"
    assert list(result["attributes"]) == list(ATTRIBUTE_NAMES) and list(result["highlighted"]) == list(HIGHLIGHTED)
    for figures in result["attributes"].values():
        assert set(figures) == {"accuracy", "majority_baseline", "positive_rate", "recall", "specificity"}
        assert all(0.0 <= value <= 1.0 for value in figures.values())
        rate = figures["positive_rate"]  # accuracy is recall on the positives and specificity on the rest
        mixed = rate * figures["recall"] + (1 - rate) * figures["specificity"]
        assert figures["accuracy"] == pytest.approx(mixed, abs=2e-4)
    men = result["by_sex"]["Male"]["men"]  # every man is a positive of Male, every woman a negative
    assert men["negatives"] == 0 and men["specificity"] is None
    assert men["recall"] == result["attributes"]["Male"]["recall"]
    for name, groups in result["by_sex"].items():
        counts = [groups[sex][kind] for sex in ("men", "women") for kind in ("positives", "negatives")]
        assert sum(counts) == 64 and counts[0] + counts[2] == round(result["attributes"][name]["positive_rate"] * 64)
    table = capsys.readouterr().out
    assert "| **Male** |" in table and "| **mean (40)** |" in table and table.count("\n| ") >= 42
