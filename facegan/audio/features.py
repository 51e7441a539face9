"""Sound features of the paper's Table 2, all keeping the absolute level.

The front end turns a window into two arrays (``analyse``): a log-mel spectrogram in dB and the
time-averaged log-power spectrum in dB, both with a fixed reference (1.0), never relative to the
clip's own peak. A gain g therefore adds exactly 20 log10 g dB to every value, which is how volume
is applied (``shift``) both in training and in the app. ``SoundFeaturizer`` turns them into the sound
vector ``s`` of one feature type, plus the clip's level in dB as a last component, standardised with
training-set statistics:

- ``spectrogram``: time-averaged log-power STFT (257 bins);
- ``logmel``: time-averaged log-mel filterbank (64 bands), the paper's "fbank";
- ``mfcc``: time-averaged MFCCs (20), i.e. ``librosa.feature.mfcc`` of the log-mel;
- ``learned``: the 256-d embedding of ``SoundEncoder`` (SoundNet's role).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, get_args

import librosa
import numpy as np
import scipy.fft
import torch
from torch import Tensor, nn

from facegan.audio.encoder import EncoderConfig, SoundEncoder
from facegan.audio.io import SAMPLE_RATE

FeatureKind = Literal["spectrogram", "logmel", "mfcc", "learned"]
FEATURE_KINDS: tuple[str, ...] = get_args(FeatureKind)
N_FFT = 512
HOP = 320  # 20 ms: 201 frames per 4 s window
N_MELS = 64
FMIN, FMAX = 50.0, 7600.0
N_MFCC = 20
AMIN = 1e-10  # -100 dB floor


@dataclass
class Analysis:
    """What every feature type is computed from; gain-shifting it is exact (``shift``)."""

    logmel: np.ndarray  # [N_MELS, frames] dB
    logspec: np.ndarray  # [N_FFT // 2 + 1] dB, time-averaged

    def shift(self, db: float) -> Analysis:
        """The analysis of the same window played ``db`` dB louder."""
        return Analysis(self.logmel + db, self.logspec + db)


def analyse(window: np.ndarray) -> Analysis:
    """Log-mel and mean log-spectrum (dB, reference 1.0) of a 16 kHz window."""
    power = np.abs(librosa.stft(window, n_fft=N_FFT, hop_length=HOP)) ** 2
    mel = librosa.feature.melspectrogram(S=power, sr=SAMPLE_RATE, n_mels=N_MELS, fmin=FMIN, fmax=FMAX)
    logmel = librosa.power_to_db(mel, ref=1.0, amin=AMIN, top_db=None)
    logspec = librosa.power_to_db(power, ref=1.0, amin=AMIN, top_db=None).mean(axis=1)
    return Analysis(logmel.astype(np.float32), logspec.astype(np.float32))


def level_db(logmel: Tensor) -> Tensor:
    """Clip level in dB: mean over frames of the summed mel power; a gain g adds 20 log10 g."""
    return 10 * torch.log10((10 ** (logmel.double() / 10)).sum(dim=1).mean(dim=1)).float()


def content_dim(kind: str, encoder: EncoderConfig) -> int:
    """Length of a feature type's content part (``s`` adds the level)."""
    return {"spectrogram": N_FFT // 2 + 1, "logmel": N_MELS, "mfcc": N_MFCC, "learned": encoder.embed_dim}[kind]


@dataclass
class FeaturizerConfig:
    kind: str = "learned"
    encoder: EncoderConfig = field(default_factory=EncoderConfig)

    def __post_init__(self) -> None:
        if isinstance(self.encoder, dict):
            self.encoder = EncoderConfig(**self.encoder)
        if self.kind not in FEATURE_KINDS:
            raise ValueError(f"unknown feature type {self.kind!r}; choose from {FEATURE_KINDS}")

    @property
    def dim(self) -> int:
        """Length of ``s``: the content features plus one level component."""
        return content_dim(self.kind, self.encoder) + 1


class SoundFeaturizer(nn.Module):
    """Analysis -> standardised sound vector ``s``; also holds the sound classifier for the app's label.

    ``mean``/``std`` are fitted once on the training clips at unit gain (``fit``) and saved with the
    generator, so inference reproduces training exactly.
    """

    def __init__(self, config: FeaturizerConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = SoundEncoder(config.encoder)
        self.encoder.requires_grad_(False)
        self.register_buffer("mean", torch.zeros(config.dim))
        self.register_buffer("std", torch.ones(config.dim))
        dct = scipy.fft.dct(np.eye(N_MELS), type=2, norm="ortho", axis=0)[:N_MFCC]
        self.register_buffer("dct", torch.from_numpy(dct).float(), persistent=False)

    def raw(self, logmel: Tensor, logspec: Tensor, embedding: Tensor | None = None) -> Tensor:
        """Unstandardised [content, level] for a batch: logmel [B, 64, T], logspec [B, 257]; ``embedding``:
        the encoder's, when the caller has it already."""
        kind = self.config.kind
        if kind == "spectrogram":
            content = logspec
        elif kind == "logmel":
            content = logmel.mean(dim=2)
        elif kind == "mfcc":
            content = torch.einsum("cm,bmt->bct", self.dct, logmel).mean(dim=2)
        else:
            content = self.encoder.embed(logmel) if embedding is None else embedding
        return torch.cat([content.float(), level_db(logmel)[:, None]], dim=1)

    def fit(self, logmel: Tensor, logspec: Tensor) -> None:
        """Set the standardisation from training clips at unit gain."""
        values = self.raw(logmel, logspec)
        self.mean.copy_(values.mean(dim=0))
        self.std.copy_(values.std(dim=0).clamp_min(1e-3))

    def forward(self, logmel: Tensor, logspec: Tensor, embedding: Tensor | None = None) -> Tensor:
        return (self.raw(logmel, logspec, embedding) - self.mean) / self.std
