"""Sound to scene tab: generate scene photos from a sound clip (paper 004), with a volume control."""

from __future__ import annotations

from functools import lru_cache

import gradio as gr
import numpy as np

from facegan.audio.data import SCENE_OF_SOUND
from facegan.audio.examples import EXAMPLE_SOUNDS
from facegan.audio.io import SAMPLE_RATE, to_pcm16
from facegan.checkpoints import train_command
from facegan.audio.synth import siren
from facegan.pipelines import PreparedSound, SoundToScene
from facegan.ui.common import RESULT_FORMAT, checkpoint_or_notice, for_display, result_image, user_errors
from facegan.validation import MAX_SEED, number, whole_number

DESCRIPTION = (
    "Upload or record a sound (sea waves, rain, a siren, a jackhammer, ...) and the generator "
    "draws 64x64 scenes it suggests: sea, forest, street, buildings or mountains. The volume slider "
    "scales the sound's loudness; the generator was trained so that louder means closer, and the "
    "row below shows the same scene at 0.5x, 1x, 2x and 3x the volume."
)
TRAIN_COMMAND = train_command("audiogan", "audiogan")
EXAMPLES = [str(sound.path) for sound in EXAMPLE_SOUNDS]
EXAMPLES_LABEL = "Example recordings (held-out clips, never trained on)"
CREDITS = "Example sounds from freesound.org, via ESC-10 (CC BY 3.0) and UrbanSound8K (CC BY-NC 3.0): " + "; ".join(
    sound.credit for sound in EXAMPLE_SOUNDS
)
MAX_IMAGES = 8


@lru_cache(maxsize=1)
def pipeline() -> SoundToScene:
    """The shipped model, warmed up: librosa compiles its kernels on first use (seconds, once)."""
    model = SoundToScene()
    model.prepare((SAMPLE_RATE, siren(0.5)))
    return model


def _prepare(audio: str | None) -> PreparedSound:
    if audio is None:
        raise gr.Error("Upload or record a sound first.")
    return pipeline().prepare(audio)


def sound_label(probabilities: dict[str, float]) -> dict[str, float]:
    """Class probabilities keyed "class → scene" (dog barks have no scene here)."""
    return {f"{name} → {SCENE_OF_SOUND.get(name, 'no scene')}": p for name, p in probabilities.items()}


@user_errors
def generate(audio: str | None, volume: float, seed: float, count: float) -> tuple:
    """Predicted class, ``count`` scenes at ``volume`` (seeds seed, seed+1, ...), and the volume row."""
    model = pipeline()
    prepared = _prepare(audio)
    volume, seed = number(volume, "volume", *model.GAIN_RANGE), whole_number(seed, "seed", 0, MAX_SEED)
    scenes = model.generate(prepared, volume, range(seed, seed + whole_number(count, "count", 1, 16)))
    row = [for_display(image) for image in model.volume_row(prepared, seed)]
    players = [(SAMPLE_RATE, to_pcm16(prepared.window, gain)) for gain in model.VOLUME_ROW]
    label = sound_label(model.classify(prepared, volume))
    return (label, [for_display(image) for image in scenes], *row, *players)


BLEND_STEPS = (0.0, 0.25, 0.5, 0.75, 1.0)


@user_errors
def blend_sounds(first: str | None, second: str | None, share: float, seed: float) -> tuple:
    """Two sounds played together: the scene and predicted class at ``share`` of the way from the first to
    the second, and the strip of scenes at 0, 25, 50, 75 and 100% (one seed, so only the sound moves)."""
    model = pipeline()
    if first is None or second is None:
        raise gr.Error("Give two sounds to blend: the sound above and a second one.")
    a, b = model.prepare(first), model.prepare(second)
    share, seed = number(share, "blend", 0, 1), whole_number(seed, "seed", 0, MAX_SEED)
    mixed = model.blend(a, b, share)
    strip = [for_display(model.generate(model.blend(a, b, step), 1.0, [seed])[0]) for step in BLEND_STEPS]
    return sound_label(model.classify(mixed)), for_display(model.generate(mixed, 1.0, [seed])[0]), *strip


@user_errors
def scene(audio: str | None, volume: float = 1.0, seed: float = 0) -> np.ndarray:
    """API: one 64x64 scene for the sound at ``volume`` with noise seed ``seed``."""
    volume = number(volume, "volume", *SoundToScene.GAIN_RANGE)
    return pipeline().generate(_prepare(audio), volume, [whole_number(seed, "seed", 0, MAX_SEED)])[0]


def build_tab() -> None:
    """Lay out the tab's contents; must be called inside a ``gr.Tab``."""
    if checkpoint_or_notice("audiogan.safetensors", TRAIN_COMMAND, DESCRIPTION) is None:
        return
    low, high = SoundToScene.GAIN_RANGE
    with gr.Row():
        with gr.Column(scale=1):
            audio = gr.Audio(label="Sound", type="filepath", sources=["upload", "microphone"])
            volume = gr.Slider(low, high, value=1.0, step=0.05, label="Volume (x)")
            seed = gr.Number(
                label="Seed", value=0, precision=0, minimum=0,
                info="Each seed draws a few scenes and keeps the clearest one of the scene it hears",
            )  # fmt: skip
            count = gr.Slider(1, MAX_IMAGES, value=4, step=1, label="Scenes")
            run = gr.Button("Generate", variant="primary")
            gr.Examples([[path] for path in EXAMPLES], inputs=[audio], label=EXAMPLES_LABEL)
            gr.Markdown(CREDITS, elem_classes=["credits"])
        with gr.Column(scale=2):
            label = gr.Label(label="Predicted sound class → scene", num_top_classes=3)
            gallery = gr.Gallery(label="Generated scenes", columns=4, height=300, format=RESULT_FORMAT)
    gr.Markdown("### The same sound and seed at four volumes (the paper's Table 3)")
    row, players = [], []
    with gr.Row():
        for gain in SoundToScene.VOLUME_ROW:
            with gr.Column(min_width=160):
                row.append(result_image(f"{gain:g}x", height=200))
                players.append(gr.Audio(label=f"Sound at {gain:g}x", interactive=False))
    with gr.Accordion("Blend two sounds", open=False):
        gr.Markdown(
            "Play the sound above and a second one together, in any proportion (an equal-power mix), and "
            "see the scene move from one sound's scene to the other's. The seed stays fixed, so only the "
            "sound changes."
        )
        with gr.Row():
            second = gr.Audio(
                label="Second sound", type="filepath", sources=["upload", "microphone"], elem_id="second_sound"
            )
            share = gr.Slider(0, 1, value=0.5, step=0.05, label="Blend: first → second", elem_id="sound_blend")
            blend_button = gr.Button("Blend", variant="primary")
        with gr.Row():
            blend_label = gr.Label(label="Predicted class of the blend", num_top_classes=3)
            blended = result_image("The blend", height=200)
        with gr.Row():
            strip = [result_image(f"{step:.0%} second", height=160) for step in BLEND_STEPS]
        gr.Examples([[path] for path in EXAMPLES], inputs=[second], label="Example recordings")
    blend_outputs = [blend_label, blended, *strip]
    blend_button.click(blend_sounds, [audio, second, share, seed], blend_outputs, api_visibility="private")
    share.release(blend_sounds, [audio, second, share, seed], blend_outputs, api_visibility="private")
    outputs = [label, gallery, *row, *players]
    run.click(generate, [audio, volume, seed, count], outputs, api_visibility="private")
    volume.release(generate, [audio, volume, seed, count], outputs, api_visibility="private")
    # API: a sound, a volume and a seed in, one scene out (a button no one sees triggers it).
    gr.Button(visible=False).click(scene, [audio, volume, seed], row[1], api_name="sound_to_scene")
