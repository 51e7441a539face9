"""GeneGAN tab: swap, remove or interpolate one attribute between faces (paper 003)."""

from __future__ import annotations

from functools import lru_cache

import gradio as gr
import numpy as np

from facegan.checkpoints import train_command
from facegan.faces import PreparedFace
from facegan.paths import UI_EXAMPLES_DIR
from facegan.pipelines import GeneGAN, genegan_attributes, genegan_checkpoint_name
from facegan.ui.common import checkpoint_or_notice, photo_input, user_errors
from facegan.validation import number, whole_number

DESCRIPTION = (
    "GeneGAN splits a face into an attribute code (e.g. the smile) and everything else. Give two "
    "faces to swap the attribute between them, one face to remove it, or four faces to see a "
    "bilinear grid that blends their attribute codes. Only the attribute's region changes: the rest "
    "of each photo keeps its own pixels. One checkpoint is trained per attribute, "
    "named `genegan_<attribute>.safetensors` (e.g. `genegan_smiling.safetensors`)."
)
TRAIN_COMMAND = train_command("genegan", genegan_checkpoint_name("Smiling"), "--attribute", "Smiling")
ASTRONAUT = str(UI_EXAMPLES_DIR / "astronaut.jpg")
HOPPER = str(UI_EXAMPLES_DIR / "grace_hopper.jpg")


@lru_cache(maxsize=4)
def pipeline(attribute: str) -> GeneGAN:
    return GeneGAN(attribute)


def _face(photo: str | None, which: str) -> PreparedFace:
    """Detect and align the face of one photo input, or say which input is still empty."""
    if photo is None:
        raise gr.Error(f"Upload a photo for {which} first.")
    return GeneGAN.prepare(photo)


def _model(attribute: str | None) -> GeneGAN:
    if not attribute:
        raise gr.Error("Choose an attribute first.")
    return pipeline(attribute)


@user_errors
def swap(attribute: str | None, photo_a: str | None, photo_b: str | None) -> tuple[np.ndarray, np.ndarray]:
    """Photo A with B's attribute and photo B with A's (also the ``genegan_swap`` API)."""
    model = _model(attribute)
    a_child, b_child = model.swap(_face(photo_a, "face A"), _face(photo_b, "face B"))
    return a_child.photo, b_child.photo


@user_errors
def remove(attribute: str | None, photo_a: str | None, photo_b: str | None) -> tuple[np.ndarray, np.ndarray | None]:
    """Each uploaded photo with its attribute removed (face B is optional)."""
    model = _model(attribute)
    a_child = model.remove(_face(photo_a, "face A"))
    b_child = model.remove(_face(photo_b, "face B")) if photo_b is not None else None
    return a_child.photo, b_child.photo if b_child else None


@user_errors
def transplant(
    attribute: str | None, photo_a: str | None, photo_b: str | None, strength: float
) -> tuple[None, np.ndarray]:
    """Photo B with A's attribute at ``strength`` (0 removes it, 1 copies it, more exaggerates)."""
    model = _model(attribute)
    strength = number(strength, "strength", *GeneGAN.STRENGTH_RANGE)
    child = model.transplant(_face(photo_a, "face A"), _face(photo_b, "face B"), strength)
    return None, child.photo


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


def build_tab() -> None:
    """Lay out the tab's contents; must be called inside a ``gr.Tab``."""
    checkpoint = checkpoint_or_notice("genegan_*.safetensors", TRAIN_COMMAND, DESCRIPTION)
    if checkpoint is None:
        return
    choices = genegan_attributes()
    attribute = gr.Dropdown(choices, value=choices[0] if choices else None, label="Attribute")
    with gr.Row():
        photo_a = photo_input("Face A")
        photo_b = photo_input("Face B")
    gr.Examples([[ASTRONAUT, HOPPER], [HOPPER, ASTRONAUT]], inputs=[photo_a, photo_b])
    with gr.Row():
        swap_button = gr.Button("Swap A ↔ B", variant="primary")
        remove_button = gr.Button("Remove")
        transplant_button = gr.Button("Transplant A → B")
        strength = gr.Slider(*GeneGAN.STRENGTH_RANGE, value=1.0, step=0.05, label="Transplant strength")
    with gr.Row():
        result_a = gr.Image(label="Result for face A", interactive=False)
        result_b = gr.Image(label="Result for face B", interactive=False)
    swap_button.click(swap, [attribute, photo_a, photo_b], [result_a, result_b], api_name="genegan_swap")
    remove_button.click(remove, [attribute, photo_a, photo_b], [result_a, result_b], api_visibility="private")
    transplant_button.click(
        transplant, [attribute, photo_a, photo_b, strength], [result_a, result_b], api_visibility="private"
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
    grid_image = gr.Image(label="Attribute grid", interactive=False)
    grid_button.click(grid, [attribute, target, *refs, size], grid_image, api_name="genegan_grid")
