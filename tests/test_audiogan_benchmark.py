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
