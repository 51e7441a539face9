"""The stacked-edits controls every tab shares (facegan/ui/edit_history.py), on a stand-in tab."""

from __future__ import annotations

import gradio as gr
import numpy as np
import pytest

from facegan.ui.edit_history import StackedEdits

EDITS = StackedEdits(
    tab="stand_in",
    step=lambda amount: {"amount": amount},
    replay=lambda photo, steps, context: np.full((2, 2), sum(step["amount"] for step in steps)),
    check_step=dict,
    checkpoints=lambda steps: [],
)


@pytest.fixture
def photos(tmp_path):
    first, second = tmp_path / "first.png", tmp_path / "second.png"
    first.write_bytes(b"one photo")
    second.write_bytes(b"another photo")
    return str(first), str(second)


def test_a_history_taken_on_another_photo_counts_as_none(photos):
    """A new photo's reset event may finish after a click on the new photo: the history keyed to the photo
    makes that order harmless, where a reset that overwrote the history lost the click."""
    first, second = photos
    _, on_first, _ = EDITS.stack(first, None, 1)
    _, on_first, _ = EDITS.stack(first, on_first, 2)
    image, on_second, note = EDITS.stack(second, on_first, 5)
    assert on_second.applied == 1 and note == "1 stacked edit(s) applied" and image[0, 0] == 5
    assert EDITS.note_of(second, on_first) == "" and EDITS.note_of(first, on_first) == "2 stacked edit(s) applied"
    with pytest.raises(gr.Error, match="no edit to undo"):
        EDITS.undo(second, on_first)
    with pytest.raises(gr.Error, match="Make an edit"):
        EDITS.save_recipe(second, on_first)
    undone, history, note = EDITS.undo(first, on_first)
    assert undone[0, 0] == 1 and note == "1 stacked edit(s) applied, 1 to redo"
    assert EDITS.note_of(None, history) == ""


def test_the_note_is_one_always_last_dependency_and_no_event_but_an_edit_writes_the_history(photos):
    with gr.Blocks() as demo:
        photo, result, amount = gr.Image(type="filepath"), gr.Image(), gr.Number()
        controls = StackedEdits.controls()
        EDITS.wire(controls, photo, result, [amount])
    writers = {dep.fn.__name__ for dep in demo.fns.values() if controls.history in dep.outputs}
    assert writers == {"stack", "undo", "redo", "load_recipe"}
    notes = [dep for dep in demo.fns.values() if dep.fn.__name__ == "note_of"]
    assert len(notes) == 1 and notes[0].trigger_mode == "always_last"
    assert set(notes[0].targets) == {
        (photo._id, "change"), (controls.history._id, "change")
    }
