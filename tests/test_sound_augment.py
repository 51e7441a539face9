"""The sound classifier's augmentations and its per-class held-out report."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from facegan.audio.augment import AugmentConfig, augment, mask_bands, mix_power_db, random_equaliser, stretch_bands
from facegan.audio.data import SOUND_CLASSES, ClipCache, ClipInfo, freesound_id
from facegan.audio.encoder import EncoderConfig, SoundEncoder
from facegan.eval.sound_classifier_metrics import held_out_report, per_recording


def test_mixing_adds_power_not_decibels() -> None:
    loud = torch.full((4, 6), 60.0)
    assert mix_power_db(loud, loud, 0.0) == pytest.approx(torch.full((4, 6), 60 + 10 * np.log10(2)))
    quiet_background = mix_power_db(loud, loud, -40.0)  # 40 dB under: barely changes the clip
    assert (quiet_background - loud).abs().max() < 0.001


def test_masks_set_stripes_to_the_clip_floor() -> None:
    logmel = torch.arange(64 * 50, dtype=torch.float32).reshape(64, 50)
    generator = torch.Generator().manual_seed(0)
    masked = mask_bands(logmel, 0, masks=2, width=8, generator=generator)
    changed_rows = (masked != logmel).any(dim=1).nonzero().flatten()
    assert 0 < len(changed_rows) <= 16 and (masked[changed_rows] == logmel.min()).all()
    assert torch.equal(mask_bands(logmel, 1, masks=3, width=0, generator=generator), logmel)


def test_augment_is_random_but_reproducible_and_keeps_the_shape() -> None:
    clip, background = torch.randn(64, 201) * 10 - 40, torch.randn(64, 201) * 10 - 40
    config = AugmentConfig()
    first = augment(clip, background, config, torch.Generator().manual_seed(1))
    again = augment(clip, background, config, torch.Generator().manual_seed(1))
    other = augment(clip, background, config, torch.Generator().manual_seed(2))
    assert first.shape == clip.shape and torch.equal(first, again) and not torch.equal(first, other)
    plain = AugmentConfig(background_prob=0.0, freq_masks=0, time_masks=0, gain_db=(3.0, 3.0))
    shifted = augment(clip, background, plain, torch.Generator().manual_seed(3))
    # only a circular time shift and +3 dB: the frames are the clip's own, in some rotation
    assert any(torch.allclose(shifted, torch.roll(clip, k, dims=1) + 3) for k in range(clip.shape[1]))


def test_held_out_report_counts_per_class_and_the_confusion_matrix() -> None:
    torch.manual_seed(0)
    encoder = SoundEncoder(EncoderConfig(width=4, num_classes=len(SOUND_CLASSES))).eval()
    clips = [ClipInfo(f"us8k-{i}-0-0-0.ogg", label, "UrbanSound8K", "3") for i, label in enumerate(SOUND_CLASSES * 2)]
    cache = ClipCache(clips, np.random.default_rng(0).normal(-40, 10, (len(clips), 64, 40)).astype(np.float32),
                      np.zeros((len(clips), 257), np.float32))  # fmt: skip
    report = held_out_report(encoder, cache)
    confusion = np.array(report["confusion"]["rows_truth_columns_predicted"])
    assert confusion.sum() == len(clips) and (confusion.sum(axis=1) == 2).all()
    assert report["sound_class_accuracy"] == pytest.approx(np.trace(confusion) / len(clips), abs=1e-4)  # rounded
    assert report["mean_class_accuracy"] == pytest.approx(np.mean(np.diag(confusion) / 2), abs=1e-4)
    assert report["recordings"] == len(clips)  # every clip its own recording here


def test_clips_of_one_recording_are_read_together() -> None:
    assert freesound_id("us8k-144068-5-0-12.ogg") == 144068 and freesound_id("esc10-4-182613-B.ogg") == 182613
    names = ["us8k-7-5-0-0.ogg", "us8k-7-5-0-1.ogg", "us8k-7-5-1-0.ogg", "us8k-9-5-0-0.ogg", "esc10-4-7-A.ogg"]
    labels = ["engine_idling"] * 4 + ["rain"]
    cache = ClipCache([ClipInfo(n, label, "", "") for n, label in zip(names, labels)], np.zeros(0), np.zeros(0))
    guesses = ["jackhammer", "jackhammer", "engine_idling", "engine_idling", "rain"]
    report = per_recording(cache, np.arange(5), np.array([SOUND_CLASSES.index(g) for g in guesses]))
    assert [(r["label"], r["freesound_id"], r["clips"]) for r in report] == [
        ("engine_idling", 7, 3), ("engine_idling", 9, 1), ("rain", 7, 1)
    ]  # the same freesound id in another class is another recording
    assert report[0]["accuracy"] == pytest.approx(1 / 3, abs=1e-4) and report[0]["mostly_predicted"] == "jackhammer"


def test_equaliser_and_pitch_stretch_stay_within_their_bounds() -> None:
    generator = torch.Generator().manual_seed(0)
    curve = random_equaliser(64, 6.0, generator)
    assert curve.shape == (64, 1) and float(curve.abs().max()) <= 6.0 and float(curve.std()) > 0
    ramp = torch.arange(64.0)[:, None].expand(64, 10)
    assert torch.equal(stretch_bands(ramp, 1.0), ramp)
    stretched = stretch_bands(ramp, 1.1)
    assert float(stretched[10, 0]) == pytest.approx(11.0) and float(stretched[-1, 0]) == 63.0
