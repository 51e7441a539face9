"""Synthesised example sounds, so the app ships examples it may redistribute (never shared/ clips).

    python -m facegan.audio.synth facegan/ui/examples

writes ``synth_<name>.ogg`` (4 s, 16 kHz mono Vorbis, fixed seeds, so the same sound on every run) for each
entry of ``SOUNDS``: filtered noise for waves and rain, a two-tone siren sweep, hammer bursts and an
idling engine's harmonics. The tests use the same functions as inputs.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import butter, sosfilt

from facegan.audio.io import SAMPLE_RATE

DURATION_S = 4.0


def _time(seconds: float) -> np.ndarray:
    return np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE


def _filtered_noise(rng: np.random.Generator, n: int, band: tuple[float, float]) -> np.ndarray:
    sos = butter(4, band, btype="bandpass", fs=SAMPLE_RATE, output="sos")
    noise = sosfilt(sos, rng.standard_normal(n))
    return noise / np.abs(noise).max()


def sea_waves(seconds: float = DURATION_S, seed: int = 0) -> np.ndarray:
    """Low rumbling noise swelling and breaking every ~2.5 s."""
    rng = np.random.default_rng(seed)
    t = _time(seconds)
    swell = 0.25 + 0.75 * np.sin(np.pi * t / 2.5) ** 4
    return 0.5 * swell * _filtered_noise(rng, len(t), (80, 2500))


def rain(seconds: float = DURATION_S, seed: int = 1) -> np.ndarray:
    """Steady hiss plus thousands of short random droplet clicks."""
    rng = np.random.default_rng(seed)
    n = len(_time(seconds))
    hiss = 0.15 * _filtered_noise(rng, n, (1500, 7000))
    drops = np.zeros(n)
    drops[rng.integers(0, n, 600)] = rng.uniform(-1, 1, 600)
    drops = sosfilt(butter(2, (2000, 6000), btype="bandpass", fs=SAMPLE_RATE, output="sos"), drops)
    return hiss + 0.4 * drops / np.abs(drops).max()


def siren(seconds: float = DURATION_S, seed: int = 2) -> np.ndarray:
    """A wailing siren: a tone sweeping 700-1400 Hz and back every 2 s, with two harmonics."""
    t = _time(seconds)
    frequency = 1050 + 350 * np.sin(2 * np.pi * t / 2.0)
    phase = 2 * np.pi * np.cumsum(frequency) / SAMPLE_RATE
    tone = np.sin(phase) + 0.4 * np.sin(2 * phase) + 0.2 * np.sin(3 * phase)
    rng = np.random.default_rng(seed)
    return 0.3 * tone / 1.6 + 0.02 * _filtered_noise(rng, len(t), (100, 4000))


def jackhammer(seconds: float = DURATION_S, seed: int = 3) -> np.ndarray:
    """Broadband bursts 18 times a second, in two-second strokes."""
    rng = np.random.default_rng(seed)
    t = _time(seconds)
    bursts = (np.sin(2 * np.pi * 18 * t) > 0.6).astype(float) * (np.sin(np.pi * t / 2.0) ** 2 > 0.2)
    return 0.6 * bursts * _filtered_noise(rng, len(t), (300, 5000))


def engine_idling(seconds: float = DURATION_S, seed: int = 4) -> np.ndarray:
    """A 28 Hz firing rhythm with its harmonics and a little mechanical noise."""
    rng = np.random.default_rng(seed)
    t = _time(seconds)
    hum = sum(np.sin(2 * np.pi * 28 * k * t + k) / k for k in range(1, 12))
    return 0.25 * hum / np.abs(hum).max() + 0.05 * _filtered_noise(rng, len(t), (200, 3000))


SOUNDS: dict[str, Callable[[], np.ndarray]] = {
    "sea_waves": sea_waves,
    "rain": rain,
    "siren": siren,
    "jackhammer": jackhammer,
    "engine_idling": engine_idling,
}


def write_examples(folder: Path) -> list[Path]:
    """One ``synth_<name>.ogg`` per sound in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, make in SOUNDS.items():
        path = folder / f"synth_{name}.ogg"
        sf.write(path, make().astype(np.float32), SAMPLE_RATE, format="OGG", subtype="VORBIS")
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m facegan.audio.synth", description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    for path in write_examples(parser.parse_args(argv).folder):
        print(path)


if __name__ == "__main__":
    main()
