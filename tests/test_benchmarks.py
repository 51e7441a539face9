"""The benchmark scripts behind README's figures run end to end (tiny sizes; results to a temp dir)."""

from __future__ import annotations

import sys

import pytest

from facegan.paths import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "benchmarks"))

import alignment_accuracy  # noqa: E402
import common  # noqa: E402
import face_latency  # noqa: E402


@pytest.fixture(autouse=True)
def results_in_tmp(tmp_path, monkeypatch):
    monkeypatch.setattr(common, "RESULTS_DIR", tmp_path)


def test_alignment_benchmark_reports_error_and_failures(tmp_path):
    result = alignment_accuracy.main(["--n", "6", "--seed", "3"])
    assert result["images"] + result["skipped_no_face_in_original"] == 6
    assert 0 <= result["failure_rate"] <= 1 and result["mean_error_px"] < 5
    assert (tmp_path / "alignment_accuracy.json").is_file()
    assert "--n 6" in (tmp_path / "alignment_accuracy.json").read_text()


def test_latency_benchmark_reports_percentiles(tmp_path):
    result = face_latency.main(["--runs", "3"])
    assert result["total"]["p50_ms"] <= result["total"]["p95_ms"]
    assert result["total"]["p50_ms"] >= result["detect+landmarks"]["p50_ms"]
    assert (tmp_path / "face_latency.json").is_file()


def test_attrgan_latency_benchmark(tmp_path, monkeypatch):
    import attrgan_latency

    from tests.test_attrgan import tiny_checkpoint

    tiny_checkpoint(tmp_path)
    monkeypatch.setenv("FACEGAN_CHECKPOINTS", str(tmp_path))
    result = attrgan_latency.main(["--runs", "2"])
    assert 0 < result["edit"]["p50_ms"] <= result["edit"]["p95_ms"]
    assert 0 < result["readout_after_the_result"]["p50_ms"]
    assert result["resolution"] == 64 and (tmp_path / "attrgan_latency.json").is_file()


def test_attrgan_train_speed_benchmark(tmp_path):
    import attrgan_train_speed

    shipped = next(iter(attrgan_train_speed.CONFIGS))
    result = attrgan_train_speed.main(["--steps", "1", "--batch-size", "2", "--only", shipped])
    row = result["configurations"][shipped]
    assert row["s_per_step"] > 0 and row["g_updates_per_cpu_hour"] > 0
    assert (tmp_path / "attrgan_train_speed.json").is_file()
