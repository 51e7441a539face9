"""benchmarks/audiogan_latency.py runs end to end on a tiny checkpoint (results to a temp dir)."""

from __future__ import annotations

import sys

from facegan.paths import REPO_ROOT
from facegan.ui import sound_to_scene
from tests.audio_helpers import tiny_audiogan_checkpoint

sys.path.insert(0, str(REPO_ROOT / "benchmarks"))


def test_audiogan_latency_benchmark(tmp_path, monkeypatch):
    import audiogan_latency
    import common

    monkeypatch.setattr(common, "RESULTS_DIR", tmp_path)
    monkeypatch.setenv("FACEGAN_CHECKPOINTS", str(tmp_path))
    tiny_audiogan_checkpoint(tmp_path)
    sound_to_scene.pipeline.cache_clear()
    try:
        result = audiogan_latency.main(["--runs", "2"])
    finally:
        sound_to_scene.pipeline.cache_clear()
    assert 0 < result["threads_1"]["generation"]["p50_ms"] <= result["threads_1"]["generation"]["p95_ms"]
    assert result["threads_1"]["tab_generate"]["p50_ms"] > 0 and (tmp_path / "audiogan_latency.json").is_file()


def test_best_of_benchmark_scores_each_count_under_several_draws(tmp_path, monkeypatch):
    import audiogan_best_of
    import common

    from facegan.audio.data import sounds_root
    from facegan.models.judge import AttributeJudge, JudgeConfig

    sounds_root()
    monkeypatch.setattr(common, "RESULTS_DIR", tmp_path)
    monkeypatch.setenv("FACEGAN_CHECKPOINTS", str(tmp_path))
    judge = AttributeJudge(JudgeConfig(width=4, num_attributes=6)).eval()
    monkeypatch.setattr(audiogan_best_of, "load_scene_judge", lambda name: {"second": judge}[name])
    tiny_audiogan_checkpoint(tmp_path)
    options = ["--clips", "6", "--counts", "1", "3", "--draws", "2", "--truncation", "0.7", "--judge", "second"]
    result = audiogan_best_of.main(options)
    assert set(result["counts"]) == {"1", "3"} and result["clips"] == 6 and result["truncation"] == 0.7
    assert result["judge"] == "second"
    for row in result["counts"].values():
        match = row["class_match_mean_over_scenes"]
        assert len(match["draws"]) == 2 and 0 <= match["mean"] <= 1 and row["pick_ms_per_image"] > 0
    assert (tmp_path / "audiogan_best_of.json").is_file()
