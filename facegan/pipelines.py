"""Inference objects shared by the UI, the Gradio API, the CLI and the evaluation scripts.

Each pipeline loads its checkpoint once and works on plain numpy images, so every behaviour exists
in one place. A missing checkpoint raises ``CheckpointMissingError`` with the command that trains it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from facegan.faces import PreparedFace, heatmap_to_image, landmark_heatmaps, prepare_face
from facegan.faces.align import TEMPLATE_SIZE
from facegan.faces.image_io import ImageInput
from facegan.models.attrgan import HAIR_COLOURS, AttrGANConfig, Generator, heatmap_to_signed
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
