"""A tiny, randomly initialised sound-to-scene checkpoint (tests never use the shipped ones)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch

from facegan.audio.data import SOUND_CLASSES
from facegan.audio.encoder import EncoderConfig
from facegan.audio.features import FeaturizerConfig, SoundFeaturizer
from facegan.models.audiogan import AudioGANConfig, Discriminator, Generator
from facegan.train.checkpoint import export_checkpoint

TINY_FEATURES = FeaturizerConfig("learned", EncoderConfig(width=4, embed_dim=8))


def lively(module: torch.nn.Module) -> torch.nn.Module:
    """Larger random conv weights: DCGAN's N(0, 0.02) init makes an untrained G's images nearly constant."""
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, torch.nn.ConvTranspose2d):
                m.weight.normal_(0.0, 0.5)
    return module


def tiny_model(features: FeaturizerConfig = TINY_FEATURES, **overrides) -> AudioGANConfig:
    return AudioGANConfig(cond_dim=features.dim, g_width=4, d_width=4, **overrides)


def tiny_audiogan_checkpoint(
    directory: Path, name: str = "audiogan", with_critic: bool = True, **model_overrides
) -> Path:
    """``model_overrides`` go to ``AudioGANConfig`` (e.g. ``camera_zoom=True``); every sound class's
    reference level is 0 dB, as the eval's volume rows read them. ``with_critic``: ship D, as training
    does now (the Table 4 rungs were exported without it)."""
    torch.manual_seed(0)
    model = tiny_model(**model_overrides)
    record = {
        "config": {
            "model": dataclasses.asdict(model), "features": dataclasses.asdict(TINY_FEATURES), "zoom_exponent": 0.5,
            "reference_level_db": dict.fromkeys(SOUND_CLASSES, 0.0),
        },
        "steps": 0, "wall_time_s": 0.0,
    }  # fmt: skip
    modules = {"G": lively(Generator(model)), "features": SoundFeaturizer(TINY_FEATURES)}
    if with_critic:
        modules["D"] = Discriminator(model)
    return export_checkpoint(name, modules, record, directory)
