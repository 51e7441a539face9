"""The study load and crash benchmarks run end to end at tiny sizes (each starts the real app)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from facegan.paths import REPO_ROOT
from tests.faces_helpers import celeba_dir
from tests.test_studies_stimuli import tiny_generators

sys.path.insert(0, str(REPO_ROOT / "benchmarks"))

import common  # noqa: E402
import study_crash  # noqa: E402
import study_load  # noqa: E402


@pytest.fixture(autouse=True)
def tiny_setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Results to a temp dir; stimuli from tiny generators on real CelebA val faces."""
    celeba_dir()
    monkeypatch.setattr(common, "RESULTS_DIR", tmp_path)
    monkeypatch.setenv("FACEGAN_CHECKPOINTS", str(tiny_generators(tmp_path / "checkpoints")))


def test_load_benchmark_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    result = study_load.main(["--participants", "3", "--votes", "12"])
    assert (result["acknowledged"], result["stored"], result["lost"], result["duplicated"]) == (12, 12, 0, 0)
    assert result["repeats_reported_duplicate"] == 3 and result["errors"] == []
    assert 0 < result["vote_latency"]["p50_ms"] <= result["vote_latency"]["p95_ms"]
    assert "--votes 12" in (tmp_path / "study_load.json").read_text()


def test_crash_benchmark_keeps_every_acknowledged_vote(tmp_path: Path) -> None:
    result = study_crash.main(["--participants", "2", "--trials", "6", "--kills", "1", "--kill-every", "4"])
    [kill] = result["kills"]
    assert kill["acknowledged"] >= 4 and kill["lost"] == 0 and result["lost_at_kills"] == 0
    assert kill["participants_resumed_at_stored_progress"] == 2
    final = result["final"]
    assert (final["stored"], final["lost"], final["duplicated"], final["errors"]) == (12, 0, 0, [])
    assert (tmp_path / "study_crash.json").is_file()
