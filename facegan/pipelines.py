"""Inference objects shared by the UI, the Gradio API, the CLI and the evaluation scripts.

Each pipeline loads its checkpoint once and works on plain numpy images, so every behaviour exists
in one place. A missing checkpoint raises ``CheckpointMissingError`` with the command that trains it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple, TypeVar

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torchvision.transforms.functional import gaussian_blur

from facegan.audio.data import SOUND_CLASSES, scene_to_draw
from facegan.audio.features import Analysis, FeaturizerConfig, SoundFeaturizer, analyse
from facegan.audio.io import AudioInput, blend, fit_window, gain_db, load_audio
from facegan.faces import (
    AlignedFace,
    PreparedFace,
    add_change_back,
    align_face,
    face_region_mask,
    heatmap_to_image,
    landmark_heatmaps,
    paste_back,
    prepare_all_faces,
    prepare_face,
)
from facegan.faces.align import TEMPLATE_SIZE
from facegan.faces.aus import AU_MAX
from facegan.errors import CheckpointMissingError
from facegan.models.judge import AttributeJudge, load_judge
from facegan.faces.image_io import ImageInput
from facegan.models.attrgan import HAIR_COLOURS, AttrGANConfig, Generator, heatmap_input
from facegan.models.audiogan import AudioGANConfig, pick_recognisable
from facegan.models.audiogan import Discriminator as AudioGANDiscriminator
from facegan.models.audiogan import Generator as AudioGANGenerator
from facegan.models.eggan import EGGANConfig, Expression, apply_change, expression_change, interpolate_aus
from facegan.models.eggan import Encoder as EGGANEncoder
from facegan.models.eggan import Latent
from facegan.models.eggan import Generator as EGGANGenerator
from facegan.models.genegan import GeneGANConfig, bilinear_objects
from facegan.models.genegan import Generator as GeneGANGenerator
from facegan.paths import checkpoint_dir
from facegan.checkpoints import config_from_record, ema_key, load_modules, load_shipped, weights_path
from facegan.validation import numbers


def image_to_tensor(rgb: np.ndarray, size: int) -> torch.Tensor:
    """HxWx3 uint8 -> 1x3xSxS float in [-1, 1] (antialiased resize)."""
    tensor = torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)[None].float() / 127.5 - 1
    if tensor.shape[-1] != size:
        tensor = F.interpolate(tensor, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return tensor


def tensor_to_image(tensor: torch.Tensor) -> np.ndarray:
    """1x3xHxW or 3xHxW in [-1, 1] -> HxWx3 uint8."""
    tensor = tensor.detach().float().cpu().squeeze(0)
    return ((tensor.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(1, 2, 0).numpy()


def resize_square(images: torch.Tensor, size: int) -> torch.Tensor:
    """[N, 3, S, S] -> [N, 3, size, size], antialiased (a no-op at the same size)."""
    if images.shape[-1] == size:
        return images
    return F.interpolate(images, size=(size, size), mode="bilinear", antialias=True, align_corners=False)


def change_at_crop_size(crops: torch.Tensor, small: torch.Tensor, edited_small: torch.Tensor) -> torch.Tensor:
    """``crops`` plus the generator's change ``edited_small - small``, upsampled to the crops' size.

    Generators that predict a change (mask and colour) run at their own, low resolution; only their
    change is resampled, so the crops keep the photo's own detail wherever the change is 0.
    """
    change = F.interpolate(edited_small.float() - small, size=crops.shape[-2:], mode="bilinear", align_corners=False)
    return (crops + change).clamp(-1, 1)


def photo_with_crop_change(
    prepared: PreparedFace,
    crop: torch.Tensor,
    edited: torch.Tensor,
    onto: np.ndarray | None = None,
    region: np.ndarray | None = None,
) -> np.ndarray:
    """The photo with the change ``edited - crop`` (aligned crops [1, 3, S, S] in [-1, 1]) added at its own
    resolution (``facegan.faces.add_change_back``). ``onto`` is the photo to add it to, by default the
    face's own; a group edit passes the photo that already carries the other faces' changes. ``region``
    (S x S weights) limits the change, e.g. to the face without hair and background."""
    change = (edited - crop)[0].permute(1, 2, 0).cpu().numpy() * 127.5
    if region is not None:
        change *= region[..., None]
    return add_change_back(prepared.photo if onto is None else onto, change, prepared.aligned)


E = TypeVar("E", bound="AttributeEdit | GeneGANEdit | AUEdit")
FaceT = TypeVar("FaceT", bound="PreparedFace | EncodedFace")


def channels_last(module: torch.nn.Module) -> torch.nn.Module:
    """The module with its conv weights in channels-last layout, which oneDNN runs faster on CPU for the larger
    generators: EGGAN's G (a batch of two) took 21 ms instead of 27, a GeneGAN 5x5 grid 56 ms instead of 70.
    Attribute transfer's G gained nothing and keeps the default layout."""
    return module.to(memory_format=torch.channels_last)  # type: ignore[call-overload]


def edit_each_face(faces: Sequence[FaceT], edit: Callable[[FaceT, np.ndarray | None], E]) -> list[E]:
    """``edit(face, onto)`` for every face of one photo, each onto the previous result: the last edit's
    photo carries every face's change."""
    edits: list[E] = []
    for face in faces:
        edits.append(edit(face, edits[-1].photo if edits else None))
    return edits


@dataclass(frozen=True)
class AttributeEdit:
    """Everything the attribute-transfer tab shows."""

    aligned: np.ndarray
    heatmap: np.ndarray | None
    output: np.ndarray
    """The aligned crop with the change applied (at the crop's resolution, not the generator's)."""
    mask: np.ndarray
    """Where the edit acts: the generator's attention, HxW uint8."""
    side_output: np.ndarray | None
    photo: np.ndarray
    source: dict[str, bool]
    """The attributes the edit started from (the face's own, as estimated, unless given)."""
    targets: dict[str, bool]

    @property
    def requested(self) -> list[str]:
        """The attributes this edit was asked to change."""
        return [name for name, value in self.targets.items() if value != self.source[name]]


class CropEdit(NamedTuple):
    """Edited aligned crops and what the generator said about them, at the crops' own resolution."""

    images: torch.Tensor
    """[N, 3, S, S] in [-1, 1]."""
    mask: torch.Tensor
    """[N, 1, S, S] attention in [0, 1]."""
    side_heatmap: torch.Tensor | None
    """[N, 1, R, R] the generator's landmark heatmap in [0, 1], at its own resolution R."""


@lru_cache(maxsize=1)
def attribute_judge() -> AttributeJudge:
    """The independent attribute judge, loaded once (raises ``CheckpointMissingError`` until trained)."""
    return load_judge()


class AttributeTransfer:
    """Landmark-conditioned attribute editing (seed 000) from ``checkpoints/<name>.safetensors``.

    The generator predicts a change (attention mask and colour) on a low-resolution copy of the
    aligned face; that change is upsampled and added to the photo's own pixels, so the edit has the
    photo's sharpness wherever the generator leaves it alone.
    """

    def __init__(self, name: str = "attrgan", directory: Path | None = None, device: str = "cpu") -> None:
        state, record = load_shipped(name, "attrgan", directory)
        self.config = config_from_record(AttrGANConfig, record["config"]["model"])
        self.record = record
        self.weights_file = weights_path(name, directory)
        self.device = torch.device(device)
        self.generator = Generator(self.config)
        load_modules({"G": self.generator}, {"G": state.get(ema_key("G"), state["G"])})  # a run's EMA, if any
        self.generator.to(self.device).eval()

    @property
    def attributes(self) -> tuple[str, ...]:
        return self.config.attributes

    def prepare(self, image: ImageInput, face_index: int = 0) -> PreparedFace:
        """Detect and align once; edits of the same photo reuse the result."""
        return prepare_face(image, face_index)

    def heatmaps(self, points68: np.ndarray | torch.Tensor, source_size: int = TEMPLATE_SIZE) -> torch.Tensor:
        """Landmark heatmaps [N, 1, R, R] in [0, 1] for landmarks (N, 68, 2) in a ``source_size`` crop."""
        points = torch.as_tensor(np.asarray(points68, dtype=np.float32)).reshape(-1, 68, 2)
        return landmark_heatmaps(
            points, self.config.resolution, self.config.heatmap_sigma, source_size=source_size, per_landmark=False
        )

    def heatmap(self, prepared: PreparedFace) -> torch.Tensor:
        """The landmark heatmap of the aligned face, [0, 1], 1x1xRxR."""
        return self.heatmaps(prepared.aligned.points68)

    def estimate_attributes(self, prepared: PreparedFace) -> dict[str, bool]:
        """The face's own attributes by the attribute judge (at most one hair colour: the likeliest),
        or all False where the judge is not trained: where an edit starts from."""
        try:
            judge = attribute_judge()
        except CheckpointMissingError:
            return dict.fromkeys(self.attributes, False)
        names = list(self.attributes)
        scores = judge.probabilities(image_to_tensor(prepared.aligned.crop, 64), names)[0].tolist()
        probabilities = dict(zip(names, scores, strict=True))
        present = {name: p > 0.5 for name, p in probabilities.items()}
        hair = [name for name in names if name in HAIR_COLOURS]
        if hair:
            likeliest = max(hair, key=probabilities.get)
            present.update({name: name == likeliest and present[name] for name in hair})
        return present

    def target_vector(self, targets: Mapping[str, bool]) -> torch.Tensor:
        """Target attributes as the generator's 0/1 vector; at most one hair colour may be set."""
        chosen_hair = [name for name in HAIR_COLOURS if targets.get(name)]
        if len(chosen_hair) > 1:
            raise ValueError(f"choose at most one hair colour, not {', '.join(chosen_hair)}")
        return torch.tensor([[float(bool(targets.get(name, False))) for name in self.attributes]])

    @torch.inference_mode()
    def edit_crops(
        self, crops: torch.Tensor, heatmaps: torch.Tensor, targets: torch.Tensor, sources: torch.Tensor
    ) -> CropEdit:
        """Edit aligned crops [N, 3, S, S] in [-1, 1] of any size S from their attributes ``sources`` to
        ``targets`` (0/1, [N or 1, A]); only the attributes that differ are changed.

        The generator sees the crops at its resolution; its change is upsampled and added to the
        crops themselves. The evaluation calls this too, so it measures what the app shows.
        """
        crops = crops.to(self.device)
        small = resize_square(crops, self.config.resolution)
        out = self.generator(
            small, heatmap_input(self.config, heatmaps.to(self.device)),
            (targets - sources).to(self.device).expand(len(crops), -1),
        )
        mask = F.interpolate(out.mask.float(), size=crops.shape[-2:], mode="bilinear", align_corners=False)
        side = None if out.heatmap is None else ((out.heatmap.float() + 1) / 2).clamp(0, 1)
        return CropEdit(change_at_crop_size(crops, small, out.image), mask, side)

    def edit(
        self,
        prepared: PreparedFace,
        targets: Mapping[str, bool],
        source: Mapping[str, bool] | None = None,
        onto: np.ndarray | None = None,
    ) -> AttributeEdit:
        """Give the face the attributes ``targets`` (from ``source``, by default the judge's estimate of
        its own attributes): the aligned face and, at its own resolution, the photo (``onto``, by default
        the face's own photo)."""
        crop = image_to_tensor(prepared.aligned.crop, prepared.aligned.size)
        heatmap = self.heatmap(prepared)
        own = self.estimate_attributes(prepared) if source is None else source
        edited = self.edit_crops(crop, heatmap, self.target_vector(targets), self.target_vector(own))
        return AttributeEdit(
            aligned=prepared.aligned.crop,
            heatmap=heatmap_to_image(heatmap[0]) if self.config.use_heatmap else None,
            output=tensor_to_image(edited.images),
            mask=heatmap_to_image(edited.mask[0].cpu()),
            side_output=None if edited.side_heatmap is None else heatmap_to_image(edited.side_heatmap[0].cpu()),
            photo=photo_with_crop_change(prepared, crop, edited.images, onto),
            source={name: bool(own.get(name, False)) for name in self.attributes},
            targets={name: bool(targets.get(name, False)) for name in self.attributes},
        )

    def edit_all(self, faces: Sequence[PreparedFace], targets: Mapping[str, bool]) -> list[AttributeEdit]:
        """Every face of one photo towards ``targets``, each from its own estimated attributes; each
        edit's photo carries the changes of the faces before it, so the last one has them all.

        Each change is predicted from the original pixels; where two faces' crops overlap, both changes
        are added there (they fade out towards each crop's border)."""
        return edit_each_face(faces, lambda face, onto: self.edit(face, targets, onto=onto))


def genegan_checkpoint_name(attribute: str) -> str:
    """``Smiling`` -> ``genegan_smiling``: one shipped checkpoint per attribute."""
    return f"genegan_{attribute.lower()}"


def genegan_attributes(directory: Path | None = None) -> list[str]:
    """Attributes with a shipped GeneGAN checkpoint, read from the records (sorted)."""
    folder = directory or checkpoint_dir()
    found = []
    for record_path in folder.glob("genegan_*.json"):
        if record_path.with_suffix(".safetensors").is_file():
            found.append(json.loads(record_path.read_text(encoding="utf-8"))["config"]["model"]["attribute"])
    return sorted(found)


class Crossbreeds(NamedTuple):
    """Both faces of each pair without the object, and each with the other's object (crops in [-1, 1])."""

    a_removed: torch.Tensor
    b_removed: torch.Tensor
    a_with_b: torch.Tensor
    b_with_a: torch.Tensor


@dataclass(frozen=True)
class GeneGANEdit:
    """One GeneGAN child: the aligned crop with the change applied (at the crop's resolution) and the photo
    with the change added at its own resolution."""

    output: np.ndarray
    photo: np.ndarray


class GeneGAN:
    """Object transfiguration (seed 003) for one attribute from ``checkpoints/genegan_<attribute>``.

    Faces are ``PreparedFace`` objects (``prepare`` them once, reuse them for every operation). The
    generator sees each aligned crop at 64 px and predicts a change there; the change is upsampled and
    added to the crop and to the photo, so what the mask leaves out keeps its own pixels.
    """

    GRID_SIZES = range(2, 9)
    GRID_CELL = 128
    """Pixels per grid cell: the target's own crop at this size, sharper than the generator's 64 px."""
    STRENGTH_RANGE = (0.0, 1.5)
    """Transplant strengths: the paper's attribute-subspace claim covers scaling u by 0 to 1.5."""

    def __init__(self, attribute: str = "Smiling", directory: Path | None = None, device: str = "cpu") -> None:
        name = genegan_checkpoint_name(attribute)
        state, record = load_shipped(name, "genegan", directory, "--attribute", attribute)
        self.config = config_from_record(GeneGANConfig, record["config"]["model"])
        self.record = record
        self.weights_file = weights_path(name, directory)
        self.device = torch.device(device)
        self.generator = GeneGANGenerator(self.config)
        load_modules({"G": self.generator}, {"G": state.get(ema_key("G"), state["G"])})  # a run's EMA, if any
        channels_last(self.generator).to(self.device).eval()

    @property
    def attribute(self) -> str:
        return self.config.attribute

    @staticmethod
    def prepare(image: ImageInput, face_index: int = 0) -> PreparedFace:
        """Detect and align once; every operation takes prepared faces."""
        return prepare_face(image, face_index)

    def _crops(self, faces: Sequence[PreparedFace]) -> tuple[list[torch.Tensor], torch.Tensor]:
        """Each face's aligned crop at its own size, and all of them at the generator's resolution."""
        crops = [image_to_tensor(face.aligned.crop, face.aligned.size).to(self.device) for face in faces]
        return crops, torch.cat([resize_square(crop, self.config.resolution) for crop in crops])

    def _child(
        self, face: PreparedFace, crop: torch.Tensor, small: torch.Tensor, child: torch.Tensor,
        onto: np.ndarray | None = None,
    ) -> GeneGANEdit:
        edited = change_at_crop_size(crop, small, child)
        return GeneGANEdit(output=tensor_to_image(edited), photo=photo_with_crop_change(face, crop, edited, onto))

    @torch.inference_mode()
    def crossbreed_crops(self, a: torch.Tensor, b: torch.Tensor) -> Crossbreeds:
        """Removals and swaps for pairs of aligned crops [N, 3, S, S] of any size S, the change applied at S."""
        crops = torch.cat([a, b]).to(self.device)
        small = resize_square(crops, self.config.resolution)
        background, obj = self.generator.encode(small)
        n = len(a)
        removed = self.generator.decode(background, None, small)
        swapped = self.generator.decode(background, torch.cat([obj[n:], obj[:n]]), small)
        a_removed, b_removed = change_at_crop_size(crops, small, removed).split(n)
        a_with_b, b_with_a = change_at_crop_size(crops, small, swapped).split(n)
        return Crossbreeds(a_removed, b_removed, a_with_b, b_with_a)

    @torch.inference_mode()
    def swap(self, a: PreparedFace, b: PreparedFace) -> tuple[GeneGANEdit, GeneGANEdit]:
        """Both crossbreeds: A with b's object and B with a's object."""
        crops, small = self._crops([a, b])
        background, obj = self.generator.encode(small)
        children = self.generator.decode(background, obj.flip(0), small)
        return (
            self._child(a, crops[0], small[:1], children[:1]),
            self._child(b, crops[1], small[1:], children[1:]),
        )

    @torch.inference_mode()
    def remove(self, face: PreparedFace, onto: np.ndarray | None = None) -> GeneGANEdit:
        """The face decoded with the null object (u = 0): attribute removed. ``onto``: the photo to add
        the change to (default the face's own), as in ``AttributeTransfer.edit``."""
        (crop,), small = self._crops([face])
        removed = self.generator.decode(self.generator.encode(small).background, None, small)
        return self._child(face, crop, small, removed, onto)

    @torch.inference_mode()
    def transplant(
        self, donor: PreparedFace, target: PreparedFace, strength: float = 1.0, onto: np.ndarray | None = None
    ) -> GeneGANEdit:
        """``target`` with the donor's object scaled by ``strength`` (0 removes, 1 copies, >1 exaggerates)."""
        low, high = self.STRENGTH_RANGE
        if not low <= strength <= high:
            raise ValueError(f"strength must be between {low:g} and {high:g}, got {strength:g}")
        (crop, _), small = self._crops([target, donor])
        background, obj = self.generator.encode(small)
        child = self.generator.decode(background[:1], strength * obj[1:], small[:1])
        return self._child(target, crop, small[:1], child, onto)

    @torch.inference_mode()
    def grid(self, target: PreparedFace, references: Sequence[PreparedFace], n: int = 5) -> np.ndarray:
        """Eq. 6: the target's own face with the 4 references' objects bilinearly blended, as one n x n
        image (references in reading order: top-left, top-right, bottom-left, bottom-right)."""
        if len(references) != 4:
            raise ValueError(f"the grid needs 4 reference faces, got {len(references)}")
        if n not in self.GRID_SIZES:
            raise ValueError(f"grid size must be {self.GRID_SIZES.start} to {self.GRID_SIZES.stop - 1}, got {n}")
        crops, small = self._crops([target, *references])
        background, obj = self.generator.encode(small)
        target_small = small[:1].expand(n * n, -1, -1, -1)
        backgrounds = background[:1].expand(n * n, -1, -1, -1)
        children = self.generator.decode(backgrounds, bilinear_objects(obj[1:], n), target_small)
        cell = self.GRID_CELL
        cells = change_at_crop_size(resize_square(crops[0], cell).expand(n * n, -1, -1, -1), target_small, children)
        tiles = cells.reshape(n, n, 3, cell, cell).permute(2, 0, 3, 1, 4).reshape(3, n * cell, n * cell)
        return tensor_to_image(tiles)


class MeasuredFace(NamedTuple):
    """A face with everything an edit needs but the generator's pass (``AUEditor.measure``): the webcam
    mirror measures one frame while the generator renders the previous one."""

    prepared: PreparedFace
    latent: Latent
    aus: np.ndarray
    sharp_crop: torch.Tensor
    mask: np.ndarray

    def with_reconstruction(self, reconstruction: torch.Tensor) -> EncodedFace:
        return EncodedFace(self.prepared, self.latent, self.aus, reconstruction, self.sharp_crop, self.mask)


@dataclass(frozen=True)
class EncodedFace:
    """A prepared face with what every edit reuses: EGGAN's latent code of the aligned crop, the measured
    AUs, the generator's reconstruction G(l, u_x), the crop again at the photo's own resolution (what the
    detail-keeping mode adds the change to) and its paste-back mask (the face region only: an expression
    edit leaves hair and background alone)."""

    prepared: PreparedFace
    latent: Latent
    aus: np.ndarray
    reconstruction: torch.Tensor
    sharp_crop: torch.Tensor
    mask: np.ndarray

    def mask_at(self, size: int) -> np.ndarray:
        """The paste-back mask for a crop of ``size`` pixels."""
        if size == self.mask.shape[0]:
            return self.mask
        return cv2.resize(self.mask, (size, size), interpolation=cv2.INTER_AREA)


MAX_SHARP_SIZE = 512
"""Largest crop the detail-keeping mode works at (faces bigger than this in the photo are downsampled)."""


def sharp_crop_size(aligned: AlignedFace) -> int:
    """The crop size that keeps the photo's own resolution of the face: no upsampling, at most 512 px."""
    size = 16 * round(aligned.size / aligned.scale / 16)
    return int(np.clip(size, aligned.size, MAX_SHARP_SIZE))


DETAIL_BLUR_SIGMA = 1.0
"""Blur (in pixels at the model's resolution) of an ungated generator's change before it is added to the photo."""


def keep_photo_detail(crop: torch.Tensor, edited: Expression, reconstruction: torch.Tensor) -> torch.Tensor:
    """The photo's crop plus the generator's change (``facegan.models.eggan.expression_change``), in [-1, 1].

    The change carries the expression; the photo keeps the skin, eyes and identity that a generator
    trained on CPU redraws only as a blur. At the face's own AUs the result is the photo itself. A gated
    generator's mask confines the change to where the AUs act; the paper's ungated G has no mask, so its
    change is lightly blurred instead, which takes its stripe artefacts out (measured in the eggan eval).
    A ``crop`` larger than the generator's output gets the change upsampled.
    """
    change = expression_change(edited, reconstruction)
    if edited.mask is None:
        change = gaussian_blur(change, kernel_size=5, sigma=DETAIL_BLUR_SIGMA)
    return apply_change(crop, change)


@dataclass(frozen=True)
class AUEdit:
    """One AU edit: the generated crop and the photo with it pasted back."""

    output: np.ndarray
    photo: np.ndarray


class AUEditor:
    """Continuous Action Unit editing (EGGAN, seed 001) from ``checkpoints/<name>.safetensors``.

    ``encode`` a photo once (detection, alignment, AU measurement, E, the reconstruction); each ``edit``
    then costs one generator pass and a paste-back, which is what keeps slider moves interactive.
    ``keep_detail`` (the default) shows the photo plus the generator's change (``keep_photo_detail``);
    without it, the generator's own face.
    """

    FRAMES_RANGE = (2, 32)

    def __init__(self, name: str = "eggan", directory: Path | None = None, device: str = "cpu") -> None:
        state, record = load_shipped(name, "eggan", directory)
        # Records from before the gated G have no "gated" field: their G is the paper's, ungated.
        self.config = config_from_record(EGGANConfig, {"gated": False, **record["config"]["model"]})
        self.record = record
        self.weights_file = weights_path(name, directory)
        self.device = torch.device(device)
        self.encoder, self.generator = EGGANEncoder(self.config), EGGANGenerator(self.config)
        load_modules({"E": self.encoder, "G": self.generator}, state)
        self.encoder.to(self.device).eval()
        channels_last(self.generator).to(self.device).eval()

    @torch.inference_mode()
    def encode_crops(self, crops: torch.Tensor) -> Latent:
        """Latent codes [N, latent_dim] (and skip maps) of aligned faces in [-1, 1] at the model's resolution."""
        return self.encoder(crops.to(self.device))

    @torch.inference_mode()
    def render(self, latent: Latent, aus: np.ndarray | torch.Tensor) -> Expression:
        """G(l, u) for N latents and AU rows [N, 17] (or one row for all): faces in [-1, 1] and masks."""
        aus = torch.as_tensor(np.asarray(aus, dtype=np.float32)).reshape(-1, self.config.num_aus)
        return self.generator(latent, aus.to(self.device).clamp(0, AU_MAX).expand(latent.batch, -1))

    def encode(self, image: ImageInput, face_index: int = 0) -> EncodedFace:
        """Detect, align, measure the face's AUs and encode it: everything later edits reuse."""
        return self.encode_prepared(prepare_face(image, face_index))

    def encode_all(self, image: ImageInput) -> list[EncodedFace]:
        """``encode`` for every face of a group photo, largest first."""
        return [self.encode_prepared(prepared) for prepared in prepare_all_faces(image)]

    def encode_prepared(self, prepared: PreparedFace) -> EncodedFace:
        """``encode`` for a face already detected and aligned (a group photo's faces, a video frame)."""
        face = self.measure(prepared)
        return face.with_reconstruction(self.render(face.latent, face.aus).face)

    def measure(self, prepared: PreparedFace) -> MeasuredFace:
        """E's code, the measured AUs, the crop at the photo's own resolution and its paste-back mask."""
        aligned = prepared.aligned
        latent = self.encode_crops(image_to_tensor(aligned.crop, self.config.resolution))
        size = sharp_crop_size(aligned)
        sharp = aligned if size == aligned.size else align_face(prepared.photo, prepared.face.points68, size)
        crop, mask = image_to_tensor(sharp.crop, size), face_region_mask(sharp.points68, size)
        return MeasuredFace(prepared, latent, prepared.aus(), crop, mask)

    def edit_measured(self, face: MeasuredFace, change: np.ndarray, keep_detail: bool = True) -> AUEdit:
        """Move a measured face's AUs by ``change`` with one generator call (its own AUs and the target as a
        batch of two): the webcam mirror's per-frame path, where nothing is reused."""
        both = self.render(face.latent.expand(2), np.stack([face.aus, np.clip(face.aus + change, 0, AU_MAX)]))
        return self._paste(face.with_reconstruction(both.face[:1]), both.map(lambda t: t[1:]), keep_detail)

    def _finish(self, face: EncodedFace, edited: Expression, keep_detail: bool) -> list[np.ndarray]:
        images = keep_photo_detail(face.sharp_crop, edited, face.reconstruction) if keep_detail else edited.face
        return [tensor_to_image(image) for image in images]

    def _paste(
        self, face: EncodedFace, edited: Expression, keep_detail: bool, onto: np.ndarray | None = None
    ) -> AUEdit:
        """The edit of one face and the photo with it: in detail mode only the change is added to the photo
        (every pixel it leaves alone stays the photo's own); otherwise G's face is pasted over the face."""
        photo = face.prepared.photo if onto is None else onto
        if keep_detail:
            shown = keep_photo_detail(face.sharp_crop, edited, face.reconstruction)
            region = face.mask_at(shown.shape[-1])
            photo = photo_with_crop_change(face.prepared, face.sharp_crop, shown, photo, region)
            return AUEdit(output=tensor_to_image(shown[0]), photo=photo)
        output = tensor_to_image(edited.face[0])
        return AUEdit(output=output, photo=paste_back(photo, output, face.prepared.aligned, face.mask_at(len(output))))

    def edit(self, face: EncodedFace, aus: Sequence[float] | np.ndarray, keep_detail: bool = True) -> AUEdit:
        """The face with AU intensities ``aus`` (17 values, 0-5), and the photo with it pasted back."""
        values = numbers(np.ravel(aus), "AU intensities", self.config.num_aus, 0, AU_MAX)
        return self._paste(face, self.render(face.latent, values), keep_detail)

    def edit_all(
        self, faces: Sequence[EncodedFace], change: Sequence[float] | np.ndarray, keep_detail: bool = True
    ) -> list[AUEdit]:
        """Every face of one photo with the same AU ``change`` (17 values) added to its own AUs, so each
        keeps the rest of its expression; the last edit's photo carries them all."""
        delta = numbers(np.ravel(change), "AU changes", self.config.num_aus, -AU_MAX, AU_MAX)
        return edit_each_face(
            faces,
            lambda face, onto: self._paste(
                face, self.render(face.latent, np.clip(face.aus + delta, 0, AU_MAX)), keep_detail, onto
            ),
        )

    def interpolate(
        self, face: EncodedFace, target: np.ndarray, frames: int = 8, keep_detail: bool = True
    ) -> list[np.ndarray]:
        """Eq. 8: crops for alpha = 0 .. 1 in ``frames`` even steps from the face's AUs to ``target``."""
        low, high = self.FRAMES_RANGE
        if not low <= frames <= high:
            raise ValueError(f"frames must be between {low} and {high}, got {frames}")
        alphas = torch.linspace(0, 1, frames)[:, None]
        source, goal = torch.from_numpy(face.aus), torch.as_tensor(np.asarray(target, dtype=np.float32))
        edited = self.render(face.latent.expand(frames), interpolate_aus(source, goal, alphas))
        return self._finish(face, edited, keep_detail)


@dataclass(frozen=True)
class PreparedSound:
    """A sound cut to the model's 4 s window at its original level, and its analysis (see ``facegan.audio``)."""

    window: np.ndarray
    analysis: Analysis


class SoundToScene:
    """Audio-to-scene synthesis (seed 004) from ``checkpoints/<name>.safetensors`` (generator + featurizer).

    ``gain`` scales the sound's amplitude (2 = twice as loud, +6 dB); the generator was trained so that
    louder means closer (see ``facegan.train.audiogan``).
    """

    GAIN_RANGE = (0.5, 3.0)
    VOLUME_ROW = (0.5, 1.0, 2.0, 3.0)
    """The gains of the paper's Table 3."""
    TRUNCATION = 0.7
    """z is drawn from N(0, I) scaled by this (the truncation trick of BigGAN, Brock et al. 2019): the
    sound, not the seed, should decide the scene. With one draw per seed the shipped G needed 0.5 for
    that; with the best of ``BEST_OF``, 0.7 keeps the sound deciding and lets one sound's scenes vary
    about as much as real photos of a scene do (pixel L1 over 8 seeds, ``python -m facegan.eval
    audiogan --truncation T --best-of K``)."""

    BEST_OF = 8
    """Each seed draws this many z and keeps the one whose scene D's scene head reads most clearly as
    the heard scene (``pick_recognisable``). At truncation 0.7 the class match rises with K up to 8 and
    is flat beyond (``python benchmarks/audiogan_best_of.py``; docs/sound_to_scene.md)."""

    def __init__(
        self, name: str = "audiogan", directory: Path | None = None, device: str = "cpu",
        truncation: float | None = None, best_of: int | None = None,
    ) -> None:  # fmt: skip
        """``best_of``: candidates per seed (default ``BEST_OF`` when the checkpoint ships its
        discriminator, else 1: the Table 4 rungs are drawn as the paper draws them)."""
        state, record = load_shipped(name, "audiogan", directory)
        self.record = record
        self.truncation = self.TRUNCATION if truncation is None else truncation
        self.config = config_from_record(AudioGANConfig, record["config"]["model"])
        self.device = torch.device(device)
        self.generator = AudioGANGenerator(self.config)
        self.features = SoundFeaturizer(FeaturizerConfig(**record["config"]["features"]))
        modules: dict[str, torch.nn.Module] = {"G": self.generator, "features": self.features}
        self.critic = AudioGANDiscriminator(self.config) if "D" in state and self.config.aux_classifier else None
        if self.critic is not None:
            modules["D"] = self.critic
        load_modules(modules, state)
        self.best_of = (self.BEST_OF if self.critic is not None else 1) if best_of is None else best_of
        if self.best_of < 1:
            raise ValueError(f"best_of must be at least 1, got {best_of}")
        if self.best_of > 1 and self.critic is None:
            raise ValueError(f"checkpoint {name!r} has no discriminator scene head to pick the best of {best_of}")
        for module in modules.values():
            module.to(self.device).eval()

    @staticmethod
    def prepare(audio: AudioInput) -> PreparedSound:
        """Decode, validate and window a sound once; every generation reuses it."""
        window = fit_window(load_audio(audio))
        return PreparedSound(window, analyse(window))

    @staticmethod
    def blend(first: PreparedSound, second: PreparedSound, share: float) -> PreparedSound:
        """Two prepared sounds played together, ``share`` of the way from the first to the second."""
        window = blend(first.window, second.window, share)
        return PreparedSound(window, analyse(window))

    def _inputs(self, prepared: PreparedSound, gain: float) -> tuple[torch.Tensor, torch.Tensor]:
        low, high = self.GAIN_RANGE
        if not low <= gain <= high:
            raise ValueError(f"volume must be between {low:g}x and {high:g}x, got {gain:g}x")
        shifted = prepared.analysis.shift(gain_db(gain))
        return (
            torch.from_numpy(shifted.logmel)[None].to(self.device),
            torch.from_numpy(shifted.logspec)[None].to(self.device),
        )

    @torch.inference_mode()
    def classify(self, prepared: PreparedSound, gain: float = 1.0) -> dict[str, float]:
        """Probability of each sound class (the learned encoder's classifier head)."""
        logmel, _ = self._inputs(prepared, gain)
        probabilities = self.features.encoder.probabilities(logmel)[0].tolist()
        return dict(zip(SOUND_CLASSES, probabilities, strict=True))

    @torch.inference_mode()
    def pick_noise(self, logmel: torch.Tensor, logspec: torch.Tensor, candidates: torch.Tensor) -> torch.Tensor:
        """z [B, z_dim] for B draws of sounds given at unit gain (log-mel [B or 1, mels, frames] and
        log-spectrum [B or 1, bins]): the best of each draw's standard-normal ``candidates`` [B, best_of,
        z_dim], truncated. Made at unit gain, so that the volume moves only the camera, never the draw;
        with one candidate it is that candidate, as before picking existed."""
        z = self.truncation * candidates.to(self.device)
        if self.best_of == 1:
            return z[:, 0]
        assert self.critic is not None
        logmel, logspec = logmel.to(self.device), logspec.to(self.device)
        embedding = self.features.encoder.embed(logmel)  # once, for s and for the heard scene
        s = self.features(logmel, logspec, embedding).expand(len(z), -1)
        scene = scene_to_draw(self.features.encoder.probabilities_of(embedding)).expand(len(z))
        return pick_recognisable(self.generator, self.critic, s, scene, z)

    def _seeded_candidates(self, seeds: Sequence[int]) -> torch.Tensor:
        """One row of ``best_of`` candidates per seed; the first is the z a seed drew before picking."""
        return torch.stack([
            torch.randn(self.best_of, self.config.z_dim, generator=torch.Generator().manual_seed(int(seed)))
            for seed in seeds
        ])  # fmt: skip

    @torch.inference_mode()
    def generate(self, prepared: PreparedSound, gain: float = 1.0, seeds: Sequence[int] = (0,)) -> list[np.ndarray]:
        """One 64x64 scene per seed (the seed fixes z's candidates), for the sound played at ``gain``."""
        s = self.features(*self._inputs(prepared, gain))
        z = self.pick_noise(*self._inputs(prepared, 1.0), self._seeded_candidates(seeds))
        return [tensor_to_image(image) for image in self.generator(s.expand(len(seeds), -1), z)]

    @torch.inference_mode()
    def volume_row(self, prepared: PreparedSound, seed: int = 0) -> list[np.ndarray]:
        """The paper's Table 3: one seed's scene at each of ``VOLUME_ROW``'s gains, in one batch."""
        s = torch.cat([self.features(*self._inputs(prepared, gain)) for gain in self.VOLUME_ROW])
        z = self.pick_noise(*self._inputs(prepared, 1.0), self._seeded_candidates([seed])).expand(len(s), -1)
        return [tensor_to_image(image) for image in self.generator(s, z)]

    @torch.inference_mode()
    def __call__(self, clip: AudioInput) -> np.ndarray:
        """One scene for a clip at unit gain, its ``best_of`` candidate z drawn from torch's global RNG
        (callers seed it; each call draws ``best_of`` vectors)."""
        inputs = self._inputs(self.prepare(clip), 1.0)
        z = self.pick_noise(*inputs, torch.randn(1, self.best_of, self.config.z_dim))
        return tensor_to_image(self.generator(self.features(*inputs), z))
