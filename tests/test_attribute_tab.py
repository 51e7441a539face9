"""The attribute-transfer tab's handlers and API endpoint, on a tiny untrained checkpoint."""

from __future__ import annotations

import gradio as gr
import numpy as np
import pytest

from facegan.errors import UserError
from facegan.paths import UI_EXAMPLES_DIR
from facegan.pipelines import attribute_judge
from facegan.ui import attribute_transfer as tab
from tests.faces_helpers import eval_tools_into
from tests.test_attrgan import tiny_checkpoint

ASTRONAUT = str(UI_EXAMPLES_DIR / "astronaut.jpg")


@pytest.fixture(autouse=True)
def tiny_model(tmp_path, monkeypatch):
    tiny_checkpoint(tmp_path)
    monkeypatch.setenv("FACEGAN_CHECKPOINTS", str(tmp_path))
    tab.pipeline.cache_clear()
    tab.all_faces.cache_clear()
    yield
    tab.pipeline.cache_clear()


def test_upload_then_transfer_gives_all_views():
    aligned, heatmap, hair, checked, thumbnails = tab.analyse(ASTRONAUT, 0)
    assert aligned.shape[:2] == (256, 256) and heatmap.shape == (256, 256)
    assert hair in tab.HAIR_CHOICES and set(checked) <= set(tab.other_attributes())
    assert [label for _, label in thumbnails] == ["0"]
    output, attention, side, photo, last = tab.transfer(ASTRONAUT, 0, False, "Blond", ["Smiling"])
    assert output.shape == (256, 256, 3) and attention.shape == (256, 256) and side.shape == (256, 256)
    assert photo.shape == (512, 512, 3)
    ((before, after, requested),) = last
    assert before.shape == after.shape and "Blond_Hair" in requested


def test_transfer_clicked_before_the_upload_analysis_still_edits_that_photo():
    """A fast click can overtake the upload handler; the edit must come from the photo on screen."""
    output, _attention, _side, photo, _last = tab.transfer(ASTRONAUT, 0, False, "Black", [])
    assert output.shape == (256, 256, 3) and photo.shape == (512, 512, 3)
    assert tab.all_faces.cache_info().currsize == 1


def test_api_returns_the_full_photo():
    photo = tab.edit_photo(ASTRONAUT, "Brown", ["Eyeglasses"], 0)
    assert photo.shape == (512, 512, 3) and photo.dtype == np.uint8


def test_the_readout_follows_the_edit_and_the_api_returns_it_as_json(tmp_path):
    eval_tools_into(tmp_path)  # the shipped judge beside the tiny generator
    attribute_judge.cache_clear()
    *_, last = tab.transfer(ASTRONAUT, 0, False, "Blond", ["Eyeglasses"])
    table, change_map, report = tab.show_readout(last)
    assert "Identity" in table and "| Eyeglasses |" in table and change_map.shape == (256, 256, 3)
    assert set(report["attributes"]) == set(tab.pipeline().attributes)
    assert report["attributes"]["Blond_Hair"]["requested"] and 0 <= report["attributes"]["Male"]["after"] <= 1
    assert tab.show_readout(None) == (gr.update(), gr.update(), gr.update())  # no edit yet: nothing to show
    photo, api_report = tab.edit_photo_with_readout(ASTRONAUT, "Blond", ["Eyeglasses"], 0)
    (face_report,) = api_report["faces"]
    assert photo.shape == (512, 512, 3) and face_report["attributes"].keys() == report["attributes"].keys()
    assert face_report["identity"]["threshold"] == 0.6 and face_report["identity"]["distance"] >= 0
    attribute_judge.cache_clear()


def test_all_faces_of_the_group_photo_are_found_edited_and_pasted_back(tmp_path):
    eval_tools_into(tmp_path)
    attribute_judge.cache_clear()
    group = tab.GROUP_PHOTO
    *_, thumbnails = tab.analyse(group, 1)
    assert [label for _, label in thumbnails] == ["0", "1"]  # the astronaut and Grace Hopper
    one = tab.edit_photo(group, "Blond", ["Smiling"], 0)
    both = tab.edit_photo(group, "Blond", ["Smiling"], 0, True)
    faces = tab.all_faces(group)
    x, y = np.asarray(faces[1].face.points68).mean(axis=0).astype(int)
    window = np.s_[y - 20 : y + 20, x - 20 : x + 20]
    assert np.array_equal(one[window], faces[1].photo[window])  # one face edited: the other untouched
    assert not np.array_equal(both[window], faces[1].photo[window])
    *_, last = tab.transfer(group, 0, True, "Blond", ["Smiling"])
    table, maps, report = tab.show_readout(last)
    assert "**Face 0**" in table and "**Face 1**" in table and len(report["faces"]) == 2
    assert maps.shape[1] == 2 * maps.shape[0]  # the two change maps side by side
    attribute_judge.cache_clear()


def test_a_click_on_a_thumbnail_picks_that_face():
    assert tab.pick_face(gr.SelectData(None, {"index": 1, "value": None})) == 1


def test_stacked_edits_undo_redo_and_a_recipe_that_reproduces_the_photo_exactly(tmp_path):
    import shutil

    edits = tab.STACKED_EDITS
    photo = str(tmp_path / "hopper.jpg")
    shutil.copy(UI_EXAMPLES_DIR / "grace_hopper.jpg", photo)
    first, history, _ = edits.stack(photo, None, 0, False, "Other", ["Smiling"])
    second, history, _ = edits.stack(photo, history, 0, False, "Other", ["Smiling", "Eyeglasses"])
    final, history, note = edits.stack(photo, history, 0, False, "Blond", ["Smiling", "Eyeglasses"])
    assert history.applied == 3 and "3 stacked" in note and not np.array_equal(final, second)
    undone, history, note = edits.undo(photo, history)
    assert np.array_equal(undone, second) and "1 to redo" in note
    redone, history, _ = edits.redo(photo, history)
    assert np.array_equal(redone, final)
    recipe = edits.save_recipe(photo, history)
    replayed, loaded, _ = edits.load_recipe(photo, recipe)
    assert np.array_equal(replayed, final) and loaded.active == history.active  # bit for bit
    other = str(tmp_path / "astronaut.jpg")
    shutil.copy(ASTRONAUT, other)
    with pytest.raises(gr.Error, match="another photo"):
        edits.load_recipe(other, recipe)
    with pytest.raises(gr.Error, match="Stack edit first"):
        edits.save_recipe(photo, None)
    for broken in ({"hair": "Blond"}, {"hair": "Purple", "attributes": [], "face_index": 0, "all_faces": False}):
        with pytest.raises(UserError, match="recipe"):
            tab.checked_step(broken)


def test_bad_inputs_are_messages_not_stack_traces(tmp_path):
    blank = tmp_path / "blank.png"
    from PIL import Image

    Image.new("RGB", (200, 200), (40, 120, 200)).save(blank)
    with pytest.raises(gr.Error, match="No face was found"):
        tab.analyse(str(blank), 0)
    with pytest.raises(gr.Error, match="has 1 face"):
        tab.analyse(ASTRONAUT, 3)
    with pytest.raises(gr.Error, match="Upload a photo"):
        tab.transfer(None, 0, False, "Blond", [])
    not_image = tmp_path / "notes.png"
    not_image.write_text("hello")
    with pytest.raises(gr.Error, match="could not be read"):
        tab.edit_photo(str(not_image), "Blond", [], 0)
    for index in (float("nan"), "abc", 1.5):
        with pytest.raises(gr.Error, match="face index"):
            tab.edit_photo(ASTRONAUT, "Blond", [], index)


def test_controls_map_to_exclusive_hair_targets():
    targets = tab.targets_from_controls("Blond", ["Smiling"])
    assert targets["Blond_Hair"] and not targets["Black_Hair"] and not targets["Brown_Hair"]
    assert targets["Smiling"] and not targets["Male"]
    assert not any(tab.targets_from_controls(tab.OTHER_HAIR, [])[c] for c in ("Black_Hair", "Blond_Hair"))
