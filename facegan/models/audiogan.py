"""Audio-to-scene GAN (Wan et al., ICASSP 2019, seed 004): G(s, z) -> 64x64 scene, D(x, s) -> score.

G is the DCGAN generator (transposed convolutions, BatchNorm + ReLU, tanh) fed ``s ⊕ z`` with a 10-d
z, as in the paper. D is a strided-conv trunk whose switches give the rungs of Table 4:

- ``conditioning="concat"``: the text-to-image cGAN of Reed et al.: ``s`` is projected, tiled over
  the 4x4 feature map and concatenated before the last convolution;
- ``conditioning="projection"``: score = linear(phi(x)) + <W s, phi(x)> (Miyato & Koyama), with
  phi(x) the sum-pooled 4x4 features;
- ``spectral``: spectral norm on every D layer (and no BatchNorm, which SN replaces);
- ``aux_classifier``: a linear head on phi(x) predicting the scene class (Eq. 1-2's P_C).
The loss (non-saturating or hinge) lives in the recipe.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from facegan.models.dcgan import DCGANConfig, init_dcgan_weights
from facegan.models.dcgan import Generator as DCGANGenerator
from facegan.nn.blocks import ConvNormAct, Projection, sn

Conditioning = Literal["concat", "projection"]


@dataclass
class AudioGANConfig:
    """Networks only; the feature type and training switches are in the recipe's config."""

    cond_dim: int = 257
    z_dim: int = 10
    num_scenes: int = 5
    g_width: int = 16  # channels of G's finest feature map (doubled per coarser stage)
    d_width: int = 16
    spectral: bool = True
    conditioning: Conditioning = "projection"
    aux_classifier: bool = True
    concat_dim: int = 64  # size of the tiled projection of s in the concat discriminator

    def __post_init__(self) -> None:
        if self.conditioning not in ("concat", "projection"):
            raise ValueError(f"conditioning must be concat or projection, got {self.conditioning!r}")


class Generator(nn.Module):
    """(s [B, cond_dim], z [B, z_dim]) -> image [B, 3, 64, 64] in [-1, 1]."""

    def __init__(self, config: AudioGANConfig) -> None:
        super().__init__()
        self.config = config
        dcgan = DCGANConfig(resolution=64, z_dim=config.cond_dim + config.z_dim, width=config.g_width)
        self.net = DCGANGenerator(dcgan)

    def forward(self, s: Tensor, z: Tensor) -> Tensor:
        return self.net(torch.cat([s, z], dim=1))


class Discriminator(nn.Module):
    """(image, s) -> (score [B], scene logits [B, num_scenes] or None)."""

    def __init__(self, config: AudioGANConfig) -> None:
        super().__init__()
        self.config = config
        w, on = config.d_width, config.spectral
        norm = "none" if on else "batch"
        widths = [w, 2 * w, 4 * w, 8 * w]  # 32, 16, 8, 4 px
        layers = [ConvNormAct(3, widths[0], 4, 2, 1, act="lrelu", spectral=on)]
        layers += [ConvNormAct(a, b, 4, 2, 1, norm=norm, act="lrelu", spectral=on) for a, b in pairwise(widths)]
        self.trunk = nn.Sequential(*layers)
        top = widths[-1]
        if config.conditioning == "concat":
            self.embed = nn.Sequential(sn(nn.Linear(config.cond_dim, config.concat_dim), on), nn.LeakyReLU(0.2))
            self.join = ConvNormAct(top + config.concat_dim, top, 1, norm=norm, act="lrelu", spectral=on)
            self.out = sn(nn.Conv2d(top, 1, 4), on)
        else:
            self.out = sn(nn.Linear(top, 1), on)
            self.project = Projection(config.cond_dim, top, spectral=on)
        self.aux = sn(nn.Linear(top, config.num_scenes), on) if config.aux_classifier else None
        init_dcgan_weights(self)

    def forward(self, x: Tensor, s: Tensor) -> tuple[Tensor, Tensor | None]:
        features = self.trunk(x)
        pooled = features.sum(dim=(2, 3))
        if self.config.conditioning == "concat":
            tiled = self.embed(s)[:, :, None, None].expand(-1, -1, *features.shape[2:])
            score = self.out(self.join(torch.cat([features, tiled], dim=1))).flatten()
        else:
            score = (self.out(pooled) + self.project(features, s)).flatten()
        return score, self.aux(pooled) if self.aux is not None else None


GAINS_DB: tuple[float, ...] = tuple(float(d) for d in range(-6, 11))
"""The volume range of training (and of the eval's augmented probes): -6 to +10 dB on a 1 dB grid."""
ZOOM_RANGE = (0.5, 2.0)
"""The distance augmentation's zoom limits (louder means closer, up to 2x)."""


def zoom(images: Tensor, factors: Tensor) -> Tensor:
    """Zoom each image about its centre by its factor (> 1 enlarges; < 1 shrinks with reflected borders)."""
    scale = 1.0 / factors.float()
    theta = torch.zeros(len(images), 2, 3, device=images.device)
    theta[:, 0, 0] = theta[:, 1, 1] = scale
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images.float(), grid, mode="bilinear", padding_mode="reflection", align_corners=False)


def zoom_for_level(relative_db: Tensor, exponent: float) -> Tensor:
    """The distance augmentation's zoom for a clip ``relative_db`` louder than its class's median level."""
    return (10 ** (exponent * relative_db.float() / 20)).clamp(*ZOOM_RANGE)
