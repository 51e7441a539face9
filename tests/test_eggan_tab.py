"""The AU editing tab's handlers, layout and API name, on a tiny untrained checkpoint."""

from __future__ import annotations

import gradio as gr
import imageio.v2 as imageio
import numpy as np
import pytest
from PIL import Image

from facegan.errors import UserError
from facegan.faces.aus import EDITABLE_ACTION_UNITS, EDITABLE_AU_NUMBERS, editable_part, preset_aus
from facegan.pipelines import attribute_judge
from facegan.ui import au_editing as tab
from tests.faces_helpers import eval_tools_into
from tests.test_eggan import tiny_checkpoint

ASTRONAUT, HOPPER = tab.EXAMPLES


@pytest.fixture(autouse=True)
def tiny_model(tmp_path, monkeypatch):
    tiny_checkpoint(tmp_path)
    monkeypatch.setenv("FACEGAN_CHECKPOINTS", str(tmp_path))
    tab.pipeline.cache_clear()
    yield
    tab.pipeline.cache_clear()


@pytest.fixture
def loaded():
    return tab.load_photo(ASTRONAUT, True)


def test_upload_sets_sliders_to_the_faces_own_aus(loaded):
    face, group, thumbnails, index, photo, crop, *sliders = loaded
    assert group == [face] and [label for _, label in thumbnails] == ["0"] and index == 0
    assert photo.shape == (512, 512, 3) and crop.shape == (256, 256, 3)
    assert len(sliders) == 16 and sliders == [round(float(v), 2) for v in editable_part(face.aus)]
    assert sliders[EDITABLE_AU_NUMBERS.index(12)] > 2  # the astronaut smiles: lip corner puller is up
    cleared = tab.load_photo(None, True)
    assert cleared[:6] == (None, None, None, 0, None, None)


def test_slider_moves_render_from_the_cached_encoding(loaded, monkeypatch):
    face = loaded[0]
    monkeypatch.setattr(tab.pipeline(), "encode", lambda *_: pytest.fail("a slider move must not re-encode"))
    for keep_detail in (True, False):
        neutral_photo, neutral_crop = tab.render_sliders(face, keep_detail, None, False, *[0.0] * 16)
        jaw_drop = [*[0.0] * 14, 5.0, 0.0]  # AU26
        open_photo, open_crop = tab.render_sliders(face, keep_detail, None, False, *jaw_drop)
        assert neutral_photo.shape == open_photo.shape == (512, 512, 3)
        assert not np.array_equal(neutral_crop, open_crop)
    with pytest.raises(gr.Error, match="Upload a photo"):
        tab.render_sliders(None, True, None, False, *[0.0] * 16)


def test_all_faces_of_a_group_photo_get_the_chosen_faces_change():
    face, group, thumbnails, *_ = tab.load_photo(tab.GROUP_PHOTO, True)
    assert len(group) == 2 and [label for _, label in thumbnails] == ["0", "1"]
    second, _, second_crop, *second_sliders = tab.choose_face(group, 1, True)
    assert second is group[1] and second_sliders == [round(float(v), 2) for v in editable_part(group[1].aus)]
    jaw_drop = [*editable_part(second.aus)[:14], 5.0, editable_part(second.aus)[15]]
    alone, alone_crop = tab.render_sliders(second, True, group, False, *jaw_drop)
    both, both_crop = tab.render_sliders(second, True, group, True, *jaw_drop)
    np.testing.assert_array_equal(alone_crop, both_crop)  # the chosen face's edit is the same either way
    left = group[0].prepared.face.box  # the other face: untouched alone, changed with All faces
    x0, y0, x1, y1 = (int(v) for v in left)
    region = (slice(y0, y1), slice(x0, x1))
    photo = group[0].prepared.photo
    assert np.array_equal(alone[region], photo[region]) and not np.array_equal(both[region], photo[region])
    with pytest.raises(gr.Error, match="face"):
        tab.choose_face(group, 5, True)


def test_a_released_slider_gets_a_readout_in_both_modes(loaded, tmp_path):
    eval_tools_into(tmp_path)  # the shipped judge beside the tiny generator
    attribute_judge.cache_clear()
    face = loaded[0]
    for keep_detail in (True, False):
        table, change_map = tab.show_readout(face, keep_detail, *[0.0] * 14, 5.0, 0.0)
        assert "Identity" in table and "| Smiling |" in table and "asked for" in table
        assert change_map.shape[2] == 3
    assert tab.show_readout(None, True, *[0.0] * 16) == (gr.update(), gr.update())
    happy, surprise = preset_aus("happy"), preset_aus("surprise")
    blended = tab.apply_alpha(face, happy, 0.5, True, surprise, 0.5)[2:]  # what the sliders will show
    assert tab.show_blend_readout(face, happy, 0.5, True, surprise, 0.5)[0] == tab.show_readout(face, True, *blended)[0]
    assert tab.show_blend_readout(None, happy, 0.5, True) == (gr.update(), gr.update())
    attribute_judge.cache_clear()


def test_alpha_interpolates_from_the_face_to_the_target(loaded):
    face = loaded[0]
    target = tab.target_from_preset("surprise")
    assert np.array_equal(target, preset_aus("surprise")) and tab.target_from_preset(None) is None
    start = tab.apply_alpha(face, target, 0.0, True)[2:]
    half = tab.apply_alpha(face, target, 0.5, True)[2:]
    end = tab.apply_alpha(face, target, 1.0, False)[2:]
    assert start == pytest.approx(np.round(editable_part(face.aus), 2), abs=0.01)
    assert end == pytest.approx(editable_part(target), abs=0.01)
    assert half == pytest.approx((np.asarray(start) + np.asarray(end)) / 2, abs=0.02)
    assert tab.apply_alpha(face, None, 0.7, True)[2:] == pytest.approx(start, abs=0.01)  # no target: own AUs
    photo_target = tab.target_from_photo(HOPPER)
    assert photo_target.shape == (17,) and tab.target_from_photo(None) is None


def test_2d_mode_blends_two_targets_bilinearly(loaded):
    face = loaded[0]
    happy, surprise = preset_aus("happy"), preset_aus("surprise")
    corner = tab.apply_alpha(face, happy, 1.0, True, surprise, 1.0)[2:]
    expected = np.clip(happy + surprise - face.aus, 0, 5)
    assert corner == pytest.approx(editable_part(expected), abs=0.01)
    only_beta = tab.apply_alpha(face, None, 0.8, True, surprise, 1.0)[2:]  # no first target: α does nothing
    assert only_beta == pytest.approx(editable_part(surprise), abs=0.01)
    quarter = tab.apply_alpha(face, happy, 0.5, True, surprise, 0.5)[2:]
    own = editable_part(face.aus)
    assert quarter == pytest.approx(
        np.clip(own + 0.5 * (editable_part(happy) - own) + 0.5 * (editable_part(surprise) - own), 0, 5), abs=0.01
    )
    with pytest.raises(gr.Error, match="β must be a finite number"):
        tab.apply_alpha(face, happy, 0.5, True, surprise, float("nan"))


def test_2d_blend_is_eq8_on_each_axis():
    from facegan.models.eggan import blend_aus_2d, interpolate_aus

    source, first, second = np.zeros(3), np.array([1.0, 2.0, 0.0]), np.array([0.0, 1.0, 4.0])
    assert np.allclose(blend_aus_2d(source, first, second, 0.3, 0.0), interpolate_aus(source, first, 0.3))
    assert np.allclose(blend_aus_2d(source, first, second, 0.0, 0.6), interpolate_aus(source, second, 0.6))
    assert np.allclose(blend_aus_2d(source, first, second, 1.0, 1.0), first + second - source)


@pytest.mark.parametrize("fmt", tab.FORMATS)
def test_export_writes_a_playable_animation_and_a_strip(loaded, fmt):
    strip, path = tab.export_strip(loaded[0], preset_aus("happy"), 5, fmt, True)
    assert strip.shape == (256, 5 * 256, 3)
    assert path.endswith(f".{fmt.lower()}")
    frames = imageio.mimread(path)
    assert len(frames) == (8 if fmt == "GIF" else 5)  # the GIF plays forth and back
    assert frames[0].shape[:2] == (256, 256)


def test_bad_inputs_are_messages_not_stack_traces(loaded, tmp_path):
    blank = tmp_path / "blank.png"
    Image.new("RGB", (200, 200), (40, 120, 200)).save(blank)
    not_image = tmp_path / "notes.png"
    not_image.write_text("hello")
    with pytest.raises(gr.Error, match="No face was found"):
        tab.load_photo(str(blank), True)
    with pytest.raises(gr.Error, match="could not be read"):
        tab.load_photo(str(not_image), True)
    with pytest.raises(gr.Error, match="No face was found"):
        tab.target_from_photo(str(blank))
    with pytest.raises(gr.Error, match="target expression"):
        tab.export_strip(loaded[0], None, 8, "GIF", True)
    with pytest.raises(gr.Error, match="frames"):
        tab.export_strip(loaded[0], preset_aus("sad"), 64, "GIF", True)
    with pytest.raises(gr.Error, match="No photo"):
        tab.api_edit(None, True, *[0.0] * 16)


def test_api_edit_returns_the_full_photo():
    for keep_detail in (True, False):
        assert tab.api_edit(HOPPER, keep_detail, *editable_part(preset_aus("happy"))).shape == (600, 512, 3)


def test_tab_has_a_labelled_slider_per_au_presets_and_the_api_endpoint():
    with gr.Blocks() as demo:
        tab.build_tab()
    blocks = list(demo.blocks.values())
    labels = [b.label for b in blocks if isinstance(b, gr.Slider)]
    assert [tab.slider_label(au.number, au.name) for au in EDITABLE_ACTION_UNITS] == labels[:16]
    assert "AU12 · Lip corner puller" in labels and any(label.startswith("α") for label in labels)
    assert not any(label.startswith("AU9 ") for label in labels)  # unmeasured: no slider that does nothing
    dropdown = next(b for b in blocks if isinstance(b, gr.Dropdown))
    assert [choice[0] for choice in dropdown.choices] == list(tab.EXPRESSION_PRESETS)
    assert "au_edit" in {dep.api_name for dep in demo.fns.values()}



def test_each_edit_handler_is_one_always_last_dependency():
    """A handler wired to several controls as separate dependencies can have two requests at the server,
    which may finish in either order and leave an older edit shown; one ``always_last`` dependency cannot."""
    with gr.Blocks() as demo:
        tab.build_tab()
    by_name: dict[str, list] = {}
    for dep in demo.fns.values():
        by_name.setdefault(getattr(dep.fn, "__name__", ""), []).append(dep)
    for name in ("render_sliders", "show_readout", "apply_alpha", "show_blend_readout", "stack", "undo", "redo"):
        assert len(by_name[name]) == 1 and by_name[name][0].trigger_mode == "always_last", name
    assert len(by_name["apply_alpha"][0].targets) == 4  # α, β and both targets


def test_missing_checkpoint_shows_the_training_command(tmp_path, monkeypatch):
    monkeypatch.setenv("FACEGAN_CHECKPOINTS", str(tmp_path / "empty"))
    with gr.Blocks() as demo:
        tab.build_tab()
    text = " ".join(b.value for b in demo.blocks.values() if isinstance(b, gr.Markdown))
    assert "Not available yet" in text and "python -m facegan.train eggan" in text


def test_au9_keeps_the_faces_own_value_and_the_rest_follow_the_sliders(loaded):
    from facegan.faces.aus import AU_NUMBERS, with_editable_aus

    face = loaded[0]
    full = with_editable_aus(face.aus, [1.0] * 16)
    assert full[AU_NUMBERS.index(9)] == face.aus[AU_NUMBERS.index(9)] and full[AU_NUMBERS.index(12)] == 1.0
    assert 9 not in EDITABLE_AU_NUMBERS and len(EDITABLE_AU_NUMBERS) == 16


def test_nan_or_miscounted_aus_are_messages_not_black_faces(loaded):
    face = loaded[0]
    with pytest.raises(gr.Error, match="AU intensities #1 must be a finite number"):
        tab.render_sliders(face, True, None, False, float("nan"), *[0.0] * 15)
    with pytest.raises(gr.Error, match="expected 16 AU intensities, got 15"):
        tab.api_edit(ASTRONAUT, True, *[0.0] * 15)
    with pytest.raises(gr.Error, match="expected 16 AU intensities, got 17"):
        tab.api_edit(ASTRONAUT, True, *[0.0] * 17)
    with pytest.raises(gr.Error, match="α must be a finite number"):
        tab.apply_alpha(face, preset_aus("happy"), float("nan"), True)


def test_stacked_au_edits_undo_redo_and_a_recipe_that_reproduces_the_photo_exactly(tmp_path):
    import shutil

    edits = tab.STACKED_EDITS
    photo = str(tmp_path / "astronaut.jpg")
    shutil.copy(ASTRONAUT, photo)
    smile = [0.0] * 16
    smile[EDITABLE_AU_NUMBERS.index(12)] = 4.0
    brows = list(smile)
    brows[EDITABLE_AU_NUMBERS.index(1)] = 3.0
    first, history, _ = edits.stack(photo, None, 0, False, True, *smile)
    second, history, note = edits.stack(photo, history, 0, False, False, *brows)
    assert history.applied == 2 and "2 stacked" in note and not np.array_equal(first, second)
    assert history.active[1] == {"face_index": 0, "all_faces": False, "keep_detail": False, "aus": brows}
    undone, history, note = edits.undo(photo, history)
    assert np.array_equal(undone, first) and "1 to redo" in note
    redone, history, _ = edits.redo(photo, history)
    assert np.array_equal(redone, second)
    replayed, loaded, _ = edits.load_recipe(photo, edits.save_recipe(photo, history))
    assert np.array_equal(replayed, second) and loaded.active == history.active  # bit for bit
    with pytest.raises(gr.Error, match="AU intensities"):
        edits.stack(photo, history, 0, False, True, *smile[:-1], 99.0)
    with pytest.raises(UserError, match="recipe lacks"):
        tab.checked_step({"aus": smile})
    from facegan.history import Recipe

    elsewhere = tmp_path / "attribute_recipe.json"
    elsewhere.write_text(Recipe("attribute_transfer", {}, "0" * 64, ({"hair": "Blond"},)).to_json())
    with pytest.raises(gr.Error, match="for the attribute_transfer tab, not au_editing"):
        edits.load_recipe(photo, str(elsewhere))  # the tab is named before its steps are read
