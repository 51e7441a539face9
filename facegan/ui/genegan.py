"""GeneGAN tab: swap, remove or interpolate one attribute between faces (paper 003)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import NamedTuple

import gradio as gr
import numpy as np

from facegan.checkpoints import train_command, weights_path
from facegan.errors import UserError
from facegan.faces import PreparedFace, load_image, prepare_all_faces, prepare_faces_numbered_as
from facegan.history import file_sha256
from facegan.paths import UI_EXAMPLES_DIR
from facegan.pipelines import GeneGAN, GeneGANEdit, edit_each_face, genegan_attributes, genegan_checkpoint_name
from facegan import quality
from facegan.quality import EditReadout, watched_attributes
from facegan.ui.common import (
    checkpoint_or_notice,
    for_display,
    photo_input,
    result_image,
    session_state,
    user_errors,
)
from facegan.ui.edit_history import StackedEdits, reading_recipe_step
from facegan.ui.face_picker import all_faces, face_of, face_thumbnails, faces_gallery, pick_face
from facegan.validation import face_number, number, whole_number

DESCRIPTION = (
    "GeneGAN splits a face into an attribute code (e.g. the smile) and everything else. Give two "
    "faces to swap the attribute between them, one face to remove it, or four faces to see a "
    "bilinear grid that blends their attribute codes. The change is concentrated on the attribute's "
    "region; the rest of each photo keeps its own pixels. One checkpoint is trained per attribute, "
    "named `genegan_<attribute>.safetensors` (e.g. `genegan_smiling.safetensors`)."
)
TRAIN_COMMAND = train_command("genegan", genegan_checkpoint_name("Smiling"), "--attribute", "Smiling")
ASTRONAUT = str(UI_EXAMPLES_DIR / "astronaut.jpg")
HOPPER = str(UI_EXAMPLES_DIR / "grace_hopper.jpg")


@lru_cache(maxsize=4)
def pipeline(attribute: str) -> GeneGAN:
    return GeneGAN(attribute)


def _face(photo: str | np.ndarray | None, which: str, face_index: float | None = None) -> PreparedFace:
    """Face number ``face_index`` of one photo input, or say which input is still empty.

    A number is one of the photo's thumbnails (``face_picker``: the group-photo search), as the tab
    shows them; without one (the API, the grid) the largest face is found with one detector pass."""
    if photo is None:
        raise gr.Error(f"Upload a photo for {which} first.")
    if face_index is None:
        return GeneGAN.prepare(photo)
    return face_of(all_faces(photo) if isinstance(photo, str) else prepare_all_faces(photo), face_index)


def _model(attribute: str | None) -> GeneGAN:
    if not attribute:
        raise gr.Error("Choose an attribute first.")
    return pipeline(attribute)


class Result(NamedTuple):
    """What the tab shows for one side: the full photo, and the first edited face before and after
    (what its readout compares)."""

    photo: np.ndarray
    parent: PreparedFace
    child: GeneGANEdit


def _result(faces: list[PreparedFace], edits: list[GeneGANEdit]) -> Result:
    return Result(edits[-1].photo, faces[0], edits[0])


def _faces(
    photo: str | np.ndarray | None, which: str, every_face: bool, face_index: float | None = None
) -> list[PreparedFace]:
    """The photo's face number ``face_index``, or with ``every_face`` all its faces (largest first)."""
    if every_face and photo is not None:
        return all_faces(photo) if isinstance(photo, str) else prepare_all_faces(photo)
    return [_face(photo, which, face_index)]


def _swap(
    attribute: str | None, photo_a: str | None, photo_b: str | None, face_a: float | None = None,
    face_b: float | None = None,
) -> list[Result | None]:
    model = _model(attribute)
    a, b = _face(photo_a, "face A", face_a), _face(photo_b, "face B", face_b)
    a_child, b_child = model.swap(a, b)
    return [_result([a], [a_child]), _result([b], [b_child])]


def _removed(model: GeneGAN, faces: list[PreparedFace]) -> list[GeneGANEdit]:
    return edit_each_face(faces, lambda face, onto: model.remove(face, onto))


def _transplanted(
    model: GeneGAN, donor: PreparedFace, faces: list[PreparedFace], strength: float
) -> list[GeneGANEdit]:
    return edit_each_face(faces, lambda face, onto: model.transplant(donor, face, strength, onto))


def _remove(
    attribute: str | None, photo_a: str | None, photo_b: str | None, every_face: bool = False,
    face_a: float | None = None, face_b: float | None = None,
) -> list[Result | None]:
    model = _model(attribute)

    def removed(faces: list[PreparedFace]) -> Result:
        return _result(faces, _removed(model, faces))

    a = removed(_faces(photo_a, "face A", every_face, face_a))
    return [a, None if photo_b is None else removed(_faces(photo_b, "face B", every_face, face_b))]


def _transplant(
    attribute: str | None, photo_a: str | None, photo_b: str | None, strength: float, every_face: bool = False,
    face_a: float | None = None, face_b: float | None = None,
) -> list[Result | None]:
    model = _model(attribute)
    strength = number(strength, "strength", *GeneGAN.STRENGTH_RANGE)
    faces = _faces(photo_b, "face B", every_face, face_b)
    return [None, _result(faces, _transplanted(model, _face(photo_a, "face A", face_a), faces, strength))]


def _photos(results: list[Result | None]) -> tuple[np.ndarray | None, ...]:
    return tuple(None if result is None else result.photo for result in results)


def _shown(attribute: str | None, results: list[Result | None]) -> tuple:
    """Both result photos, and what the readout needs (the aligned crops only: session state stays small)."""
    crops = [None if r is None else (r.parent.aligned.crop, r.child.output) for r in results]
    return (*_photos(results), (attribute, crops))


@user_errors
def swap(attribute: str | None, photo_a: str | None, photo_b: str | None) -> tuple[np.ndarray, np.ndarray]:
    """Photo A with B's attribute and photo B with A's (also the ``genegan_swap`` API)."""
    return _photos(_swap(attribute, photo_a, photo_b))


@user_errors
def swap_shown(
    attribute: str | None, photo_a: str | None, photo_b: str | None, face_a: float | None = None,
    face_b: float | None = None,
) -> tuple:
    """Both swapped photos, for the tab (with what their readouts need); ``face_a``/``face_b``: which face
    of each photo (0 = the largest)."""
    return _shown(attribute, _swap(attribute, photo_a, photo_b, face_a, face_b))


@user_errors
def remove(
    attribute: str | None, photo_a: str | None, photo_b: str | None, every_face: bool = False,
    face_a: float | None = None, face_b: float | None = None,
) -> tuple:
    """Each uploaded photo with its attribute removed (face B is optional; ``every_face``: from every face)."""
    return _shown(attribute, _remove(attribute, photo_a, photo_b, every_face, face_a, face_b))


@user_errors
def transplant(
    attribute: str | None, photo_a: str | None, photo_b: str | None, strength: float, every_face: bool = False,
    face_a: float | None = None, face_b: float | None = None,
) -> tuple:
    """Photo B with A's attribute at ``strength`` (0 removes it, 1 copies it, more exaggerates), on B's
    chosen face or, with ``every_face``, on every face of B."""
    return _shown(attribute, _transplant(attribute, photo_a, photo_b, strength, every_face, face_a, face_b))


def readout(attribute: str, before: np.ndarray, after: np.ndarray) -> EditReadout:
    """The quality readout of one child against its parent's aligned crop (``facegan.quality``)."""
    return quality.readout(before, after, watched_attributes(attribute), [attribute])


@user_errors
def show_readouts(last: tuple[str, list] | None) -> tuple:
    """Each result's readout table and change map (empty where that side has no result)."""
    if last is None:
        return (gr.update(),) * 4
    attribute, crops = last
    shown: list = []
    for pair in crops:
        report = None if pair is None else readout(attribute, *pair)
        shown += ["", None] if report is None else [report.markdown(), for_display(report.change_map)]
    return tuple(shown)


@user_errors
def swap_with_readout(attribute: str | None, photo_a: str | None, photo_b: str | None) -> tuple:
    """API: both swapped photos and, as JSON, each one's quality readout."""
    children = _swap(attribute, photo_a, photo_b)
    reports = {
        side: readout(attribute, result.parent.aligned.crop, result.child.output).as_json()
        for side, result in zip(("a", "b"), children)
    }
    return (*_photos(children), reports)


@user_errors
def grid(
    attribute: str | None, target: str | None, ref1: str | None, ref2: str | None, ref3: str | None,
    ref4: str | None, size: float,
) -> np.ndarray:
    """The target's face with the 4 references' attributes blended bilinearly, size x size (``genegan_grid`` API)."""
    model = _model(attribute)
    references = [_face(ref, f"reference {i}") for i, ref in enumerate((ref1, ref2, ref3, ref4), start=1)]
    size = whole_number(size, "grid size", GeneGAN.GRID_SIZES.start, GeneGAN.GRID_SIZES.stop - 1)
    return model.grid(_face(target, "the target"), references, size)


@user_errors
def list_faces(photo: str | None) -> tuple:
    """On upload: the photo's faces as numbered thumbnails, and the face index back to the largest."""
    return face_thumbnails(photo), 0


STACK_OPERATIONS = {"transplant": "Transplant A → B", "remove": "Remove from B"}
"""What a stacked step does to face B (recipe value: label)."""


def _step(
    operation: str, attribute: str, every_face: bool, face_b: float | None, strength: float,
    donor_sha256: str | None, face_a: float | None,
) -> dict:
    """A validated step; a transplant also names its donor (face A's photo by sha256, and which face)."""
    if operation not in STACK_OPERATIONS:
        raise UserError(f"Unknown stacked edit {operation!r}: choose {' or '.join(STACK_OPERATIONS)}.")
    if attribute not in genegan_attributes():
        raise UserError(f"There is no GeneGAN checkpoint for {attribute!r}.")
    step = {"operation": operation, "attribute": attribute, "all_faces": bool(every_face), "face": face_number(face_b)}
    if operation == "remove":
        return step
    strength = number(strength, "strength", *GeneGAN.STRENGTH_RANGE)
    return {**step, "strength": strength, "donor_sha256": str(donor_sha256), "donor_face": face_number(face_a)}


def step_settings(
    photo_a: str | None, operation: str, attribute: str | None, strength: float, every_face: bool,
    face_a: float | None = None, face_b: float | None = None,
) -> dict:
    """One history step on face B, as Stack edit found the controls."""
    if not attribute:
        raise UserError("Choose an attribute first.")
    if operation == "transplant" and photo_a is None:
        raise UserError("Upload face A first: a transplant takes its attribute from it.")
    donor = file_sha256(photo_a) if operation == "transplant" else None
    return _step(operation, attribute, every_face, face_b, strength, donor, face_a)


def checked_step(step: Mapping) -> dict:
    """A step read from a recipe file, in the form ``step_settings`` writes, or a sentence saying what is wrong."""
    with reading_recipe_step():
        transplant = step["operation"] == "transplant"
        return _step(
            step["operation"], step["attribute"], step["all_faces"], step["face"],
            step["strength"] if transplant else 0.0, step["donor_sha256"] if transplant else None,
            step["donor_face"] if transplant else 0,
        )


def _donor(photo_a: str | None, step: Mapping, number: int) -> PreparedFace:
    """Face A's chosen face, if face A is the photo step ``number`` took its attribute from."""
    if photo_a is None or file_sha256(photo_a) != step["donor_sha256"]:
        raise UserError(f"Step {number} took its attribute from another face A: upload that photo as face A.")
    return _face(photo_a, "face A", step["donor_face"])


def replay(photo_b: str, steps: Sequence[Mapping], context: Sequence[str | None]) -> np.ndarray:
    """Face B's photo with ``steps`` applied one after the other (``context``: face A's photo)."""
    (photo_a,) = context
    image = load_image(photo_b)
    numbered = prepare_all_faces(image)
    for step_number, step in enumerate(steps, start=1):
        found = prepare_faces_numbered_as(image, numbered) if step_number > 1 else numbered
        model, faces = _model(step["attribute"]), found if step["all_faces"] else [face_of(found, step["face"])]
        if step["operation"] == "remove":
            edits = _removed(model, faces)
        else:
            edits = _transplanted(model, _donor(photo_a, step, step_number), faces, step["strength"])
        image = edits[-1].photo
    return image


STACKED_EDITS = StackedEdits(
    tab="genegan",
    step=step_settings,
    replay=replay,
    check_step=checked_step,
    checkpoints=lambda steps: [
        weights_path(genegan_checkpoint_name(name)) for name in sorted({step["attribute"] for step in steps})
    ],
    context_size=1,
)


def build_tab() -> None:
    """Lay out the tab's contents; must be called inside a ``gr.Tab``."""
    checkpoint = checkpoint_or_notice("genegan_*.safetensors", TRAIN_COMMAND, DESCRIPTION)
    if checkpoint is None:
        return
    choices = genegan_attributes()
    attribute = gr.Dropdown(choices, value=choices[0] if choices else None, label="Attribute")
    with gr.Row():
        with gr.Column():
            photo_a = photo_input("Face A")
            faces_a = faces_gallery(elem_id="genegan_faces_a")
            face_a = gr.Number(label="Face of A (0 = largest)", value=0, precision=0, minimum=0)
        with gr.Column():
            photo_b = photo_input("Face B")
            faces_b = faces_gallery(elem_id="genegan_faces_b")
            face_b = gr.Number(label="Face of B (0 = largest)", value=0, precision=0, minimum=0)
    gr.Examples([[ASTRONAUT, HOPPER], [HOPPER, ASTRONAUT]], inputs=[photo_a, photo_b])
    with gr.Row():
        swap_button = gr.Button("Swap A ↔ B", variant="primary")
        remove_button = gr.Button("Remove")
        transplant_button = gr.Button("Transplant A → B")
        strength = gr.Slider(*GeneGAN.STRENGTH_RANGE, value=1.0, step=0.05, label="Transplant strength")
        every_face = gr.Checkbox(label="All faces", value=False, info="remove from / transplant to every face")
    with gr.Accordion("Stacked edits on face B: undo, redo and a recipe", open=False, elem_id="genegan_history"):
        operation = gr.Radio(
            [(label, value) for value, label in STACK_OPERATIONS.items()], value="transplant", label="Stacked edit",
            info="uses the attribute, strength and All faces above; the result shows as face B's",
        )
        history = STACKED_EDITS.controls()
    with gr.Row():
        result_a = result_image("Result for face A")
        result_b = result_image("Result for face B")
    with gr.Row():
        readout_a = gr.Markdown("")
        change_a = result_image("Where A changed", height=160)
        readout_b = gr.Markdown("")
        change_b = result_image("Where B changed", height=160)
    last = session_state()
    results, readouts = [result_a, result_b, last], [readout_a, change_a, readout_b, change_b]
    for button, handler, inputs in (
        (swap_button, swap_shown, [attribute, photo_a, photo_b, face_a, face_b]),
        (remove_button, remove, [attribute, photo_a, photo_b, every_face, face_a, face_b]),
        (transplant_button, transplant, [attribute, photo_a, photo_b, strength, every_face, face_a, face_b]),
    ):
        button.click(handler, inputs, results, api_visibility="private").success(
            show_readouts, last, readouts, api_visibility="private"
        )
    for photo, faces, index in ((photo_a, faces_a, face_a), (photo_b, faces_b, face_b)):
        photo.change(list_faces, photo, [faces, index], api_visibility="private")
        faces.select(pick_face, None, index, api_visibility="private")
    STACKED_EDITS.wire(
        history, photo_b, result_b, [operation, attribute, strength, every_face, face_a, face_b], context=[photo_a]
    )
    # API (buttons no one sees): the swap's two photos, and with their readouts as JSON.
    gr.Button(visible=False).click(swap, [attribute, photo_a, photo_b], [result_a, result_b], api_name="genegan_swap")
    readout_json = gr.JSON(visible=False)
    gr.Button(visible=False).click(
        swap_with_readout, [attribute, photo_a, photo_b], [result_a, result_b, readout_json],
        api_name="genegan_swap_readout",
    )

    gr.Markdown(
        "### Attribute grid\nThe target's face with the attribute codes of four reference faces blended "
        "bilinearly (Eq. 6 of the paper): the corners are the references (reading order), the cells "
        "in between their mixtures."
    )
    with gr.Row():
        target = photo_input("Target")
        refs = [photo_input(f"Reference {i}") for i in range(1, 5)]
    gr.Examples([[ASTRONAUT, ASTRONAUT, HOPPER, HOPPER, ASTRONAUT]], inputs=[target, *refs])
    with gr.Row():
        size = gr.Slider(GeneGAN.GRID_SIZES.start, GeneGAN.GRID_SIZES.stop - 1, value=5, step=1, label="Grid size")
        grid_button = gr.Button("Build grid", variant="primary")
    grid_image = result_image("Attribute grid")
    grid_button.click(grid, [attribute, target, *refs, size], grid_image, api_name="genegan_grid")
