"""Inference objects shared by the UI, the Gradio API, the CLI and the evaluation scripts.

Each pipeline loads its checkpoint once and works on plain numpy images, so every behaviour exists
in one place. A missing checkpoint raises ``CheckpointMissingError`` with the command that trains it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from facegan.errors import CheckpointMissingError
from facegan.faces import PreparedFace, heatmap_to_image, landmark_heatmaps, prepare_face
from facegan.faces.align import TEMPLATE_SIZE
from facegan.faces.image_io import ImageInput
from facegan.models.attrgan import HAIR_COLOURS, AttrGANConfig, Generator, heatmap_to_signed
from facegan.models.genegan import Features, GeneGANConfig, bilinear_objects
from facegan.models.genegan import Generator as GeneGANGenerator
from facegan.paths import checkpoint_dir
from facegan.train.checkpoint import load_checkpoint, load_modules


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


@dataclass(frozen=True)
class AttributeEdit:
    """Everything the attribute-transfer tab shows."""

    aligned: np.ndarray
    heatmap: np.ndarray | None
    output: np.ndarray
    side_output: np.ndarray | None
    photo: np.ndarray


class AttributeTransfer:
    """Landmark-conditioned attribute editing (seed 000) from ``checkpoints/<name>.safetensors``."""

    def __init__(self, name: str = "attrgan", directory: Path | None = None, device: str = "cpu") -> None:
        state, record = load_checkpoint((directory or checkpoint_dir()) / name)
        model = dict(record["config"]["model"])
        model["attributes"] = tuple(model["attributes"])
        self.config = AttrGANConfig(**model)
        self.record = record
        self.device = torch.device(device)
        self.generator = Generator(self.config)
        load_modules({"G": self.generator}, state)
        self.generator.to(self.device).eval()

    @property
    def attributes(self) -> tuple[str, ...]:
        return self.config.attributes

    def prepare(self, image: ImageInput, face_index: int = 0) -> PreparedFace:
        """Detect and align once; edits of the same photo reuse the result."""
        return prepare_face(image, face_index)

    def heatmap(self, prepared: PreparedFace) -> torch.Tensor:
        """The landmark heatmap of the aligned face, [0, 1], 1x1xRxR."""
        return landmark_heatmaps(
            prepared.aligned.points68, self.config.resolution, self.config.heatmap_sigma,
            source_size=TEMPLATE_SIZE, per_landmark=False,
        )[None]

    def target_vector(self, targets: Mapping[str, bool]) -> torch.Tensor:
        """Target attributes as the generator's 0/1 vector; at most one hair colour may be set."""
        chosen_hair = [name for name in HAIR_COLOURS if targets.get(name)]
        if len(chosen_hair) > 1:
            raise ValueError(f"choose at most one hair colour, not {', '.join(chosen_hair)}")
        return torch.tensor([[float(bool(targets.get(name, False))) for name in self.attributes]])

    @torch.inference_mode()
    def edit(self, prepared: PreparedFace, targets: Mapping[str, bool]) -> AttributeEdit:
        """Translate the aligned face to ``targets`` and paste the result back into the photo."""
        size = self.config.resolution
        face = image_to_tensor(prepared.aligned.crop, size).to(self.device)
        heatmap = self.heatmap(prepared).to(self.device)
        out = self.generator(
            face, heatmap_to_signed(heatmap) if self.config.use_heatmap else None,
            self.target_vector(targets).to(self.device),
        )
        output = tensor_to_image(out.image)
        side = None
        if out.heatmap is not None:
            side = heatmap_to_image(((out.heatmap[0].float().cpu() + 1) / 2).clamp(0, 1))
        return AttributeEdit(
            aligned=prepared.aligned.crop,
            heatmap=heatmap_to_image(heatmap[0].cpu()) if self.config.use_heatmap else None,
            output=output,
            side_output=side,
            photo=prepared.paste(output),
        )


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


@dataclass(frozen=True)
class GeneGANEdit:
    """One GeneGAN child: the generated crop and the photo with it pasted back."""

    output: np.ndarray
    photo: np.ndarray


class GeneGAN:
    """Object transfiguration (seed 003) for one attribute from ``checkpoints/genegan_<attribute>``.

    Faces are ``PreparedFace`` objects (``prepare`` them once, reuse them for every operation).
    """

    GRID_SIZES = range(2, 9)
    STRENGTH_RANGE = (0.0, 1.5)
    """Transplant strengths: the paper's attribute-subspace claim covers scaling u by 0 to 1.5."""

    def __init__(self, attribute: str = "Smiling", directory: Path | None = None, device: str = "cpu") -> None:
        name = genegan_checkpoint_name(attribute)
        try:
            state, record = load_checkpoint((directory or checkpoint_dir()) / name)
        except CheckpointMissingError as err:
            raise CheckpointMissingError(
                f"no GeneGAN checkpoint for {attribute} ({err}); train it with "
                f"`python -m facegan.train genegan --attribute {attribute} --export {name}`"
            ) from err
        self.config = GeneGANConfig(**record["config"]["model"])
        self.record = record
        self.device = torch.device(device)
        self.generator = GeneGANGenerator(self.config)
        load_modules({"G": self.generator}, state)
        self.generator.to(self.device).eval()

    @property
    def attribute(self) -> str:
        return self.config.attribute

    @staticmethod
    def prepare(image: ImageInput, face_index: int = 0) -> PreparedFace:
        """Detect and align once; every operation takes prepared faces."""
        return prepare_face(image, face_index)

    def _encode(self, faces: Sequence[PreparedFace]) -> Features:
        batch = torch.cat([image_to_tensor(f.aligned.crop, self.config.resolution) for f in faces])
        return self.generator.encode(batch.to(self.device))

    def _child(self, face: PreparedFace, image: torch.Tensor) -> GeneGANEdit:
        output = tensor_to_image(image)
        return GeneGANEdit(output=output, photo=face.paste(output))

    @torch.inference_mode()
    def swap(self, a: PreparedFace, b: PreparedFace) -> tuple[GeneGANEdit, GeneGANEdit]:
        """Both crossbreeds: A with b's object and B with a's object."""
        (background_a, background_b), (object_a, object_b) = (part.split(1) for part in self._encode([a, b]))
        images = self.generator.decode(torch.cat([background_a, background_b]), torch.cat([object_b, object_a]))
        return self._child(a, images[:1]), self._child(b, images[1:])

    @torch.inference_mode()
    def remove(self, face: PreparedFace) -> GeneGANEdit:
        """The face decoded with the null object (u = 0): attribute removed."""
        return self._child(face, self.generator.decode(self._encode([face]).background))

    @torch.inference_mode()
    def transplant(self, donor: PreparedFace, target: PreparedFace, strength: float = 1.0) -> GeneGANEdit:
        """``target`` with the donor's object scaled by ``strength`` (0 removes, 1 copies, >1 exaggerates)."""
        low, high = self.STRENGTH_RANGE
        if not low <= strength <= high:
            raise ValueError(f"strength must be between {low:g} and {high:g}, got {strength:g}")
        background, obj = self._encode([target, donor])
        return self._child(target, self.generator.decode(background[:1], strength * obj[1:]))

    @torch.inference_mode()
    def grid(self, target: PreparedFace, references: Sequence[PreparedFace], n: int = 5) -> np.ndarray:
        """Eq. 6: the target's background with the 4 references' objects bilinearly blended, as one
        n x n image (references in reading order: top-left, top-right, bottom-left, bottom-right)."""
        if len(references) != 4:
            raise ValueError(f"the grid needs 4 reference faces, got {len(references)}")
        if n not in self.GRID_SIZES:
            raise ValueError(f"grid size must be {self.GRID_SIZES.start} to {self.GRID_SIZES.stop - 1}, got {n}")
        background, obj = self._encode([target, *references])
        objects = bilinear_objects(obj[1:], n)
        images = self.generator.decode(background[:1].expand(n * n, -1, -1, -1), objects)
        size = self.config.resolution
        tiles = images.reshape(n, n, 3, size, size).permute(2, 0, 3, 1, 4).reshape(3, n * size, n * size)
        return tensor_to_image(tiles)
