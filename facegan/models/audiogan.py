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

Two generator switches were added after the ladder (``generator="residual"``, ``camera_zoom``): a
residual upsampling generator (SN-GAN's shape), and an explicit camera zoom. The volume effect is
the distance augmentation's law ("louder means closer"), so instead of hoping G discovers it in one
of 257 inputs, G draws the scene and a fixed zoom layer enlarges it about the centre by
``exp(slope * (level - reference(s)))``, with the augmentation's slope and each kind of sound's
typical level (``CameraZoom``).

``pick_recognisable`` is inference only: of several z drawn for one seed, it keeps the one whose
image D's scene head finds most like the scene the sound is heard as.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from facegan.models.dcgan import DCGANConfig, init_dcgan_weights
from facegan.models.dcgan import Generator as DCGANGenerator
from facegan.nn.blocks import ConvNormAct, Projection, UpResidualBlock, make_norm, sn

Conditioning = Literal["concat", "projection"]
GeneratorKind = Literal["dcgan", "residual"]


GAINS_DB: tuple[float, ...] = tuple(float(d) for d in range(-6, 11))
"""The volume range of training (and of the eval's augmented probes): -6 to +10 dB on a 1 dB grid."""
ZOOM_RANGE = (0.5, 2.0)
"""The distance augmentation's zoom limits (louder means closer, up to 2x)."""


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
    generator: GeneratorKind = "dcgan"
    camera_zoom: bool = False
    zoom_slope: float = 0.0  # d(log zoom) / d(level component of s) of the camera; the recipe sets it
    min_zoom: float = ZOOM_RANGE[0]  # the camera's (and the distance augmentation's) zoom-out limit

    def __post_init__(self) -> None:
        if self.conditioning not in ("concat", "projection"):
            raise ValueError(f"conditioning must be concat or projection, got {self.conditioning!r}")
        if self.generator not in ("dcgan", "residual"):
            raise ValueError(f"generator must be dcgan or residual, got {self.generator!r}")


class ResidualGenerator(nn.Module):
    """x [B, in_dim] -> linear to 4x4 -> 4 upsampling residual blocks -> BN, ReLU, 3x3 conv, tanh: 64x64."""

    def __init__(self, in_dim: int, width: int) -> None:
        super().__init__()
        widths = [width * 2**i for i in range(4, -1, -1)]  # 4x4 ... 64x64
        self.top = widths[0]
        self.project = nn.Linear(in_dim, 16 * widths[0])
        self.blocks = nn.Sequential(*[UpResidualBlock(a, b, norm="batch", act="relu") for a, b in pairwise(widths)])
        last = widths[-1]
        self.out = nn.Sequential(make_norm("batch", last), nn.ReLU(), nn.Conv2d(last, 3, 3, 1, 1), nn.Tanh())

    def forward(self, x: Tensor) -> Tensor:
        return self.out(self.blocks(self.project(x).view(len(x), self.top, 4, 4)))


class CameraZoom(nn.Module):
    """Zooms G's scene by exp(slope * (level - reference(s))), clamped to [min_zoom, ZOOM_RANGE[1]].

    A fixed layer, not a learned one: it is the distance augmentation's law ("louder means closer")
    written into G. The level is the last component of s (standardised); ``reference`` reads the
    rest of s and gives each kind of sound its typical level (fitted once, ``fit_reference``). When
    the slope and reference were trainable, G learned to zoom every scene to the 2x limit (a blurry
    centre crop fooled D as well as a whole scene), so both are buffers saved with the weights.
    """

    def __init__(self, cond_dim: int, slope: float, min_zoom: float = ZOOM_RANGE[0]) -> None:
        super().__init__()
        self.min_zoom = min_zoom
        self.register_buffer("slope", torch.tensor(float(slope)))
        self.register_buffer("reference_weight", torch.zeros(cond_dim - 1))
        self.register_buffer("reference_bias", torch.zeros(()))

    @torch.no_grad()
    def fit_reference(self, s: Tensor, level: Tensor, ridge: float = 1.0) -> None:
        """Set ``reference`` to the ridge regression of each clip's typical level (standardised like
        s's level) on the rest of s."""
        inputs = torch.cat([s[:, :-1], torch.ones(len(s), 1)], dim=1).double()
        penalty = ridge * torch.eye(inputs.shape[1], dtype=torch.float64)
        penalty[-1, -1] = 0
        solution = torch.linalg.solve(inputs.T @ inputs + penalty, inputs.T @ level.double())
        self.reference_weight.copy_(solution[:-1].float())
        self.reference_bias.copy_(solution[-1].float())

    def factors(self, s: Tensor) -> Tensor:
        reference = s[:, :-1] @ self.reference_weight + self.reference_bias
        log_zoom = self.slope * (s[:, -1] - reference)
        return log_zoom.clamp(float(np.log(self.min_zoom)), float(np.log(ZOOM_RANGE[1]))).exp()

    def forward(self, images: Tensor, s: Tensor) -> Tensor:
        return zoom(images, self.factors(s))


class Generator(nn.Module):
    """(s [B, cond_dim], z [B, z_dim]) -> image [B, 3, 64, 64] in [-1, 1]."""

    def __init__(self, config: AudioGANConfig) -> None:
        super().__init__()
        self.config = config
        in_dim = config.cond_dim + config.z_dim
        if config.generator == "residual":
            self.net: nn.Module = ResidualGenerator(in_dim, config.g_width)
        else:
            self.net = DCGANGenerator(DCGANConfig(resolution=64, z_dim=in_dim, width=config.g_width))
        self.camera = CameraZoom(config.cond_dim, config.zoom_slope, config.min_zoom) if config.camera_zoom else None

    def forward(self, s: Tensor, z: Tensor) -> Tensor:
        images = self.net(torch.cat([s, z], dim=1))
        return self.camera(images, s) if self.camera is not None else images


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


def zoom(images: Tensor, factors: Tensor) -> Tensor:
    """Zoom each image about its centre by its factor (> 1 enlarges; < 1 shrinks with reflected borders)."""
    scale = 1.0 / factors.float()
    zero = torch.zeros_like(scale)
    theta = torch.stack([torch.stack([scale, zero, zero], 1), torch.stack([zero, scale, zero], 1)], 1)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images.float(), grid, mode="bilinear", padding_mode="reflection", align_corners=False)


def zoom_for_level(relative_db: Tensor, exponent: float, min_zoom: float = ZOOM_RANGE[0]) -> Tensor:
    """The distance augmentation's zoom for a clip ``relative_db`` louder than its class's median level."""
    return (10 ** (exponent * relative_db.float() / 20)).clamp(min_zoom, ZOOM_RANGE[1])


def pick_recognisable(
    generator: Generator, critic: Discriminator, s: Tensor, scene: Tensor, candidates: Tensor
) -> Tensor:
    """Of each row's candidate noise vectors [B, K, z_dim], the one whose image (drawn from that row's
    s) the critic's scene head gives the highest log-probability of ``scene`` [B] (GAN_SCENES indices).

    The scene head was trained on real photos, so this keeps the draw that reads most clearly as the
    heard scene; measured in docs/sound_to_scene.md."""
    rows, count, _ = candidates.shape
    flat_s, flat_z = s.repeat_interleave(count, dim=0), candidates.flatten(0, 1)
    _, logits = critic(generator(flat_s, flat_z), flat_s)
    if logits is None:
        raise ValueError("pick_recognisable needs a discriminator with a scene head (aux_classifier=True)")
    log_p = logits.float().log_softmax(1).view(rows, count, -1)
    chosen = log_p.gather(2, scene.to(log_p.device).view(rows, 1, 1).expand(-1, count, 1)).squeeze(2).argmax(1)
    return candidates[torch.arange(rows, device=chosen.device), chosen]
