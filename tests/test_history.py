"""Stacked edits, undo/redo and recipes (facegan/history.py)."""

from __future__ import annotations

import pytest

from facegan.errors import UserError
from facegan.history import EditHistory, Recipe


def test_undo_redo_and_a_new_edit_dropping_the_redo_tail():
    history = EditHistory().push({"a": 1}).push({"b": 2}).push({"c": 3})
    assert history.applied == 3 and not history.can_redo
    back = history.undo().undo()
    assert back.active == ({"a": 1},) and back.can_redo and back.redo().active == ({"a": 1}, {"b": 2})
    branched = back.push({"d": 4})
    assert branched.active == ({"a": 1}, {"d": 4}) and not branched.can_redo
    with pytest.raises(UserError, match="no edit to undo"):
        EditHistory().undo()
    with pytest.raises(UserError, match="no edit to redo"):
        history.redo()


def test_recipe_round_trips_and_refuses_other_tabs_weights_and_photos():
    recipe = Recipe("attribute_transfer", {"attrgan": "ab" * 32}, "cd" * 32, ({"hair": "Blond"},))
    loaded = Recipe.from_json(recipe.to_json())
    assert loaded == recipe
    loaded.check("attribute_transfer", {"attrgan": "ab" * 32}, "cd" * 32)
    with pytest.raises(UserError, match="for the attribute_transfer tab"):
        loaded.check("genegan", {"attrgan": "ab" * 32}, "cd" * 32)
    with pytest.raises(UserError, match="other model weights"):
        loaded.check("attribute_transfer", {"attrgan": "00" * 32}, "cd" * 32)
    with pytest.raises(UserError, match="another photo"):
        loaded.check("attribute_transfer", {"attrgan": "ab" * 32}, "ef" * 32)
    for text in ("not json", '{"format": "other"}', '{"format": "facegan-studio-recipe/1"}'):
        with pytest.raises(UserError):
            Recipe.from_json(text)


def test_a_history_hashes_by_content_as_gradio_needs_to_see_a_state_change():
    from gradio.utils import deep_hash

    history = EditHistory(photo_sha256="ab" * 32).push({"hair": "Blond", "faces": [0, 1]})
    same = EditHistory(photo_sha256="ab" * 32).push({"faces": [0, 1], "hair": "Blond"})
    assert hash(history) == hash(same) and deep_hash(history) == deep_hash(same)
    assert deep_hash(history.undo()) != deep_hash(history) != deep_hash(EditHistory().push(dict(history.steps[0])))


def test_file_sha256_follows_a_rewritten_file(tmp_path):
    import hashlib
    import os

    from facegan.history import file_sha256

    path = tmp_path / "photo.jpg"
    path.write_bytes(b"first")
    assert file_sha256(path) == hashlib.sha256(b"first").hexdigest() == file_sha256(str(path))
    path.write_bytes(b"second")
    os.utime(path, ns=(1, 1))  # another version even where the clock would give the same mtime
    assert file_sha256(path) == hashlib.sha256(b"second").hexdigest()
