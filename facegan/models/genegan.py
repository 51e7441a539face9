"""GeneGAN (seed 003): an image splits into a background feature A and an object feature u.

The encoder is the paper's 64x64 network (three 4x4 stride-2 convs, BatchNorm, LeakyReLU; the last
conv kept linear, see ``Encoder``) whose last feature map is cut along channels: the last
``object_channels`` channels are the object feature u, the rest the background A. The decoder mirrors
it with transposed convs.
Decoding with u = 0 gives the image without the object (the paper's epsilon), decoding with
another image's u transplants its object, and because u lives in a vector space it can be scaled
and bilinearly interpolated (Eq. 6). The discriminator has one shared body and two real/fake heads,
one for the with-object set and one for the without-object set (Eq. 4's two terms).

Unlike the paper, the decoder does not redraw the child: it predicts an attention mask and a colour
map (``facegan.nn.AttentionColourHead``) that are applied to the parent whose background A it was
given. Where the mask is 0 a child is its parent exactly, and the sparsity term keeps the mask near 0
outside the object region: that is what keeps the person in a transplant and what lets the app apply
the change to a photo at its own resolution.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import Tensor, nn

from facegan.nn import AttentionColourHead, ConvNormAct, compose


@dataclass(frozen=True)
class GeneGANConfig:
    """Architecture; ``width`` 128 is the paper's (128/256/512 channels).

    The default 32 is sized for CPU training: one step at batch 16 took 0.27 s at width 32 against
    0.52 s at 48 and 0.78 s at 64 (three processes sharing 2 cores), so 32 is what gets ~5000 steps
    per attribute in the hour available; compute grows with width squared.
    """

    attribute: str = "Smiling"
    resolution: int = 64
    width: int = 32
    object_channels: int = 16
    """Channels of the last feature map that form u (the rest form A)."""
    d_width: int = 32

    @property
    def feature_channels(self) -> int:
        return self.width * 4

    def __post_init__(self) -> None:
        if not 0 < self.object_channels < self.feature_channels:
            raise ValueError(f"object_channels must be in (0, {self.feature_channels}), got {self.object_channels}")


class Features(NamedTuple):
    """The encoder's two complementary parts: background A and object u (both N x C x R/8 x R/8)."""

    background: Tensor
    object: Tensor


def _down_stack(in_ch: int, width: int, *, linear_output: bool = False) -> list[nn.Module]:
    """Three 4x4 stride-2 convs (width, 2*width, 4*width), BatchNorm and LeakyReLU 0.2 each.

    ``linear_output`` leaves the last conv bare (bias, no norm, no activation).
    """
    last = {"norm": "none", "act": "none"} if linear_output else {"norm": "batch", "act": "lrelu"}
    return [
        ConvNormAct(in_ch, width, 4, 2, 1, norm="batch", act="lrelu"),
        ConvNormAct(width, width * 2, 4, 2, 1, norm="batch", act="lrelu"),
        ConvNormAct(width * 2, width * 4, 4, 2, 1, **last),
    ]


class Encoder(nn.Module):
    """Image in [-1, 1] -> (A, u): one conv stack whose output channels are split in two.

    The last conv is linear (no BatchNorm, no LeakyReLU), unlike the paper's: BatchNorm over a batch
    of both parents forces every object channel to zero batch mean and unit variance, so epsilon = 0
    for the negatives is unreachable and the nulling loss stalls (0.47 -> 0.42 in 300 steps here).
    """

    def __init__(self, config: GeneGANConfig) -> None:
        super().__init__()
        self.object_channels = config.object_channels
        self.net = nn.Sequential(*_down_stack(3, config.width, linear_output=True))

    def forward(self, image: Tensor) -> Features:
        features = self.net(image)
        background, obj = features.split([features.shape[1] - self.object_channels, self.object_channels], dim=1)
        return Features(background, obj)


class Decoder(nn.Module):
    """(A, u) -> (mask, colour) at full resolution: three 4x4 stride-2 transposed convs mirroring the
    encoder, then the attention/colour head."""

    def __init__(self, config: GeneGANConfig) -> None:
        super().__init__()
        width = config.width
        self.net = nn.Sequential(
            ConvNormAct(width * 4, width * 2, 4, 2, 1, norm="batch", act="lrelu", transpose=True),
            ConvNormAct(width * 2, width, 4, 2, 1, norm="batch", act="lrelu", transpose=True),
            ConvNormAct(width, width // 2, 4, 2, 1, norm="batch", act="lrelu", transpose=True),
        )
        self.head = AttentionColourHead(width // 2, kernel_size=3)

    def forward(self, background: Tensor, obj: Tensor) -> tuple[Tensor, Tensor]:
        return self.head(self.net(torch.cat([background, obj.to(background.dtype)], dim=1)))


class Children(NamedTuple):
    """Fig. 3's four children of parents Au and B-epsilon, plus the object features they were built from."""

    au: Tensor
    """Au', the reconstruction Decoder(A, u)."""
    be: Tensor
    """B-epsilon', the reconstruction Decoder(B, 0)."""
    ae: Tensor
    """A-epsilon, the crossbreed Decoder(A, 0): object removed."""
    bu: Tensor
    """Bu, the crossbreed Decoder(B, u): object transplanted."""
    u: Tensor
    epsilon: Tensor
    """The object feature encoded from B-epsilon, which the nulling loss drives to 0."""
    masks: Tensor
    """The four children's attention masks, [4N, 1, R, R] in the order above."""


class Generator(nn.Module):
    """Encoder + decoder under one name, the module an inference checkpoint ships (``G``)."""

    def __init__(self, config: GeneGANConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = Encoder(config)
        self.decoder = Decoder(config)

    def encode(self, image: Tensor) -> Features:
        return self.encoder(image)

    def decode(self, background: Tensor, obj: Tensor | None, parent: Tensor) -> Tensor:
        """The child of background A and object u, applied to ``parent`` (the image A came from).

        ``obj=None`` decodes the null object epsilon as exact zeros (Eq. 2).
        """
        if obj is None:
            n, _, h, w = background.shape
            obj = background.new_zeros(n, self.config.object_channels, h, w)
        mask, colour = self.decoder(background, obj)
        return compose(parent, mask, colour)

    def forward(self, with_object: Tensor, without_object: Tensor) -> Children:
        """Eq. 2: encode both parents, decode the four recombinations (epsilon decoded as 0).

        Both encodings and all four decodings run as one batch each, so BatchNorm statistics always
        mix images with and without the object and cannot leak the label. Each child is applied to
        the parent its background comes from: Au' and A-epsilon to Au, B-epsilon' and Bu to B-epsilon.
        """
        n = with_object.shape[0]
        background, obj = self.encode(torch.cat([with_object, without_object]))
        a, b = background[:n], background[n:]
        u, epsilon = obj[:n], obj[n:]
        zero = torch.zeros_like(u)
        masks, colours = self.decoder(torch.cat([a, b, a, b]), torch.cat([u, zero, zero, u]))
        parents = torch.cat([with_object, without_object, with_object, without_object])
        au, be, ae, bu = compose(parents, masks, colours).split(n)
        return Children(au, be, ae, bu, u, epsilon, masks)


class Discriminator(nn.Module):
    """Shared conv body + two logits: ``object`` (real with-object set) and ``null`` (real without-object set)."""

    def __init__(self, config: GeneGANConfig) -> None:
        super().__init__()
        self.body = nn.Sequential(*_down_stack(3, config.d_width))
        final = config.resolution // 8
        self.heads = nn.Conv2d(config.d_width * 4, 2, final)

    def forward(self, image: Tensor) -> tuple[Tensor, Tensor]:
        """(object logit, null logit), each of shape [N]."""
        logits = self.heads(self.body(image)).flatten(1)
        return logits[:, 0], logits[:, 1]


def bilinear_objects(corners: Tensor, n: int) -> Tensor:
    """Eq. 6 on an n x n lattice: 4 corner features -> [n * n, ...] bilinear blends, row-major.

    Corners are in reading order (top-left, top-right, bottom-left, bottom-right); the grid's four
    corner cells are the four reference objects exactly and every other cell is their bilinear mix.
    """
    if corners.shape[0] != 4 or n < 2:
        raise ValueError(f"need 4 corner features and n >= 2, got {corners.shape[0]} and n={n}")
    t = torch.linspace(0, 1, n, dtype=corners.dtype, device=corners.device)
    y, x = torch.meshgrid(t, t, indexing="ij")
    weights = torch.stack([(1 - x) * (1 - y), x * (1 - y), (1 - x) * y, x * y], dim=-1).reshape(n * n, 4)
    return torch.einsum("gk,k...->g...", weights, corners)
