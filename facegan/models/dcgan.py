"""DCGAN (Radford et al. 2016) at 32x32 or 64x64: the smallest real recipe, used to exercise the loop.

The generator projects z to a 4x4 map and doubles the resolution with strided transposed convolutions
(BatchNorm + ReLU, tanh output in [-1, 1]); the discriminator mirrors it with strided convolutions and
LeakyReLU(0.2), ending in one logit per image.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from torch import Tensor, nn
from torch.nn.utils import parametrize

from facegan.nn import ConvNormAct
from facegan.nn.blocks import Norm

RESOLUTIONS = (32, 64)


@dataclass
class DCGANConfig:
    """Everything needed to rebuild the networks from a checkpoint record."""

    resolution: int = 64
    z_dim: int = 100
    width: int = 64  # channels of the finest feature map; coarser maps double it
    channels: int = 3
    d_norm: Norm = "batch"  # "layer" for WGAN-GP, whose per-sample penalty forbids batch statistics
    d_spectral: bool = False

    def __post_init__(self) -> None:
        if self.resolution not in RESOLUTIONS:
            raise ValueError(f"DCGAN resolution must be one of {RESOLUTIONS}, got {self.resolution}")

    @property
    def widths(self) -> list[int]:
        """Channel widths from the finest (resolution / 2) to the coarsest (4x4) feature map."""
        stages = self.resolution.bit_length() - 3  # 32 -> 3, 64 -> 4 stride-2 stages from 4x4
        return [self.width * 2**i for i in range(stages)]


def init_dcgan_weights(module: nn.Module) -> None:
    """DCGAN init: conv weights ~ N(0, 0.02), norm scales ~ N(1, 0.02); SN layers keep torch's init."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d | nn.ConvTranspose2d) and not parametrize.is_parametrized(m):
            nn.init.normal_(m.weight, 0.0, 0.02)
        elif isinstance(m, nn.BatchNorm2d | nn.GroupNorm | nn.InstanceNorm2d) and m.weight is not None:
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


class Generator(nn.Module):
    """z [B, z_dim] -> image [B, channels, resolution, resolution] in [-1, 1]."""

    def __init__(self, config: DCGANConfig) -> None:
        super().__init__()
        self.config = config
        widths = config.widths[::-1]
        layers = [ConvNormAct(config.z_dim, widths[0], 4, 1, 0, norm="batch", act="relu", transpose=True)]
        layers += [ConvNormAct(a, b, 4, 2, 1, norm="batch", act="relu", transpose=True) for a, b in pairwise(widths)]
        layers.append(ConvNormAct(widths[-1], config.channels, 4, 2, 1, act="tanh", transpose=True))
        self.net = nn.Sequential(*layers)
        init_dcgan_weights(self)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z.view(z.shape[0], -1, 1, 1))


class Discriminator(nn.Module):
    """image [B, channels, R, R] -> one real/fake logit (or critic score) per image, shape [B]."""

    def __init__(self, config: DCGANConfig) -> None:
        super().__init__()
        self.config = config
        widths, sn_on = config.widths, config.d_spectral
        layers = [ConvNormAct(config.channels, widths[0], 4, 2, 1, act="lrelu", spectral=sn_on)]
        layers += [
            ConvNormAct(a, b, 4, 2, 1, norm=config.d_norm, act="lrelu", spectral=sn_on) for a, b in pairwise(widths)
        ]
        layers.append(ConvNormAct(widths[-1], 1, 4, 1, 0, act="none", spectral=sn_on))
        self.net = nn.Sequential(*layers)
        init_dcgan_weights(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x).flatten()
