"""Sound input: any common file or array -> a fixed 4 s window of 16 kHz mono, or a clear error.

``load_audio`` decodes (libsndfile: wav, flac, ogg/vorbis, mp3, aiff, ...), downmixes to mono and
resamples to 16 kHz. ``fit_window`` trims leading/trailing silence and loops or centre-crops the
sound to the fixed window. Trimming and looping also remove a recording-source cue of the training
data: some ESC-10 clips are padded with digital silence to 5 s, UrbanSound8K clips almost never (see
the shortcut probe in ``python -m facegan.eval audiogan``). Nothing here normalises the level: the
absolute loudness is what the volume control acts on.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import librosa
import numpy as np
import soundfile as sf

from facegan.errors import InvalidAudioError

SAMPLE_RATE = 16_000
WINDOW_S = 4.0
WINDOW = int(SAMPLE_RATE * WINDOW_S)
MAX_DURATION_S = 60.0
"""Longer uploads are refused: the model sees 4 s, and decoding minutes of audio blocks the app."""
MIN_DURATION_S = 0.1
SILENCE_DBFS = -80.0
SILENCE_PEAK = 10 ** (SILENCE_DBFS / 20)
"""A sound whose peak stays below -80 dBFS is treated as silence (the quietest shared clip, a distant
siren, peaks at -61 dBFS; 16-bit dither sits near -90)."""
TRIM_TOP_DB = 60.0
"""Leading/trailing parts more than this many dB below the clip's peak count as silence."""

AudioInput = str | os.PathLike | bytes | tuple[int, np.ndarray]
"""A file path, encoded bytes, or Gradio's ``(sample_rate, samples)`` pair (int or float samples)."""


def _decode(source: str | os.PathLike | bytes) -> tuple[np.ndarray, int]:
    """Samples [n, channels] float32 and the sample rate, or InvalidAudioError."""
    if isinstance(source, str | os.PathLike) and not Path(source).is_file():
        raise InvalidAudioError(f"no sound file at {source}")
    handle = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        info = sf.info(handle)
        if info.duration > MAX_DURATION_S:
            raise InvalidAudioError(
                f"the sound is {info.duration:.0f} s long; upload at most {MAX_DURATION_S:.0f} s"
            )
        if isinstance(handle, io.BytesIO):
            handle.seek(0)
        samples, rate = sf.read(handle, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as err:
        raise InvalidAudioError(
            "could not read the sound: the file is corrupt or not an audio format we can decode "
            "(use wav, flac, ogg or mp3)"
        ) from err
    return samples, rate


def _from_array(rate: int, samples: np.ndarray) -> tuple[np.ndarray, int]:
    """Gradio's numpy audio: int PCM is scaled to [-1, 1]; shape [n] or [n, channels]."""
    samples = np.asarray(samples)
    if np.issubdtype(samples.dtype, np.integer):
        samples = samples.astype(np.float32) / float(np.iinfo(samples.dtype).max + 1)
    samples = samples.astype(np.float32)
    return (samples[:, None] if samples.ndim == 1 else samples), int(rate)


def load_audio(source: AudioInput) -> np.ndarray:
    """16 kHz mono float32 samples of any supported input, at their original level and length."""
    if isinstance(source, tuple):
        samples, rate = _from_array(*source)
    else:
        samples, rate = _decode(source)
    if samples.size == 0 or samples.shape[0] < MIN_DURATION_S * rate:
        raise InvalidAudioError(f"the sound is empty or shorter than {MIN_DURATION_S:g} s")
    if samples.shape[0] > MAX_DURATION_S * rate:
        raise InvalidAudioError(
            f"the sound is {samples.shape[0] / rate:.0f} s long; upload at most {MAX_DURATION_S:.0f} s"
        )
    if not np.isfinite(samples).all():
        raise InvalidAudioError("the sound contains invalid (NaN or infinite) samples")
    mono = samples.mean(axis=1)
    if rate != SAMPLE_RATE:
        mono = librosa.resample(mono, orig_sr=rate, target_sr=SAMPLE_RATE, res_type="soxr_hq")
    return mono.astype(np.float32)


def fit_window(wave: np.ndarray, trim: bool = True) -> np.ndarray:
    """The fixed window the features see: silence trimmed, then looped (short) or centre-cropped (long).

    ``trim=False`` zero-pads instead of trimming and looping: the naive front end, kept only so the
    shortcut probe can measure what the preprocessing removes.
    """
    if np.abs(wave).max(initial=0.0) < SILENCE_PEAK:
        raise InvalidAudioError(
            f"the sound is silent (its peak is below {SILENCE_DBFS:g} dBFS); record or upload something audible"
        )
    if trim:
        wave, _ = librosa.effects.trim(wave, top_db=TRIM_TOP_DB)
    if len(wave) >= WINDOW:
        start = (len(wave) - WINDOW) // 2
        return wave[start : start + WINDOW]
    if not trim:
        return np.pad(wave, (0, WINDOW - len(wave)))
    return np.tile(wave, -(-WINDOW // len(wave)))[:WINDOW]


def blend(first: np.ndarray, second: np.ndarray, share: float) -> np.ndarray:
    """Both sounds at once, ``share`` of the way from the first to the second: an equal-power mix
    (gains sqrt(1 - share) and sqrt(share)), so two unrelated sounds keep their loudness all the way."""
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"the blend must be between 0 and 1, got {share:g}")
    length = min(len(first), len(second))
    return np.sqrt(1.0 - share) * first[:length] + np.sqrt(share) * second[:length]


def gain_db(gain: float) -> float:
    """Amplitude gain as a level change in dB (2x louder = +6.02 dB)."""
    if gain <= 0:
        raise ValueError(f"volume must be positive, got {gain:g}")
    return 20.0 * float(np.log10(gain))


def to_pcm16(wave: np.ndarray, gain: float = 1.0) -> np.ndarray:
    """Samples scaled by ``gain`` as 16-bit PCM (clipped at full scale), for playback at that level.

    Float arrays would be peak-normalised by the player, which would undo the volume change.
    """
    return (np.clip(wave * gain, -1.0, 1.0) * 32767).round().astype(np.int16)
