"""Attribute-guided face synthesis with a landmark-heatmap side input (seed 000, Sec. III-A, IV-A).

The generator is an encoder-decoder. The encoder sees the face and its landmark heatmap (the
"side conditional image") and produces a latent map meant to be attribute-invariant; the decoder
gets that map with the requested attribute change tiled over it, upsamples with sub-pixel
convolutions and has two heads: the edit and a reconstruction of the heatmap. Putting the attributes
at the bottleneck rather than at the input is what makes the paper's latent bidirectional loss
meaningful: the latent of an edit should equal the latent of its source. The discriminator is a
PatchGAN with a real/fake map and an attribute-classification head.

The decoder is told the *change* (target - source, each entry -1, 0 or +1; STGAN's difference
vector, Liu et al. 2019) rather than the target itself: a zero vector then means "leave the face
alone" without G first having to recognise every attribute, which is what let the attention collapse
to nothing in our CPU runs conditioned on targets (the identity loss punishes any edit G cannot yet
tell is wanted).

The edit head predicts the change rather than the face (an attention mask and a colour map,
``facegan.nn.AttentionColourHead``): a CPU-trained generator cannot redraw a face sharply, but it can
decide where the hair turns blond. The app applies that change to the photo's own pixels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import Tensor, nn

from facegan.nn import AttentionColourHead, ConvNormAct, ResidualBlock, SubPixelUp, compose

STARGAN_ATTRIBUTES = ("Black_Hair", "Blond_Hair", "Brown_Hair", "Male", "Young", "Smiling", "Eyeglasses")
HAIR_COLOURS = ("Black_Hair", "Blond_Hair", "Brown_Hair")
"""An exclusive group: a target sets at most one of them."""


@dataclass(frozen=True)
class AttrGANConfig:
    """Architecture; with ``use_heatmap=False`` (the ablation) there is no heatmap input or head."""

    resolution: int = 64
    attributes: tuple[str, ...] = STARGAN_ATTRIBUTES
    use_heatmap: bool = True
    heatmap_sigma: float = 1.5
    """Gaussian sigma of the landmark heatmap, in pixels at ``resolution``."""
    g_width: int = 16
    g_downsamplings: int = 2
    g_encoder_blocks: int = 3
    g_decoder_blocks: int = 3
    d_width: int = 32
    d_layers: int = 5

    @property
    def num_attributes(self) -> int:
        return len(self.attributes)


class GeneratorOutput(NamedTuple):
    image: Tensor
    """The edited face: ``mask * colour + (1 - mask) * input``."""
    heatmap: Tensor | None
    latent: Tensor
    mask: Tensor
    """Where the edit acts, [0, 1], Nx1xRxR."""
    colour: Tensor


class Encoder(nn.Module):
    """Image (+ heatmap) -> latent map at 1 / 2**downsamplings of the resolution."""

    def __init__(self, config: AttrGANConfig) -> None:
        super().__init__()
        width = config.g_width
        layers: list[nn.Module] = [ConvNormAct(3 + config.use_heatmap, width, 7, norm="instance")]
        for _ in range(config.g_downsamplings):
            layers.append(ConvNormAct(width, width * 2, 4, 2, 1, norm="instance"))
            width *= 2
        layers += [ResidualBlock(width) for _ in range(config.g_encoder_blocks)]
        self.net = nn.Sequential(*layers)
        self.channels = width

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class Decoder(nn.Module):
    """Latent map + tiled attribute change -> (mask, colour) and optionally a heatmap, via sub-pixel ups."""

    def __init__(self, config: AttrGANConfig, channels: int) -> None:
        super().__init__()
        layers: list[nn.Module] = [ConvNormAct(channels + config.num_attributes, channels, 3, norm="instance")]
        layers += [ResidualBlock(channels) for _ in range(config.g_decoder_blocks)]
        for _ in range(config.g_downsamplings):
            layers.append(SubPixelUp(channels, channels // 2, norm="instance"))
            channels //= 2
        self.body = nn.Sequential(*layers)
        self.edit_head = AttentionColourHead(channels)
        self.heatmap_head = ConvNormAct(channels, 1, 7, act="tanh") if config.use_heatmap else None

    def forward(self, latent: Tensor, change: Tensor) -> tuple[Tensor, Tensor, Tensor | None]:
        tiled = change[:, :, None, None].expand(-1, -1, *latent.shape[2:])
        features = self.body(torch.cat([latent, tiled.to(latent.dtype)], dim=1))
        heatmap = self.heatmap_head(features) if self.heatmap_head is not None else None
        mask, colour = self.edit_head(features)
        return mask, colour, heatmap


class Generator(nn.Module):
    """G(face, heatmap, attribute change) -> edited face, heatmap side output, latent, mask, colour."""

    def __init__(self, config: AttrGANConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = Encoder(config)
        self.decoder = Decoder(config, self.encoder.channels)

    def encode(self, image: Tensor, heatmap: Tensor | None) -> Tensor:
        inputs = torch.cat([image, heatmap], dim=1) if self.config.use_heatmap else image
        return self.encoder(inputs)

    def forward(self, image: Tensor, heatmap: Tensor | None, change: Tensor) -> GeneratorOutput:
        """``change`` is target - source attributes [N, A]: +1 add, -1 remove, 0 keep."""
        latent = self.encode(image, heatmap)
        mask, colour, out_heatmap = self.decoder(latent, change)
        return GeneratorOutput(compose(image, mask, colour), out_heatmap, latent, mask, colour)


class Discriminator(nn.Module):
    """PatchGAN: a real/fake score per patch plus attribute logits for the whole image.

    No normalisation, as WGAN-GP and R1 require (the penalties are per sample).
    """

    def __init__(self, config: AttrGANConfig) -> None:
        super().__init__()
        width, layers = config.d_width, []
        in_ch = 3
        for _ in range(config.d_layers):
            layers.append(ConvNormAct(in_ch, width, 4, 2, 1, act="lrelu", slope=0.01))
            in_ch, width = width, width * 2
        self.body = nn.Sequential(*layers)
        final = config.resolution // 2**config.d_layers
        self.patch_head = nn.Conv2d(in_ch, 1, 3, 1, 1, bias=False)
        self.attribute_head = nn.Conv2d(in_ch, config.num_attributes, final, bias=False)

    def forward(self, image: Tensor) -> tuple[Tensor, Tensor]:
        features = self.body(image)
        return self.patch_head(features), self.attribute_head(features).flatten(1)


def heatmap_to_signed(heatmap: Tensor) -> Tensor:
    """[0, 1] Gaussians -> the generator's [-1, 1] input/output range."""
    return heatmap * 2 - 1


def heatmap_input(config: AttrGANConfig, heatmap: Tensor) -> Tensor | None:
    """What the generator takes for a [0, 1] heatmap: its signed form, or nothing for the ablation."""
    return heatmap_to_signed(heatmap) if config.use_heatmap else None


def toggle_attribute(source: Tensor, index: int, attributes: tuple[str, ...]) -> Tensor:
    """Flip one attribute; switching a hair colour on switches the other hair colours off."""
    target = source.clone()
    target[:, index] = 1 - target[:, index]
    if attributes[index] in HAIR_COLOURS:
        for other, name in enumerate(attributes):
            if name in HAIR_COLOURS and other != index:
                target[:, other] = torch.where(target[:, index] > 0, 0.0, target[:, other])
    return target
