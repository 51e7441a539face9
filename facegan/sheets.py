"""``python -m facegan.sheets {attrgan,audiogan,eggan,genegan} [--out docs/<model>_sheet.jpg]``: the sample sheets a
reader of the README looks at before trusting any number.

attrgan: rows are faces; columns are the input and one edit per attribute, starting from the face's own
attributes (the judge's estimate on photos, CelebA's labels on val faces): a hair colour is switched
on, anything else toggled. The app's example photos come first, cut around the face from the
full-resolution photo the app returns; then val faces at the 128 px of the CelebA crops.

eggan: the 7 expression presets (columns) in both of the AU tab's modes, the example photos (cut from the
photo the tab returns) and then val faces; a generated-face block starts from G's reconstruction.

genegan: one block per shipped attribute; each row is a pair A, B (the example photos, then val faces
with and without the attribute), both with the attribute removed and each with the other's.

audiogan: one row per scene: 4 scenes drawn from 4 held-out recordings of that scene (seeds 0-3), then 2
real val photos of it; below, the Table 3 volume row (0.5x, 1x, 2x, 3x, one seed) for 3 of the app's
example sounds. Cells are the model's 64 px, enlarged.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import Image, ImageDraw

from facegan.audio.data import GAN_SCENES, SCENE_OF_SOUND, ClipCache, clip_cache, sounds_root
from facegan.audio.examples import EXAMPLE_SOUNDS
from facegan.checkpoints import train_command
from facegan.data.attribute_pairs import val_pairs
from facegan.data.celeba_landmarks import ANNOTATION_SIZE
from facegan.data.scenes import SCENE_CLASSES, load_scenes
from facegan.errors import CheckpointMissingError
from facegan.eval.attrgan_metrics import LandmarkFaces, edit_target
from facegan.faces import PreparedFace
from facegan.models.attrgan import HAIR_COLOURS
from facegan.paths import REPO_ROOT, UI_EXAMPLES_DIR
from facegan.data.celeba_aus import val_faces
from facegan.faces.aus import EXPRESSION_PRESETS, preset_aus
from facegan.pipelines import (
    AttributeTransfer,
    AUEditor,
    EncodedFace,
    GeneGAN,
    SoundToScene,
    genegan_attributes,
    keep_photo_detail,
    tensor_to_image,
)

PHOTO_CELL = 256
HEADER = 22
EXAMPLES = ("grace_hopper.jpg", "astronaut.jpg")


def face_box(prepared: PreparedFace, image: np.ndarray, size: int) -> np.ndarray:
    """The photo region the aligned crop covers, upright, at ``size`` px (area-filtered)."""
    matrix = prepared.aligned.matrix * (size / prepared.aligned.size)
    return cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE)


def column_labels(attributes: Sequence[str]) -> list[str]:
    return ["input"] + [f"+{name}" if name in HAIR_COLOURS else f"~{name}" for name in attributes]


def photo_rows(model: AttributeTransfer, photos: Sequence[Path]) -> list[list[np.ndarray]]:
    """Each photo, then its edits, cut from the full-resolution result."""
    rows = []
    for path in photos:
        prepared = model.prepare(path)
        own = model.estimate_attributes(prepared)
        source = model.target_vector(own)
        row = [face_box(prepared, prepared.photo, PHOTO_CELL)]
        for index in range(len(model.attributes)):
            target, _ = edit_target(source, index, model.attributes)
            targets = {name: bool(value) for name, value in zip(model.attributes, target[0].tolist())}
            row.append(face_box(prepared, model.edit(prepared, targets, own).photo, PHOTO_CELL))
        rows.append(row)
    return rows


def val_rows(model: AttributeTransfer, faces: int, data: str | None = None) -> list[list[np.ndarray]]:
    """The first ``faces`` val faces and their edits through ``edit_crops``, at 128 px."""
    dataset = LandmarkFaces(data, "val", ANNOTATION_SIZE, model.attributes, limit=faces)
    images, source, points = (torch.stack(parts) for parts in zip(*(dataset[i] for i in range(len(dataset)))))
    heatmaps = model.heatmaps(points, ANNOTATION_SIZE)
    columns = [images] + [
        model.edit_crops(images, heatmaps, edit_target(source, index, model.attributes)[0], source).images
        for index in range(len(model.attributes))
    ]
    return [[tensor_to_image(column[row]) for column in columns] for row in range(len(images))]


def grid(rows: list[list[np.ndarray]], labels: Sequence[str]) -> Image.Image:
    """Rows of equal-size cells under a header of column labels."""
    cell = rows[0][0].shape[0]
    sheet = Image.new("RGB", (cell * len(labels), HEADER + cell * len(rows)), "white")
    draw = ImageDraw.Draw(sheet)
    for column, label in enumerate(labels):
        draw.text((column * cell + 4, 5), label, fill="black")
    for r, row in enumerate(rows):
        for column, image in enumerate(row):
            sheet.paste(Image.fromarray(image), (column * cell, HEADER + r * cell))
    return sheet


def attrgan_sheet(checkpoint: str = "attrgan", faces: int = 6, data: str | None = None) -> Image.Image:
    """The example photos (256 px cells) above ``faces`` val faces (128 px cells)."""
    model = AttributeTransfer(checkpoint)
    labels = column_labels(model.attributes)
    top = grid(photo_rows(model, [UI_EXAMPLES_DIR / name for name in EXAMPLES]), labels)
    return stack([top, grid(val_rows(model, faces, data), labels)])


GENEGAN_TRAIN_COMMAND = train_command("genegan", "genegan_smiling", "--attribute", "Smiling")
GENEGAN_LABELS = ("A", "B", "A removed", "B removed", "A with B's", "B with A's")
VAL_CELL = 128


def genegan_photo_row(model: GeneGAN) -> list[np.ndarray]:
    """The two example photos through the tab's own calls, cut around the face from the returned photos."""
    a, b = (model.prepare(UI_EXAMPLES_DIR / name) for name in EXAMPLES)
    a_with_b, b_with_a = model.swap(a, b)
    results = (a.photo, b.photo, model.remove(a).photo, model.remove(b).photo, a_with_b.photo, b_with_a.photo)
    return [face_box(face, image, VAL_CELL) for face, image in zip((a, b) * 3, results)]


GRID_ATTRIBUTE = "Smiling"
"""The grid's attribute: one that both example photos differ in (the astronaut smiles, Grace Hopper does not)."""


def genegan_grid_block(model: GeneGAN, size: int = 5) -> Image.Image:
    """The tab's example grid: the first photo's face with the objects of (first, second, second, first)
    blended bilinearly, each cell the face itself at 128 px with the change added."""
    first, second = (model.prepare(UI_EXAMPLES_DIR / name) for name in EXAMPLES)
    image = model.grid(first, [first, second, second, first], size)
    return grid([[image]], [f"{model.attribute}: {size}x{size} grid, {EXAMPLES[0]} with the objects of both photos"])


def genegan_sheet(checkpoint: str = "genegan", faces: int = 6, data: str | None = None) -> Image.Image:
    """Per attribute: its name, the example photos' row, then ``faces`` val pairs at 128 px; last, a 5x5 grid
    (``GRID_ATTRIBUTE`` when it is shipped)."""
    attributes = genegan_attributes() if checkpoint == "genegan" else [checkpoint]
    if not attributes:
        raise CheckpointMissingError(f"no GeneGAN checkpoint is shipped; train one with `{GENEGAN_TRAIN_COMMAND}`")
    blocks, models = [], {}
    for attribute in attributes:
        model = models[attribute] = GeneGAN(attribute)
        a, b = val_pairs(data, attribute, VAL_CELL, faces)
        kids = model.crossbreed_crops(a, b)
        columns = (a, b, kids.a_removed, kids.b_removed, kids.a_with_b, kids.b_with_a)
        rows = [genegan_photo_row(model)] + [[tensor_to_image(c[i]) for c in columns] for i in range(len(a))]
        blocks.append(grid(rows, [f"{attribute}: {GENEGAN_LABELS[0]}", *GENEGAN_LABELS[1:]]))
    shown = GRID_ATTRIBUTE if GRID_ATTRIBUTE in attributes else attributes[0]
    return stack([*blocks, genegan_grid_block(models[shown])])


EGGAN_MODES = {True: "photo detail kept", False: "generated face"}


def eggan_photo_rows(model: AUEditor, faces: Sequence[EncodedFace], keep_detail: bool) -> list[list[np.ndarray]]:
    """Each encoded example photo, then its 7 presets as the AU tab returns them, cut around the face."""
    rows = []
    for face in faces:
        first = face.prepared.photo if keep_detail else model.edit(face, face.aus, keep_detail).photo
        edits = [model.edit(face, preset_aus(preset), keep_detail).photo for preset in EXPRESSION_PRESETS]
        rows.append([face_box(face.prepared, image, PHOTO_CELL) for image in (first, *edits)])
    return rows


def eggan_val_columns(model: AUEditor, faces: int, data: str | None) -> dict[bool, list[torch.Tensor]]:
    """Per mode (keep detail or not), the columns of the first ``faces`` val faces: the input (or G's
    reconstruction), then the 7 presets, at the model's resolution."""
    images, aus, _ = val_faces(data, model.config.resolution, faces)
    latent = model.encode_crops(images)
    reconstruction = model.render(latent, aus).face
    edits = [model.render(latent, preset_aus(preset)) for preset in EXPRESSION_PRESETS]
    return {
        True: [images, *(keep_photo_detail(images, edited, reconstruction) for edited in edits)],
        False: [reconstruction, *(edited.face for edited in edits)],
    }


def eggan_sheet(checkpoint: str = "eggan", faces: int = 6, data: str | None = None) -> Image.Image:
    """Both modes: the example photos (256 px cells), then ``faces`` val faces (the model's resolution)."""
    model = AUEditor(checkpoint)
    photos = [model.encode(UI_EXAMPLES_DIR / name) for name in EXAMPLES]
    columns = eggan_val_columns(model, faces, data)
    photo_blocks, val_blocks = [], []
    for keep_detail, mode in EGGAN_MODES.items():
        labels = [f"{mode}: {'input' if keep_detail else 'G(l, own AUs)'}", *EXPRESSION_PRESETS]
        photo_blocks.append(grid(eggan_photo_rows(model, photos, keep_detail), labels))
        shown = columns[keep_detail]
        val_rows = [[tensor_to_image(column[row]) for column in shown] for row in range(len(shown[0]))]
        val_blocks.append(grid(val_rows, labels))
    return stack([*photo_blocks, *val_blocks])


SCENE_CELL = 128
VOLUME_SOUNDS = ("sea_waves", "car_horn", "helicopter")


def _enlarge(image: np.ndarray, size: int = SCENE_CELL, label: str = "") -> np.ndarray:
    """The cell at ``size`` px, with ``label`` in its corner (a row's name)."""
    cell = Image.fromarray(image).resize((size, size), Image.Resampling.LANCZOS)
    if label:
        draw = ImageDraw.Draw(cell)
        draw.rectangle((0, 0, 7 * len(label) + 6, 14), fill="white")
        draw.text((3, 1), label, fill="black")
    return np.asarray(cell)


def _one_per_recording(rows: list[int], cache: ClipCache) -> list[int]:
    """The first clip of each recording (class and freesound id): slices of one sound look alike."""
    seen: dict[tuple[str, int], int] = {}
    for i in rows:
        seen.setdefault((cache.clips[i].label, cache.clips[i].freesound_id), i)
    return list(seen.values())


def audiogan_sheet(checkpoint: str = "audiogan", data: str | None = None) -> Image.Image:
    model = SoundToScene(checkpoint)
    cache, root = clip_cache(data), sounds_root(data)
    held_out = cache.select(held_out=True, with_scene=True)
    photos, labels = load_scenes(data, "val")
    rng = np.random.default_rng(0)
    rows = []
    for scene in GAN_SCENES:
        clips = _one_per_recording([i for i in held_out if SCENE_OF_SOUND[cache.clips[i].label] == scene], cache)[:4]
        sounds = [model.prepare(str(root / cache.clips[i].path)) for i in clips]
        generated = [model.generate(sound, 1.0, seeds=[k])[0] for k, sound in enumerate(sounds)]
        real = rng.choice(np.flatnonzero(labels.numpy() == SCENE_CLASSES.index(scene)), 2, replace=False)
        cells = [_enlarge(image, label=scene if k == 0 else "") for k, image in enumerate(generated)]
        rows.append(cells + [_enlarge(photos[k].permute(1, 2, 0).numpy()) for k in real])
    scenes = grid(rows, [f"held-out recording {k + 1}" for k in range(4)] + ["real photo", "real photo"])
    sounds = {sound.label: sound for sound in EXAMPLE_SOUNDS}
    volume_rows = []
    for label in VOLUME_SOUNDS:
        prepared = model.prepare(str(sounds[label].path))
        images = model.volume_row(prepared, 0)
        volume_rows.append([_enlarge(image, label=label if k == 0 else "") for k, image in enumerate(images)])
    volume = grid(volume_rows, [f"{gain:g}x volume" for gain in model.VOLUME_ROW])
    return stack([scenes, volume])


def stack(blocks: Sequence[Image.Image]) -> Image.Image:
    """Sheets one above the other, left-aligned."""
    sheet = Image.new("RGB", (max(b.width for b in blocks), sum(b.height for b in blocks)), "white")
    for index, block in enumerate(blocks):
        sheet.paste(block, (0, sum(b.height for b in blocks[:index])))
    return sheet


FACE_SHEETS = {"attrgan": attrgan_sheet, "eggan": eggan_sheet, "genegan": genegan_sheet}


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(prog="python -m facegan.sheets", description=__doc__.splitlines()[0])
    parser.add_argument("model", choices=sorted([*FACE_SHEETS, "audiogan"]))
    parser.add_argument(
        "--checkpoint", help="checkpoint name (default: the model's shipped one; genegan: an attribute, default all)"
    )
    parser.add_argument("--faces", type=int, default=6, help="val faces below the example photos (face models)")
    parser.add_argument("--data", help="dataset root (default: $FACEGAN_DATA or ../shared/data)")
    parser.add_argument("--out", type=Path, help="default: docs/<model>_sheet.jpg")
    args = parser.parse_args(argv)
    out = args.out or REPO_ROOT / "docs" / f"{args.model}_sheet.jpg"
    out.parent.mkdir(parents=True, exist_ok=True)
    name = args.checkpoint or args.model
    if args.model == "audiogan":
        sheet = audiogan_sheet(name, args.data)
    else:
        sheet = FACE_SHEETS[args.model](name, args.faces, args.data)
    sheet.save(out, quality=90)
    print(out)
    return out


if __name__ == "__main__":
    main()
