"""EGGAN (seed 001): expression editing from a structured latent code and continuous AU intensities.

An adversarial autoencoder maps a face to a latent vector l = E(I) that a latent discriminator D_z
pushes towards a Gaussian prior (Eq. 1), so that codes, and blends of codes, stay on a smooth
manifold. A conditional generator G(l, u) decodes l together with a vector u of 17 Action Unit
intensities (0-5) into the face showing expression u; an image critic D_img (WGAN-GP, Eq. 2) keeps
outputs realistic and an AU classifier C_exp (d AUs x 6 intensity levels, Eq. 3), trained on real
faces only, tells G whether the requested expression is there. Editing is then: encode once, decode
with any u, e.g. u_i + alpha (u_t - u_i) for interpolation (Eq. 8).

Layout follows Sec. 4.1: E is five stride-2 convs (16, 32, 64, 128, 256 channels) and one FC; D_z is
FC 256-128-64-32-16-1; G is an FC to a 2x2 map and six up-sampling residual blocks (InstanceNorm +
PReLU), so it outputs 128x128 (64x64 takes five); D_img is six stride-2 convs. Widths of G, D_img and
C_exp are config fields so a CPU can train them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple, TypeVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from facegan.faces.aus import AU_MAX, AU_NUMBERS
from facegan.nn import ConvNormAct, UpResidualBlock, attention_mask_head

INTENSITY_LEVELS = 6
"""C_exp's classes per AU: intensities rounded to 0, 1, ..., 5 (Eq. 3, m = 5)."""


AUs = TypeVar("AUs", Tensor, np.ndarray)


@dataclass(frozen=True)
class EGGANConfig:
    """Architecture; the defaults are the shipped recipe's (``python -m facegan.train eggan``)."""

    resolution: int = 128
    num_aus: int = len(AU_NUMBERS)
    latent_dim: int = 256
    encoder_channels: tuple[int, ...] = (16, 32, 64, 128, 256)
    g_channels: tuple[int, ...] = (256, 128, 64, 32, 16, 16)
    """Output channels of G's up-sampling blocks (one block per doubling from 2x2)."""
    d_width: int = 16
    """D_img's first conv; each of its stride-2 convs doubles the channels."""
    d_layers: int = 6
    c_channels: tuple[int, ...] = (16, 32, 64, 128, 256)
    latent_d_widths: tuple[int, ...] = (256, 128, 64, 32, 16)
    gated: bool = True
    """G also predicts a mask that confines the expression change to where the AUs act (see ``apply_change``);
    False is the paper's G, which only draws the face (records written before the field existed)."""
    skip_resolutions: tuple[int, ...] = ()
    """Sizes (e.g. 16, 32) at which E's feature map is added to G's through a 1x1 conv: a latent that keeps
    more of the face than ``latent_dim`` numbers. Empty is the paper's G, which sees only the code."""

    def __post_init__(self) -> None:
        if self.resolution != 2 ** (len(self.g_channels) + 1):
            raise ValueError(
                f"{len(self.g_channels)} up-sampling blocks from 2x2 give {2 ** (len(self.g_channels) + 1)} px, "
                f"not {self.resolution}"
            )
        if self.resolution % 2 ** len(self.encoder_channels) or self.resolution % 2**self.d_layers:
            raise ValueError(f"resolution {self.resolution} is not divisible by the conv stacks' strides")
        shared = set(self.encoder_sizes()) & set(self.generator_sizes())
        if not set(self.skip_resolutions) <= shared:
            raise ValueError(f"skip resolutions {self.skip_resolutions} must be among {sorted(shared)}")

    def encoder_sizes(self) -> list[int]:
        """Side of each of E's conv outputs, first to last."""
        return [self.resolution // 2 ** (i + 1) for i in range(len(self.encoder_channels))]

    def generator_sizes(self) -> list[int]:
        """Side of each of G's up-sampling block outputs, first to last."""
        return [2 ** (i + 2) for i in range(len(self.g_channels))]


def scale_aus(aus: Tensor) -> Tensor:
    """AU intensities 0-5 -> 0-1, the range G's input layer sees."""
    return aus / AU_MAX


def intensity_classes(aus: Tensor) -> Tensor:
    """Eq. 3's labels: each intensity rounded to the nearest level in {0, ..., 5}."""
    return aus.round().clamp(0, INTENSITY_LEVELS - 1).long()


class Latent(NamedTuple):
    """E's output: the AAE code l that D_z regularises, and (G with skips) E's feature maps at
    ``skip_resolutions``, smallest first. Every edit of a face reuses it whole."""

    code: Tensor
    skips: tuple[Tensor, ...] = ()

    def map(self, fn: Callable[[Tensor], Tensor]) -> "Latent":
        """``fn`` applied to the code and every skip map, e.g. a slice, a repeat or a device move."""
        return Latent(fn(self.code), tuple(fn(t) for t in self.skips))

    def expand(self, count: int) -> "Latent":
        """One face's latent as a batch of ``count`` (a view, no copy)."""
        return self.map(lambda t: t.expand(count, *t.shape[1:]))

    @property
    def batch(self) -> int:
        return self.code.shape[0]


class ConvEncoder(nn.Module):
    """Stride-2 4x4 convs (InstanceNorm + LeakyReLU after the first) then one FC: image -> vector.

    Used twice: as E (vector = latent code) and as C_exp (vector = AU-level logits).
    """

    def __init__(self, resolution: int, channels: Sequence[int], out_dim: int) -> None:
        super().__init__()
        layers, in_ch = [], 3
        for index, out_ch in enumerate(channels):
            layers.append(ConvNormAct(in_ch, out_ch, 4, 2, 1, norm="none" if index == 0 else "instance", act="lrelu"))
            in_ch = out_ch
        self.convs = nn.Sequential(*layers)
        side = resolution // 2 ** len(channels)
        self.fc = nn.Linear(in_ch * side * side, out_dim)

    def forward(self, image: Tensor) -> Tensor:
        return self.fc(self.convs(image).flatten(1))


class Encoder(ConvEncoder):
    """E: face in [-1, 1] -> latent code l (``latent_dim``), regularised towards N(0, I) by D_z, and the
    feature maps G's skip connections read."""

    def __init__(self, config: EGGANConfig) -> None:
        super().__init__(config.resolution, config.encoder_channels, config.latent_dim)
        sizes = config.encoder_sizes()
        self.skip_layers = [sizes.index(size) for size in sorted(config.skip_resolutions)]

    def forward(self, image: Tensor) -> Latent:  # type: ignore[override]
        maps, x = {}, image
        for index, conv in enumerate(self.convs):
            x = maps[index] = conv(x)
        return Latent(self.fc(x.flatten(1)), tuple(maps[index] for index in self.skip_layers))


class AUClassifier(ConvEncoder):
    """C_exp: face -> logits [N, d, 6], one 6-way intensity classification per AU (Eq. 3)."""

    def __init__(self, config: EGGANConfig) -> None:
        super().__init__(config.resolution, config.c_channels, config.num_aus * INTENSITY_LEVELS)
        self.num_aus = config.num_aus

    def forward(self, image: Tensor) -> Tensor:
        return super().forward(image).view(-1, self.num_aus, INTENSITY_LEVELS)


class Expression(NamedTuple):
    """G's output: its own drawing of the face, and (gated G only) where the expression acts, [N, 1, H, W]."""

    face: Tensor
    mask: Tensor | None

    def map(self, fn: Callable[[Tensor], Tensor]) -> "Expression":
        """``fn`` applied to the face and (where there is one) the mask, e.g. a slice or a device move."""
        return Expression(fn(self.face), None if self.mask is None else fn(self.mask))


def expression_change(edited: Expression, reconstruction: Tensor) -> Tensor:
    """What an edit adds to the input face: G's change from the face's own AUs, G(l, u) - G(l, u_x), let
    through by the mask of the edited expression (the whole change for the paper's ungated G)."""
    change = edited.face - reconstruction
    return change if edited.mask is None else edited.mask * change


def apply_change(image: Tensor, change: Tensor) -> Tensor:
    """The face ``image`` (any size, [-1, 1]) plus an expression change, upsampled to the image's size.

    Only the change is resampled: the photo's own pixels stay wherever the mask is 0, so a CPU-trained G's
    blur never replaces skin, eyes or hair. Training applies it at G's resolution; the app at the photo's.
    """
    if change.shape[-2:] != image.shape[-2:]:
        change = F.interpolate(change, size=image.shape[-2:], mode="bilinear", align_corners=False)
    return (image.to(change.device) + change).clamp(-1, 1)


class Generator(nn.Module):
    """G(l, u): FC on [l, u/5] to a 2x2 map, up-sampling residual blocks, 3x3 conv + tanh (the face) and,
    when gated, 3x3 conv + sigmoid (the mask)."""

    def __init__(self, config: EGGANConfig) -> None:
        super().__init__()
        self.config = config
        first = config.g_channels[0]
        self.fc = nn.Linear(config.latent_dim + config.num_aus, first * 4)
        blocks, in_ch = [], first
        for out_ch in config.g_channels:
            blocks.append(UpResidualBlock(in_ch, out_ch))
            in_ch = out_ch
        self.blocks = nn.Sequential(*blocks)
        self.skips = nn.ModuleDict({str(size): skip_projection(config, size) for size in config.skip_resolutions})
        self.to_rgb = ConvNormAct(in_ch, 3, 3, act="tanh")
        self.to_mask = attention_mask_head(in_ch) if config.gated else None

    def forward(self, latent: Latent, aus: Tensor) -> Expression:
        """The face in [-1, 1] and its mask; ``aus`` are intensities on the 0-5 scale, [N, d]."""
        code = torch.cat([latent.code, scale_aus(aus).to(latent.code.dtype)], dim=1)
        skips = {str(t.shape[-1]): t for t in latent.skips}
        features = self.fc(code).view(-1, self.config.g_channels[0], 2, 2)
        for block in self.blocks:
            features = block(features)
            size = str(features.shape[-1])
            if size in self.skips:
                features = features + self.skips[size](skips[size])
        return Expression(self.to_rgb(features), None if self.to_mask is None else self.to_mask(features))


def skip_projection(config: EGGANConfig, size: int) -> nn.Conv2d:
    """1x1 conv from E's channels at ``size`` to G's, zero at start: a G fine-tuned from one without skips
    begins as exactly that G, and learns how much of E's map to let through."""
    e_channels = config.encoder_channels[config.encoder_sizes().index(size)]
    g_channels = config.g_channels[config.generator_sizes().index(size)]
    conv = nn.Conv2d(e_channels, g_channels, 1)
    nn.init.zeros_(conv.weight)
    nn.init.zeros_(conv.bias)
    return conv


class ImageCritic(nn.Module):
    """D_img: ``d_layers`` stride-2 convs with LeakyReLU, no normalisation (WGAN-GP is per sample)."""

    def __init__(self, config: EGGANConfig) -> None:
        super().__init__()
        layers, in_ch, width = [], 3, config.d_width
        for _ in range(config.d_layers):
            layers.append(ConvNormAct(in_ch, width, 4, 2, 1, act="lrelu"))
            in_ch, width = width, width * 2
        self.body = nn.Sequential(*layers)
        side = config.resolution // 2**config.d_layers
        self.head = nn.Linear(in_ch * side * side, 1)

    def forward(self, image: Tensor) -> Tensor:
        """One unbounded score per image, [N]."""
        return self.head(self.body(image).flatten(1)).squeeze(1)


class LatentDiscriminator(nn.Module):
    """D_z: FC 256-128-64-32-16-1 with LeakyReLU; logit that a code came from the prior."""

    def __init__(self, config: EGGANConfig) -> None:
        super().__init__()
        layers, in_dim = [], config.latent_dim
        for width in config.latent_d_widths:
            layers += [nn.Linear(in_dim, width), nn.LeakyReLU(0.2, inplace=True)]
            in_dim = width
        layers.append(nn.Linear(in_dim, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, latent: Tensor) -> Tensor:
        return self.net(latent).squeeze(1)


def interpolate_aus(source: AUs, target: AUs, alpha: float | AUs) -> AUs:
    """Eq. 8's condition: u_i + alpha (u_t - u_i), for tensors (training) and arrays (the app) alike."""
    return source + alpha * (target - source)


def blend_aus_2d(source: AUs, first: AUs, second: AUs, alpha: float, beta: float) -> AUs:
    """Eq. 8 on two axes: u_i + alpha (u_1 - u_i) + beta (u_2 - u_i).

    This is the bilinear blend of the square whose corners are the source (0, 0), the two targets
    (1, 0) and (0, 1), and both changes at once (1, 1); each axis alone is Eq. 8.
    """
    return interpolate_aus(source, first, alpha) + beta * (second - source)
