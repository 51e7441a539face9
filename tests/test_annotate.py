"""The CelebA annotation cache: correct rows, and an interrupted run resumes instead of restarting."""

from __future__ import annotations

import numpy as np
import pytest

from facegan.data import annotate as annotate_module
from facegan.data.annotate import CelebAAnnotations, annotate, load_annotations
from facegan.errors import UserError
from tests.faces_helpers import celeba_dir


def test_annotate_writes_rows_and_resumes(tmp_path, monkeypatch):
    root = celeba_dir().parent.parent
    out = tmp_path / "ann.npz"
    first = annotate(root, out, limit=4)
    assert len(first.names) == 4 and first.found.all()
    aus = first.aus()
    assert first.points68.shape == (4, 68, 2) and aus.shape == (4, 17)
    assert len(first.blendshape_names) == 52 and (aus >= 0).all() and (aus <= 5).all()
    assert ((first.points68 > 0) & (first.points68 < 128)).mean() > 0.95

    seen = []
    original = annotate_module.detect_faces
    monkeypatch.setattr(annotate_module, "detect_faces", lambda rgb: seen.append(1) or original(rgb))
    second = annotate(root, out, limit=6)
    assert len(seen) == 2  # only the two new images were processed
    assert list(second.names[:4]) == list(first.names)
    np.testing.assert_array_equal(load_annotations(out).points68[:4], first.points68)
    assert set(load_annotations(out).index()) == set(second.names)


def test_missing_cache_says_which_command_creates_it(tmp_path):
    with pytest.raises(UserError, match="python -m facegan.data.annotate"):
        load_annotations(tmp_path / "none.npz")


def test_save_is_atomic_and_roundtrips(tmp_path):
    table = CelebAAnnotations.empty()
    table.save(tmp_path / "a.npz")
    assert len(CelebAAnnotations.load(tmp_path / "a.npz").names) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["a.npz"]
