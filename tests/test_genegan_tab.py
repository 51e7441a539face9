"""The GeneGAN tab's handlers, layout and API names, on tiny untrained checkpoints."""

from __future__ import annotations

import json
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
from PIL import Image

from facegan.pipelines import GeneGAN, attribute_judge
from facegan.ui import genegan as tab
from tests.faces_helpers import eval_tools_into
from tests.test_genegan import tiny_checkpoint

ASTRONAUT, HOPPER = tab.ASTRONAUT, tab.HOPPER


@pytest.fixture(autouse=True)
def tiny_models(tmp_path, monkeypatch):
    tiny_checkpoint(tmp_path, "Smiling")
    tiny_checkpoint(tmp_path, "Bangs")
    monkeypatch.setenv("FACEGAN_CHECKPOINTS", str(tmp_path))
    tab.pipeline.cache_clear()
    yield
    tab.pipeline.cache_clear()


def test_swap_remove_and_transplant_paste_into_the_full_photos():
    to_a, to_b = tab.swap("Smiling", ASTRONAUT, HOPPER)
    assert to_a.shape == (512, 512, 3) and to_b.shape == (600, 512, 3) and to_a.dtype == np.uint8
    removed_a, removed_b, _ = tab.remove("Bangs", ASTRONAUT, None)
    assert removed_a.shape == (512, 512, 3) and removed_b is None
    assert tab.remove("Bangs", ASTRONAUT, HOPPER)[1].shape == (600, 512, 3)
    cleared, transplanted, _ = tab.transplant("Smiling", ASTRONAUT, HOPPER, 0.5)
    assert cleared is None and transplanted.shape == (600, 512, 3)


def test_each_result_gets_a_readout_after_it_is_shown(tmp_path):
    eval_tools_into(tmp_path)  # the shipped judge beside the tiny generators
    attribute_judge.cache_clear()
    *photos, last = tab.swap_shown("Smiling", ASTRONAUT, HOPPER)
    assert [p.shape for p in photos] == [(512, 512, 3), (600, 512, 3)]
    table_a, map_a, table_b, map_b = tab.show_readouts(last)
    assert "| Smiling |" in table_a and "asked for" in table_b and map_a.shape == map_b.shape == (256, 256, 3)
    cleared, transplanted, last = tab.transplant("Bangs", ASTRONAUT, HOPPER, 1.0)
    assert cleared is None and tab.show_readouts(last)[:2] == ("", None)  # no result for A: no readout
    photo_a, photo_b, reports = tab.swap_with_readout("Smiling", ASTRONAUT, HOPPER)
    assert set(reports) == {"a", "b"} and reports["b"]["attributes"]["Smiling"]["requested"]
    assert "Male" in reports["a"]["attributes"] and reports["a"]["identity"]["distance"] >= 0
    attribute_judge.cache_clear()


def test_all_faces_removes_from_and_transplants_to_every_face_of_a_group_photo():
    from facegan.faces import prepare_all_faces
    from facegan.ui.attribute_transfer import GROUP_PHOTO

    faces = prepare_all_faces(GROUP_PHOTO)
    x, y = np.asarray(faces[1].face.points68).mean(axis=0).astype(int)
    second_face = np.s_[y - 20 : y + 20, x - 20 : x + 20]
    original = faces[1].photo[second_face]
    one, _, _ = tab.remove("Smiling", GROUP_PHOTO, None)
    every, _, last = tab.remove("Smiling", GROUP_PHOTO, None, True)
    assert np.array_equal(one[second_face], original) and not np.array_equal(every[second_face], original)
    assert last[1][0][0].shape == faces[0].aligned.crop.shape  # the readout compares the first face
    _, onto_all, _ = tab.transplant("Smiling", ASTRONAUT, GROUP_PHOTO, 1.0, True)
    assert not np.array_equal(onto_all[second_face], original)


def test_thumbnails_number_the_faces_and_a_face_index_picks_one():
    from facegan.ui.attribute_transfer import GROUP_PHOTO

    thumbnails, index = tab.list_faces(GROUP_PHOTO)
    assert [label for _, label in thumbnails] == ["0", "1"] and index == 0 and tab.list_faces(None) == (None, 0)
    assert tab.pick_face(gr.SelectData(None, {"index": 1, "value": None})) == 1
    largest, _, first = tab.remove("Smiling", GROUP_PHOTO, None, False, 0)
    second, _, last = tab.remove("Smiling", GROUP_PHOTO, None, False, 1)
    assert not np.array_equal(largest, second)
    assert np.array_equal(first[1][0][0], thumbnails[0][0])  # face 0 is thumbnail 0
    assert np.array_equal(last[1][0][0], thumbnails[1][0])  # the readout compares the face picked
    _, onto_second, _ = tab.transplant("Smiling", ASTRONAUT, GROUP_PHOTO, 1.0, False, 0, 1)
    assert not np.array_equal(onto_second, tab.transplant("Smiling", ASTRONAUT, GROUP_PHOTO, 1.0)[1])
    with pytest.raises(gr.Error, match="face"):
        tab.swap_shown("Smiling", GROUP_PHOTO, HOPPER, 5, 0)


def test_grid_is_one_image_of_the_chosen_size():
    grid = tab.grid("Smiling", HOPPER, ASTRONAUT, HOPPER, HOPPER, ASTRONAUT, 4)
    assert grid.shape == (4 * GeneGAN.GRID_CELL, 4 * GeneGAN.GRID_CELL, 3)


def test_bad_inputs_are_messages_not_stack_traces(tmp_path):
    blank = tmp_path / "blank.png"
    Image.new("RGB", (200, 200), (40, 120, 200)).save(blank)
    not_image = tmp_path / "notes.png"
    not_image.write_text("hello")
    with pytest.raises(gr.Error, match="Upload a photo for face B"):
        tab.swap("Smiling", ASTRONAUT, None)
    with pytest.raises(gr.Error, match="Choose an attribute"):
        tab.swap(None, ASTRONAUT, HOPPER)
    with pytest.raises(gr.Error, match="No face was found"):
        tab.swap("Smiling", str(blank), HOPPER)
    with pytest.raises(gr.Error, match="could not be read"):
        tab.remove("Smiling", str(not_image), None)
    with pytest.raises(gr.Error, match="genegan_eyeglasses"):
        tab.remove("Eyeglasses", ASTRONAUT, None)
    with pytest.raises(gr.Error, match="reference 3"):
        tab.grid("Smiling", HOPPER, ASTRONAUT, HOPPER, None, ASTRONAUT, 4)
    with pytest.raises(gr.Error, match="grid size"):
        tab.grid("Smiling", HOPPER, ASTRONAUT, HOPPER, HOPPER, ASTRONAUT, 12)
    with pytest.raises(gr.Error, match="strength"):
        tab.transplant("Smiling", ASTRONAUT, HOPPER, 3.0)
    with pytest.raises(gr.Error, match="strength must be a finite number"):
        tab.transplant("Smiling", ASTRONAUT, HOPPER, float("nan"))
    with pytest.raises(gr.Error, match="grid size must be a finite number"):
        tab.grid("Smiling", HOPPER, ASTRONAUT, HOPPER, HOPPER, ASTRONAUT, float("nan"))


def test_tab_offers_the_trained_attributes_and_named_api_endpoints():
    with gr.Blocks() as demo:
        tab.build_tab()
    dropdowns = [block for block in demo.blocks.values() if isinstance(block, gr.Dropdown)]
    assert [choice[0] for choice in dropdowns[0].choices] == ["Bangs", "Smiling"]
    api_names = {dep.api_name for dep in demo.fns.values()}
    assert {"genegan_swap", "genegan_grid"} <= api_names


def test_stacked_edits_on_face_b_undo_redo_and_a_recipe_that_reproduces_the_photo_exactly(tmp_path):
    import shutil

    edits = tab.STACKED_EDITS
    face_a, face_b = str(tmp_path / "astronaut.jpg"), str(tmp_path / "hopper.jpg")
    shutil.copy(ASTRONAUT, face_a)
    shutil.copy(HOPPER, face_b)
    first, history, _ = edits.stack(face_b, None, face_a, "transplant", "Smiling", 1.0, False)
    second, history, note = edits.stack(face_b, history, face_a, "remove", "Bangs", 1.0, False)
    assert history.applied == 2 and "2 stacked" in note and not np.array_equal(first, second)
    assert history.active[1] == {"operation": "remove", "attribute": "Bangs", "all_faces": False, "face": 0}
    assert np.array_equal(first, tab.transplant("Smiling", face_a, face_b, 1.0, False, 0, 0)[1])  # the button's
    undone, history, _ = edits.undo(face_b, history, face_a)
    assert np.array_equal(undone, first)
    redone, history, _ = edits.redo(face_b, history, face_a)
    assert np.array_equal(redone, second)
    recipe = edits.save_recipe(face_b, history)
    assert sorted(json.loads(Path(recipe).read_text())["checkpoints"]) == ["genegan_bangs", "genegan_smiling"]
    replayed, loaded, _ = edits.load_recipe(face_b, recipe, face_a)
    assert np.array_equal(replayed, second) and loaded.active == history.active  # bit for bit
    with pytest.raises(gr.Error, match="Step 1 took its attribute from another face A"):
        edits.load_recipe(face_b, recipe, face_b)
    with pytest.raises(gr.Error, match="Upload face A first"):
        edits.stack(face_b, None, None, "transplant", "Smiling", 1.0, False)
    with pytest.raises(gr.Error, match="no GeneGAN checkpoint"):
        edits.stack(face_b, None, face_a, "remove", "Mustache", 1.0, False)
