"""AU editing tab: fine-grained expression editing with continuous Action Units (EGGAN, paper 001).

The uploaded photo is detected, aligned, measured and encoded once (``AUEditor.encode``) and kept in
the session's state; a slider move then costs one generator pass and a paste-back.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path

import cv2
import gradio as gr
import imageio.v2 as imageio
import numpy as np

from facegan.checkpoints import train_command
from facegan.faces import load_image, prepare_all_faces, prepare_face, prepare_faces_numbered_as
from facegan.faces.aus import (
    AU_MAX,
    EDITABLE_ACTION_UNITS,
    EDITABLE_AU_NUMBERS,
    EXPRESSION_PRESETS,
    editable_part,
    preset_aus,
    with_editable_aus,
)
from facegan.paths import GROUP_PHOTO, UI_EXAMPLES_DIR
from facegan.mirror import MIRROR_FRAME_S, MIRROR_OFFSETS, WebcamMirror, offset_vector, offsets_summary
from facegan.models.eggan import blend_aus_2d
from facegan.pipelines import AUEditor, EncodedFace, tensor_to_image
from facegan.quality import WATCHED_ATTRIBUTES, readout
from facegan.ui.common import (
    checkpoint_or_notice,
    export_folder,
    for_display,
    photo_input,
    result_image,
    session_state,
    user_errors,
)
from facegan.faces.landmarker import numbered_face
from facegan.ui.edit_history import StackedEdits, reading_recipe_step
from facegan.ui.face_picker import faces_gallery, pick_face
from facegan.validation import face_number, number, numbers, whole_number

DESCRIPTION = (
    "Edit a face's expression one facial Action Unit at a time. The photo's current AU intensities "
    "are estimated and shown as continuous sliders (inner brow raiser AU1, lip corner puller AU12, "
    "jaw drop AU26, ...); moving a slider regenerates the face with that intensity, EGGAN-style, "
    "keeping the person's identity. Pick a target expression (a preset or a second photo) and move "
    "α to interpolate from the face's own expression to it; export the interpolation as GIF or MP4. "
    "The 2D mode adds a second target on β: the two changes blend bilinearly."
)
TRAIN_COMMAND = train_command("eggan", "eggan")
NOTE_AU9 = (
    "AU9 (nose wrinkler) has no slider: our annotator cannot measure it (MediaPipe never fires "
    "noseSneer), so the model never saw it vary and a slider would do nothing. AU6 is derived from "
    "eye squint × smile."
)
DETAIL_LABEL = "Keep the photo's detail"
DETAIL_INFO = (
    "On: the photo plus the generator's change of expression (sharp, the same person). "
    "Off: the generator's own redrawn 128 px face (softer than the photo)."
)
EXAMPLES = [str(UI_EXAMPLES_DIR / "astronaut.jpg"), str(UI_EXAMPLES_DIR / "grace_hopper.jpg")]
MIRROR_NOTE = (
    "Turn on your camera: every frame shows your face with the chosen expression added to your own "
    "(" + offsets_summary() + "). Frames are processed as fast as this server can (dropped, never "
    "queued, when it falls behind); a stream stops after 5 minutes."
)
MIRROR_MAX_STRENGTH = 1.5
FORMATS = ("GIF", "MP4")
STRIP_FPS = 8
SLIDERS_PER_ROW = 3


@lru_cache(maxsize=1)
def pipeline() -> AUEditor:
    return AUEditor()


def slider_label(number: int, name: str) -> str:
    return f"AU{number} · {name}"


UPLOAD_FIRST = "Upload a photo with a face first (an upload is kept for two hours)."


def _require(face: EncodedFace | None) -> EncodedFace:
    if face is None:
        raise gr.Error(UPLOAD_FIRST)
    return face


def _render(
    face: EncodedFace, aus: np.ndarray, keep_detail: bool, everyone: list[EncodedFace] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The photo and the chosen face's crop at ``aus``. With ``everyone`` (All faces), every face of the
    photo gets the chosen face's change of AUs added to its own, so each keeps the rest of its expression."""
    if not everyone or len(everyone) < 2:
        edit = pipeline().edit(face, aus, keep_detail)
        return edit.photo, for_display(edit.output)
    chosen = next((i for i, other in enumerate(everyone) if other.prepared.face.box == face.prepared.face.box), None)
    if chosen is None:
        raise gr.Error("The chosen face is not in the photo's faces any more; upload the photo again.")
    edits = pipeline().edit_all(everyone, aus - face.aus, keep_detail)
    return edits[-1].photo, for_display(edits[chosen].output)


def _everyone(group: list[EncodedFace] | None, every_face: bool) -> list[EncodedFace] | None:
    return group if every_face else None


def _slider_values(aus: np.ndarray) -> list[float]:
    return [round(float(v), 2) for v in editable_part(aus)]


def _keep_unmeasured(face: EncodedFace, aus: np.ndarray) -> np.ndarray:
    """``aus`` with the unmeasured AUs (AU9) set back to the face's own: no control moves them."""
    return with_editable_aus(face.aus, editable_part(aus))


def _from_sliders(face: EncodedFace, sliders: tuple[float, ...]) -> np.ndarray:
    """The model's 17 AUs: the sliders' values, and the face's own where there is no slider (AU9)."""
    return with_editable_aus(face.aus, numbers(sliders, "AU intensities", len(EDITABLE_AU_NUMBERS), 0, AU_MAX))


@user_errors
def load_photo(photo: str | None, keep_detail: bool) -> tuple:
    """On upload: encode every face once, pick the largest, set the sliders to its own AUs and show it at
    them. Returns (face, all faces, thumbnails, face index, photo, crop, *sliders)."""
    if photo is None:
        return (None, None, None, 0, None, None, *[gr.update()] * len(EDITABLE_ACTION_UNITS))
    group = pipeline().encode_all(photo)
    face = group[0]
    result, crop = _render(face, face.aus, keep_detail)
    thumbnails = [(f.prepared.aligned.crop, str(number)) for number, f in enumerate(group)]
    return (face, group, thumbnails, 0, result, crop, *_slider_values(face.aus))


@user_errors
def choose_face(group: list[EncodedFace] | None, face_index: float | None, keep_detail: bool) -> tuple:
    """A thumbnail click or a new face index: that face is the one the sliders show and edit."""
    if not group:
        raise gr.Error(UPLOAD_FIRST)
    face = numbered_face(group, face_number(face_index))
    return (face, *_render(face, face.aus, keep_detail), *_slider_values(face.aus))


@user_errors
def render_sliders(
    face: EncodedFace | None, keep_detail: bool, group: list[EncodedFace] | None, every_face: bool, *aus: float
) -> tuple[np.ndarray, np.ndarray]:
    """A slider (or the detail switch) moved: the face with exactly the slider values (and, with All faces,
    every other face with the same change)."""
    face = _require(face)
    return _render(face, _from_sliders(face, aus), keep_detail, _everyone(group, every_face))


EXPRESSION_ATTRIBUTES = ("Smiling", "Mouth_Slightly_Open")
"""The judge's attributes an expression edit is meant to move; any other that moves is a leak."""


@user_errors
def show_readout(face: EncodedFace | None, keep_detail: bool, *aus: float) -> tuple:
    """After a slider is released: identity, attributes before/after and the change map of the edit shown."""
    if face is None:
        return gr.update(), gr.update()
    edit = pipeline().edit(face, _from_sliders(face, aus), keep_detail)
    before = tensor_to_image(face.sharp_crop)
    size = edit.output.shape[0]
    if before.shape[0] != size:
        before = cv2.resize(before, (size, size), interpolation=cv2.INTER_AREA)
    names = (*EXPRESSION_ATTRIBUTES, *(name for name in WATCHED_ATTRIBUTES if name not in EXPRESSION_ATTRIBUTES))
    report = readout(before, edit.output, names, EXPRESSION_ATTRIBUTES)
    return report.markdown(), for_display(report.change_map)


@user_errors
def target_from_photo(photo: str | None) -> np.ndarray | None:
    """The AUs of a second photo's face, the target expression (its identity is not used)."""
    return None if photo is None else prepare_face(photo).aus()


@user_errors
def target_from_preset(name: str | None) -> np.ndarray | None:
    return None if not name else preset_aus(name)


def blend(
    face: EncodedFace, target: np.ndarray | None, alpha: float, second: np.ndarray | None = None, beta: float = 0.0
) -> np.ndarray:
    """Eq. 8's condition, on two axes in the 2D mode: u_i + α (u_1 - u_i) + β (u_2 - u_i). A target not
    chosen is the face's own AUs (its axis does nothing)."""
    first = face.aus if target is None else np.asarray(target, dtype=np.float32)
    other = face.aus if second is None else np.asarray(second, dtype=np.float32)
    return blend_aus_2d(face.aus, first, other, number(alpha, "α", 0, 1), number(beta, "β", 0, 1))


def _blended(
    face: EncodedFace, target: np.ndarray | None, alpha: float, second: np.ndarray | None, beta: float
) -> np.ndarray:
    return _keep_unmeasured(face, np.clip(blend(face, target, alpha, second, beta), 0, AU_MAX))


@user_errors
def apply_alpha(
    face: EncodedFace | None,
    target: np.ndarray | None,
    alpha: float,
    keep_detail: bool,
    second: np.ndarray | None = None,
    beta: float = 0.0,
    group: list[EncodedFace] | None = None,
    every_face: bool = False,
) -> tuple:
    """α, β or a target changed: move every slider to the blended AUs and render them."""
    if face is None:
        return (None, None, *[gr.update()] * len(EDITABLE_ACTION_UNITS))
    aus = _blended(face, target, alpha, second, beta)
    return (*_render(face, aus, keep_detail, _everyone(group, every_face)), *_slider_values(aus))


@user_errors
def show_blend_readout(
    face: EncodedFace | None,
    target: np.ndarray | None,
    alpha: float,
    keep_detail: bool,
    second: np.ndarray | None = None,
    beta: float = 0.0,
) -> tuple:
    """α or β released, or a target chosen: the readout of the blend, computed from the same controls as
    ``apply_alpha`` rather than read back from the sliders, which may not show that blend yet."""
    if face is None:
        return gr.update(), gr.update()
    return show_readout(face, keep_detail, *_slider_values(_blended(face, target, alpha, second, beta)))


def write_animation(frames: list[np.ndarray], fmt: str, fps: int = STRIP_FPS) -> Path:
    """Frames (looping back and forth for the GIF) to a temporary .gif or H.264 .mp4 file."""
    if fmt not in FORMATS:
        raise ValueError(f"choose a format from {', '.join(FORMATS)}, not {fmt!r}")
    path = export_folder("facegan-eggan-") / f"interpolation.{fmt.lower()}"
    if fmt == "GIF":
        imageio.mimsave(path, frames + frames[-2:0:-1], duration=1000 / fps, loop=0)
    else:
        imageio.mimsave(path, frames, fps=fps, codec="libx264", pixelformat="yuv420p", macro_block_size=16)
    return path


@user_errors
def export_strip(
    face: EncodedFace | None, target: np.ndarray | None, frames: float, fmt: str, keep_detail: bool
) -> tuple:
    """Eq. 8 from the face's AUs (α = 0) to the target (α = 1): the strip as one image, and an animation."""
    face = _require(face)
    if target is None:
        raise gr.Error("Choose a target expression first (a preset or a second photo).")
    frames = whole_number(frames, "frames", *AUEditor.FRAMES_RANGE)
    strip = pipeline().interpolate(face, _keep_unmeasured(face, np.asarray(target)), frames, keep_detail)
    crops = [for_display(crop) for crop in strip]
    return np.concatenate(crops, axis=1), str(write_animation(crops, fmt))


def step_settings(face_index: float | None, every_face: bool, keep_detail: bool, *aus: float) -> dict:
    """One history step: the face, All faces, the detail switch and the 16 sliders, as Stack edit found them."""
    values = numbers(aus, "AU intensities", len(EDITABLE_AU_NUMBERS), 0, AU_MAX)
    return {
        "face_index": face_number(face_index), "all_faces": bool(every_face), "keep_detail": bool(keep_detail),
        "aus": [float(value) for value in values],
    }


def checked_step(step: Mapping) -> dict:
    """A step read from a recipe file, in the form ``step_settings`` writes, or a sentence saying what is wrong."""
    with reading_recipe_step():
        return step_settings(step["face_index"], step["all_faces"], step["keep_detail"], *step["aus"])


def replay(photo: str, steps: Sequence[Mapping], _context: Sequence = ()) -> np.ndarray:
    """The photo with ``steps`` applied one after the other: each sets the sliders' AUs on the previous
    result's face (encoded afresh, so a later step starts from the expression the earlier ones made)."""
    image = load_image(photo)
    numbered = prepare_all_faces(image)
    for index, step in enumerate(steps):
        found = prepare_faces_numbered_as(image, numbered) if index else numbered
        everyone = [pipeline().encode_prepared(prepared) for prepared in found] if step["all_faces"] else None
        face = (
            numbered_face(everyone, step["face_index"]) if everyone
            else pipeline().encode_prepared(numbered_face(found, step["face_index"]))
        )  # only the faces the step edits are encoded
        image, _ = _render(face, _from_sliders(face, step["aus"]), step["keep_detail"], everyone)
    return image


STACKED_EDITS = StackedEdits(
    tab="au_editing",
    step=step_settings,
    replay=replay,
    check_step=checked_step,
    checkpoints=lambda _steps: [pipeline().weights_file],
)


@lru_cache(maxsize=1)
def mirror() -> WebcamMirror:
    return WebcamMirror(pipeline())


@user_errors
def mirror_frame(
    frame: np.ndarray | None, offset: str, strength: float, keep_detail: bool, request: gr.Request
) -> np.ndarray | None:
    """One webcam frame in, the mirror of the previous one out (pipelined: ``facegan.mirror``); each visitor's
    stream is tracked on its own."""
    if frame is None:
        return None
    change = offset_vector(offset, number(strength, "strength", 0, MIRROR_MAX_STRENGTH))
    return mirror().next_frame(frame, change, request.session_hash or "default", keep_detail)


@user_errors
def api_edit(photo: str | None, keep_detail: bool, *aus: float) -> np.ndarray:
    """API: the full photo with the face's AUs set to the 16 given intensities (AU1 ... AU45 order, no AU9)."""
    if photo is None:
        raise gr.Error("No photo was given.")
    face = pipeline().encode(photo)
    return pipeline().edit(face, _from_sliders(face, aus), keep_detail).photo


# API callers see one named parameter per AU (au1 ... au45) instead of Gradio's param_2 ... param_17:
# Gradio names API parameters from the handler's signature.
api_edit.__signature__ = inspect.Signature([  # type: ignore[attr-defined]
    inspect.Parameter("photo", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=str | None),
    inspect.Parameter("keep_detail", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=bool),
    *(inspect.Parameter(f"au{n}", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=float)
      for n in EDITABLE_AU_NUMBERS),
])


def build_tab() -> None:
    """Lay out the tab's contents; must be called inside a ``gr.Tab``."""
    if checkpoint_or_notice("eggan.safetensors", TRAIN_COMMAND, DESCRIPTION) is None:
        return
    face, group, target, second = session_state(), session_state(), gr.State(), gr.State()
    with gr.Row():
        with gr.Column():
            photo = photo_input("Photo")
            faces = faces_gallery(elem_id="au_faces")
            with gr.Row():
                face_index = gr.Number(label="Face (0 = largest)", value=0, precision=0, minimum=0)
                every_face = gr.Checkbox(
                    label="All faces", value=False, info="every face gets the same change", elem_id="au_every_face"
                )
            history = STACKED_EDITS.controls()
        result = result_image("Edited photo")
        crop = result_image("Edited face", height=256)
    gr.Examples([[path] for path in (*EXAMPLES, GROUP_PHOTO)], inputs=[photo])
    detail = gr.Checkbox(value=True, label=DETAIL_LABEL, info=DETAIL_INFO, elem_id="au_keep_detail")
    gr.Markdown(NOTE_AU9)
    sliders = []
    for row in range(0, len(EDITABLE_ACTION_UNITS), SLIDERS_PER_ROW):
        with gr.Row():
            for au in EDITABLE_ACTION_UNITS[row : row + SLIDERS_PER_ROW]:
                label = slider_label(au.number, au.name)
                sliders.append(gr.Slider(0, AU_MAX, value=0, step=0.05, label=label, elem_id=f"au{au.number}"))
    gr.Markdown("### Target expression and interpolation")
    with gr.Row():
        with gr.Column():
            preset = gr.Dropdown(list(EXPRESSION_PRESETS), value=None, label="Preset (FACS combination)")
            target_photo = photo_input("…or a target photo", height=192)
        with gr.Column():
            alpha = gr.Slider(0, 1, value=0, step=0.05, label="α: source → target", elem_id="au_alpha")
            second_preset = gr.Dropdown(
                list(EXPRESSION_PRESETS), value=None, label="2D mode: a second target (preset)"
            )
            beta = gr.Slider(0, 1, value=0, step=0.05, label="β: source → second target", elem_id="au_beta")
            frames = gr.Slider(*AUEditor.FRAMES_RANGE, value=8, step=1, label="Strip frames")
            fmt = gr.Radio(list(FORMATS), value="GIF", label="Animation format")
            export = gr.Button("Export interpolation strip", variant="primary")
    with gr.Row():
        report = gr.Markdown("")
        change_map = result_image("Where the pixels changed", height=192)
    strip = result_image("Interpolation strip (α = 0 → 1)")
    animation = gr.File(label="Animation")
    with gr.Accordion("Live webcam mirror", open=False):
        gr.Markdown(MIRROR_NOTE)
        with gr.Row():
            webcam = gr.Image(sources=["webcam"], streaming=True, label="Webcam", elem_id="au_webcam")
            mirrored = result_image("Mirror", elem_id="au_mirror")
        with gr.Row():
            offset = gr.Radio(list(MIRROR_OFFSETS), value="+smile", label="Expression offset")
            strength = gr.Slider(0, MIRROR_MAX_STRENGTH, value=1, step=0.1, label="Strength")

    loaded = [face, group, faces, face_index, result, crop, *sliders]
    photo.change(load_photo, [photo, detail], loaded, api_visibility="private")
    faces.select(pick_face, None, face_index, api_visibility="private")
    face_index.change(
        choose_face, [group, face_index, detail], [face, result, crop, *sliders], api_visibility="private"
    )
    # Each handler below is one dependency with ``always_last`` for all of its triggers: the page then has
    # at most one of its requests at the server, and the next one reads the controls when it is sent. Two
    # dependencies (one per slider) could reach the server in either order and leave an older edit shown.
    gr.on(
        [control.input for control in (*sliders, detail, every_face)], render_sliders,
        [face, detail, group, every_face, *sliders], [result, crop], trigger_mode="always_last",
        show_progress="hidden", api_visibility="private",
    )  # fmt: skip
    # The readout follows a finished change (a released slider, a chosen target), never every drag step.
    gr.on(
        [*(control.release for control in sliders), detail.input], show_readout, [face, detail, *sliders],
        [report, change_map], trigger_mode="always_last", show_progress="hidden", api_visibility="private",
    )  # fmt: skip
    for chooser, choose, state in (
        (preset, target_from_preset, target),
        (target_photo, target_from_photo, target),
        (second_preset, target_from_preset, second),
    ):
        chooser.change(choose, chooser, state, trigger_mode="always_last", api_visibility="private")
    blend_inputs = [face, target, alpha, detail, second, beta]
    gr.on(
        [alpha.input, beta.input, target.change, second.change], apply_alpha, [*blend_inputs, group, every_face],
        [result, crop, *sliders], trigger_mode="always_last", show_progress="hidden", api_visibility="private",
    )  # fmt: skip
    gr.on(
        [alpha.release, beta.release, target.change, second.change], show_blend_readout, blend_inputs,
        [report, change_map], trigger_mode="always_last", show_progress="hidden", api_visibility="private",
    )  # fmt: skip
    # Gradio's webcam takes a frame every MIRROR_FRAME_S only while no frame of its own is pending, so a
    # slow server sees fewer frames (they are dropped at the camera), never a queue of old ones.
    webcam.stream(
        mirror_frame, [webcam, offset, strength, detail], mirrored, stream_every=MIRROR_FRAME_S, time_limit=300,
        concurrency_limit=2, show_progress="hidden", api_visibility="private",
    )  # fmt: skip
    STACKED_EDITS.wire(history, photo, result, [face_index, every_face, detail, *sliders])
    export.click(export_strip, [face, target, frames, fmt, detail], [strip, animation], api_visibility="private")
    # API: a photo, the detail switch and 16 intensities in, the edited photo out (via a hidden button).
    gr.Button(visible=False).click(api_edit, [photo, detail, *sliders], result, api_name="au_edit")
