"""The quality readout (facegan.quality): leaks, identity verdict, change map, JSON."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from facegan.models.judge import AttributeJudge, JudgeConfig
from facegan.quality import LEAK_THRESHOLD, EditReadout, change_heat_map, edit_readout


def _readout(before: dict[str, float], after: dict[str, float], requested: tuple[str, ...], distance=0.3):
    return EditReadout(distance, 0.6, before, after, requested, np.zeros((4, 4, 3), np.uint8))


def test_only_unrequested_attributes_that_moved_are_leaks():
    report = _readout(
        {"Eyeglasses": 0.1, "Male": 0.2, "Young": 0.8},
        {"Eyeglasses": 0.9, "Male": 0.2 + LEAK_THRESHOLD + 0.01, "Young": 0.8 - LEAK_THRESHOLD + 0.01},
        ("Eyeglasses",),
    )
    assert report.leaks == ["Male"] and report.same_person
    table = report.markdown()
    assert "| Male | 20% | 46% | **leak** |" in table and "| Eyeglasses | 10% | 90% | asked for |" in table
    assert report.as_json()["leaks"] == ["Male"] and report.as_json()["identity"]["same_person"] is True
    assert _readout({}, {}, (), distance=0.7).same_person is False
    assert "not the same person" in _readout({}, {}, (), distance=0.7).markdown()


def test_change_map_is_dark_where_nothing_changed_and_bright_where_it_did():
    before = np.full((8, 8, 3), 100, np.uint8)
    after = before.copy()
    after[:4] = 250
    heat = change_heat_map(before, after)
    assert heat.shape == (8, 8, 3) and heat.dtype == np.uint8
    assert heat[6:].max() < 10 and heat[:4].mean() > 150


def test_readout_without_dlib_says_how_to_get_the_identity_check():
    torch.manual_seed(0)
    judge = AttributeJudge(JudgeConfig(width=4, stages=2)).eval()
    crop = np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    report = edit_readout(crop, crop, judge, ["Smiling", "Male"], ["Smiling"], identity=None)
    assert report.identity_distance is None and report.same_person is None and "dlib" in report.notes[0]
    assert report.attributes_before == report.attributes_after and report.leaks == []
    assert "Identity check unavailable" in report.markdown()
    no_judge = edit_readout(crop, crop, None, ["Smiling"], [], identity=None)
    assert no_judge.attributes_before == {} and "judge is not trained" in no_judge.markdown()
    with pytest.raises(ValueError, match="differ in size"):
        edit_readout(crop, crop[:32], judge, ["Smiling"], [], identity=None)


def test_identity_distance_of_a_crop_with_itself_is_zero():
    from facegan.quality import identity_model
    from tests.faces_helpers import celeba_rgb

    pytest.importorskip("dlib")
    judge = AttributeJudge(JudgeConfig(width=4, stages=2)).eval()
    crop = celeba_rgb()
    report = edit_readout(crop, crop, judge, ["Smiling"], [], identity=identity_model())
    assert report.identity_distance == pytest.approx(0.0, abs=1e-5) and report.same_person
