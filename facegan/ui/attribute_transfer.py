"""Attribute transfer tab: attribute-guided face synthesis with a landmark side input (paper 000)."""

from __future__ import annotations

from functools import lru_cache

import gradio as gr
import numpy as np

from facegan.checkpoints import train_command
from facegan.faces import PreparedFace, heatmap_to_image, prepare_all_faces
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
GROUP_PHOTO = str(UI_EXAMPLES_DIR / "group.jpg")
"""Both public-domain example portraits side by side (``python benchmarks/group_photo.py``)."""
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


@lru_cache(maxsize=4)
def all_faces(photo: str) -> list[PreparedFace]:
    """Every face of the photo, largest first, aligned once per upload."""
    return prepare_all_faces(photo)


def face_thumbnails(photo: str) -> list[tuple[np.ndarray, str]]:
    """The detected faces as numbered thumbnails (the numbers the face index uses)."""
    return [(face.aligned.crop, str(number)) for number, face in enumerate(all_faces(photo))]


@user_errors
def analyse(photo: str | None, face_index: float | None) -> tuple:
    """On upload: detect, align, show the heatmap and the faces found, and pre-set the controls to the
    chosen face's attributes."""
    if photo is None:
        return None, None, gr.update(), gr.update(), None
    prepared = prepared_face(photo, face_number(face_index))
    hair, checked = estimate_controls(prepared)
    heatmap = heatmap_to_image(pipeline().heatmap(prepared)[0])
    return for_display(prepared.aligned.crop), for_display(heatmap), hair, checked, face_thumbnails(photo)


def pick_face(selected: gr.SelectData) -> int:
    """A click on a thumbnail: that face becomes the one edited (and analysed)."""
    return int(selected.index)


def edit_faces(photo: str, face_index: float | None, every_face: bool, hair: str, checked: list[str]) -> list[AttributeEdit]:
    """The chosen face's edit, or with ``every_face`` one edit per face, each from that face's own
    attributes (the last one's photo carries them all)."""
    targets = targets_from_controls(hair, checked)
    if every_face:
        return pipeline().edit_all(all_faces(photo), targets)
    return [pipeline().edit(prepared_face(photo, face_number(face_index)), targets)]


def readout(edit: AttributeEdit) -> EditReadout:
    """The quality readout of one face's edit (``facegan.quality``): identity, attribute changes, change map."""
    return edit_readout(
        edit.aligned, edit.output, judge_if_trained(), pipeline().attributes, edit.requested, identity_model()
    )


@user_errors
def transfer(photo: str | None, face_index: float | None, every_face: bool, hair: str, checked: list[str]) -> tuple:
    """The edit; its readout follows in a second event (``show_readout``) so it never delays the result.
    With several faces edited, the views show the first (largest) one."""
    if photo is None:
        raise gr.Error("Upload a photo with a face first.")
    edits = edit_faces(photo, face_index, every_face, hair, checked)
    first = edits[0]
    shown = (for_display(first.output), for_display(first.mask), for_display(first.side_output), edits[-1].photo)
    # The readout needs the crops only: session state stays small.
    return (*shown, [(edit.aligned, edit.output, edit.requested) for edit in edits])


@user_errors
def show_readout(last: list[tuple[np.ndarray, np.ndarray, list[str]]] | None) -> tuple:
    """The readout of every face just edited: tables, change maps side by side and the JSON."""
    if not last:
        return gr.update(), gr.update(), gr.update()
    reports = [
        edit_readout(before, after, judge_if_trained(), pipeline().attributes, requested, identity_model())
        for before, after, requested in last
    ]
    if len(reports) == 1:
        return reports[0].markdown(), for_display(reports[0].change_map), reports[0].as_json()
    tables = "\n\n".join(f"**Face {number}**\n\n{report.markdown()}" for number, report in enumerate(reports))
    maps = np.concatenate([for_display(report.change_map) for report in reports], axis=1)
    return tables, maps, {"faces": [report.as_json() for report in reports]}


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
    return edits[-1].photo, {"faces": [readout(edit).as_json() for edit in edits]}


def build_tab() -> None:
    """Lay out the tab's contents; must be called inside a ``gr.Tab``."""
    checkpoint = checkpoint_or_notice("attrgan.safetensors", train_command("attrgan", "attrgan"), DESCRIPTION)
    if checkpoint is None:
        return
    with gr.Row():
        with gr.Column(scale=1):
            photo = photo_input("Photo")
            faces = gr.Gallery(
                label="Faces found (click one to edit it)", columns=6, height=110, allow_preview=False,
                interactive=False,
            )
            with gr.Row():
                face_index = gr.Number(label="Face (0 = largest)", value=0, precision=0, minimum=0)
                every_face = gr.Checkbox(label="All faces", value=False, info="edit every face in the photo")
            hair = gr.Radio(HAIR_CHOICES, value=OTHER_HAIR, label="Hair colour")
            checked = gr.CheckboxGroup(other_attributes(), label="Attributes")
            run = gr.Button("Transfer", variant="primary")
            examples = [[str(UI_EXAMPLES_DIR / name)] for name in ("grace_hopper.jpg", "astronaut.jpg", GROUP_PHOTO)]
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
    analysed = [aligned, heatmap, hair, checked, faces]
    photo.change(analyse, [photo, face_index], analysed, api_visibility="private")
    face_index.change(analyse, [photo, face_index], analysed, api_visibility="private")
    faces.select(pick_face, None, face_index, api_visibility="private")
    run.click(
        transfer, [photo, face_index, every_face, hair, checked], [output, attention, side, result, last_edit],
        api_visibility="private",
    ).success(show_readout, last_edit, [report, change_map, report_json], api_visibility="private")
    # API: the same inputs, the full edited photo out, in one call (buttons no one sees trigger them).
    gr.Button(visible=False).click(
        edit_photo, [photo, hair, checked, face_index, every_face], result, api_name="attribute_transfer"
    )
    gr.Button(visible=False).click(
        edit_photo_with_readout, [photo, hair, checked, face_index, every_face], [result, report_json],
        api_name="attribute_transfer_readout",
    )
