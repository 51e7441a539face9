"""The sound-to-scene tab's handlers with a tiny checkpoint: outputs, volume row, clear errors."""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import numpy as np
import pytest

from facegan.ui import sound_to_scene as tab
from tests.audio_helpers import tiny_audiogan_checkpoint


@pytest.fixture
def tiny_tab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("FACEGAN_CHECKPOINTS", str(tmp_path))
    tiny_audiogan_checkpoint(tmp_path)
    tab.pipeline.cache_clear()
    yield tab
    tab.pipeline.cache_clear()


def test_examples_are_the_credited_recordings() -> None:
    assert len(tab.EXAMPLES) >= 5 and all(Path(p).is_file() for p in tab.EXAMPLES)
    assert all(f"clip {sound.freesound_id}" in tab.CREDITS for sound in tab.EXAMPLE_SOUNDS)
    assert "CC BY-NC 3.0" in tab.CREDITS and "CC BY 3.0" in tab.CREDITS


def test_generate_fills_every_output(tiny_tab) -> None:
    label, gallery, *rest = tiny_tab.generate(tiny_tab.EXAMPLES[0], 1.5, 7, 3)
    row, players = rest[:4], rest[4:]
    assert len(label) == 12 and sum(label.values()) == pytest.approx(1.0) and "siren → street" in label
    assert len(gallery) == 3 and all(image.shape == (256, 256, 3) for image in gallery)
    assert all(image.shape == (256, 256, 3) for image in row)
    rates, samples = zip(*players)
    assert set(rates) == {16_000} and all(s.dtype == np.int16 for s in samples)
    peaks = [int(np.abs(s.astype(np.int32)).max()) for s in samples]
    assert peaks == sorted(peaks) and peaks[0] < peaks[1]  # 0.5x quieter than 1x; louder ones may clip


def test_api_returns_one_scene(tiny_tab) -> None:
    image = tiny_tab.scene(tiny_tab.EXAMPLES[1], 2.0, 0)
    assert image.shape == (64, 64, 3) and image.dtype == np.uint8


@pytest.mark.parametrize(
    ("audio", "volume", "message"),
    [(None, 1.0, "Upload or record a sound first"), ("corrupt", 1.0, "could not read"),
     ("ok", 9.0, "volume must be between 0.5 and 3"), ("ok", float("nan"), "volume must be a finite number")],
)
def test_bad_input_is_a_gradio_error(tiny_tab, tmp_path: Path, audio, volume: float, message: str) -> None:
    if audio == "corrupt":
        audio = tmp_path / "bad.wav"
        audio.write_bytes(b"RIFF....WAVEfmt garbage")
        audio = str(audio)
    elif audio == "ok":
        audio = tiny_tab.EXAMPLES[0]
    with pytest.raises(gr.Error, match=message):
        tiny_tab.generate(audio, volume, 0, 1)


@pytest.mark.parametrize("seed", [2**63, 2**64, float("nan"), "abc", -1])
def test_seeds_the_generator_cannot_take_are_messages(tiny_tab, seed) -> None:
    with pytest.raises(gr.Error, match="seed"):
        tiny_tab.scene(tiny_tab.EXAMPLES[0], 1.0, seed)


def test_two_sounds_blend_from_one_scene_to_the_other(tiny_tab) -> None:
    first, second = tiny_tab.EXAMPLES[0], tiny_tab.EXAMPLES[1]
    label, blended, *strip = tiny_tab.blend_sounds(first, second, 0.5, 3)
    assert len(label) == 12 and sum(label.values()) == pytest.approx(1.0)
    assert blended.shape == (256, 256, 3) and len(strip) == len(tiny_tab.BLEND_STEPS) == 5
    model = tiny_tab.pipeline()
    alone = [tiny_tab.for_display(model.generate(model.prepare(p), 1.0, [3])[0]) for p in (first, second)]
    # 0%: the first sound's scene, 100%: the second's (up to one level of rounding: the strip is one batch)
    np.testing.assert_allclose(strip[0].astype(int), alone[0].astype(int), atol=1)
    np.testing.assert_allclose(strip[-1].astype(int), alone[1].astype(int), atol=1)
    np.testing.assert_array_equal(strip[2], blended)  # the slider at 50% is the strip's middle
    with pytest.raises(gr.Error, match="two sounds"):
        tiny_tab.blend_sounds(first, None, 0.5, 0)
    with pytest.raises(gr.Error, match="blend must be between 0 and 1"):
        tiny_tab.blend_sounds(first, second, 1.5, 0)


def test_an_equal_power_blend_keeps_the_loudness() -> None:
    from facegan.audio.io import blend

    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 0.1, 16_000), rng.normal(0, 0.1, 16_000)
    np.testing.assert_array_equal(blend(a, b, 0.0), a)
    np.testing.assert_allclose(blend(a, b, 1.0), b)
    rms = [float(np.sqrt(np.mean(blend(a, b, t) ** 2))) for t in (0.0, 0.25, 0.5, 0.75, 1.0)]
    assert max(rms) / min(rms) < 1.05  # a linear mix would dip to 71% in the middle
