"""Stacked edits with undo, redo and a recipe file, wired the same way in every tab that has them.

A tab supplies what is its own: how one step is read from its controls, how a list of steps is replayed
on the photo, which checkpoints a recipe must name, and how a step read from a file is checked. The
buttons, the history state and the recipe round trip live here (``facegan.history`` holds the data types).
Some tabs replay with other inputs as well (GeneGAN's donor face): those are the ``context`` components,
passed to ``replay`` and ``step`` after the photo and history.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import gradio as gr
import numpy as np

from facegan.errors import UserError
from facegan.history import EditHistory, Recipe, file_sha256
from facegan.ui.common import export_folder, session_state, user_errors

Step = Mapping[str, Any]


class HistoryControls(NamedTuple):
    """The components ``StackedEdits.controls`` lays out, wired later by ``StackedEdits.wire``."""

    stack: gr.Button
    undo: gr.Button
    redo: gr.Button
    save: gr.Button
    note: gr.Markdown
    recipe_file: gr.File
    history: gr.State


@dataclass(frozen=True)
class StackedEdits:
    """One tab's stacked edits.

    ``step(*context, *controls)`` turns the controls into one step (a JSON-able dict);
    ``replay(photo, steps, context)`` gives the photo after ``steps``, each applied to the previous result;
    ``check_step(step)`` returns a step read from a recipe file in the form ``step`` writes, or raises
    ``UserError``; ``checkpoints(steps)`` names the weight files the steps use.
    """

    tab: str
    step: Callable[..., dict]
    replay: Callable[[str, Sequence[Step], Sequence[Any]], np.ndarray]
    check_step: Callable[[Step], dict]
    checkpoints: Callable[[Sequence[Step]], Sequence[Path]]
    context_size: int = 0

    def _hashes(self, steps: Sequence[Step]) -> dict[str, str]:
        return {path.stem: file_sha256(path) for path in self.checkpoints(steps)}

    def _shown(self, photo: str | None, history: EditHistory, context: Sequence[Any]) -> tuple:
        image = self.replay(photo, history.active, context) if photo else None
        return image, history, history_note(history)

    @staticmethod
    def history_of(photo: str | None, history: EditHistory | None) -> EditHistory:
        """The edits taken on this photo. A history taken on another photo counts as none, so a new upload
        starts afresh whichever of its events and a click's finishes first."""
        if photo is None:
            return EditHistory()
        sha = file_sha256(photo)
        return history if history is not None and history.photo_sha256 == sha else EditHistory(photo_sha256=sha)

    @user_errors
    def stack(self, photo: str | None, history: EditHistory | None, *values: Any) -> tuple:
        """The controls' edit applied on top of the edits so far (smile, then glasses, then hair)."""
        if photo is None:
            raise gr.Error("Upload a photo with a face first.")
        context = values[: self.context_size]
        return self._shown(photo, self.history_of(photo, history).push(self.step(*values)), context)

    @user_errors
    def undo(self, photo: str | None, history: EditHistory | None, *context: Any) -> tuple:
        return self._shown(photo, self.history_of(photo, history).undo(), context)

    @user_errors
    def redo(self, photo: str | None, history: EditHistory | None, *context: Any) -> tuple:
        return self._shown(photo, self.history_of(photo, history).redo(), context)

    @user_errors
    def save_recipe(self, photo: str | None, history: EditHistory | None) -> str:
        """The recipe of the edits applied, as a JSON file to download."""
        history = self.history_of(photo, history)
        if photo is None or not history.applied:
            raise gr.Error("Make an edit with Stack edit first: the recipe records the stacked edits.")
        recipe = Recipe(self.tab, self._hashes(history.active), history.photo_sha256, history.active)
        path = export_folder("facegan-recipe-") / "recipe.json"
        path.write_text(recipe.to_json(), encoding="utf-8")
        return str(path)

    @user_errors
    def load_recipe(self, photo: str | None, recipe_file: str | None, *context: Any) -> tuple:
        """Replay a recipe on the uploaded photo: the final photo exactly as it was when it was saved."""
        if photo is None:
            raise gr.Error("Upload the photo the recipe was made from first.")
        if recipe_file is None:
            return gr.update(), gr.update(), gr.update()
        recipe = Recipe.from_json(Path(recipe_file).read_text(encoding="utf-8"))
        recipe.check_tab(self.tab)
        steps = tuple(self.check_step(step) for step in recipe.steps)
        photo_sha256 = file_sha256(photo)
        recipe.check(self.tab, self._hashes(steps), photo_sha256)
        return self._shown(photo, EditHistory(steps, len(steps), photo_sha256), context)

    @classmethod
    def note_of(cls, photo: str | None, history: EditHistory | None) -> str:
        """The note for this photo's edits; empty before the first."""
        history = cls.history_of(photo, history)
        return history_note(history) if history.steps else ""

    @staticmethod
    def controls(stack_label: str = "Stack edit") -> HistoryControls:
        """Lay out the history's buttons, note and recipe file where the tab calls this."""
        with gr.Row():
            stack = gr.Button(stack_label)
            undo = gr.Button("Undo", size="sm")
            redo = gr.Button("Redo", size="sm")
            save = gr.Button("Save recipe", size="sm")
        note = gr.Markdown("")
        recipe_file = gr.File(label="Recipe (JSON): save one, or drop one here to replay it", file_types=[".json"])
        return HistoryControls(stack, undo, redo, save, note, recipe_file, session_state())

    def wire(
        self, controls: HistoryControls, photo: gr.Image, result: gr.Image, inputs: Sequence[gr.components.Component],
        context: Sequence[gr.components.Component] = (),
    ) -> None:
        """Connect the controls: ``inputs`` are the step's controls, ``result`` shows the stacked photo, and
        a new photo starts a new history (``history_of``)."""
        if len(context) != self.context_size:
            raise ValueError(f"{self.tab} replays with {self.context_size} context input(s), got {len(context)}")
        shown = [result, controls.history, controls.note]
        before = [photo, controls.history]
        private = {"api_visibility": "private"}
        # A click while the last one of the same button is still at the server runs after it (Gradio's
        # default drops it), so a quick second Stack edit or Undo is never lost on a busy server.
        steps = {**private, "trigger_mode": "always_last"}
        controls.stack.click(self.stack, [*before, *context, *inputs], shown, **steps)
        controls.undo.click(self.undo, [*before, *context], shown, **steps)
        controls.redo.click(self.redo, [*before, *context], shown, **steps)
        controls.save.click(self.save_recipe, before, controls.recipe_file, **private)
        controls.recipe_file.upload(self.load_recipe, [photo, controls.recipe_file, *context], shown, **private)
        # The note follows the photo and its history in one dependency that re-runs after the last change,
        # so a new photo's event can never blank the note of an edit made after it.
        gr.on(
            [photo.change, controls.history.change], self.note_of, before, controls.note,
            trigger_mode="always_last", **private,
        )


@contextmanager
def reading_recipe_step() -> Iterator[None]:
    """Around a tab's ``check_step``: a step with a missing or mistyped field (a file edited by hand) is a
    sentence, the same in every tab."""
    try:
        yield
    except (KeyError, TypeError) as exc:
        raise UserError(f"A step of the recipe lacks {exc}; was it edited by hand?") from exc


def history_note(history: EditHistory) -> str:
    redo = f", {len(history.steps) - history.applied} to redo" if history.can_redo else ""
    return f"{history.applied} stacked edit(s) applied{redo}"
