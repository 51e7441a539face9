"""Attribute transfer tab: attribute-guided face synthesis with a landmark side input (paper 000)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache

import gradio as gr
import numpy as np

from facegan.checkpoints import train_command
from facegan.faces import PreparedFace, heatmap_to_image, load_image, prepare_all_faces, prepare_faces_numbered_as
from facegan.models.attrgan import HAIR_COLOURS
from facegan.paths import GROUP_PHOTO, UI_EXAMPLES_DIR
from facegan.pipelines import AttributeEdit, AttributeTransfer
from facegan import quality
from facegan.errors import UserError
from facegan.quality import EditReadout
from facegan.ui.common import (
    checkpoint_or_notice,
    for_display,
    photo_input,
    result_image,
    session_state,
    user_errors,
)
from facegan.ui.edit_history import StackedEdits, reading_recipe_step
from facegan.ui.face_picker import all_faces, face_of, face_thumbnails, faces_gallery, pick_face, prepared_face
from facegan.validation import face_number

DESCRIPTION = (
    "Upload a face photo and choose target attributes (hair colour, smiling, eyeglasses, ...). The "
    "controls start at the face's own attributes. The generator, conditioned on a heatmap of the "
    "face's landmarks, predicts *where* the face must change (the attention map) and *how*; that "
    "change is applied to the photo's own pixels at its full resolution, so everything the edit "
    "does not touch stays exactly as it was."
)
OTHER_HAIR = "Other"
HAIR_CHOICES = [name.removesuffix("_Hair") for name in HAIR_COLOURS] + [OTHER_HAIR]


@lru_cache(maxsize=1)
def pipeline() -> AttributeTransfer:
    return AttributeTransfer()


def other_attributes() -> list[str]:
    return [name for name in pipeline().attributes if name not in HAIR_COLOURS]


def targets_from_controls(hair: str, checked: list[str]) -> dict[str, bool]:
    targets = {name: name in checked for name in other_attributes()}
    targets.update({colour: hair == colour.removesuffix("_Hair") for colour in HAIR_COLOURS})
    return targets


def estimate_controls(prepared: PreparedFace) -> tuple[str, list[str]]:
    """The face's current attributes as (hair radio value, checked attributes)."""
    present = pipeline().estimate_attributes(prepared)
    hair = next((name.removesuffix("_Hair") for name in HAIR_COLOURS if present.get(name)), OTHER_HAIR)
    return hair, [name for name in other_attributes() if present[name]]


@user_errors
def analyse(photo: str | None, face_index: float | None) -> tuple:
    """On upload: detect, align, show the heatmap and the faces found, and pre-set the controls to the
    chosen face's attributes."""
    if photo is None:
        return None, None, gr.update(), gr.update(), None
    prepared = prepared_face(photo, face_index)
    hair, checked = estimate_controls(prepared)
    heatmap = heatmap_to_image(pipeline().heatmap(prepared)[0])
    return for_display(prepared.aligned.crop), for_display(heatmap), hair, checked, face_thumbnails(photo)


def edit_faces(
    photo: str, face_index: float | None, every_face: bool, hair: str, checked: list[str]
) -> list[AttributeEdit]:
    """The chosen face's edit, or with ``every_face`` one edit per face, each from that face's own
    attributes (the last one's photo carries them all)."""
    targets = targets_from_controls(hair, checked)
    if every_face:
        return pipeline().edit_all(all_faces(photo), targets)
    return [pipeline().edit(prepared_face(photo, face_index), targets)]


def readout(before: np.ndarray, after: np.ndarray, requested: Sequence[str]) -> EditReadout:
    """The quality readout of one face's edit (``facegan.quality``): identity, attribute changes, change map."""
    return quality.readout(before, after, pipeline().attributes, requested)


@user_errors
def transfer(photo: str | None, face_index: float | None, every_face: bool, hair: str, checked: list[str]) -> tuple:
    """The edit; its readout follows in a second event (``show_readout``) so it never delays the result.
    With every face edited, the views show the chosen face (the one the aligned input shows)."""
    if photo is None:
        raise gr.Error("Upload a photo with a face first.")
    edits = edit_faces(photo, face_index, every_face, hair, checked)
    chosen = edits[min(face_number(face_index), len(edits) - 1)] if every_face else edits[0]
    shown = (for_display(chosen.output), for_display(chosen.mask), for_display(chosen.side_output), edits[-1].photo)
    # The readout needs the crops only: session state stays small.
    return (*shown, [(edit.aligned, edit.output, edit.requested) for edit in edits])


@user_errors
def show_readout(last: list[tuple[np.ndarray, np.ndarray, list[str]]] | None) -> tuple:
    """The readout of every face just edited: tables, change maps side by side and the JSON."""
    if not last:
        return gr.update(), gr.update(), gr.update()
    reports = [readout(*face) for face in last]
    if len(reports) == 1:
        return reports[0].markdown(), for_display(reports[0].change_map), reports[0].as_json()
    tables = "\n\n".join(f"**Face {number}**\n\n{report.markdown()}" for number, report in enumerate(reports))
    maps = np.concatenate([for_display(report.change_map) for report in reports], axis=1)
    return tables, maps, {"faces": [report.as_json() for report in reports]}


def step_settings(face_index: float | None, every_face: bool, hair: str, checked: list[str]) -> dict:
    """One history step: the controls as they were when Transfer was pressed."""
    return {
        "face_index": face_number(face_index), "all_faces": bool(every_face), "hair": hair, "attributes": list(checked)
    }


def checked_step(step: Mapping) -> dict:
    """A step read from a recipe file, in the form ``step_settings`` writes, or a sentence saying what is wrong."""
    with reading_recipe_step():
        hair, attributes = str(step["hair"]), list(step["attributes"])
        face_index, every_face = step["face_index"], bool(step["all_faces"])
    unknown = [name for name in attributes if name not in other_attributes()]
    if hair not in HAIR_CHOICES or unknown:
        raise UserError(f"The recipe asks for attributes this model does not have: {hair!r}, {unknown}.")
    return step_settings(face_index, every_face, hair, attributes)


def replay(photo: str, steps: Sequence[Mapping], _context: Sequence = ()) -> np.ndarray:
    """The photo with ``steps`` applied one after the other, each to the previous result."""
    image = load_image(photo)
    numbered = prepare_all_faces(image)
    for number, step in enumerate(steps):
        found = prepare_faces_numbered_as(image, numbered) if number else numbered
        faces = found if step["all_faces"] else [face_of(found, step["face_index"])]
        targets = targets_from_controls(step["hair"], step["attributes"])
        image = pipeline().edit_all(faces, targets)[-1].photo
    return image


STACKED_EDITS = StackedEdits(
    tab="attribute_transfer",
    step=step_settings,
    replay=replay,
    check_step=checked_step,
    checkpoints=lambda _steps: [pipeline().weights_file],
)


@user_errors
def edit_photo(
    photo: str | None, hair: str, attributes: list[str], face_index: float | None = 0, every_face: bool = False
) -> np.ndarray:
    """API: the full photo with the face's (or every face's) attributes set to ``hair`` + ``attributes``."""
    if photo is None:
        raise gr.Error("No photo was given.")
    return edit_faces(photo, face_index, every_face, hair, attributes)[-1].photo


@user_errors
def edit_photo_with_readout(
    photo: str | None, hair: str, attributes: list[str], face_index: float | None = 0, every_face: bool = False
) -> tuple[np.ndarray, dict]:
    """API: the edited photo and, as JSON, each edited face's quality readout (identity, attributes
    before/after, leaks)."""
    if photo is None:
        raise gr.Error("No photo was given.")
    edits = edit_faces(photo, face_index, every_face, hair, attributes)
    return edits[-1].photo, {"faces": [readout(e.aligned, e.output, e.requested).as_json() for e in edits]}


def build_tab() -> None:
    """Lay out the tab's contents; must be called inside a ``gr.Tab``."""
    checkpoint = checkpoint_or_notice("attrgan.safetensors", train_command("attrgan", "attrgan"), DESCRIPTION)
    if checkpoint is None:
        return
    with gr.Row():
        with gr.Column(scale=1):
            photo = photo_input("Photo")
            faces = faces_gallery()
            with gr.Row():
                face_index = gr.Number(label="Face (0 = largest)", value=0, precision=0, minimum=0)
                every_face = gr.Checkbox(label="All faces", value=False, info="edit every face in the photo")
            hair = gr.Radio(HAIR_CHOICES, value=OTHER_HAIR, label="Hair colour")
            checked = gr.CheckboxGroup(other_attributes(), label="Attributes")
            run = gr.Button("Transfer", variant="primary")
            history = STACKED_EDITS.controls()
            examples = [[str(UI_EXAMPLES_DIR / name)] for name in ("grace_hopper.jpg", "astronaut.jpg", GROUP_PHOTO)]
            gr.Examples(examples, inputs=[photo])
        with gr.Column(scale=2):
            with gr.Row():
                aligned = result_image("Aligned input", height=192)
                heatmap = result_image("Landmark heatmap", height=192)
                output = result_image("Edited face", height=192)
                attention = result_image("Where the edit acts", height=192)
                side = result_image("Side output (heatmap)", height=192)
            result = result_image("Edited photo")
            with gr.Row():
                report = gr.Markdown("")
                change_map = result_image("Where the pixels changed", height=192)
            report_json = gr.JSON(label="Quality readout (JSON)", visible=False)
    last_edit = session_state()
    analysed = [aligned, heatmap, hair, checked, faces]
    photo.change(analyse, [photo, face_index], analysed, api_visibility="private")
    face_index.change(analyse, [photo, face_index], analysed, api_visibility="private")
    faces.select(pick_face, None, face_index, api_visibility="private")
    run.click(
        transfer, [photo, face_index, every_face, hair, checked], [output, attention, side, result, last_edit],
        api_visibility="private",
    ).success(show_readout, last_edit, [report, change_map, report_json], api_visibility="private")
    STACKED_EDITS.wire(history, photo, result, [face_index, every_face, hair, checked])
    # API: the same inputs, the full edited photo out, in one call (buttons no one sees trigger them).
    gr.Button(visible=False).click(
        edit_photo, [photo, hair, checked, face_index, every_face], result, api_name="attribute_transfer"
    )
    gr.Button(visible=False).click(
        edit_photo_with_readout, [photo, hair, checked, face_index, every_face], [result, report_json],
        api_name="attribute_transfer_readout",
    )
