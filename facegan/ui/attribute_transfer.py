"""Attribute transfer tab: attribute-guided face synthesis with a landmark side input (paper 000)."""

from __future__ import annotations

from functools import lru_cache

import gradio as gr
import numpy as np

from facegan.checkpoints import train_command
from facegan.faces import PreparedFace, heatmap_to_image
from facegan.models.attrgan import HAIR_COLOURS
from facegan.paths import UI_EXAMPLES_DIR
from facegan.pipelines import AttributeEdit, AttributeTransfer
from facegan.quality import EditReadout, edit_readout, identity_model, judge_if_trained
from facegan.ui.common import checkpoint_or_notice, for_display, photo_input, user_errors
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


@lru_cache(maxsize=8)
def prepared_face(photo: str, face_index: int) -> PreparedFace:
    """Detection and alignment once per uploaded file (Gradio gives every upload its own path).

    Transfer prepares from the photo itself rather than from state set by the upload handler, so a
    click that overtakes the upload's analysis still edits the face on screen.
    """
    return pipeline().prepare(photo, face_index)


@user_errors
def analyse(photo: str | None, face_index: float | None) -> tuple:
    """On upload: detect, align, show the heatmap and pre-set the controls to the face's attributes."""
    if photo is None:
        return None, None, gr.update(), gr.update()
    prepared = prepared_face(photo, face_number(face_index))
    hair, checked = estimate_controls(prepared)
    heatmap = heatmap_to_image(pipeline().heatmap(prepared)[0])
    return for_display(prepared.aligned.crop), for_display(heatmap), hair, checked


def edit_face(prepared: PreparedFace, hair: str, checked: list[str]) -> tuple[AttributeEdit, list[str]]:
    """The edit, and the attributes it was asked to change (those whose target differs from the face's own)."""
    own = pipeline().estimate_attributes(prepared)
    targets = targets_from_controls(hair, checked)
    requested = [name for name in pipeline().attributes if targets[name] != own[name]]
    return pipeline().edit(prepared, targets, own), requested


def readout(before: np.ndarray, after: np.ndarray, requested: list[str]) -> EditReadout:
    """The quality readout of one edit of the aligned crop (``facegan.quality``): identity, attribute
    changes, change map."""
    return edit_readout(before, after, judge_if_trained(), pipeline().attributes, requested, identity_model())


@user_errors
def transfer(photo: str | None, face_index: float | None, hair: str, checked: list[str]) -> tuple:
    """The edit; its readout follows in a second event (``show_readout``) so it never delays the result."""
    if photo is None:
        raise gr.Error("Upload a photo with a face first.")
    edit, requested = edit_face(prepared_face(photo, face_number(face_index)), hair, checked)
    shown = (for_display(edit.output), for_display(edit.mask), for_display(edit.side_output), edit.photo)
    return (*shown, (edit.aligned, edit.output, requested))  # the crops only: session state stays small


@user_errors
def show_readout(last: tuple[np.ndarray, np.ndarray, list[str]] | None) -> tuple:
    """The readout of the edit just shown: a table, the change map and the JSON."""
    if last is None:
        return gr.update(), gr.update(), gr.update()
    report = readout(*last)
    return report.markdown(), for_display(report.change_map), report.as_json()


@user_errors
def edit_photo(photo: str | None, hair: str, attributes: list[str], face_index: float | None = 0) -> np.ndarray:
    """API: the full photo with the face's attributes set to ``hair`` + ``attributes``."""
    if photo is None:
        raise gr.Error("No photo was given.")
    prepared = pipeline().prepare(photo, face_number(face_index))
    return pipeline().edit(prepared, targets_from_controls(hair, attributes)).photo


@user_errors
def edit_photo_with_readout(
    photo: str | None, hair: str, attributes: list[str], face_index: float | None = 0
) -> tuple[np.ndarray, dict]:
    """API: the edited photo and its quality readout as JSON (identity, attributes before/after, leaks)."""
    if photo is None:
        raise gr.Error("No photo was given.")
    edit, requested = edit_face(pipeline().prepare(photo, face_number(face_index)), hair, attributes)
    return edit.photo, readout(edit.aligned, edit.output, requested).as_json()


def build_tab() -> None:
    """Lay out the tab's contents; must be called inside a ``gr.Tab``."""
    checkpoint = checkpoint_or_notice("attrgan.safetensors", train_command("attrgan", "attrgan"), DESCRIPTION)
    if checkpoint is None:
        return
    with gr.Row():
        with gr.Column(scale=1):
            photo = photo_input("Photo")
            face_index = gr.Number(label="Face (0 = largest)", value=0, precision=0, minimum=0)
            hair = gr.Radio(HAIR_CHOICES, value=OTHER_HAIR, label="Hair colour")
            checked = gr.CheckboxGroup(other_attributes(), label="Attributes")
            run = gr.Button("Transfer", variant="primary")
            examples = [[str(UI_EXAMPLES_DIR / name)] for name in ("grace_hopper.jpg", "astronaut.jpg")]
            gr.Examples(examples, inputs=[photo])
        with gr.Column(scale=2):
            with gr.Row():
                aligned = gr.Image(label="Aligned input", interactive=False, height=192)
                heatmap = gr.Image(label="Landmark heatmap", interactive=False, height=192)
                output = gr.Image(label="Edited face", interactive=False, height=192)
                attention = gr.Image(label="Where the edit acts", interactive=False, height=192)
                side = gr.Image(label="Side output (heatmap)", interactive=False, height=192)
            result = gr.Image(label="Edited photo", interactive=False)
            with gr.Row():
                report = gr.Markdown("")
                change_map = gr.Image(label="Where the pixels changed", interactive=False, height=192)
            report_json = gr.JSON(label="Quality readout (JSON)", visible=False)
    last_edit = gr.State(None)
    analysed = [aligned, heatmap, hair, checked]
    photo.change(analyse, [photo, face_index], analysed, api_visibility="private")
    face_index.change(analyse, [photo, face_index], analysed, api_visibility="private")
    run.click(
        transfer, [photo, face_index, hair, checked], [output, attention, side, result, last_edit],
        api_visibility="private",
    ).success(show_readout, last_edit, [report, change_map, report_json], api_visibility="private")
    # API: the same inputs, the full edited photo out, in one call (buttons no one sees trigger them).
    gr.Button(visible=False).click(
        edit_photo, [photo, hair, checked, face_index], result, api_name="attribute_transfer"
    )
    gr.Button(visible=False).click(
        edit_photo_with_readout, [photo, hair, checked, face_index], [result, report_json],
        api_name="attribute_transfer_readout",
    )
