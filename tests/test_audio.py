"""The audio front end: any format/rate/channels in, a 4 s 16 kHz window out, clear errors, level kept."""

from __future__ import annotations

import io
from pathlib import Path

import librosa
import numpy as np
import pytest
import soundfile as sf
import torch

from facegan.audio.encoder import EncoderConfig
from facegan.audio.features import N_MFCC, FeaturizerConfig, SoundFeaturizer, analyse, level_db
from facegan.audio.io import SAMPLE_RATE, WINDOW, fit_window, gain_db, load_audio, to_pcm16
from facegan.audio.synth import SOUNDS, rain, siren
from facegan.errors import InvalidAudioError

TINY_ENCODER = EncoderConfig(width=4, embed_dim=8)


def _write(path: Path, wave: np.ndarray, rate: int, fmt: str) -> Path:
    sf.write(path, wave, rate, format=fmt)
    return path


@pytest.mark.parametrize(("fmt", "suffix"), [("WAV", "wav"), ("FLAC", "flac"), ("OGG", "ogg"), ("MP3", "mp3")])
def test_any_format_rate_and_channels_become_16k_mono(tmp_path: Path, fmt: str, suffix: str) -> None:
    stereo = np.stack([siren(2.0), rain(2.0)], axis=1).astype(np.float32)
    stereo = librosa.resample(stereo.T, orig_sr=SAMPLE_RATE, target_sr=44_100).T
    wave = load_audio(_write(tmp_path / f"clip.{suffix}", stereo, 44_100, fmt))
    assert wave.ndim == 1 and wave.dtype == np.float32
    assert abs(len(wave) - 2 * SAMPLE_RATE) < 0.06 * SAMPLE_RATE  # mp3 adds encoder padding


def test_bytes_and_gradio_arrays_are_accepted(tmp_path: Path) -> None:
    path = _write(tmp_path / "clip.wav", siren(1.0), SAMPLE_RATE, "WAV")
    from_bytes = load_audio(path.read_bytes())
    pcm = (siren(1.0) * 32767).astype(np.int16)
    from_array = load_audio((SAMPLE_RATE, np.stack([pcm, pcm], axis=1)))
    assert len(from_bytes) == len(from_array) == SAMPLE_RATE
    np.testing.assert_allclose(from_array, siren(1.0), atol=1e-4)


def test_window_loops_short_sounds_and_crops_long_ones() -> None:
    short = np.concatenate([np.zeros(8000), siren(1.0), np.zeros(8000)]).astype(np.float32)
    looped = fit_window(short)
    assert len(looped) == WINDOW
    assert (looped == 0).mean() < 0.15  # the padding is trimmed (to the nearest analysis frame), not looped
    assert len(fit_window(siren(9.0))) == WINDOW
    padded = fit_window(short, trim=False)
    assert len(padded) == WINDOW and (padded == 0).mean() > 0.7


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: _write(d / "empty.wav", np.zeros(0, np.float32), SAMPLE_RATE, "WAV"), "empty"),
        (lambda d: _write(d / "quiet.wav", np.zeros(SAMPLE_RATE, np.float32), SAMPLE_RATE, "WAV"), "silent"),
        (lambda d: (d / "bad.ogg").write_bytes(b"OggS not really audio") and d / "bad.ogg", "corrupt"),
        (lambda d: _write(d / "long.flac", np.zeros(61 * 8000, np.float32), 8000, "FLAC"), "at most 60 s"),
        (lambda d: d / "missing.wav", "no sound file"),
    ],
)
def test_bad_input_gets_a_clear_error(tmp_path: Path, make, message: str) -> None:
    with pytest.raises(InvalidAudioError, match=message):
        fit_window(load_audio(make(tmp_path)))


def test_gain_is_an_exact_shift_of_every_feature() -> None:
    window = fit_window(SOUNDS["sea_waves"]())
    base, louder = analyse(window), analyse(window * 2)
    above_floor = base.logmel > -90  # the -100 dB floor (AMIN) is the only place the shift is not exact
    np.testing.assert_allclose(louder.logmel[above_floor], base.shift(gain_db(2)).logmel[above_floor], atol=1e-3)
    loud_bins = base.logspec > -70
    np.testing.assert_allclose(louder.logspec[loud_bins], base.shift(gain_db(2)).logspec[loud_bins], atol=0.05)
    levels = level_db(torch.from_numpy(np.stack([base.logmel, louder.logmel])))
    assert float(levels[1] - levels[0]) == pytest.approx(6.0206, abs=1e-3)


@pytest.mark.parametrize("kind", ["spectrogram", "logmel", "mfcc", "learned"])
def test_featurizer_dims_and_level_component(kind: str) -> None:
    featurizer = SoundFeaturizer(FeaturizerConfig(kind, TINY_ENCODER)).eval()
    a = analyse(fit_window(siren()))
    logmel, logspec = torch.from_numpy(a.logmel)[None], torch.from_numpy(a.logspec)[None]
    s = featurizer(logmel, logspec)
    assert s.shape == (1, featurizer.config.dim)
    louder = featurizer(logmel + 6, logspec + 6)
    assert float(louder[0, -1] - s[0, -1]) == pytest.approx(6.0, abs=1e-3)


def test_mfcc_matches_librosa() -> None:
    featurizer = SoundFeaturizer(FeaturizerConfig("mfcc", TINY_ENCODER))
    a = analyse(fit_window(rain()))
    ours = featurizer.raw(torch.from_numpy(a.logmel)[None], torch.from_numpy(a.logspec)[None])[0, :N_MFCC]
    reference = librosa.feature.mfcc(S=a.logmel, n_mfcc=N_MFCC).mean(axis=1)
    np.testing.assert_allclose(ours.numpy(), reference, rtol=1e-4, atol=1e-3)


def test_playback_keeps_the_gain_and_clips() -> None:
    wave = np.array([0.25, -0.5, 0.9], dtype=np.float32)
    assert to_pcm16(wave, 2.0).tolist() == [16384, -32767, 32767]
    with pytest.raises(ValueError, match="positive"):
        gain_db(0)


def test_synthetic_examples_are_audible_and_deterministic(tmp_path: Path) -> None:
    for make in SOUNDS.values():
        wave = make()
        assert len(wave) == WINDOW and 0.05 < np.abs(wave).max() <= 1.0
        np.testing.assert_array_equal(wave, make())
    buffer = io.BytesIO()
    sf.write(buffer, siren(), SAMPLE_RATE, format="OGG")
    assert len(fit_window(load_audio(buffer.getvalue()))) == WINDOW
